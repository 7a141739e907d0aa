"""Policies compared by the simulator. Only the oracle may look at the hidden learners.

``zoped``   placement, then BKT + memory model + mastery levels + the recommender's scoring
            (:func:`zoped.engine.recommend.score_parts`); the learner takes the top option.
``random``  the same models and frontier, but a uniformly random choice from it.
``linear``  everyone in the same topological order, ``counts[c]`` items per competency (tuned
            per competency on a separate population), then one review item each, in a cycle.
``oracle``  reads the hidden state: practises the first competency (in topological order)
            that is not truly mastered and whose prerequisites are; when all are, the one with
            the lowest true recall. The upper bound.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from zoped.engine.base import Interaction
from zoped.engine.bkt import BKT, BKTState
from zoped.engine.mastery import MasteryConfig, MasteryLevel, MasteryTracker, at_least_proficient
from zoped.engine.memory import MemoryModel, MemoryState
from zoped.engine.placement import PlacementConfig, PlacementSession
from zoped.engine.recommend import RecommenderConfig, score_parts
from zoped.engine.simulation.course import SimCourse
from zoped.engine.simulation.learners import MASTERY_P, HiddenLearners

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]


class Policy(ABC):
    """Chooses a competency to practise for every learner, then sees only the answers."""

    name = ""

    def __init__(self, course: SimCourse, n_learners: int) -> None:
        self.course = course
        self.n_learners = n_learners
        self.diagnostic_items = np.zeros(n_learners, dtype=np.int64)

    def start(self, population: HiddenLearners, rng: np.random.Generator, now_s: float) -> None:
        """Before practice (placement may ask diagnostic questions through ``population``)."""
        del population, rng, now_s

    @abstractmethod
    def choose(self, now_s: float, rng: np.random.Generator) -> IntArray:
        """A competency code per learner."""

    def observe(self, items: IntArray, correct: BoolArray, active: BoolArray, now_s: float) -> None:
        """The answers of the active learners to their items."""
        del items, correct, active, now_s


class ModelledPolicy(Policy):
    """Keeps zoped's learner models per learner, fitted elsewhere, updated from answers only."""

    def __init__(
        self,
        course: SimCourse,
        n_learners: int,
        bkt: BKT,
        memory: MemoryModel,
        mastery: MasteryConfig | None = None,
    ) -> None:
        super().__init__(course, n_learners)
        self.bkt = bkt
        self.memory = memory
        self.tracker = MasteryTracker(n_learners, course.graph.n, mastery)
        params = bkt.params
        self.prior = np.asarray(params.prior, dtype=np.float64)
        self.guess = np.asarray(params.guess, dtype=np.float64)
        self.slip = np.asarray(params.slip, dtype=np.float64)
        self.p_known = np.tile(self.prior, (n_learners, 1))
        self.bkt_states: list[BKTState] = [bkt.new_state() for _ in range(n_learners)]
        self.mem_states: list[MemoryState] = [memory.new_state() for _ in range(n_learners)]
        self.recall = np.ones((n_learners, course.graph.n))

    def p_correct(self) -> FloatArray:
        """Predicted P(correct) on a single-skill item of each competency (BKT's formula)."""
        out: FloatArray = self.p_known * (1.0 - self.slip) + (1.0 - self.p_known) * self.guess
        return out

    def _refresh(self, now_s: float) -> None:
        # Recall matters only where mastery is held, so only those cells ask the memory model.
        self.recall[:] = 1.0
        for learner, c in np.argwhere(self.tracker.mastered):
            self.recall[learner, c] = self.memory.retrievability(
                self.mem_states[learner], int(c), now_s
            )
        self.tracker.refresh(self.p_known, self.recall, now_s)

    def observe(self, items: IntArray, correct: BoolArray, active: BoolArray, now_s: float) -> None:
        mask = self.course.item_skills[items]
        for learner in np.flatnonzero(active):
            skills = tuple(int(k) for k in np.flatnonzero(mask[learner]))
            event = Interaction(skills=skills, correct=bool(correct[learner]), timestamp_s=now_s)
            state = self.bkt.update(self.bkt_states[learner], event)
            self.memory.update(self.mem_states[learner], event)
            for k in skills:
                self.p_known[learner, k] = state.p_known[k]
        rows = np.flatnonzero(active)
        self.tracker.record(rows, mask[rows], correct[rows], now_s)
        self._refresh(now_s)

    def eligible(self) -> BoolArray:
        """Unlocked and not mastered, or due for review: the candidates zoped would offer."""
        levels = self.tracker.level
        unlocked = self.course.graph.unlocked(at_least_proficient(levels))
        due = levels == MasteryLevel.REVIEW_DUE
        out: BoolArray = unlocked & ((levels < MasteryLevel.MASTERED) | due)
        return out

    def _fallback(self, rows: IntArray) -> IntArray:
        """Nothing left to offer: review the mastered competency with the lowest recall."""
        out: IntArray = np.argmin(self.recall[rows], axis=1).astype(np.int64)
        return out


class ZopedPolicy(ModelledPolicy):
    """zoped's pathway: placement, then the recommender's top option at every step."""

    name = "zoped"

    def __init__(
        self,
        course: SimCourse,
        n_learners: int,
        bkt: BKT,
        memory: MemoryModel,
        mastery: MasteryConfig | None = None,
        recommender: RecommenderConfig | None = None,
        placement: PlacementConfig | None = None,
    ) -> None:
        super().__init__(course, n_learners, bkt, memory, mastery)
        self.config = recommender or RecommenderConfig()
        # A few thousand sampled states keep each question to milliseconds on a large course.
        self.placement_config = placement or PlacementConfig(
            guess=float(np.clip(np.median(self.guess), 0.01, 0.49)),
            slip=float(np.clip(np.median(self.slip), 0.01, 0.49)),
            max_states=4000,
        )
        self.history = np.full((n_learners, max(self.config.recent_window, 1)), -1)
        self.placement_agreement: FloatArray | None = None

    def start(self, population: HiddenLearners, rng: np.random.Generator, now_s: float) -> None:
        """Run the placement diagnostic for everyone, in lockstep rounds of one question."""
        first = PlacementSession(self.course.graph, self.course.item_skills, self.placement_config)
        sessions = [first] + [
            PlacementSession(
                self.course.graph, self.course.item_skills, self.placement_config, shared=first
            )
            for _ in range(self.n_learners - 1)
        ]
        t = now_s
        while True:
            active = np.array([not s.done() for s in sessions])
            if not active.any():
                break
            items = np.array(
                [s.next_item() if a else 0 for s, a in zip(sessions, active, strict=True)]
            )
            correct = population.respond(items, t, rng, learn=False, active=active)
            for who in np.flatnonzero(active):
                sessions[who].answer(int(items[who]), bool(correct[who]))
            t += self.course.item_gap_s
        results = [s.result() for s in sessions]
        self.diagnostic_items = np.array([r.questions for r in results], dtype=np.int64)
        truth = population.truly_mastered(t)
        placed = np.array([r.levels >= MasteryLevel.PROFICIENT for r in results])
        self.placement_agreement = (placed == truth).mean(axis=1)
        for index, result in enumerate(results):
            learner = int(index)
            self.p_known[learner] = np.clip(result.p_known, 0.02, 0.99)
            self.bkt_states[learner].p_known.update(
                {c: float(p) for c, p in enumerate(self.p_known[learner])}
            )
            self.tracker.place(learner, result.levels, t)
            for c in np.flatnonzero(result.levels == MasteryLevel.MASTERED):
                # Placed out: a passed check today, as far as the memory model is concerned.
                self.memory.update(
                    self.mem_states[learner],
                    Interaction(skills=(int(c),), correct=True, timestamp_s=t),
                )
        self._refresh(t)

    def choose(self, now_s: float, rng: np.random.Generator) -> IntArray:
        del now_s
        cfg = self.config
        eligible = self.eligible()
        due = (self.tracker.level == MasteryLevel.REVIEW_DUE).astype(np.float64)
        n = self.course.graph.n
        recent = (self.history[:, :, None] == np.arange(n)[None, None, :]).mean(axis=1)
        zeros = np.zeros_like(due)
        # Secure today but not yet shown over time: more practice now is massed practice, so
        # it waits (the variety part, at full weight) for another day or other competencies.
        waiting = (self.tracker.level == MasteryLevel.PROFICIENT) & (
            self.p_known >= self.tracker.config.mastered_p
        )
        recent = np.maximum(recent, np.where(waiting, 2.0, 0.0))
        total, _ = score_parts(
            self.p_correct(),
            goal=zeros,
            interest=zeros,
            modality=zeros,
            variety=1.0 - 0.5 * recent,
            review=due,
            unfinished=zeros,
            config=cfg,
        )
        # A seeded jitter far below any score difference breaks exact ties reproducibly.
        total = np.where(eligible, total + 1e-9 * rng.random(total.shape), -np.inf)
        choice: IntArray = np.argmax(total, axis=1).astype(np.int64)
        stuck = ~eligible.any(axis=1)
        if stuck.any():
            choice[stuck] = self._fallback(np.flatnonzero(stuck))
        self.history = np.roll(self.history, -1, axis=1)
        self.history[:, -1] = choice
        return choice


class RandomPolicy(ModelledPolicy):
    """A uniformly random competency from zoped's frontier (same models, no scoring)."""

    name = "random"

    def choose(self, now_s: float, rng: np.random.Generator) -> IntArray:
        del now_s
        eligible = self.eligible()
        noise = np.where(eligible, rng.random(eligible.shape), -1.0)
        choice: IntArray = np.argmax(noise, axis=1).astype(np.int64)
        stuck = ~eligible.any(axis=1)
        if stuck.any():
            choice[stuck] = rng.integers(0, self.course.graph.n, int(stuck.sum()))
        return choice


class LinearPolicy(Policy):
    """One fixed sequence for everyone: ``counts[c]`` items per competency, then review cycles."""

    name = "linear"

    def __init__(self, course: SimCourse, n_learners: int, counts: IntArray) -> None:
        super().__init__(course, n_learners)
        order = course.graph.order
        self.counts = np.asarray(counts, dtype=np.int64)
        self.schedule = np.repeat(order, self.counts[order])
        self.step = 0

    def choose(self, now_s: float, rng: np.random.Generator) -> IntArray:
        del now_s, rng
        order = self.course.graph.order
        s = self.step
        c = (
            self.schedule[s]
            if s < self.schedule.size
            else order[(s - self.schedule.size) % order.size]
        )
        self.step += 1
        return np.full(self.n_learners, int(c), dtype=np.int64)


class OraclePolicy(Policy):
    """Knows the hidden state: the upper bound, never a deployable policy."""

    name = "oracle"

    def __init__(self, course: SimCourse, n_learners: int, population: HiddenLearners) -> None:
        super().__init__(course, n_learners)
        self.population = population

    def choose(self, now_s: float, rng: np.random.Generator) -> IntArray:
        del rng
        g = self.course.graph
        true_p = self.population.true_p(now_s)
        mastered = true_p >= MASTERY_P
        ready = g.unlocked(mastered) & ~mastered
        rank = np.empty(g.n, dtype=np.int64)
        rank[g.order] = np.arange(g.n)
        key = np.where(ready, rank[None, :], g.n + 1)
        choice: IntArray = np.argmin(key, axis=1).astype(np.int64)
        done = ~ready.any(axis=1)
        choice[done] = np.argmin(true_p[done], axis=1)
        return choice
