"""The interaction log and the one interface every learner model follows.

An :class:`InteractionLog` is columnar (numpy arrays), sorted by learner and then by time or
order, with skills stored as a CSR list so an item may carry several skills. Models see only
integer codes; the vocabularies (``learner_ids``, ``skill_ids``, ``item_ids``) map codes back
to the names in the source data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from zoped.errors import InvalidInput, Problem

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class InteractionLog:
    """Responses of many learners, one row per response, sorted by (learner, order).

    Attributes:
        learner: learner code per row, in ``[0, len(learner_ids))``.
        item: item code per row, or -1 when the data has no item ids.
        skill_ptr: CSR pointer, ``skills of row r = skill_idx[skill_ptr[r]:skill_ptr[r+1]]``.
        skill_idx: skill codes, in ``[0, len(skill_ids))``.
        correct: 0 or 1 per row.
        order: a non-decreasing position within each learner (the source's order or timestamp).
        timestamp_s: seconds since the epoch per row, or None when the data has no times.
        duration_s: optional response time per row (NaN where unknown).
        hints: optional hint count per row (-1 where unknown).
    """

    learner: IntArray
    item: IntArray
    skill_ptr: IntArray
    skill_idx: IntArray
    correct: NDArray[np.int8]
    order: FloatArray
    learner_ids: NDArray[Any]
    skill_ids: NDArray[Any]
    item_ids: NDArray[Any]
    timestamp_s: FloatArray | None = None
    duration_s: FloatArray | None = None
    hints: IntArray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.correct.shape[0])

    @property
    def n_learners(self) -> int:
        return int(self.learner_ids.shape[0])

    @property
    def n_skills(self) -> int:
        return int(self.skill_ids.shape[0])

    @property
    def n_items(self) -> int:
        return int(self.item_ids.shape[0])

    @property
    def n_skills_per_row(self) -> IntArray:
        return np.diff(self.skill_ptr)

    def learner_bounds(self) -> IntArray:
        """Start offsets of each learner's rows, plus the end: shape (n_learners + 1,)."""
        return np.searchsorted(self.learner, np.arange(self.n_learners + 1)).astype(np.int64)

    def take_learners(self, learner_codes: IntArray) -> InteractionLog:
        """The rows of the given learners, keeping every vocabulary (so codes stay valid)."""
        mask = np.isin(self.learner, learner_codes)
        return self.take_rows(np.flatnonzero(mask))

    def take_rows(self, rows: IntArray) -> InteractionLog:
        """A sub-log of the given rows (which must keep the sort order), same vocabularies."""
        rows = np.asarray(rows, dtype=np.int64)
        counts = self.n_skills_per_row[rows]
        ptr = np.zeros(rows.shape[0] + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        starts = self.skill_ptr[rows]
        # Gather the CSR segments of the chosen rows in one vectorised step.
        offsets = np.arange(ptr[-1], dtype=np.int64) - np.repeat(ptr[:-1], counts)
        idx = self.skill_idx[np.repeat(starts, counts) + offsets]

        def opt(a: NDArray[Any] | None) -> NDArray[Any] | None:
            return None if a is None else a[rows]

        return InteractionLog(
            learner=self.learner[rows],
            item=self.item[rows],
            skill_ptr=ptr,
            skill_idx=idx,
            correct=self.correct[rows],
            order=self.order[rows],
            learner_ids=self.learner_ids,
            skill_ids=self.skill_ids,
            item_ids=self.item_ids,
            timestamp_s=opt(self.timestamp_s),
            duration_s=opt(self.duration_s),
            hints=opt(self.hints),
            meta=dict(self.meta),
        )

    def validate(self) -> None:
        """Raise InvalidInput if the arrays are inconsistent (lengths, codes, sort order)."""
        problems: list[Problem] = []
        n = len(self)
        for name in ("learner", "item", "order"):
            if getattr(self, name).shape[0] != n:
                problems.append(Problem(name, f"has {getattr(self, name).shape[0]} rows, not {n}"))
        if self.skill_ptr.shape[0] != n + 1 or (n and self.skill_ptr[-1] != len(self.skill_idx)):
            problems.append(Problem("skill_ptr", "does not match skill_idx"))
        if n and not np.all(np.isin(self.correct, (0, 1))):
            problems.append(Problem("correct", "values must be 0 or 1"))
        if n and np.any(np.diff(self.learner) < 0):
            problems.append(Problem("learner", "rows are not grouped by learner"))
        if problems:
            raise InvalidInput("inconsistent interaction log", problems)


@dataclass(frozen=True)
class Interaction:
    """One response, for online updates: codes as in the model's vocabularies."""

    skills: tuple[int, ...]
    correct: bool
    item: int = -1
    timestamp_s: float | None = None


@runtime_checkable
class LearnerModel(Protocol):
    """What every learner model does.

    ``predict_proba(log)[r]`` uses only rows of the same learner before ``r`` (no leak from the
    future), with the fitted parameters. ``update`` is the same computation one event at a time:
    replaying a learner's events through ``update`` and ``predict_one`` gives the same numbers
    as ``predict_proba``.
    """

    @property
    def name(self) -> str:
        """The model's registry name; a class or instance attribute both satisfy this."""
        ...

    def fit(self, log: InteractionLog) -> Self: ...

    def predict_proba(self, log: InteractionLog) -> FloatArray: ...

    def new_state(self) -> Any: ...

    def predict_one(self, state: Any, event: Interaction) -> float: ...

    def update(self, state: Any, event: Interaction) -> Any: ...

    def save(self, path: Path) -> None: ...

    @classmethod
    def load(cls, path: Path) -> Self: ...
