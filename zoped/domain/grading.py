"""Grading a response to an item: right or wrong, partial credit, and feedback that agrees with
the verdict (a wrong answer is shown the right one). Pure; the item is valid (its course
checked it), so only the response is checked.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from zoped.domain.content import (
    Item,
    ItemType,
    normalise_text,
)
from zoped.errors import InvalidInput, Problem


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
