"""Learning content: activities, assessment items with pure grading, and project rubrics.

Items and rubrics check themselves with ``problems()`` (every problem, with a location relative
to the object, such as ``options[1].id``) and ``validate()`` (raise them). A
:class:`~zoped.domain.course.Course` runs those checks for everything it holds, so content taken
from a valid course is always valid; :func:`grade` and :func:`score` assume valid content and
check only the response.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
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


@dataclass(frozen=True)
class Grade:
    """The result of grading one response.

    Attributes:
        correct: whether the response is fully right (what knowledge tracing consumes).
        score: partial credit in [0, 1]; 1.0 exactly when ``correct``.
        feedback: text for the learner about this response.
    """

    correct: bool
    score: float
    feedback: str


#: What a response may be, by item type: an option id; option ids; a number; a text; an order.
Response = str | float | int | Sequence[str] | Collection[str]


def normalise_text(text: str) -> str:
    """Fold case, Unicode forms and all whitespace, so "One  Quarter" equals "one quarter".

    Whitespace is removed entirely rather than collapsed, so "1 / 4" also matches "1/4".
    """
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(folded.split())


def _bad(item: Item, message: str) -> InvalidInput:
    return InvalidInput("invalid response", [Problem("response", f"item {item.id!r}: {message}")])


def _option_ids(item: Item, response: Response) -> list[str]:
    if isinstance(response, str) or not isinstance(response, Collection):
        raise _bad(item, "expected a list of option ids")
    ids = list(response)
    for value in ids:
        if not isinstance(value, str):
            raise _bad(item, f"option ids are strings, not {value!r}")
        item.option(value)
    if len(set(ids)) != len(ids):
        raise _bad(item, "an option is listed twice")
    return ids


_MIXED_NUMBER = re.compile(r"^([+-]?)(?:(\d+)\s+)?(\d+)\s*/\s*(\d+)$")


def parse_number(text: str) -> float:
    """A number as a learner types it: ``0.75``, ``0,75``, ``3/4``, ``¾``, ``1 1/2``, ``1½``,
    ``-3/4``. A fraction is read exactly (``1/3`` is one third, not 0.33).

    Raises:
        ValueError: for anything else, or a zero denominator.
    """
    # A vulgar fraction (¾, ⅓...) reads as " 3/4" after any whole part: "1½" is "1 1/2".
    spelled = "".join(
        f" {unicodedata.normalize('NFKC', ch)}"
        if unicodedata.decomposition(ch).startswith("<fraction>")
        else ch
        for ch in text
    )
    cleaned = spelled.strip().replace("\u2212", "-").replace("\u2044", "/")
    found = _MIXED_NUMBER.match(cleaned)
    if found:
        sign, whole, top, bottom = found.groups()
        if int(bottom) == 0:
            raise ValueError("a fraction cannot have 0 below the line")
        value = int(whole or 0) + int(top) / int(bottom)
        return -value if sign == "-" else value
    if re.fullmatch(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?", cleaned):
        return float(cleaned.replace(",", "."))
    raise ValueError(f"{text!r} is not a number")


def _number(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else str(value)


def _with_right_answer(text: str, item: Item) -> str:
    """Feedback on a wrong answer followed by the right one, so that the attempt teaches
    something (issue 15): the right option(s), number, accepted text or order."""
    text = text.rstrip()
    if text and text[-1] not in ".!?":
        text += "."
    kind = item.type
    if kind is ItemType.SINGLE_CHOICE:
        right = next(o.text for o in item.options if o.correct)
        return f"{text} The right answer: {right}."
    if kind is ItemType.MULTIPLE_CHOICE:
        rights = "; ".join(o.text for o in item.options if o.correct)
        return f"{text} The right answers: {rights}."
    if kind is ItemType.NUMERIC:
        assert item.answer is not None  # guaranteed for a valid numeric item
        return f"{text} The right answer: {_number(item.answer)}."
    if kind is ItemType.SHORT_TEXT:
        return f"{text} The right answer: {item.accepted[0]}."
    if kind is ItemType.MATCHING:
        targets = {t.id: t.text for t in item.targets}
        pairs = "; ".join(f"{o.text} → {targets[o.match]}" for o in item.options)
        return f"{text} The right pairs: {pairs}."
    if kind is ItemType.BLANKS:
        answers = "; ".join(b.answer for b in item.blanks)
        return f"{text} The right answers, in order: {answers}."
    steps = "; ".join(f"{i}. {o.text}" for i, o in enumerate(item.options, start=1))
    return f"{text} The right order: {steps}."


def _verdict(item: Item, correct: bool) -> str:
    if correct:
        return item.feedback_correct or "Correct."
    return item.feedback_incorrect or "Not quite."


def grade(item: Item, response: Response) -> Grade:
    """Grade one response to a valid item; pure, no side effects.

    Args:
        item: the item answered.
        response: by type: single_choice an option id; multiple_choice a collection of option
            ids; numeric a number (or a string holding one); short_text a string; ordering
            every option id, in the order given; matching one target id per option (in
            option order, "" for none); blanks one value per blank (a choice id or a text).

    Returns:
        The grade. Multiple choice earns partial credit ``(right picks - wrong picks) / number
        of right options`` (at least 0); ordering earns the share of option pairs put in the
        right relative order; matching and blanks the share of parts right. Everything else is
        all or nothing.

    Raises:
        InvalidInput: for a malformed response: wrong shape, unknown or repeated option id, an
            ordering that is not a permutation of the options, or a non-numeric number.
    """
    kind = item.type
    if kind is ItemType.SINGLE_CHOICE:
        if not isinstance(response, str):
            raise _bad(item, "expected one option id")
        chosen = item.option(response)
        text = chosen.feedback or _verdict(item, chosen.correct)
        if not chosen.correct:
            text = _with_right_answer(text, item)
        return Grade(chosen.correct, 1.0 if chosen.correct else 0.0, text)

    if kind is ItemType.MULTIPLE_CHOICE:
        picked = set(_option_ids(item, response))
        right = {o.id for o in item.options if o.correct}
        correct = picked == right
        earned = (len(picked & right) - len(picked - right)) / len(right)
        # earned reaches 1 only when every right option and nothing else is picked.
        score = 1.0 if correct else max(earned, 0.0)
        if correct:
            notes = [o.feedback for o in item.options if o.id in picked and o.feedback]
            return Grade(True, score, " ".join(notes) or _verdict(item, True))
        # A partly right answer is told what is wrong with it, never only what is right.
        notes = [o.feedback for o in item.options if o.id in picked - right and o.feedback]
        missed = len(right - picked)
        if missed:
            notes.append("One right answer is missing." if missed == 1 else
                         f"{missed} right answers are missing.")  # fmt: skip
        return Grade(
            False, score, _with_right_answer(" ".join([_verdict(item, False), *notes]), item)
        )

    if kind is ItemType.NUMERIC:
        if isinstance(response, bool):
            raise _bad(item, "expected a number")
        if isinstance(response, str):
            try:
                value = parse_number(response)
            except ValueError as error:
                raise _bad(item, str(error)) from None
        elif isinstance(response, int | float):
            value = float(response)
        else:
            raise _bad(item, "expected a number")
        if not math.isfinite(value):
            raise _bad(item, "expected a finite number")
        assert item.answer is not None  # guaranteed for a valid numeric item
        # A tiny relative slack keeps 0.1 + 0.2 from failing an exact (tolerance 0) answer.
        slack = 1e-9 * max(1.0, abs(item.answer))
        correct = abs(value - item.answer) <= item.tolerance + slack
        text = _verdict(item, correct)
        return Grade(
            correct, 1.0 if correct else 0.0, text if correct else _with_right_answer(text, item)
        )

    if kind is ItemType.SHORT_TEXT:
        if not isinstance(response, str):
            raise _bad(item, "expected a text")
        given = normalise_text(response)
        correct = any(given == normalise_text(a) for a in item.accepted)
        text = _verdict(item, correct)
        return Grade(
            correct, 1.0 if correct else 0.0, text if correct else _with_right_answer(text, item)
        )

    if kind is ItemType.MATCHING or kind is ItemType.BLANKS:
        return _grade_parts(item, response)

    # ItemType.ORDERING
    order = _option_ids(item, response)
    if isinstance(response, set | frozenset):
        raise _bad(item, "an ordering must be a sequence, not a set")
    if len(order) != len(item.options):
        raise _bad(item, "an ordering must list every option exactly once")
    position = {o.id: i for i, o in enumerate(item.options)}
    ranks = [position[oid] for oid in order]
    pairs = len(ranks) * (len(ranks) - 1) // 2
    in_order = sum(
        1 for i in range(len(ranks)) for j in range(i + 1, len(ranks)) if ranks[i] < ranks[j]
    )
    correct = in_order == pairs
    text = _verdict(item, correct)
    return Grade(
        correct,
        in_order / pairs if pairs else 1.0,
        text if correct else _with_right_answer(text, item),
    )


def _grade_parts(item: Item, response: Response) -> Grade:
    """A matching item (one target id per option, in option order; "" leaves one unmatched) or
    a blanks item (one value per blank, in order: a choice id, or the text typed). The score
    is the share of parts right."""
    if isinstance(response, str | set | frozenset) or not isinstance(response, Sequence):
        raise _bad(item, "expected a list with one answer per part")
    given = list(response)
    matching = item.type is ItemType.MATCHING
    parts = len(item.options) if matching else len(item.blanks)
    if len(given) != parts or not all(isinstance(v, str) for v in given):
        raise _bad(item, f"expected {parts} texts, one per {'option' if matching else 'blank'}")
    right = 0
    if matching:
        target_ids = {t.id for t in item.targets}
        for option, value in zip(item.options, given, strict=True):
            if value and value not in target_ids:
                raise _bad(item, f"no target {value!r}")
            right += value == option.match
    else:
        for blank, value in zip(item.blanks, given, strict=True):
            if blank.choices:
                if value and value not in {c.id for c in blank.choices}:
                    raise _bad(item, f"blank {blank.id!r} has no choice {value!r}")
                right += any(c.correct and c.id == value for c in blank.choices)
            else:
                typed = normalise_text(value)
                right += bool(typed) and any(typed == normalise_text(a) for a in blank.accepted)
    correct = right == parts
    text = _verdict(item, correct)
    return Grade(correct, right / parts, text if correct else _with_right_answer(text, item))


def right_response(item: Item) -> Response:
    """A response that :func:`grade` marks right (for demos, simulations and tests)."""
    kind = item.type
    if kind is ItemType.SINGLE_CHOICE:
        return next(o.id for o in item.options if o.correct)
    if kind is ItemType.MULTIPLE_CHOICE:
        return [o.id for o in item.options if o.correct]
    if kind is ItemType.ORDERING:
        return [o.id for o in item.options]
    if kind is ItemType.MATCHING:
        return [o.match for o in item.options]
    if kind is ItemType.BLANKS:
        return [
            next(c.id for c in b.choices if c.correct) if b.choices else b.accepted[0]
            for b in item.blanks
        ]
    if kind is ItemType.NUMERIC:
        return str(item.answer)
    return item.accepted[0]


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
