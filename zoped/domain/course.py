"""A course: a competency framework with the activities, items and rubrics that teach and assess it.

A :class:`Course` is valid by construction: its constructor runs :func:`course_problems`,
which checks every entry on its own and every cross-reference, and reports all problems at once
with locations in the course file's terms (``items[12].options[1].id``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from zoped.domain.content import Activity, Item, Rubric
from zoped.domain.framework import Competency, Framework, framework_problems, slug_problems
from zoped.errors import InvalidInput, NotFound, Problem


def _prefixed(problems: list[Problem], prefix: str) -> list[Problem]:
    return [
        Problem(f"{prefix}.{p.location}" if p.location else prefix, p.message) for p in problems
    ]


def _duplicates(ids: Sequence[str | None], kind: str) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for index, value in enumerate(ids):
        if value is None:
            continue
        if value in first:
            problems.append(
                Problem(
                    f"{kind}[{index}].id",
                    f"duplicate id {value!r} (first at {kind}[{first[value]}])",
                )
            )
        else:
            first[value] = index
    return problems


def _references(ids: Sequence[str], known: Collection[str], location: str) -> list[Problem]:
    return [
        Problem(f"{location}[{index}]", f"unknown competency {value!r}")
        for index, value in enumerate(ids)
        if value not in known
    ]


def course_problems(
    competencies: Sequence[Competency | None],
    activities: Sequence[Activity | None],
    items: Sequence[Item | None],
    rubrics: Sequence[Rubric | None],
    *,
    unreadable_competency_ids: Collection[str] = (),
    unreadable_rubric_ids: Collection[str] = (),
) -> list[Problem]:
    """Every problem with the parts of a course, located as in a course file.

    Args:
        competencies: the framework's competencies.
        activities: the activities.
        items: the items.
        rubrics: the rubrics.
        unreadable_competency_ids: ids of competencies a reader could not read (it reports
            those itself); references to them are not reported again as unknown.
        unreadable_rubric_ids: the same for rubrics.

    ``None`` in a sequence stands for an entry a reader could not read; it is skipped and the
    other entries keep their positions, so locations still match the file.

    Returns:
        The problems: the framework's (duplicates, unknown references, cycles), each entry's
        own (option rules, levels...), duplicate ids in each kind, and unknown competencies or
        rubrics referred to by activities, items and rubric criteria.
    """
    problems = framework_problems(competencies, unreadable_ids=unreadable_competency_ids)
    known = {c.id for c in competencies if c is not None} | set(unreadable_competency_ids)
    rubric_ids = {r.id for r in rubrics if r is not None} | set(unreadable_rubric_ids)

    problems += _duplicates([a.id if a else None for a in activities], "activities")
    for index, activity in enumerate(activities):
        if activity is None:
            continue
        where = f"activities[{index}]"
        problems += _prefixed(activity.problems(), where)
        problems += _references(activity.competencies, known, f"{where}.competencies")
        if activity.rubric_id is not None and activity.rubric_id not in rubric_ids:
            problems.append(Problem(f"{where}.rubric", f"unknown rubric {activity.rubric_id!r}"))

    problems += _duplicates([i.id if i else None for i in items], "items")
    for index, item in enumerate(items):
        if item is None:
            continue
        where = f"items[{index}]"
        problems += _prefixed(item.problems(), where)
        problems += _references(item.competencies, known, f"{where}.competencies")

    problems += _duplicates([r.id if r else None for r in rubrics], "rubrics")
    for index, rubric in enumerate(rubrics):
        if rubric is None:
            continue
        where = f"rubrics[{index}]"
        problems += _prefixed(rubric.problems(), where)
        for position, criterion in enumerate(rubric.criteria):
            problems += _references(
                criterion.competencies, known, f"{where}.criteria[{position}].competencies"
            )
    return problems


@dataclass(frozen=True)
class Course:
    """A valid course. The constructor checks everything (see :func:`course_problems`).

    Attributes:
        id: a slug, unique within a school.
        title: the course's name.
        description: what it is about.
        language: the BCP 47 tag of its content (activities may override it).
        grade_band: a free-text grade band, e.g. "4-7".
        framework: the competencies and their prerequisites.
        activities: the activities, in file order.
        items: the assessment items, in file order.
        rubrics: the project rubrics, in file order.

    Raises:
        InvalidInput: listing every problem, located as in a course file.
    """

    id: str
    title: str
    framework: Framework
    description: str = ""
    language: str = "en"
    grade_band: str | None = None
    activities: tuple[Activity, ...] = ()
    items: tuple[Item, ...] = ()
    rubrics: tuple[Rubric, ...] = ()
    _activities: dict[str, Activity] = field(init=False, repr=False, compare=False)
    _items: dict[str, Item] = field(init=False, repr=False, compare=False)
    _rubrics: dict[str, Rubric] = field(init=False, repr=False, compare=False)
    _by_competency: dict[str, tuple[tuple[Item, ...], tuple[Activity, ...]]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for name in ("activities", "items", "rubrics"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems = _prefixed(slug_problems(self.id, "id"), "course")
        if not self.title.strip():
            problems.append(Problem("course.title", "must not be empty"))
        problems += course_problems(
            self.framework.competencies, self.activities, self.items, self.rubrics
        )
        if problems:
            raise InvalidInput(f"invalid course {self.id!r}", problems)
        object.__setattr__(self, "_activities", {a.id: a for a in self.activities})
        object.__setattr__(self, "_items", {i.id: i for i in self.items})
        object.__setattr__(self, "_rubrics", {r.id: r for r in self.rubrics})
        object.__setattr__(
            self,
            "_by_competency",
            {
                c.id: (
                    tuple(i for i in self.items if c.id in i.competencies),
                    tuple(a for a in self.activities if c.id in a.competencies),
                )
                for c in self.framework.competencies
            },
        )

    def activity(self, activity_id: str) -> Activity:
        """The activity with this id. Raises: NotFound."""
        try:
            return self._activities[activity_id]
        except KeyError:
            raise NotFound(f"no activity {activity_id!r} in course {self.id!r}") from None

    def item(self, item_id: str) -> Item:
        """The item with this id. Raises: NotFound."""
        try:
            return self._items[item_id]
        except KeyError:
            raise NotFound(f"no item {item_id!r} in course {self.id!r}") from None

    def rubric(self, rubric_id: str) -> Rubric:
        """The rubric with this id. Raises: NotFound."""
        try:
            return self._rubrics[rubric_id]
        except KeyError:
            raise NotFound(f"no rubric {rubric_id!r} in course {self.id!r}") from None

    def items_for(self, competency_id: str) -> tuple[Item, ...]:
        """Items that give evidence on a competency, in file order."""
        return self._by_competency.get(competency_id, ((), ()))[0]

    def activities_for(self, competency_id: str) -> tuple[Activity, ...]:
        """Activities that teach a competency, in file order."""
        return self._by_competency.get(competency_id, ((), ()))[1]


@dataclass(frozen=True)
class CourseInfo:
    """A stored course as lists and pickers show it, without its content.

    Attributes:
        key: the stored key, unique across the database (what other records refer to; the
            :class:`Course` read back from the store has it as its ``id``).
        code: the course file's own id, unique within the school (what people see).
        school_id: the school that owns the course.
        title: the course's name.
    """

    key: str
    code: str
    school_id: str
    title: str
