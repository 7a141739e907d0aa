"""Placement: an adaptive diagnostic over knowledge states that respect the prerequisite graph.

Algorithm (knowledge-space style, see ``docs/pathways.md``):

1. The hypotheses are the *feasible knowledge states*: sets of competencies closed under
   prerequisites (whoever knows a competency knows everything below it). They are enumerated
   in topological order; past ``max_states`` a seeded sample is kept, always with the empty and
   the full state.
2. An item with competencies ``S`` is answered right with probability ``1 - slip`` by a state
   holding all of ``S`` and ``guess`` otherwise. So a right answer on an advanced competency
   raises every state that holds it (and therefore its prerequisites), and a wrong answer on a
   basic one lowers every state holding what builds on it: the graph does the propagation.
3. Each next item is the unasked one with the largest expected information gain (expected drop
   in the entropy of the posterior over states).
4. It stops when every competency's marginal P(known) is within ``1 - confidence`` of 0 or 1,
   or after ``max_questions``.

A session is just its answers: :class:`PlacementSession` recomputes the posterior from them, so
pausing is saving ``session.answers`` (JSON-ready) and resuming is building a new session with
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from zoped.engine.graph import BoolArray, CompetencyGraph
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, Problem

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class PlacementConfig:
    """Stopping rule and response model of the diagnostic. Validated on construction.

    Raises:
        InvalidInput: every bad value at once.
    """

    max_questions: int = 25
    confidence: float = 0.90
    guess: float = 0.2
    slip: float = 0.1
    max_states: int = 20_000
    mastered_p: float = 0.95
    proficient_p: float = 0.80
    familiar_p: float = 0.50

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if not (isinstance(self.max_questions, int) and self.max_questions >= 1):
            problems.append(Problem("max_questions", "must be an integer >= 1"))
        if not (isinstance(self.max_states, int) and self.max_states >= 2):
            problems.append(Problem("max_states", "must be an integer >= 2"))
        for name in ("confidence", "mastered_p", "proficient_p", "familiar_p"):
            if not 0.5 <= getattr(self, name) < 1.0:
                problems.append(Problem(name, f"must be in [0.5, 1), got {getattr(self, name)}"))
        for name in ("guess", "slip"):
            if not 0.0 < getattr(self, name) < 0.5:
                problems.append(Problem(name, f"must be in (0, 0.5), got {getattr(self, name)}"))
        if not self.familiar_p <= self.proficient_p <= self.mastered_p:
            problems.append(Problem("mastered_p", "need familiar_p <= proficient_p <= mastered_p"))
        if problems:
            raise InvalidInput("invalid placement configuration", problems)


def feasible_states(graph: CompetencyGraph, max_states: int, seed: int = 0) -> BoolArray:
    """Every prerequisite-closed set of competencies, as rows of a bool matrix.

    Built in topological order: a competency may join a state only if its prerequisites are in
    it. When the count passes ``max_states`` a seeded sample is kept (with the empty and full
    states), so a wide graph cannot exhaust memory.
    """
    rng = np.random.default_rng(seed)
    states = np.zeros((1, graph.n), dtype=np.bool_)
    for c in graph.order:
        pre = graph.prereq[c]
        can = states[:, pre].all(axis=1)
        grown = states[can].copy()
        grown[:, c] = True
        states = np.concatenate([states, grown])
        if states.shape[0] > max_states:
            keep = rng.choice(states.shape[0], size=max_states, replace=False)
            states = states[np.sort(keep)]
    full = np.ones((1, graph.n), dtype=np.bool_)
    empty = np.zeros((1, graph.n), dtype=np.bool_)
    states = np.unique(np.concatenate([empty, states, full]), axis=0)
    return states


@dataclass(frozen=True)
class PlacementResult:
    """Initial levels with their confidence, after the diagnostic."""

    p_known: FloatArray
    levels: NDArray[np.int64]
    confidence: FloatArray
    questions: int


@dataclass
class PlacementSession:
    """An adaptive diagnostic for one learner; its state is only its answers.

    Args:
        graph: the competency graph.
        item_skills: ``(items, competencies)`` mask of each item's competencies.
        config: stopping rule and response model.
        answers: ``(item, correct)`` pairs already given (to resume a paused session).
        seed: for the state sample on very wide graphs.
        shared: a session on the same graph, items and config whose states to reuse.
    """

    graph: CompetencyGraph
    item_skills: BoolArray
    config: PlacementConfig = field(default_factory=PlacementConfig)
    answers: list[tuple[int, bool]] = field(default_factory=list)
    seed: int = 0
    shared: PlacementSession | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        mask = np.asarray(self.item_skills, dtype=np.bool_)
        problems: list[Problem] = []
        if mask.ndim != 2 or mask.shape[1] != self.graph.n:
            problems.append(Problem("item_skills", f"must be (items, {self.graph.n})"))
        elif not mask.any(axis=1).all():
            problems.append(Problem("item_skills", "every item needs at least one competency"))
        for i, (item, _) in enumerate(self.answers):
            if not 0 <= item < mask.shape[0]:
                problems.append(Problem(f"answers[{i}]", f"unknown item {item}"))
        if problems:
            raise InvalidInput("invalid placement session", problems)
        self.item_skills = mask
        self._states: BoolArray
        self._p_right: FloatArray
        if self.shared is not None:
            # Another session on the same course: reuse its states and likelihoods (read-only).
            self._states = self.shared._states
            self._p_right = self.shared._p_right
        else:
            self._states = feasible_states(self.graph, self.config.max_states, self.seed)
            # holds[s, i]: state s knows every competency of item i.
            missing = (~self._states).astype(np.int64) @ mask.T.astype(np.int64)
            cfg = self.config
            self._p_right = np.where(missing == 0, 1.0 - cfg.slip, cfg.guess)
        self._log_post = np.full(self._states.shape[0], -np.log(self._states.shape[0]))
        for item, correct in self.answers:
            self._absorb(item, correct)

    def _absorb(self, item: int, correct: bool) -> None:
        like = self._p_right[:, item] if correct else 1.0 - self._p_right[:, item]
        self._log_post = self._log_post + np.log(like)
        self._log_post -= np.logaddexp.reduce(self._log_post)

    def posterior(self) -> FloatArray:
        """P(state) over the feasible states."""
        out: FloatArray = np.exp(self._log_post)
        return out

    def marginals(self) -> FloatArray:
        """P(known) per competency."""
        marg: FloatArray = self.posterior() @ self._states.astype(np.float64)
        return np.clip(marg, 0.0, 1.0)

    def done(self) -> bool:
        """True when confident on every competency, out of questions, or out of items."""
        if len(self.answers) >= self.config.max_questions:
            return True
        if len(self.answers) >= self.item_skills.shape[0]:
            return True
        m = self.marginals()
        return bool((np.minimum(m, 1.0 - m) <= 1.0 - self.config.confidence).all())

    def next_item(self) -> int:
        """The unasked item with the largest expected information gain (lowest code on ties).

        Raises:
            InvalidInput: the session is already done.
        """
        if self.done():
            raise InvalidInput("placement is finished", [Problem("session", "no more questions")])
        post = self.posterior()
        asked = np.zeros(self.item_skills.shape[0], dtype=np.bool_)
        asked[[i for i, _ in self.answers]] = True
        # Expected posterior entropy after the answer, per item (vectorised over items).
        joint_r = post[:, None] * self._p_right
        joint_w = post[:, None] * (1.0 - self._p_right)
        expected = _entropy_cols(joint_r) + _entropy_cols(joint_w)
        gain = _entropy(post) - expected
        gain = np.where(asked, -np.inf, gain)
        return int(np.argmax(gain))

    def answer(self, item: int, correct: bool) -> None:
        """Record one answer (to an item from :meth:`next_item` or any unasked item).

        Raises:
            InvalidInput: an unknown item or one already asked.
        """
        if not 0 <= item < self.item_skills.shape[0]:
            raise InvalidInput("unknown item", [Problem("item", str(item))])
        if any(i == item for i, _ in self.answers):
            raise InvalidInput("item already asked", [Problem("item", str(item))])
        self.answers.append((int(item), bool(correct)))
        self._absorb(item, correct)

    def result(self) -> PlacementResult:
        """Initial levels and their confidence from the current posterior.

        ``P(known) >= mastered_p`` places a competency as mastered (a mixed, interleaved
        diagnostic meets the spread rule), ``>= proficient_p`` proficient, ``>= familiar_p``
        familiar, else not started. Confidence is ``max(p, 1 - p)``.
        """
        cfg = self.config
        m = self.marginals()
        levels = np.full(self.graph.n, MasteryLevel.NOT_STARTED, dtype=np.int64)
        levels[m >= cfg.familiar_p] = MasteryLevel.FAMILIAR
        levels[m >= cfg.proficient_p] = MasteryLevel.PROFICIENT
        levels[m >= cfg.mastered_p] = MasteryLevel.MASTERED
        return PlacementResult(m, levels, np.maximum(m, 1.0 - m), len(self.answers))


def _entropy(p: FloatArray) -> float:
    q = p[p > 0]
    return float(-(q * np.log(q)).sum())


def _entropy_cols(joint: FloatArray) -> FloatArray:
    """For each column j: P(y_j) * H(state | y_j) from the joint P(state, y_j)."""
    total = joint.sum(axis=0)
    safe = np.where(joint > 0, joint, 1.0)
    # sum_s joint log(joint / total) = sum_s joint log joint - total log total
    inner = (joint * np.log(safe)).sum(axis=0) - np.where(total > 0, total * np.log(total), 0.0)
    out: FloatArray = -inner
    return out


def run_placement(
    session: PlacementSession, answer_item: Sequence[bool] | None = None
) -> PlacementResult:
    """Finish a session with answers given in order (a helper for tests and replay)."""
    for correct in answer_item or ():
        if session.done():
            break
        session.answer(session.next_item(), correct)
    return session.result()
