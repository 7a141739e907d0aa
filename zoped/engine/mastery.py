"""Mastery levels per learner and competency, derived from the learner model and the evidence.

Levels (see ``docs/pathways.md`` for the thresholds and why):

======== ==================================================================================
level    rule (defaults of :class:`MasteryConfig`)
======== ==================================================================================
0 not    no evidence yet
started
1 attem- at least one response
pted
2 famil- P(known) >= 0.50 with at least 2 responses
iar
3 profi- P(known) >= 0.80 with at least 3 responses
cient
4 maste- P(known) >= 0.95 with at least 4 responses, spread over >= 2 days **or** interleaved
red      with other competencies >= 3 times (never one burst of massed practice), and recent:
         at least 4 of the last 5 answers right, the latest among them. Kept while at least 3
         of the last 5 are right, until recall fades
5 review mastered, but the memory model's retrievability fell below 0.80; a correct answer
due      restores mastered (and the memory model lengthens the interval), a wrong one lowers the
         level to at most proficient
======== ==================================================================================

A competency unlocks when every direct prerequisite is at least proficient (review due counts:
it was mastered and is only scheduled for a check).

**Levels are decided when evidence arrives, and read without changing anything.**
:meth:`MasteryTracker.record` takes each answer with the learner model's P(known) after it and
decides the competency's level then; :meth:`MasteryTracker.levels` only adds what time does
(review due when recall fades) and the re-check cap, so a level is the same however often or
late it is read. Laws (tested with hypothesis): a wrong answer never raises a level above
where it was (a first answer, right or wrong, makes it attempted); 3 right out of 10 is never
mastered; mastered needs recent right answers.

**Prerequisite re-check** (needs the graph: ``MasteryTracker(..., graph=graph)``). Repeated
failure on a competency is evidence against its prerequisites: when a learner misses at least
``recheck_misses`` (3) of their last ``recheck_window`` (4) answers on X, every direct
prerequisite of X that is not mastered is put back to be checked: its level is capped at
familiar (so X and its other dependents lock again and the prerequisite is on the frontier)
until the learner answers ``recheck_streak`` (3) of its items right in a row, or masters it.
X's window then starts afresh. ``recheck_misses=0`` switches it off.

Teacher overrides, accepted prior-learning claims and self-assessments are applied over these
levels by :func:`zoped.engine.overrides.apply_overrides`.

:class:`MasteryTracker` keeps the evidence counters for many learners at once (numpy arrays of
shape ``(learners, competencies)``), so the simulator updates 1,000 learners in one call; the
services use it with one learner.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from zoped.engine.graph import BoolArray, CompetencyGraph
from zoped.errors import InvalidInput, Problem

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
DAY_S = 86_400.0


class MasteryLevel(IntEnum):
    """One learner's level on one competency. Worded the same for every role."""

    NOT_STARTED = 0
    ATTEMPTED = 1
    FAMILIAR = 2
    PROFICIENT = 3
    MASTERED = 4
    REVIEW_DUE = 5

    @property
    def label(self) -> str:
        """The plain-words name shown to learners, teachers and guardians alike."""
        return self.name.lower().replace("_", " ")


def at_least_proficient(levels: NDArray[np.int64]) -> BoolArray:
    """True where a level counts as met for unlocking: proficient, mastered or review due."""
    return np.asarray(levels) >= MasteryLevel.PROFICIENT


#: How many answers one rubric score on a competency counts as (see :func:`rubric_answers`).
RUBRIC_ANSWERS = 2


def rubric_answers(score: float) -> tuple[bool, ...]:
    """The answers a teacher's rubric score on one competency counts as, in order.

    A rubric judges a whole project, so it weighs as :data:`RUBRIC_ANSWERS` answers: secure or
    better (score >= 0.75, "3 of 4 points") counts as that many right answers; partly there
    (>= 0.5) as one right and then one wrong (so it never alone completes a mastery); below
    that as that many wrong answers. They go through the same knowledge step and mastery
    rules as answers to items.
    """
    if score >= 0.75:
        return (True,) * RUBRIC_ANSWERS
    if score >= 0.5:
        return (True,) + (False,) * (RUBRIC_ANSWERS - 1)
    return (False,) * RUBRIC_ANSWERS


@dataclass(frozen=True)
class LevelCounts:
    """How many competencies are at each level: the one count every page shows.

    "Mastered" counts review due too: those were mastered and are only scheduled for a check,
    so the headline, the progress chart and the guardian's page all say the same number.
    """

    not_started: int
    attempted: int
    familiar: int
    proficient: int
    mastered: int
    review_due: int
    total: int

    @property
    def at_least_proficient(self) -> int:
        """Proficient, mastered or due for review: what unlocks the next steps."""
        return self.proficient + self.mastered


def count_levels(levels: Sequence[int] | NDArray[np.int64]) -> LevelCounts:
    """Count one learner's levels (see :class:`LevelCounts`)."""
    found = np.bincount(np.asarray(levels, dtype=np.int64), minlength=len(MasteryLevel))
    return LevelCounts(
        not_started=int(found[MasteryLevel.NOT_STARTED]),
        attempted=int(found[MasteryLevel.ATTEMPTED]),
        familiar=int(found[MasteryLevel.FAMILIAR]),
        proficient=int(found[MasteryLevel.PROFICIENT]),
        mastered=int(found[MasteryLevel.MASTERED] + found[MasteryLevel.REVIEW_DUE]),
        review_due=int(found[MasteryLevel.REVIEW_DUE]),
        total=int(found.sum()),
    )


@dataclass(frozen=True)
class MasteryConfig:
    """Thresholds that turn P(known) and evidence into levels. Validated on construction.

    Raises:
        InvalidInput: every bad value at once.
    """

    familiar_p: float = 0.50
    proficient_p: float = 0.80
    mastered_p: float = 0.95
    min_attempts_familiar: int = 2
    min_attempts_proficient: int = 3
    min_attempts_mastered: int = 4
    min_days_mastered: int = 2
    min_interleaved_mastered: int = 3
    mastered_window: int = 5
    mastered_right: int = 4
    review_retrievability: float = 0.80
    recheck_window: int = 4
    recheck_misses: int = 3
    recheck_streak: int = 3

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in ("familiar_p", "proficient_p", "mastered_p", "review_retrievability"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 < value < 1.0):
                problems.append(Problem(name, f"must be strictly between 0 and 1, got {value!r}"))
        if not problems and not (self.familiar_p < self.proficient_p < self.mastered_p):
            problems.append(Problem("mastered_p", "need familiar_p < proficient_p < mastered_p"))
        counts = (
            "min_attempts_familiar",
            "min_attempts_proficient",
            "min_attempts_mastered",
            "min_days_mastered",
            "min_interleaved_mastered",
        )
        for name in counts:
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(Problem(name, f"must be an integer >= 1, got {value!r}"))
        if not problems and not (
            self.min_attempts_familiar <= self.min_attempts_proficient <= self.min_attempts_mastered
        ):
            problems.append(
                Problem("min_attempts_mastered", "minimum evidence must not fall as levels rise")
            )
        window, right = self.mastered_window, self.mastered_right
        if not (isinstance(window, int) and isinstance(right, int) and 1 <= right <= window <= 30):
            problems.append(
                Problem("mastered_right", "need 1 <= mastered_right <= mastered_window <= 30")
            )
        for name in ("recheck_window", "recheck_misses", "recheck_streak"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(Problem(name, f"must be an integer >= 0, got {value!r}"))
        if not problems and self.recheck_misses > 0:
            if not 1 <= self.recheck_window <= 30:
                problems.append(Problem("recheck_window", "must be 1-30 when re-checks are on"))
            elif self.recheck_misses > self.recheck_window:
                problems.append(Problem("recheck_misses", "must be at most recheck_window"))
            if self.recheck_streak < 1:
                problems.append(Problem("recheck_streak", "must be >= 1 when re-checks are on"))
        if problems:
            raise InvalidInput("invalid mastery configuration", problems)


class MasteryTracker:
    """Evidence counters and levels for ``n_learners`` x ``n_competencies``.

    Call :meth:`record` with each batch of responses (in time order) and the learner model's
    P(known) after them, and :meth:`place` with placement results; :meth:`levels` reads the
    levels at any time. Arrays are public so callers can read them; only :meth:`record` and
    :meth:`place` write them.
    """

    def __init__(
        self,
        n_learners: int,
        n_competencies: int,
        config: MasteryConfig | None = None,
        graph: CompetencyGraph | None = None,
    ) -> None:
        shape = (n_learners, n_competencies)
        self.config = config or MasteryConfig()
        if graph is not None and graph.n != n_competencies:
            raise InvalidInput("graph does not match", [Problem("graph", "size")])
        # Prerequisite re-check (see the module docstring); off without a graph.
        self.graph = graph
        self.recent_misses = np.zeros(shape, dtype=np.int64)  # bit i: the i-th latest was wrong
        self.recent_count = np.zeros(shape, dtype=np.int64)
        self.recheck = np.zeros(shape, dtype=np.bool_)
        self.recheck_from = np.full(shape, -1, dtype=np.int64)
        self.recheck_missed = np.zeros(shape, dtype=np.int64)
        self.recheck_at_s = np.full(shape, np.nan)
        self.recheck_run = np.zeros(shape, dtype=np.int64)
        self.attempts = np.zeros(shape, dtype=np.int64)
        self.n_correct = np.zeros(shape, dtype=np.int64)
        self.days = np.zeros(shape, dtype=np.int64)
        self.interleaved = np.zeros(shape, dtype=np.int64)
        self.last_day = np.full(shape, -1, dtype=np.int64)
        self.mastered = np.zeros(shape, dtype=np.bool_)
        # The level the evidence gave at the latest answer (mastered or at most proficient).
        self.evidence_level = np.zeros(shape, dtype=np.int64)
        # Bit i: whether the i-th latest answer was right (the last 62 answers).
        self.right_bits = np.zeros(shape, dtype=np.int64)
        self.proficient_at_s = np.full(shape, np.nan)
        self.mastered_at_s = np.full(shape, np.nan)
        self.reviews_passed = np.zeros(shape, dtype=np.int64)
        self.reviews_failed = np.zeros(shape, dtype=np.int64)
        self.floor = np.zeros(shape, dtype=np.int64)
        self._last_mask = np.zeros(shape, dtype=np.bool_)

    def copy(self) -> MasteryTracker:
        """An independent copy (the arrays copied; the configuration and graph shared)."""
        out = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                setattr(out, name, value.copy())
        return out

    def row_doc(self, learner: int) -> dict[str, list[Any]]:
        """One learner's counters as JSON data (NaN, "never", as null), for
        :meth:`set_rows`."""
        out: dict[str, list[Any]] = {}
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray):
                row = value[learner].tolist()
                if value.dtype.kind == "f":
                    row = [None if math.isnan(v) else v for v in row]
                out[name] = row
        return out

    def set_rows(
        self, learners: Sequence[int], docs: Sequence[Mapping[str, Sequence[Any]]]
    ) -> None:
        """Put back several learners' counters from :meth:`row_doc` documents, one counter
        at a time for all of them (a class page reads hundreds).

        Raises:
            InvalidInput: a document lacks a counter or has the wrong length.
        """
        if not learners:
            return
        rows = np.asarray(learners, dtype=np.int64)
        for name, value in vars(self).items():
            if not isinstance(value, np.ndarray):
                continue
            try:
                # A float counter's null ("never") becomes NaN on the way in.
                block = np.array([doc[name] for doc in docs], dtype=value.dtype)
            except (KeyError, TypeError, ValueError):
                block = None
            if block is None or block.shape != (len(rows), value.shape[1]):
                raise InvalidInput(
                    "invalid mastery counters", [Problem(name, "missing or the wrong length")]
                )
            value[rows] = block

    def place(self, learner: int, levels: NDArray[np.int64], now_s: float) -> None:
        """Take a placement result as evidence for one learner.

        A competency placed as mastered is mastered (the diagnostic mixes competencies, which
        meets the spread rule); a lower placed level is a floor that holds until a wrong answer
        on that competency.
        """
        levels = np.asarray(levels, dtype=np.int64)
        placed = levels == MasteryLevel.MASTERED
        self.mastered[learner] |= placed
        self.evidence_level[learner] = np.where(
            placed, MasteryLevel.MASTERED, self.evidence_level[learner]
        )
        self.mastered_at_s[learner] = np.where(placed, now_s, self.mastered_at_s[learner])
        self.floor[learner] = np.where(placed, 0, np.minimum(levels, MasteryLevel.PROFICIENT))
        reached = (levels >= MasteryLevel.PROFICIENT) & np.isnan(self.proficient_at_s[learner])
        self.proficient_at_s[learner] = np.where(reached, now_s, self.proficient_at_s[learner])

    def record(
        self,
        learners: IntArray,
        competencies: BoolArray,
        correct: NDArray[np.bool_],
        now_s: FloatArray | float,
        p_known: FloatArray,
        retrievability: FloatArray | None = None,
    ) -> None:
        """Count one response per row, as evidence for every competency of its item, and
        decide the levels of the competencies it touched.

        Args:
            learners: learner code per row; each learner at most once per call.
            competencies: ``(rows, n_competencies)`` mask of the item's competencies (a
                multi-skill item is evidence for each of them, never averaged away).
            correct: whether each response was right.
            now_s: time of each response (seconds), or one time for all rows.
            p_known: ``(rows, n_competencies)``: the learner model's P(known) after the
                responses.
            retrievability: ``(rows, n_competencies)``: the memory model's recall just before
                the responses (None: nothing fades); a response on a mastered competency whose
                recall fell below the review point is a review.
        """
        learners = np.asarray(learners, dtype=np.int64)
        mask = np.asarray(competencies, dtype=np.bool_)
        ok = np.asarray(correct, dtype=np.bool_)
        now = np.broadcast_to(np.asarray(now_s, dtype=np.float64), learners.shape)
        day = np.floor(now / DAY_S)
        day_b = np.broadcast_to(day.astype(np.int64)[:, None], mask.shape)
        level_before = self.evidence_level[learners]
        # A review is an answer on a competency that is due; a wrong one ends its mastery.
        recall = np.ones(mask.shape) if retrievability is None else np.asarray(retrievability)
        due = self.mastered[learners] & (recall < self.config.review_retrievability)
        failed = mask & due & ~ok[:, None]
        passed = mask & due & ok[:, None]
        self.reviews_failed[learners] += failed
        self.reviews_passed[learners] += passed
        self.mastered[learners] &= ~failed
        self.floor[learners] = np.where(mask & ~ok[:, None], 0, self.floor[learners])
        self.attempts[learners] += mask
        self.n_correct[learners] += mask & ok[:, None]
        new_day = mask & (self.last_day[learners] != day_b)
        self.days[learners] += new_day
        self.last_day[learners] = np.where(mask, day_b, self.last_day[learners])
        # Interleaved: the learner's previous response was on other competencies.
        last = self._last_mask[learners]
        switched = mask & ~last & last.any(axis=1, keepdims=True)
        self.interleaved[learners] += switched
        self._last_mask[learners] = mask
        # A failed review needs fresh spread evidence before mastery can return.
        self.days[learners] = np.where(failed, 1, self.days[learners])
        self.interleaved[learners] = np.where(failed, 0, self.interleaved[learners])
        bits = ((self.right_bits[learners] << 1) | ok[:, None]) & ((1 << 62) - 1)
        self.right_bits[learners] = np.where(mask, bits, self.right_bits[learners])
        self._decide(learners, mask, ok, np.asarray(p_known, dtype=np.float64), now, level_before)
        self._recheck(learners, mask, ok, now)

    def recent_right(self, window: int) -> IntArray:
        """Right answers among each cell's last ``window`` answers."""
        bits = self.right_bits & ((1 << window) - 1)
        out = np.zeros(bits.shape, dtype=np.int64)
        for i in range(window):
            out += (bits >> i) & 1
        return out

    def _decide(
        self,
        learners: IntArray,
        mask: BoolArray,
        ok: NDArray[np.bool_],
        p: FloatArray,
        now: FloatArray,
        level_before: IntArray,
    ) -> None:
        """The level each answered cell's evidence gives now (see the module docstring)."""
        cfg = self.config
        a = self.attempts[learners]
        right = self.recent_right(cfg.mastered_window)[learners]
        spread = (self.days[learners] >= cfg.min_days_mastered) | (
            self.interleaved[learners] >= cfg.min_interleaved_mastered
        )
        base = np.where(a > 0, MasteryLevel.ATTEMPTED, MasteryLevel.NOT_STARTED)
        base = np.where(
            (p >= cfg.familiar_p) & (a >= cfg.min_attempts_familiar), MasteryLevel.FAMILIAR, base
        )
        proficient = (p >= cfg.proficient_p) & (a >= cfg.min_attempts_proficient)
        base = np.where(proficient, MasteryLevel.PROFICIENT, base)
        eligible = (
            ok[:, None]
            & (p >= cfg.mastered_p)
            & (a >= cfg.min_attempts_mastered)
            & spread
            & (right >= cfg.mastered_right)
        )
        held = self.mastered[learners] & (right >= cfg.mastered_right - 1)
        mastered = np.where(mask, held | eligible, self.mastered[learners])
        at = now[:, None]
        newly = mask & mastered & ~self.mastered[learners]
        self.mastered_at_s[learners] = np.where(newly, at, self.mastered_at_s[learners])
        self.mastered[learners] = mastered
        level = np.where(
            mastered,
            MasteryLevel.MASTERED,
            np.minimum(np.maximum(base, self.floor[learners]), MasteryLevel.PROFICIENT),
        )
        # A wrong answer never lifts a level (beyond "attempted", which any answer gives).
        cap = np.maximum(level_before, MasteryLevel.ATTEMPTED)
        level = np.where(ok[:, None], level, np.minimum(level, cap))
        self.evidence_level[learners] = np.where(mask, level, level_before)
        reached = mask & (level >= MasteryLevel.PROFICIENT)
        first = reached & np.isnan(self.proficient_at_s[learners])
        self.proficient_at_s[learners] = np.where(first, at, self.proficient_at_s[learners])

    def _recheck(
        self, learners: IntArray, mask: BoolArray, ok: NDArray[np.bool_], now: FloatArray
    ) -> None:
        """Update the re-check windows; repeated misses put unmastered prerequisites in doubt."""
        cfg = self.config
        if self.graph is None or cfg.recheck_misses == 0:
            return
        wrong = mask & ~ok[:, None]
        # A prerequisite under re-check clears after a run of right answers (or on mastery).
        run = np.where(mask, np.where(wrong, 0, self.recheck_run[learners] + 1), 0)
        run = np.where(mask, run, self.recheck_run[learners])
        self.recheck_run[learners] = run
        cleared = self.recheck[learners] & (run >= cfg.recheck_streak)
        self.recheck[learners] &= ~cleared
        w = cfg.recheck_window
        bits = np.where(mask, ((self.recent_misses[learners] << 1) | wrong) & ((1 << w) - 1), 0)
        bits = np.where(mask, bits, self.recent_misses[learners])
        count = np.where(mask, np.minimum(self.recent_count[learners] + 1, w), 0)
        count = np.where(mask, count, self.recent_count[learners])
        misses = np.zeros(bits.shape, dtype=np.int64)
        for i in range(w):
            misses += (bits >> i) & 1
        trigger = mask & (count >= w) & (misses >= cfg.recheck_misses)
        if trigger.any():
            prereq = self.graph.prereq
            doubt = (trigger.astype(np.int64) @ prereq.astype(np.int64)) > 0
            doubt &= ~self.mastered[learners] & ~self.recheck[learners]
            source = np.argmax(trigger, axis=1)
            self.recheck[learners] |= doubt
            self.recheck_from[learners] = np.where(
                doubt, source[:, None], self.recheck_from[learners]
            )
            self.recheck_missed[learners] = np.where(
                doubt,
                misses[np.arange(len(learners)), source][:, None],
                self.recheck_missed[learners],
            )
            self.recheck_run[learners] = np.where(doubt, 0, self.recheck_run[learners])
            self.recheck_at_s[learners] = np.where(doubt, now[:, None], self.recheck_at_s[learners])
            # The failing competency's window starts afresh.
            bits = np.where(trigger, 0, bits)
            count = np.where(trigger, 0, count)
        self.recent_misses[learners] = bits
        self.recent_count[learners] = count

    def rechecks(self, learner: int) -> dict[int, tuple[int, int, int, float]]:
        """One learner's prerequisites under re-check: ``{code: (dependent, missed, window,
        at_s)}``: they missed ``missed`` of ``window`` answers on ``dependent`` up to ``at_s``.

        For :attr:`zoped.engine.recommend.LearnerSnapshot.rechecks`.
        """
        codes = np.flatnonzero(self.recheck[learner] & ~self.mastered[learner])
        return {
            int(c): (
                int(self.recheck_from[learner, c]),
                int(self.recheck_missed[learner, c]),
                self.config.recheck_window,
                float(self.recheck_at_s[learner, c]),
            )
            for c in codes
        }

    def levels(self, retrievability: FloatArray | None = None) -> NDArray[np.int64]:
        """Every learner's levels now; reads and changes nothing.

        Args:
            retrievability: ``(learners, competencies)`` recall now, from the memory model
                (None: nothing fades). A mastered competency below the review point is due.
        """
        cfg = self.config
        recall = (
            np.ones(self.mastered.shape) if retrievability is None else np.asarray(retrievability)
        )
        evidence = np.minimum(np.maximum(self.evidence_level, self.floor), MasteryLevel.PROFICIENT)
        level = np.where(
            self.mastered,
            np.where(
                recall >= cfg.review_retrievability,
                MasteryLevel.MASTERED,
                MasteryLevel.REVIEW_DUE,
            ),
            evidence,
        )
        # A prerequisite under re-check counts as familiar until re-checked (or mastered).
        in_doubt = self.recheck & ~self.mastered
        out: NDArray[np.int64] = np.where(
            in_doubt, np.minimum(level, MasteryLevel.FAMILIAR), level
        ).astype(np.int64)
        return out
