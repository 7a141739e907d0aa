"""A light, array-based competency graph for the policies (mastery, recommender, placement).

The domain's ``Framework`` is the source of truth; this is the view the engine computes on:
integer codes, a dense prerequisite matrix and precomputed ancestor sets, so "which competencies
are unlocked for these 500 learners" is one matrix product rather than a Python loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from zoped.errors import InvalidInput, Problem

BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]


class HasPrerequisites(Protocol):
    """Anything with an id and the ids of its prerequisites (a domain ``Competency``)."""

    @property
    def id(self) -> str: ...

    @property
    def prerequisites(self) -> Sequence[str]: ...


@dataclass(frozen=True, eq=False)
class CompetencyGraph:
    """Competencies as codes ``0..n-1`` with their prerequisite DAG.

    Attributes:
        ids: competency id per code.
        titles: display title per code (the id when none is known).
        prereq: ``prereq[i, j]`` is True when ``j`` is a direct prerequisite of ``i``.
        ancestors: ``ancestors[i, j]`` is True when ``j`` must be learned (directly or not)
            before ``i``.
        order: a topological order (prerequisites first, ties broken by file order).
    """

    ids: tuple[str, ...]
    titles: tuple[str, ...]
    prereq: BoolArray
    ancestors: BoolArray
    order: IntArray

    @classmethod
    def from_competencies(cls, competencies: Sequence[HasPrerequisites]) -> CompetencyGraph:
        """Build the graph from objects with ``.id`` and ``.prerequisites`` (and maybe ``.title``).

        Raises:
            InvalidInput: duplicate ids, unknown prerequisites or a cycle (all reported at once).
        """
        ids = tuple(str(c.id) for c in competencies)
        titles = tuple(str(getattr(c, "title", None) or c.id) for c in competencies)
        index: dict[str, int] = {}
        problems: list[Problem] = []
        for i, cid in enumerate(ids):
            if cid in index:
                problems.append(Problem(f"competencies[{i}].id", f"duplicate id {cid!r}"))
            index.setdefault(cid, i)
        n = len(ids)
        prereq = np.zeros((n, n), dtype=np.bool_)
        for i, c in enumerate(competencies):
            for p in c.prerequisites:
                if p not in index:
                    problems.append(
                        Problem(f"competencies[{i}].prerequisites", f"unknown id {p!r}")
                    )
                else:
                    prereq[i, index[p]] = True
        order = _topological_order(prereq)
        if order is None:
            cyclic = sorted(ids[i] for i in _nodes_on_cycles(prereq))
            problems.append(
                Problem("competencies", "prerequisite cycle through " + ", ".join(cyclic))
            )
        if problems:
            raise InvalidInput("invalid competency graph", problems)
        assert order is not None
        return cls(ids, titles, prereq, _transitive_closure(prereq), order)

    @property
    def n(self) -> int:
        """Number of competencies."""
        return len(self.ids)

    def code(self, competency_id: str) -> int:
        """The code of a competency id.

        Raises:
            InvalidInput: the id is not in the graph.
        """
        try:
            return self.ids.index(competency_id)
        except ValueError:
            raise InvalidInput(
                "unknown competency", [Problem("competency", competency_id)]
            ) from None

    def prerequisites_of(self, code: int) -> IntArray:
        """Direct prerequisites of one competency."""
        return np.flatnonzero(self.prereq[code]).astype(np.int64)

    def descendants(self) -> BoolArray:
        """``descendants()[i, j]`` is True when ``j`` builds (directly or not) on ``i``."""
        return self.ancestors.T

    def depth(self) -> IntArray:
        """Length of the longest prerequisite chain below each competency (0 for roots)."""
        depth = np.zeros(self.n, dtype=np.int64)
        for i in self.order:
            pre = self.prereq[i]
            if pre.any():
                depth[i] = depth[pre].max() + 1
        return depth

    def unlocked(self, met: BoolArray) -> BoolArray:
        """Which competencies have every direct prerequisite met.

        Args:
            met: shape ``(n,)`` or ``(learners, n)``: True where a competency counts as met
                (for unlocking: at least proficient).

        Returns:
            The same shape: True where all direct prerequisites are met (roots always are).
        """
        unmet = (~np.asarray(met, dtype=np.bool_)).astype(np.int64)
        # unmet @ prereq.T counts, per competency, the prerequisites still unmet.
        counts: IntArray = unmet @ self.prereq.T.astype(np.int64)
        return np.asarray(counts == 0, dtype=np.bool_)

    def is_down_closed(self, known: BoolArray) -> bool:
        """True when every known competency has all its ancestors known too."""
        known = np.asarray(known, dtype=np.bool_)
        return not bool((self.ancestors[known] & ~known).any())


def _topological_order(prereq: BoolArray) -> IntArray | None:
    """Kahn's algorithm, smallest code first among ready nodes; None when there is a cycle."""
    n = prereq.shape[0]
    remaining = prereq.sum(axis=1).astype(np.int64)
    done = np.zeros(n, dtype=np.bool_)
    out: list[int] = []
    while len(out) < n:
        ready = np.flatnonzero((remaining == 0) & ~done)
        if ready.size == 0:
            return None
        i = int(ready[0])
        done[i] = True
        out.append(i)
        remaining -= prereq[:, i].astype(np.int64)
    return np.asarray(out, dtype=np.int64)


def _transitive_closure(prereq: BoolArray) -> BoolArray:
    """Reachability by repeated squaring of the boolean prerequisite matrix."""
    closure = prereq.copy()
    while True:
        step = closure | ((closure.astype(np.int64) @ closure.astype(np.int64)) > 0)
        if np.array_equal(step, closure):
            return closure
        closure = step


def _nodes_on_cycles(prereq: BoolArray) -> IntArray:
    """Nodes that reach themselves: those on at least one cycle."""
    closure = _transitive_closure(prereq)
    return np.flatnonzero(np.diag(closure)).astype(np.int64)
