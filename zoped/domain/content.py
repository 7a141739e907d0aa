"""Learning content: activities, assessment items with pure grading, and project rubrics.

Items and rubrics check themselves with ``problems()`` (every problem, with a location relative
to the object, such as ``options[1].id``) and ``validate()`` (raise them). A
:class:`~zoped.domain.course.Course` runs those checks for everything it holds, so content taken
from a valid course is always valid; :func:`~zoped.domain.grading.grade` and :func:`score`
assume valid content and check only the response.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Self
from urllib.parse import urlsplit

from zoped.domain.framework import slug_problems
from zoped.errors import InvalidInput, Problem


class Modality(StrEnum):
    """How an activity is done; learners may prefer some."""

    PRACTICE = "practice"
    VIDEO = "video"
    READING = "reading"
    HANDS_ON = "hands-on"
    PROJECT = "project"
    DISCUSSION = "discussion"
    GAME = "game"
    SIMULATION = "simulation"


class ItemType(StrEnum):
    """The answer shape of an assessment item."""

    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    NUMERIC = "numeric"
    SHORT_TEXT = "short_text"
    ORDERING = "ordering"
    MATCHING = "matching"
    BLANKS = "blanks"


CHOICE_TYPES = frozenset({ItemType.SINGLE_CHOICE, ItemType.MULTIPLE_CHOICE})
OPTION_TYPES = CHOICE_TYPES | {ItemType.ORDERING, ItemType.MATCHING}

#: How a blank is marked in a ``blanks`` item's stem: ``[[id]]``.
BLANK_MARKER = re.compile(r"\[\[([^\[\]\s]*)\]\]")


def _raise_if(problems: list[Problem], what: str) -> None:
    if problems:
        raise InvalidInput(f"invalid {what}", problems)


def _unique_ids(ids: Sequence[str], location: str, what: str) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for index, value in enumerate(ids):
        problems += slug_problems(value, f"{location}[{index}].id")
        if value in first:
            problems.append(
                Problem(
                    f"{location}[{index}].id",
                    f"duplicate {what} id {value!r} (first at {location}[{first[value]}])",
                )
            )
        else:
            first[value] = index
    return problems


def shown_order(options: Sequence[Option], seed: str) -> list[Option]:
    """An ordering item's steps as one attempt shows them: shuffled by ``seed`` (the attempt's
    event id, so a reload shows the same order) and never already in the right order when
    there are two steps or more (typing 1, 2, 3... must not score)."""
    order = list(options)
    if len(order) < 2:
        return order
    rng = random.Random(seed)
    while True:
        rng.shuffle(order)
        if [o.id for o in order] != [o.id for o in options]:
            return order


def is_web_link(url: object) -> bool:
    """Whether ``url`` is a web address a page may link to: http or https with a host (never
    ``javascript:``, ``data:`` or another scheme a browser would run or open locally)."""
    if not isinstance(url, str):
        return False
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True)
class Activity:
    """Something a learner does to learn: a reading, a video, a hands-on task, a project...

    Attributes:
        id: a slug, unique within its course.
        title: what the learner sees in the menu.
        modality: how it is done.
        competencies: ids of the competencies it teaches (at least one).
        interests: interest tags, matched against learners' interests.
        minutes: the estimated time it takes (> 0).
        body: Markdown text; ``body`` or ``link`` (or both) is required.
        link: a URL to the material.
        language: a BCP 47 tag, or None for the course language.
        rubric_id: the rubric that scores it (project activities).
    """

    id: str
    title: str
    modality: Modality
    competencies: tuple[str, ...]
    minutes: int
    interests: tuple[str, ...] = ()
    body: str | None = None
    link: str | None = None
    language: str | None = None
    rubric_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "competencies", tuple(self.competencies))
        object.__setattr__(self, "interests", tuple(self.interests))

    def problems(self) -> list[Problem]:
        """Every problem with this activity on its own (references are checked by a course)."""
        problems = slug_problems(self.id, "id")
        if not self.title.strip():
            problems.append(Problem("title", "must not be empty"))
        if not self.competencies:
            problems.append(Problem("competencies", "at least one competency is required"))
        if self.minutes <= 0:
            problems.append(Problem("minutes", f"must be > 0, not {self.minutes}"))
        if not (self.body and self.body.strip()) and not (self.link and self.link.strip()):
            problems.append(Problem("body", "an activity needs a body or a link"))
        if self.link and self.link.strip() and not is_web_link(self.link):
            problems.append(Problem("link", "must be a web address (http:// or https://)"))
        return problems

    def validate(self) -> Self:
        """Return self if valid. Raises: InvalidInput listing every problem."""
        _raise_if(self.problems(), f"activity {self.id!r}")
        return self


@dataclass(frozen=True)
class Option:
    """One option of a choice, ordering or matching item, with the feedback shown when it is
    chosen; in a matching item, ``match`` is the id of the target it goes with."""

    id: str
    text: str
    correct: bool = False
    feedback: str = ""
    match: str = ""


@dataclass(frozen=True)
class Blank:
    """One blank of a ``blanks`` item, marked ``[[id]]`` in its stem: either chosen from
    ``choices`` (exactly one correct) or typed (any of ``accepted``, case and spacing ignored).
    """

    id: str
    choices: tuple[Option, ...] = ()
    accepted: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "choices", tuple(self.choices))
        object.__setattr__(self, "accepted", tuple(self.accepted))

    @property
    def answer(self) -> str:
        """The right answer in words: the correct choice's text, or the first accepted text."""
        if self.choices:
            return next((c.text for c in self.choices if c.correct), "")
        return self.accepted[0] if self.accepted else ""

    def problems(self, where: str) -> list[Problem]:
        """Every problem with this blank's answer, located under ``where`` (e.g.
        ``blanks[0]``); its id is checked by its item."""
        problems: list[Problem] = []
        if self.choices:
            problems += _unique_ids([c.id for c in self.choices], f"{where}.choices", "choice")
            n_correct = sum(c.correct for c in self.choices)
            if len(self.choices) < 2:
                problems.append(Problem(f"{where}.choices", "a blank needs at least two choices"))
            if n_correct != 1:
                problems.append(
                    Problem(
                        f"{where}.choices",
                        f"a blank with choices needs exactly one correct choice, not {n_correct}",
                    )
                )
            if self.accepted:
                problems.append(
                    Problem(f"{where}.accepted", "a blank has choices or accepted texts, not both")
                )
        elif not any(normalise_text(a) for a in self.accepted):
            problems.append(
                Problem(f"{where}.accepted", "a blank needs choices or at least one accepted text")
            )
        return problems


@dataclass(frozen=True)
class Item:
    """An assessment question. Which fields matter depends on ``type``.

    Attributes:
        id: a slug, unique within its course.
        type: the answer shape.
        stem: the question, Markdown.
        competencies: ids of the competencies it gives evidence on; several = multi-skill.
        options: for choice items (which are correct) and ordering items (the correct order).
        answer: for numeric items, the expected number.
        tolerance: for numeric items, the accepted absolute error (>= 0).
        accepted: for short-text items, accepted answers (case and spacing are ignored).
        targets: for matching items, what the options are matched with (each option's
            ``match`` names one; targets no option names are distractors).
        blanks: for blanks items, the blanks marked ``[[id]]`` in the stem, in stem order.
        hints: shown one at a time, in order.
        explanation: shown after answering.
        difficulty: optional author's estimate in [0, 1] (0 easy); models may refine it.
        feedback_correct: feedback for a right answer to a non-choice item.
        feedback_incorrect: feedback for a wrong answer to a non-choice item.
    """

    id: str
    type: ItemType
    stem: str
    competencies: tuple[str, ...]
    options: tuple[Option, ...] = ()
    answer: float | None = None
    tolerance: float = 0.0
    accepted: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    explanation: str = ""
    difficulty: float | None = None
    feedback_correct: str = ""
    feedback_incorrect: str = ""
    targets: tuple[Option, ...] = ()
    blanks: tuple[Blank, ...] = ()

    def __post_init__(self) -> None:
        for name in ("competencies", "options", "accepted", "hints", "targets", "blanks"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def problems(self) -> list[Problem]:
        """Every problem with this item on its own (references are checked by a course)."""
        problems = slug_problems(self.id, "id")
        if not self.stem.strip():
            problems.append(Problem("stem", "must not be empty"))
        if not self.competencies:
            problems.append(Problem("competencies", "at least one competency is required"))
        if self.difficulty is not None and not 0.0 <= self.difficulty <= 1.0:
            problems.append(Problem("difficulty", f"must be in [0, 1], not {self.difficulty}"))
        kind = self.type
        if kind in OPTION_TYPES:
            problems += _unique_ids([o.id for o in self.options], "options", "option")
            if len(self.options) < 2:
                problems.append(Problem("options", f"a {kind} item needs at least two options"))
        elif self.options:
            problems.append(Problem("options", f"a {kind} item has no options"))
        n_correct = sum(o.correct for o in self.options)
        if kind is ItemType.ORDERING and n_correct:
            problems.append(
                Problem(
                    "options", "ordering options are not marked correct: their order is the answer"
                )
            )
        if kind is ItemType.SINGLE_CHOICE and n_correct != 1:
            problems.append(
                Problem(
                    "options",
                    f"a single_choice item needs exactly one correct option, not {n_correct}",
                )
            )
        if kind is ItemType.MULTIPLE_CHOICE and n_correct < 1:
            problems.append(
                Problem("options", "a multiple_choice item needs at least one correct option")
            )
        if kind is ItemType.NUMERIC:
            if self.answer is None or not math.isfinite(self.answer):
                problems.append(Problem("answer", "a numeric item needs a finite answer"))
            if not math.isfinite(self.tolerance) or self.tolerance < 0:
                problems.append(Problem("tolerance", f"must be >= 0, not {self.tolerance}"))
        else:
            if self.answer is not None:
                problems.append(Problem("answer", f"only numeric items have an answer, not {kind}"))
            if self.tolerance != 0:
                problems.append(Problem("tolerance", "only numeric items have a tolerance"))
        if kind is ItemType.SHORT_TEXT:
            normalised = [normalise_text(a) for a in self.accepted]
            if not any(normalised):
                problems.append(
                    Problem("accepted", "a short_text item needs at least one accepted answer")
                )
            for index, value in enumerate(normalised):
                if not value:
                    problems.append(Problem(f"accepted[{index}]", "must not be empty"))
        elif self.accepted:
            problems.append(Problem("accepted", f"only short_text items accept texts, not {kind}"))
        problems += self._matching_problems()
        problems += self._blank_problems()
        return problems

    def _matching_problems(self) -> list[Problem]:
        if self.type is not ItemType.MATCHING:
            problems = [
                Problem(f"options[{i}].match", f"only matching items match, not {self.type}")
                for i, o in enumerate(self.options)
                if o.match
            ]
            if self.targets:
                problems.append(Problem("targets", f"a {self.type} item has no targets"))
            return problems
        problems = _unique_ids([t.id for t in self.targets], "targets", "target")
        if len(self.targets) < 2:
            problems.append(Problem("targets", "a matching item needs at least two targets"))
        target_ids = {t.id for t in self.targets}
        for index, option in enumerate(self.options):
            if option.correct:
                problems.append(
                    Problem(f"options[{index}].correct", "matching options are not marked correct")
                )
            if option.match not in target_ids:
                problems.append(
                    Problem(
                        f"options[{index}].match",
                        f"must name one of the targets, not {option.match!r}",
                    )
                )
        return problems

    def _blank_problems(self) -> list[Problem]:
        if self.type is not ItemType.BLANKS:
            if self.blanks:
                return [Problem("blanks", f"a {self.type} item has no blanks")]
            return []
        problems = _unique_ids([b.id for b in self.blanks], "blanks", "blank")
        if not self.blanks:
            problems.append(Problem("blanks", "a blanks item needs at least one blank"))
        for index, blank in enumerate(self.blanks):
            problems += blank.problems(f"blanks[{index}]")
        marked = BLANK_MARKER.findall(self.stem)
        wanted = [b.id for b in self.blanks]
        if marked != wanted:
            problems.append(
                Problem(
                    "stem",
                    "must mark each blank once, in order, as [[id]]: "
                    f"expected {', '.join(wanted) or 'none'}, found {', '.join(marked) or 'none'}",
                )
            )
        return problems

    def validate(self) -> Self:
        """Return self if valid. Raises: InvalidInput listing every problem."""
        _raise_if(self.problems(), f"item {self.id!r}")
        return self

    def option(self, option_id: str) -> Option:
        """The option with this id.

        Raises:
            InvalidInput: when the item has no such option.
        """
        for candidate in self.options:
            if candidate.id == option_id:
                return candidate
        raise InvalidInput(
            "invalid response",
            [Problem("response", f"item {self.id!r} has no option {option_id!r}")],
        )


def normalise_text(text: str) -> str:
    """Fold case, Unicode forms and all whitespace, so "One  Quarter" equals "one quarter".

    Whitespace is removed entirely rather than collapsed, so "1 / 4" also matches "1/4".
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(folded.split())


@dataclass(frozen=True)
class RubricLevel:
    """One level of a rubric criterion, e.g. "Developing", 2 points."""

    title: str
    points: float
    description: str = ""


@dataclass(frozen=True)
class Criterion:
    """One criterion of a rubric, mapped to the competencies it gives evidence on."""

    id: str
    title: str
    competencies: tuple[str, ...]
    levels: tuple[RubricLevel, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "competencies", tuple(self.competencies))
        object.__setattr__(self, "levels", tuple(self.levels))

    @property
    def max_points(self) -> float:
        """The points of the top level."""
        return max((level.points for level in self.levels), default=0.0)


@dataclass(frozen=True)
class Rubric:
    """A scoring guide for projects: criteria with levels and points."""

    id: str
    title: str
    criteria: tuple[Criterion, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "criteria", tuple(self.criteria))

    def problems(self) -> list[Problem]:
        """Every problem with this rubric on its own (references are checked by a course)."""
        problems = slug_problems(self.id, "id")
        if not self.title.strip():
            problems.append(Problem("title", "must not be empty"))
        if not self.criteria:
            problems.append(Problem("criteria", "a rubric needs at least one criterion"))
        problems += _unique_ids([c.id for c in self.criteria], "criteria", "criterion")
        for index, criterion in enumerate(self.criteria):
            where = f"criteria[{index}]"
            if not criterion.competencies:
                problems.append(
                    Problem(f"{where}.competencies", "at least one competency is required")
                )
            if len(criterion.levels) < 2:
                problems.append(Problem(f"{where}.levels", "at least two levels are required"))
            for position, level in enumerate(criterion.levels):
                if not math.isfinite(level.points) or level.points < 0:
                    problems.append(
                        Problem(f"{where}.levels[{position}].points", "must be a number >= 0")
                    )
                elif position and level.points <= criterion.levels[position - 1].points:
                    problems.append(
                        Problem(
                            f"{where}.levels[{position}].points",
                            "points must increase strictly from level to level",
                        )
                    )
            if criterion.levels and criterion.max_points <= 0:
                problems.append(Problem(f"{where}.levels", "the top level needs points > 0"))
        return problems

    def validate(self) -> Self:
        """Return self if valid. Raises: InvalidInput listing every problem."""
        _raise_if(self.problems(), f"rubric {self.id!r}")
        return self


def score(rubric: Rubric, chosen_levels: Mapping[str, int | str]) -> dict[str, float]:
    """Per-competency scores in [0, 1] from the levels a teacher chose.

    Args:
        rubric: a valid rubric.
        chosen_levels: criterion id -> the chosen level, as its index (0 = lowest) or title.
            Criteria left out are not scored (a teacher may score part of a project).

    Returns:
        For each competency of a scored criterion, the points earned over the points possible
        across the scored criteria mapped to it (so criteria weigh by their top points).

    Raises:
        InvalidInput: for nothing chosen, an unknown criterion or an unknown level, all at once.
    """
    problems: list[Problem] = []
    if not chosen_levels:
        problems.append(Problem("levels", "choose a level for at least one criterion"))
    by_id = {c.id: c for c in rubric.criteria}
    earned: dict[str, float] = {}
    possible: dict[str, float] = {}
    for criterion_id, choice in chosen_levels.items():
        criterion = by_id.get(criterion_id)
        if criterion is None:
            problems.append(
                Problem(f"levels.{criterion_id}", f"rubric {rubric.id!r} has no such criterion")
            )
            continue
        level: RubricLevel | None = None
        if isinstance(choice, bool):
            level = None
        elif isinstance(choice, int):
            if 0 <= choice < len(criterion.levels):
                level = criterion.levels[choice]
        else:
            level = next((lv for lv in criterion.levels if lv.title == choice), None)
        if level is None:
            problems.append(Problem(f"levels.{criterion_id}", f"no level {choice!r}"))
            continue
        for competency in criterion.competencies:
            earned[competency] = earned.get(competency, 0.0) + level.points
            possible[competency] = possible.get(competency, 0.0) + criterion.max_points
    if problems:
        raise InvalidInput("invalid rubric scores", problems)
    return {cid: min(1.0, max(0.0, earned[cid] / possible[cid])) for cid in earned}
