"""Learning plans, comments on them, and the learner's reflective log.

A plan belongs to the learner and is co-edited with teachers (and seen by guardians). It carries
a ``version`` so that the store can refuse a stale write from a second editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from zoped.domain.evidence import aware_problems
from zoped.errors import InvalidInput, Problem

#: The most goals a plan holds: a plan is a short list a learner keeps in mind.
MAX_GOALS = 20
#: The longest text each free-text field holds, in characters: enough for what it is for, and a
#: clear message instead of a page that a 100,000-character paste breaks.
MAX_LINE = 300  # a goal, a strategy, a resource
MAX_PARAGRAPHS = 2_000  # how mastery will be shown, a comment
MAX_ENTRY = 5_000  # a learning-log entry
MAX_LINES = 30  # strategies or resources in a plan


def length_problems(text: str, location: str, limit: int) -> list[Problem]:
    """A problem when ``text`` is longer than ``limit`` characters, saying by how much."""
    if len(text) <= limit:
        return []
    return [Problem(location, f"at most {limit:,} characters (this has {len(text):,})")]


@dataclass(frozen=True)
class PlanGoal:
    """One goal of a plan: what to learn, by when, in the learner's words.

    Attributes:
        id: unique within the plan.
        description: the goal in plain words.
        competency_ids: the competencies it is about (may be empty for a personal goal).
        target_date: when the learner hopes to reach it, if set.
        achieved: whether the learner (or a teacher) marked it reached.
    """

    id: str
    description: str
    competency_ids: tuple[str, ...] = ()
    target_date: date | None = None
    achieved: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "competency_ids", tuple(self.competency_ids))


@dataclass(frozen=True)
class LearningPlan:
    """A learner's plan: goals, how to get there, and how mastery will be shown.

    Attributes:
        id: the plan's id.
        learner_id: whose plan it is.
        goals: the goals, in the learner's order.
        strategies: how the learner means to learn ("practise 15 minutes a day").
        resources: ids of chosen activities (or free-text resources).
        mastery_evidence: how mastery will be shown ("a recipe project scored with a rubric").
        version: increases by one on every saved change (>= 1).
        updated_at: when this version was saved (timezone-aware), if saved.
        updated_by: who saved this version.

    Raises:
        InvalidInput: for a version below 1, duplicate goal ids or a naive ``updated_at``.
    """

    id: str
    learner_id: str
    goals: tuple[PlanGoal, ...] = ()
    strategies: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    mastery_evidence: str = ""
    version: int = 1
    updated_at: datetime | None = None
    updated_by: str | None = None

    def __post_init__(self) -> None:
        for name in ("goals", "strategies", "resources"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        problems: list[Problem] = []
        if self.version < 1:
            problems.append(Problem("version", f"must be >= 1, not {self.version}"))
        if len(self.goals) > MAX_GOALS:
            problems.append(Problem("goals", f"at most {MAX_GOALS} goals, not {len(self.goals)}"))
        for name in ("strategies", "resources"):
            lines: tuple[str, ...] = getattr(self, name)
            if len(lines) > MAX_LINES:
                problems.append(Problem(name, f"at most {MAX_LINES} lines, not {len(lines)}"))
            for index, line in enumerate(lines):
                problems += length_problems(line, f"{name}[{index}]", MAX_LINE)
        problems += length_problems(self.mastery_evidence, "mastery_evidence", MAX_PARAGRAPHS)
        seen: set[str] = set()
        for index, goal in enumerate(self.goals):
            if goal.id in seen:
                problems.append(Problem(f"goals[{index}].id", f"duplicate goal id {goal.id!r}"))
            seen.add(goal.id)
            if not goal.description.strip():
                problems.append(Problem(f"goals[{index}].description", "must not be empty"))
            problems += length_problems(goal.description, f"goals[{index}].description", MAX_LINE)
        if self.updated_at is not None:
            problems += aware_problems(self.updated_at, "updated_at")
        if problems:
            raise InvalidInput("invalid learning plan", problems)


@dataclass(frozen=True)
class PlanComment:
    """A comment on a plan by the learner, a teacher or a guardian, on a given version."""

    id: str
    plan_id: str
    author_id: str
    body: str
    created_at: datetime
    plan_version: int

    def __post_init__(self) -> None:
        problems = aware_problems(self.created_at, "created_at")
        if not self.body.strip():
            problems.append(Problem("body", "must not be empty"))
        problems += length_problems(self.body, "body", MAX_PARAGRAPHS)
        if problems:
            raise InvalidInput("invalid plan comment", problems)


@dataclass(frozen=True)
class LogEntry:
    """A reflection in the learner's learning log. Private unless the learner shares it.

    Attributes:
        shared: False (the default) keeps it to the learner; True lets their teachers read it.
    """

    id: str
    learner_id: str
    body: str
    created_at: datetime
    competency_ids: tuple[str, ...] = ()
    activity_id: str | None = None
    shared: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "competency_ids", tuple(self.competency_ids))
        problems = aware_problems(self.created_at, "created_at")
        if not self.body.strip():
            problems.append(Problem("body", "must not be empty"))
        problems += length_problems(self.body, "body", MAX_ENTRY)
        if problems:
            raise InvalidInput("invalid log entry", problems)
