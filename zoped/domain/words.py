"""Numbers in words a child reads: the one place a probability becomes a phrase.

Learners and guardians never read "P(known) 0.43" or "43 %": they read "about 4 times in 10".
The engine's menu reasons, the learner's pages and the guardian's pages all word chances
through these functions (the templates through the ``chance`` and ``sureness`` filters), so
the same number always reads the same. Teachers' pages may keep the precise numbers.

>>> chance_in_words(0.87)
'about 9 times in 10'
>>> chance_in_words(0.98)
'nearly every time'
>>> change_in_words(0.40, 0.55)
'more sure you know it now'
"""

from __future__ import annotations

import math

from zoped.errors import InvalidInput, Problem

#: The smallest change of P(known) that :func:`change_in_words` reports as a change.
SAME_WITHIN = 0.005


def _tenths(p: float, name: str) -> int:
    """``p`` in tenths (0 to 10), rounded half up.

    Raises:
        InvalidInput: ``p`` is not a number from 0 to 1.
    """
    if isinstance(p, bool) or not isinstance(p, int | float) or not math.isfinite(p):
        raise InvalidInput("not a probability", [Problem(name, f"a number, got {p!r}")])
    if not 0.0 <= p <= 1.0:
        raise InvalidInput("not a probability", [Problem(name, f"from 0 to 1, got {p!r}")])
    return math.floor(p * 10 + 0.5)


def chance_in_words(p: float) -> str:
    """How often something happens, in words: ``0.87`` -> "about 9 times in 10".

    Rounded to the nearest tenth; 10 tenths reads "nearly every time" and 0 "hardly ever".

    Raises:
        InvalidInput: ``p`` is not a number from 0 to 1.
    """
    tenths = _tenths(p, "p")
    if tenths >= 10:
        return "nearly every time"
    if tenths <= 0:
        return "hardly ever"
    return f"about {tenths} time{'s' if tenths > 1 else ''} in 10"


def sureness_in_words(p_known: float) -> str:
    """How sure zoped is that the learner knows something, in words (for P(known)).

    Raises:
        InvalidInput: ``p_known`` is not a number from 0 to 1.
    """
    tenths = _tenths(p_known, "p_known")
    if tenths >= 9:
        return "very sure you know it"
    if tenths >= 6:
        return "fairly sure you know it"
    if tenths >= 3:
        return "not sure yet"
    return "not yet"


def change_in_words(before: float, after: float) -> str:
    """Which way zoped's sureness moved after an answer: "more sure you know it now",
    "less sure you know it now" or "as sure as before" (within :data:`SAME_WITHIN`).

    Raises:
        InvalidInput: either is not a number from 0 to 1.
    """
    _tenths(before, "before")
    _tenths(after, "after")
    if after - before >= SAME_WITHIN:
        return "more sure you know it now"
    if before - after >= SAME_WITHIN:
        return "less sure you know it now"
    return "as sure as before"
