"""Render `zoped simulate --json` reports as the markdown tables of bench/results/pathways.md.

Usage:
    python bench/pathways_report.py bench/results/pathways_demo_mixed.json [more.json ...]

Prints, per report: every policy by family (median items to full mastery and to coverage,
mastery rate, retention, delayed retention, each a mean over seeds with its 95 % interval),
zoped's savings against the tuned linear curriculum on both medians, where the items went
until full mastery, placement, and the move-on values the tuning chose. Nothing is computed
here that the report does not hold.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

POLICIES = ("zoped", "linear", "random", "oracle")
BREAKDOWN = ("learning", "relearning", "premature", "over_practice", "redundant_review")


def _num(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ci(block: dict[str, Any], name: str, digits: int) -> str:
    low, high = block["ci95"][name]
    return f"{_num(block[name], digits)} [{_num(low, digits)}, {_num(high, digits)}]"


def _savings(savings: dict[str, Any]) -> str:
    """Pooled saving in bold, each family's, and the lower bound where it differs."""
    by_family = ", ".join(
        f"{family} {_num(s['mean'], 3)} [{_num(s['ci95'][0], 3)}, {_num(s['ci95'][1], 3)}]"
        for family, s in savings["by_family"].items()
    )
    text = (
        f"pooled **{_num(savings['mean'], 3)} [{_num(savings['ci95'][0], 3)}, "
        f"{_num(savings['ci95'][1], 3)}]**; {by_family}."
    )
    bound = savings.get("lower_bound")
    if bound is not None and bound["mean"] != savings["mean"]:
        # Linear's median lay beyond the budget somewhere: say what is still known.
        text += (
            f" Where linear's median lies beyond the budget, a lower bound (1 - zoped / budget):"
            f" pooled {_num(bound['mean'], 3)} [{_num(bound['ci95'][0], 3)}, "
            f"{_num(bound['ci95'][1], 3)}]; "
            + ", ".join(
                f"{family} {_num(b['mean'], 3)}" for family, b in bound["by_family"].items()
            )
            + "."
        )
    return text


def render(path: Path) -> str:
    """The tables for one report file."""
    report = json.loads(path.read_text())
    settings = report["settings"]
    lines = [
        f"### {settings.get('course', '?')}, cohort `{settings.get('cohort', 'new')}` "
        f"({path.name})",
        "",
        f"{settings['competencies']} competencies, {settings['items']} items, budget "
        f"{settings['budget']}, {settings['learners']} learners, seeds {settings['seeds']}, "
        f"tuned: {settings['tune_zoped']}.",
        "",
        "| family | policy | median items (full mastery) | to coverage | mastery rate | "
        "retention | delayed (30 d) |",
        "|---|---|---|---|---|---|---|",
    ]
    for family in settings["families"]:
        for name in POLICIES:
            block = report["policies"][name]["by_family"][family]
            coverage = (
                _ci(block, "median_items_to_coverage", 0)
                if "median_items_to_coverage" in block
                else "-"
            )
            lines.append(
                f"| {family} | {name} | {_ci(block, 'median_items_to_mastery', 0)} | "
                f"{coverage} | {_num(block['mastery_rate'], 3)} | "
                f"{_ci(block, 'retention', 3)} | {_ci(block, 'delayed_retention', 3)} |"
            )
    savings = report["savings_vs_linear"]
    lines += ["", "Savings vs tuned linear (median items) to full mastery: " + _savings(savings)]
    if "coverage" in savings:
        lines.append(
            "To coverage (every competency mastered once): " + _savings(savings["coverage"])
        )
    lines += [
        "",
        "| family | policy | " + " | ".join(BREAKDOWN) + " |",
        "|---|---|" + "---|" * len(BREAKDOWN),
    ]
    for family in settings["families"]:
        for name in POLICIES:
            parts = report["policies"][name]["by_family"][family].get("items_breakdown", {})
            cells = " | ".join(_num(parts.get(k), 0) for k in BREAKDOWN)
            lines.append(f"| {family} | {name} | {cells} |")
    place = report["placement"]
    per_family = ", ".join(
        f"{family}: accuracy {_ci(b, 'accuracy', 3)} in {_num(b['median_questions'], 1)} questions"
        for family, b in place["by_family"].items()
    )
    lines += [
        "",
        f"Placement: accuracy **{_ci(place, 'accuracy', 3)}**, median questions "
        f"{_ci(place, 'median_questions', 1)} ({per_family}).",
    ]
    tuned = settings.get("zoped_tuned", {})
    if settings["tune_zoped"] and tuned:
        chosen = []
        for family, values in tuned.items():
            counts = Counter(
                f"unlock {'mastered' if v['unlock_at'] == 4 else 'proficient'}, "
                f"mastered_p {v['mastered_p']}, review {v['review_retrievability']}"
                for v in values
            )
            chosen.append(f"{family}: " + "; ".join(f"{k} (x{n})" for k, n in counts.most_common()))
        lines += ["", "Tuned move-on values per seed: " + " | ".join(chosen) + "."]
    return "\n".join(lines)


def main(paths: list[str]) -> None:
    """Print the tables of every report given."""
    print("\n\n".join(render(Path(p)) for p in paths))


if __name__ == "__main__":
    main(sys.argv[1:])
