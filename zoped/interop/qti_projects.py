"""Extended-text QTI items: written work a teacher scores, which zoped keeps as a project
activity with a rubric of one criterion (docs/qti.md, "Extended text").
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from zoped.domain.content import Activity, Criterion, Modality, Rubric, RubricLevel
from zoped.domain.media import CourseMedia
from zoped.interop.qti_names import attr, children, slug


@dataclass(frozen=True)
class QtiProject:
    """An extended-text item read from QTI: free writing a teacher scores. zoped makes it a
    project activity with a rubric of one criterion (``max_points`` + 1 levels, 0 to the most).

    Attributes:
        identifier: the QTI identifier (the activity's id is its :func:`slug`).
        source: the file it came from, for messages.
        line: the line of its root element.
        title: the item's title (else the start of its text).
        body: what the learner reads: the item body and the interaction's prompt (Markdown-ish).
        max_points: the most points (the item's MAXSCORE where it gives a whole number from 1
            to 10, else 4).
        references: the standards the package's metadata names for it, in order.
        classifications: its LOM classification values.
        warnings: what was read but not kept, located.
        media: the pictures its body shows, read from the package.
    """

    identifier: str
    source: str
    line: int
    title: str
    body: str
    max_points: int
    references: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    media: tuple[CourseMedia, ...] = ()


#: The points an extended-text item is worth when its MAXSCORE says nothing usable.
DEFAULT_MAX_POINTS = 4


def max_points(root: etree._Element) -> int:
    """An extended-text item's most points: its MAXSCORE when a whole number from 1 to 10."""
    for decl in children(root, "outcome-declaration"):
        if attr(decl, "identifier") != "MAXSCORE":
            continue
        for default in children(decl, "default-value"):
            for value in children(default, "value"):
                try:
                    points = float((value.text or "").strip())
                except ValueError:
                    continue
                if points.is_integer() and 1 <= points <= 10:
                    return int(points)
    return DEFAULT_MAX_POINTS


#: How long a project made from an extended-text item is expected to take, in minutes.
PROJECT_MINUTES = 20


def project_of(found: QtiProject, competencies: tuple[str, ...]) -> tuple[Activity, Rubric]:
    """The project activity and the rubric an extended-text item becomes: the learner hands in
    their writing, a teacher scores it on one criterion from 0 to ``max_points`` points."""
    activity_id = slug(found.identifier)
    rubric = Rubric(
        id=f"{activity_id}.rubric",
        title=found.title,
        criteria=(
            Criterion(
                id="response",
                title="The written answer",
                competencies=competencies,
                levels=tuple(
                    RubricLevel(
                        title=f"{points} of {found.max_points} points",
                        points=float(points),
                    )
                    for points in range(found.max_points + 1)
                ),
            ),
        ),
    )
    activity = Activity(
        id=activity_id,
        title=found.title,
        modality=Modality.PROJECT,
        competencies=competencies,
        minutes=PROJECT_MINUTES,
        body=found.body,
        rubric_id=rubric.id,
    )
    return activity, rubric
