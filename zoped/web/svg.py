"""Charts drawn on the server as SVG (no chart library, no script): the roadmap and progress.

Both are decorative twins of a table on the same page, so screen readers get the table and the
SVG carries a short title. Colours pair with a text label or a pattern-free legend; each level
also differs in lightness, so the map reads in greyscale too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

from markupsafe import Markup

from zoped.engine.class_trend import ClassTrendPoint
from zoped.engine.fold import ProgressPoint
from zoped.engine.learner_view import LearnerState
from zoped.engine.mastery import MasteryLevel

#: Fill and text colour per level (text contrast >= 4.5:1 on the fill).
LEVEL_COLOURS: dict[MasteryLevel, tuple[str, str]] = {
    MasteryLevel.NOT_STARTED: ("#eef1f4", "#1b1f24"),
    MasteryLevel.ATTEMPTED: ("#fde8c8", "#1b1f24"),
    MasteryLevel.FAMILIAR: ("#fbd38d", "#1b1f24"),
    MasteryLevel.PROFICIENT: ("#7cc4a4", "#1b1f24"),
    MasteryLevel.MASTERED: ("#1f7a4d", "#ffffff"),
    MasteryLevel.REVIEW_DUE: ("#6b5bd2", "#ffffff"),
}
NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 170, 40, 40, 12, 10


def _short(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def roadmap_svg(state: LearnerState) -> Markup:
    """The competency graph, one column per prerequisite depth, nodes coloured by level.

    Locked competencies are drawn with a dashed border. Each node links to its practice page,
    so the map is a labelled group, not an image (an image's links would be hidden from
    assistive technology: axe's nested-interactive rule).
    """
    comps = state.competencies
    index = {c.competency_id: c for c in comps}
    depth: dict[str, int] = {}
    for c in comps:  # course order lists prerequisites first
        depth[c.competency_id] = 1 + max(
            (depth.get(p, 0) for p in c.prerequisites if p in index), default=-1
        )
    columns: dict[int, list[str]] = {}
    for cid, d in depth.items():
        columns.setdefault(d, []).append(cid)
    pos: dict[str, tuple[int, int]] = {}
    for d, ids in columns.items():
        for row, cid in enumerate(ids):
            pos[cid] = (PAD + d * (NODE_W + GAP_X), PAD + row * (NODE_H + GAP_Y))
    width = PAD * 2 + (max(columns, default=0) + 1) * (NODE_W + GAP_X) - GAP_X
    height = PAD * 2 + max((len(v) for v in columns.values()), default=1) * (NODE_H + GAP_Y)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="roadmap" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="group" aria-labelledby="roadmap-title">',
        '<title id="roadmap-title">Map of the competencies, coloured by your level '
        "(the table below gives the same information)</title>",
    ]
    for c in comps:
        x2, y2 = pos[c.competency_id]
        for p in c.prerequisites:
            if p in pos:
                x1, y1 = pos[p]
                parts.append(
                    f'<line x1="{x1 + NODE_W}" y1="{y1 + NODE_H // 2}" x2="{x2}" '
                    f'y2="{y2 + NODE_H // 2}" class="edge"/>'
                )
    for c in comps:
        x, y = pos[c.competency_id]
        fill, ink = LEVEL_COLOURS[c.level]
        dash = "" if c.unlocked else ' stroke-dasharray="4 3"'
        label = escape(f"{c.title}: {c.level.label}" + ("" if c.unlocked else " (locked)"))
        href = f"/learner/practice/{escape(c.competency_id)}"
        inner = (
            f'<rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" '
            f'stroke="#4a5360"{dash}/>'
            f'<text x="{x + 8}" y="{y + 17}" fill="{ink}" font-size="12">'
            f"{escape(_short(c.title))}</text>"
            f'<text x="{x + 8}" y="{y + 32}" fill="{ink}" font-size="11">'
            f"{escape(c.level.label)}{'' if c.unlocked else ' · locked'}</text>"
        )
        if c.unlocked and c.practisable:
            parts.append(f'<a href="{href}" aria-label="{label}">{inner}</a>')
        else:
            parts.append(f"<g>{inner}</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def progress_svg(history: list[ProgressPoint], total: int) -> Markup:
    """Competencies at least proficient (solid) and mastered (dashed) at the end of each day."""
    if not history:
        return Markup("")
    return _two_lines_svg(
        [(p.day, p.proficient, p.mastered) for p in history],
        total,
        css_class="progress-chart",
        title_id="progress-title",
        title="Progress over time: competencies at least proficient and mastered "
        "(the table below gives the numbers)",
    )


def class_trend_svg(trend: Sequence[ClassTrendPoint], total: int) -> Markup:
    """A class's competencies at least proficient (solid) and mastered (dashed), summed over
    its learners, at the end of each week; empty for fewer than two weeks. A decorative twin
    of the table beside it."""
    if len(trend) < 2:
        return Markup("")
    return _two_lines_svg(
        [(p.day, p.proficient, p.mastered) for p in trend],
        total,
        css_class="progress-chart class-trend",
        title_id="trend-title",
        title="Class progress by week: competencies at least proficient and mastered, "
        "over all learners (the table below gives the numbers)",
    )


def _two_lines_svg(
    points: Sequence[tuple[date, int, int]],
    total: int,
    *,
    css_class: str,
    title_id: str,
    title: str,
) -> Markup:
    """(day, at least proficient, mastered) over time as two lines, scaled to ``total``."""
    width, height, left, bottom = 560, 200, 44, 28
    first, last = points[0][0], points[-1][0]
    span = max((last - first).days, 1)
    top = max(total, 1)

    def xy(day: date, value: int) -> str:
        x = left + (width - left - 10) * (day - first).days / span
        y = 10 + (height - bottom - 10) * (1 - value / top)
        return f"{x:.1f},{y:.1f}"

    prof = " ".join(xy(day, p) for day, p, _ in points)
    mast = " ".join(xy(day, m) for day, _, m in points)
    base = height - bottom
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{title_id}">'
        f'<title id="{title_id}">{escape(title)}</title>'
        f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" class="axis"/>'
        f'<line x1="{left}" y1="10" x2="{left}" y2="{base}" class="axis"/>'
        f'<text x="4" y="16" font-size="11">{top}</text>'
        f'<text x="4" y="{base}" font-size="11">0</text>'
        f'<text x="{left}" y="{height - 8}" font-size="11">{first:%d %b}</text>'
        f'<text x="{width - 60}" y="{height - 8}" font-size="11">{last:%d %b}</text>'
        f'<polyline points="{prof}" class="line-proficient"/>'
        f'<polyline points="{mast}" class="line-mastered"/>'
        "</svg>"
    )
