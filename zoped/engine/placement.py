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
   in the entropy of the posterior over states). Because an item's likelihood takes only two
   values (the state holds its competencies or not), that gain is the mutual information of one
   binary answer and depends only on P(state holds the item's competencies), a matrix product.
4. It stops when every competency's marginal P(known) is within ``1 - confidence`` of 0 or 1,
   or after ``max_questions``.

The prior over states is flat by default. :func:`fit_state_prior` learns an informative one
from answers of an earlier population (candidate states drawn from each learner's answers and
closed under prerequisites, then weighted by EM together with the guess and slip rates), as a
school would from past diagnostics; it is a plain, JSON-ready :class:`StatePrior`.
:class:`PlacementBatch` runs many sessions in lockstep as arrays (the simulator uses it).

A session is just its answers: :class:`PlacementSession` recomputes the posterior from them, so
pausing is saving ``session.answers`` (JSON-ready) and resuming is building a new session with
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

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
class StatePrior:
    """A prior over feasible knowledge states, with the response model fitted along with it.

    Attributes:
        states: ``(states, competencies)`` prerequisite-closed sets.
        weights: prior probability of each state (sums to 1).
        guess: P(right) when the state lacks a competency of the item.
        slip: P(wrong) when the state holds all of the item's competencies.
    """

    states: BoolArray
    weights: FloatArray
    guess: float = 0.2
    slip: float = 0.1

    def __post_init__(self) -> None:
        states = np.asarray(self.states, dtype=np.bool_)
        weights = np.asarray(self.weights, dtype=np.float64)
        problems: list[Problem] = []
        if states.ndim != 2 or weights.shape != (states.shape[0],):
            problems.append(Problem("weights", "need one weight per state"))
        elif not (np.isfinite(weights).all() and (weights >= 0).all() and weights.sum() > 0):
            problems.append(Problem("weights", "must be finite, >= 0 and not all 0"))
        for name in ("guess", "slip"):
            if not 0.0 < getattr(self, name) < 0.5:
                problems.append(Problem(name, f"must be in (0, 0.5), got {getattr(self, name)}"))
        if problems:
            raise InvalidInput("invalid state prior", problems)
        object.__setattr__(self, "states", states)
        object.__setattr__(self, "weights", weights / weights.sum())

    def config(self, base: PlacementConfig | None = None) -> PlacementConfig:
        """``base`` (default config) with this prior's guess and slip as the response model."""
        return replace(base or PlacementConfig(), guess=self.guess, slip=self.slip)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: states as lists of competency codes."""
        return {
            "states": [np.flatnonzero(s).tolist() for s in self.states],
            "weights": self.weights.tolist(),
            "n_competencies": int(self.states.shape[1]),
            "guess": self.guess,
            "slip": self.slip,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StatePrior:
        """Inverse of :meth:`to_dict`."""
        n = int(data["n_competencies"])
        states = np.zeros((len(data["states"]), n), dtype=np.bool_)
        for i, codes in enumerate(data["states"]):
            states[i, list(codes)] = True
        return cls(
            states, np.asarray(data["weights"], dtype=np.float64), data["guess"], data["slip"]
        )


def _closures(graph: CompetencyGraph, known: BoolArray) -> tuple[BoolArray, BoolArray]:
    """Per row: the largest closed subset (drop what lacks an ancestor) and the closure."""
    anc = graph.ancestors.astype(np.int64)
    missing = (~known).astype(np.int64) @ anc.T  # per competency: ancestors not in the set
    inner = known & (missing == 0)
    outer = known | ((known.astype(np.int64) @ anc) > 0)
    return inner, outer


def fit_state_prior(
    graph: CompetencyGraph,
    item_skills: BoolArray,
    right: NDArray[np.int64],
    wrong: NDArray[np.int64],
    *,
    seed: int = 0,
    samples_per_learner: int = 8,
    extra_states: int = 1000,
    iterations: int = 60,
    smoothing: float = 1e-3,
    guess: float = 0.2,
    slip: float = 0.1,
) -> StatePrior:
    """Learn a prior over knowledge states from diagnostic answers of earlier learners.

    Args:
        right, wrong: ``(learners, items)`` counts of right and wrong answers (no feedback in
            between, e.g. a pretest or past placement checks).
        samples_per_learner: candidate sets drawn per learner from a per-competency posterior;
            each gives two closed states (its largest closed subset and its closure).
        extra_states: a spread sample of every feasible state, so that no pattern is impossible.
        smoothing: pseudo-count per state in the EM update.
        guess, slip: starting values; both are re-estimated by EM.

    Returns:
        The states and their EM weights, with the fitted guess and slip.
    """
    mask = np.asarray(item_skills, dtype=np.bool_)
    r = np.asarray(right, dtype=np.float64)
    w = np.asarray(wrong, dtype=np.float64)
    if r.shape != w.shape or r.ndim != 2 or r.shape[1] != mask.shape[0]:
        raise InvalidInput("bad answer counts", [Problem("right", "need (learners, items)")])
    rng = np.random.default_rng(seed)
    m = mask.astype(np.float64)
    # Independent per-competency posterior from the items that assess it, to draw candidates.
    rc, wc = r @ m, w @ m
    log_k = rc * np.log(1 - slip) + wc * np.log(slip)
    log_u = rc * np.log(guess) + wc * np.log(1 - guess)
    p = 1.0 / (1.0 + np.exp(np.clip(log_u - log_k, -50, 50)))
    draws = rng.random((samples_per_learner, *p.shape)) < p[None]
    known = draws.reshape(-1, graph.n)
    inner, outer = _closures(graph, known)
    pool = [inner, outer, feasible_states(graph, max(extra_states, 2), seed)]
    states = np.unique(np.concatenate(pool), axis=0)
    # Items with the same competencies are interchangeable: count answers per distinct mask.
    masks, mask_of = np.unique(mask, axis=0, return_inverse=True)
    onehot = np.zeros((mask.shape[0], masks.shape[0]))
    onehot[np.arange(mask.shape[0]), mask_of.reshape(-1)] = 1.0
    holds = _holds(states, masks).astype(np.float64)  # (S, masks)
    ru, wu = r @ onehot, w @ onehot
    # Per learner and state: right and wrong answers on items the state holds or lacks.
    rh, rn = ru @ holds.T, ru @ (1 - holds).T
    wh, wn = wu @ holds.T, wu @ (1 - holds).T
    g, s = guess, slip
    log_pi = np.full(states.shape[0], -np.log(states.shape[0]))
    for _ in range(iterations):
        loglik = rh * np.log(1 - s) + wh * np.log(s) + rn * np.log(g) + wn * np.log(1 - g) + log_pi
        loglik -= loglik.max(axis=1, keepdims=True)
        resp = np.exp(loglik)
        resp /= resp.sum(axis=1, keepdims=True)
        counts = resp.sum(axis=0) + smoothing
        log_pi = np.log(counts / counts.sum())
        held_right, held_total = (resp * rh).sum(), (resp * (rh + wh)).sum()
        not_right, not_total = (resp * rn).sum(), (resp * (rn + wn)).sum()
        s = float(np.clip(1 - held_right / max(held_total, 1e-9), 0.01, 0.45))
        g = float(np.clip(not_right / max(not_total, 1e-9), 0.01, 0.45))
    return StatePrior(states, np.exp(log_pi), guess=g, slip=s)


def _holds(states: BoolArray, item_skills: BoolArray) -> BoolArray:
    """``holds[s, i]``: state ``s`` knows every competency of item ``i``."""
    missing = (~states).astype(np.int64) @ item_skills.T.astype(np.int64)
    out: BoolArray = missing == 0
    return out


def _binary_entropy(p: FloatArray) -> FloatArray:
    q = np.clip(p, 1e-12, 1 - 1e-12)
    out: FloatArray = -(q * np.log(q) + (1 - q) * np.log(1 - q))
    return out


def information_gain(p_holds: FloatArray, guess: float, slip: float) -> FloatArray:
    """Expected drop in the entropy over states from one answer (its mutual information).

    Args:
        p_holds: posterior probability that the state holds each item's competencies.
    """
    p_right = p_holds * (1 - slip) + (1 - p_holds) * guess
    cond = p_holds * _binary_entropy(np.array(1 - slip)) + (1 - p_holds) * _binary_entropy(
        np.array(guess)
    )
    out: FloatArray = _binary_entropy(p_right) - cond
    return out


@dataclass(frozen=True)
class PlacementResult:
    """Initial levels with their confidence, after the diagnostic."""

    p_known: FloatArray
    levels: NDArray[np.int64]
    confidence: FloatArray
    questions: int


def _levels(m: FloatArray, cfg: PlacementConfig) -> NDArray[np.int64]:
    levels = np.full(m.shape, MasteryLevel.NOT_STARTED, dtype=np.int64)
    levels[m >= cfg.familiar_p] = MasteryLevel.FAMILIAR
    levels[m >= cfg.proficient_p] = MasteryLevel.PROFICIENT
    levels[m >= cfg.mastered_p] = MasteryLevel.MASTERED
    return levels


class _Model:
    """States, their prior and the item likelihoods shared by sessions on one course."""

    def __init__(
        self,
        graph: CompetencyGraph,
        mask: BoolArray,
        config: PlacementConfig,
        seed: int,
        prior: StatePrior | None,
    ) -> None:
        if prior is not None:
            if prior.states.shape[1] != graph.n:
                raise InvalidInput("prior does not match the graph", [Problem("prior", "shape")])
            self.states = prior.states
            self.log_prior = np.log(np.maximum(prior.weights, 1e-300))
        else:
            self.states = feasible_states(graph, config.max_states, seed)
            self.log_prior = np.full(self.states.shape[0], -np.log(self.states.shape[0]))
        # Items with the same competencies are interchangeable for the posterior.
        masks, inverse = np.unique(mask, axis=0, return_inverse=True)
        self.mask_of: NDArray[np.int64] = np.asarray(inverse, dtype=np.int64).reshape(-1)
        self.holds: FloatArray = _holds(self.states, masks).astype(np.float64)  # (S, masks)
        h, cfg = self.holds, config
        self.log_right: FloatArray = h * np.log(1 - cfg.slip) + (1 - h) * np.log(cfg.guess)
        self.log_wrong: FloatArray = h * np.log(cfg.slip) + (1 - h) * np.log(1 - cfg.guess)
        self.states_f = self.states.astype(np.float64)


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
        prior: an informative prior over states (:func:`fit_state_prior`); flat when None.
            Pausing needs only ``answers``; resuming needs the same prior (it is JSON-ready).
    """

    graph: CompetencyGraph
    item_skills: BoolArray
    config: PlacementConfig = field(default_factory=PlacementConfig)
    answers: list[tuple[int, bool]] = field(default_factory=list)
    seed: int = 0
    shared: PlacementSession | None = field(default=None, repr=False)
    prior: StatePrior | None = field(default=None, repr=False)

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
        self._model: _Model = (
            self.shared._model
            if self.shared is not None
            else _Model(self.graph, mask, self.config, self.seed, self.prior)
        )
        self._states = self._model.states
        self._log_post = self._model.log_prior.copy()
        for item, correct in self.answers:
            self._absorb(item, correct)

    def _absorb(self, item: int, correct: bool) -> None:
        j = self._model.mask_of[item]
        like = self._model.log_right[:, j] if correct else self._model.log_wrong[:, j]
        self._log_post = self._log_post + like
        self._log_post -= np.logaddexp.reduce(self._log_post)

    def posterior(self) -> FloatArray:
        """P(state) over the feasible states."""
        out: FloatArray = np.exp(self._log_post)
        return out

    def marginals(self) -> FloatArray:
        """P(known) per competency."""
        marg: FloatArray = self.posterior() @ self._model.states_f
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
        p_holds = (self.posterior() @ self._model.holds)[self._model.mask_of]
        gain = information_gain(p_holds, self.config.guess, self.config.slip)
        asked = [i for i, _ in self.answers]
        gain[asked] = -np.inf
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
        m = self.marginals()
        return PlacementResult(
            m, _levels(m, self.config), np.maximum(m, 1.0 - m), len(self.answers)
        )


class PlacementBatch:
    """Many placement sessions on one course in lockstep, as arrays (same maths as a session).

    ``answers[learner]`` holds each learner's ``(item, correct)`` pairs, so any learner can be
    paused and resumed as a :class:`PlacementSession` with the same prior.
    """

    def __init__(
        self,
        graph: CompetencyGraph,
        item_skills: BoolArray,
        n_learners: int,
        config: PlacementConfig | None = None,
        prior: StatePrior | None = None,
        seed: int = 0,
    ) -> None:
        self.graph = graph
        self.item_skills = np.asarray(item_skills, dtype=np.bool_)
        self.config = config or PlacementConfig()
        self._model = _Model(graph, self.item_skills, self.config, seed, prior)
        self.log_post = np.tile(self._model.log_prior, (n_learners, 1))
        self.asked = np.zeros((n_learners, self.item_skills.shape[0]), dtype=np.bool_)
        self.answers: list[list[tuple[int, bool]]] = [[] for _ in range(n_learners)]

    def _posterior(self) -> FloatArray:
        post = np.exp(self.log_post - self.log_post.max(axis=1, keepdims=True))
        out: FloatArray = post / post.sum(axis=1, keepdims=True)
        return out

    def marginals(self) -> FloatArray:
        """``(learners, competencies)`` P(known)."""
        out: FloatArray = np.clip(self._posterior() @ self._model.states_f, 0.0, 1.0)
        return out

    def done(self) -> BoolArray:
        """Per learner: confident everywhere, out of questions or out of items."""
        count = self.asked.sum(axis=1)
        m = self.marginals()
        sure = (np.minimum(m, 1.0 - m) <= 1.0 - self.config.confidence).all(axis=1)
        out: BoolArray = (
            sure | (count >= self.config.max_questions) | (count >= self.item_skills.shape[0])
        )
        return out

    def next_items(self) -> NDArray[np.int64]:
        """Per learner, the unasked item with the largest information gain (lowest on ties)."""
        p_holds = (self._posterior() @ self._model.holds)[:, self._model.mask_of]
        gain = information_gain(p_holds, self.config.guess, self.config.slip)
        gain = np.where(self.asked, -np.inf, gain)
        out: NDArray[np.int64] = np.argmax(gain, axis=1).astype(np.int64)
        return out

    def answer(
        self, learners: NDArray[np.int64], items: NDArray[np.int64], correct: BoolArray
    ) -> None:
        """Record one answer per listed learner."""
        j = self._model.mask_of[items]
        like = np.where(
            correct[:, None], self._model.log_right[:, j].T, self._model.log_wrong[:, j].T
        )
        self.log_post[learners] += like
        self.log_post[learners] -= self.log_post[learners].max(axis=1, keepdims=True)
        self.asked[learners, items] = True
        for who, item, ok in zip(learners.tolist(), items.tolist(), correct.tolist(), strict=True):
            self.answers[who].append((int(item), bool(ok)))

    def results(self) -> list[PlacementResult]:
        """Every learner's placed levels and confidence."""
        m = self.marginals()
        return [
            PlacementResult(row, _levels(row, self.config), np.maximum(row, 1 - row), len(a))
            for row, a in zip(m, self.answers, strict=True)
        ]


def run_placement(
    session: PlacementSession, answer_item: Sequence[bool] | None = None
) -> PlacementResult:
    """Finish a session with answers given in order (a helper for tests and replay)."""
    for correct in answer_item or ():
        if session.done():
            break
        session.answer(session.next_item(), correct)
    return session.result()
