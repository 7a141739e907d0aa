"""Policies compared by the simulator. Only the oracle may look at the hidden learners.

``zoped``   placement, then BKT + memory model + mastery levels (with the prerequisite
            re-check after repeated misses) + the recommender's scoring
            (:func:`zoped.engine.recommend.score_parts`); the learner takes the top option.
            With ``refit_days`` BKT is refitted on the answers these learners gave so far.
``random``  the same models, re-check, refits and frontier, but a uniformly random choice.
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

from zoped.engine import _bkt_kernels as kernels
from zoped.engine import memory_curves
from zoped.engine.bkt import BKT
from zoped.engine.mastery import MasteryConfig, MasteryLevel, MasteryTracker, at_least_proficient
from zoped.engine.memory import (
    MemoryModel,
    MemoryParameters,
)
from zoped.engine.placement import PlacementBatch, PlacementConfig, StatePrior
from zoped.engine.recommend import (
    RecommenderConfig,
    floor_filter,
    foundation_score,
    score_parts,
)
from zoped.errors import InvalidInput, Problem
from zoped.simulation.course import DAY_S, AnswerStep, SimCourse
from zoped.simulation.learners import MASTERY_P, HiddenLearners

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]
# Answers on a competency before a refit may replace its calibration parameters.
REFIT_MIN_ANSWERS = 200
# The simulator's memory runs on the platform's default forgetting curve.
POWER_CURVE = memory_curves.CURVE_CODE["power"]


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

    def reviewing(self, choice: IntArray) -> BoolArray:
        """Whether each learner's choice is a scheduled review (for the item breakdown only)."""
        return np.zeros(choice.shape, dtype=np.bool_)


class ModelledPolicy(Policy):
    """Keeps zoped's learner models for every learner as arrays, updated from answers only.

    The BKT update and the memory model's stability update are the engine's own equations
    (:meth:`zoped.engine.bkt.BKT.update`, :mod:`zoped.engine.memory`, power curve), applied to
    ``(learners, competencies)`` arrays at once instead of one learner's dicts at a time.
    """

    def __init__(
        self,
        course: SimCourse,
        n_learners: int,
        bkt: BKT,
        memory: MemoryModel | MemoryParameters,
        mastery: MasteryConfig | None = None,
        unlock_at: int = MasteryLevel.PROFICIENT,
        refit_days: int = 0,
    ) -> None:
        super().__init__(course, n_learners)
        n = course.graph.n
        # Refit BKT every ``refit_days`` school days on the answers of these learners, as a
        # school refits the platform's models on its own data (0: keep the calibration fit).
        self.refit_days = int(refit_days)
        self.answers: list[AnswerStep] = []
        self.refits = 0
        # The level every direct prerequisite needs before a competency is offered: the
        # platform's rule is proficient; the simulation may tune it (protocol.tune_zoped).
        self.unlock_at = int(unlock_at)
        self.bkt = bkt
        params = bkt.params
        self.prior = kernels.online_prior(params.prior)
        self.learn = np.asarray(params.learn, dtype=np.float64)
        self.guess = np.asarray(params.guess, dtype=np.float64)
        self.slip = np.asarray(params.slip, dtype=np.float64)
        forget = np.asarray(params.forget, dtype=np.float64)
        self.forget = forget if forget.size == n else np.zeros(n)
        self.memory_params = memory if isinstance(memory, MemoryParameters) else memory.parameters
        if self.memory_params is None:
            raise InvalidInput("the memory model is not fitted", [Problem("memory", "no params")])
        self.tracker = MasteryTracker(n_learners, n, mastery, graph=course.graph)
        self.p_known = np.tile(self.prior, (n_learners, 1))
        self.stability = np.zeros((n_learners, n))
        self.last_review = np.zeros((n_learners, n))
        self.seen = np.zeros((n_learners, n), dtype=np.bool_)
        self.recall = np.ones((n_learners, n))
        self.level = np.zeros((n_learners, n), dtype=np.int64)  # as of the latest refresh

    def p_correct(self) -> FloatArray:
        """Predicted P(correct) on a single-skill item of each competency (BKT's formula)."""
        out: FloatArray = kernels.p_correct(self.p_known, 1.0 - self.p_known, self.guess, self.slip)
        return out

    def retrievability(self, now_s: float) -> FloatArray:
        """The memory model's recall per cell (power curve); 0 where never reviewed."""
        out: FloatArray = memory_curves.recall_cells(
            self.stability, self.last_review, self.seen, now_s, POWER_CURVE
        )
        return out

    def _refresh(self, now_s: float) -> None:
        # Recall matters only where mastery is held.
        self.recall = np.where(self.tracker.mastered, self.retrievability(now_s), 1.0)
        self.level = self.tracker.levels(self.recall)

    def _memory_update(self, mask: BoolArray, correct: BoolArray, now_s: float) -> None:
        mp = self.memory_params
        assert mp is not None
        memory_curves.review_cells(
            self.stability,
            self.last_review,
            self.seen,
            np.ascontiguousarray(mask),
            np.ascontiguousarray(correct),
            now_s,
            mp.as_array(),
            POWER_CURVE,
        )

    def _bkt_update(self, mask: BoolArray, correct: BoolArray) -> None:
        # The platform's own online step (P(known) stays within kernels.P_BOUND of 0 and 1, so
        # 1 - p keeps P(not known) to full precision).
        theta = np.stack([self.prior, self.learn, self.guess, self.slip, self.forget], axis=1)
        p = self.p_known.copy()
        kernels.step_cells(p, 1.0 - p, np.ascontiguousarray(mask), correct, theta)
        self.p_known = p

    def _maybe_refit(self, now_s: float) -> None:
        """Refit BKT on the answers seen so far, once every ``refit_days`` days.

        A competency keeps its calibration parameters until these learners have given
        :data:`REFIT_MIN_ANSWERS` answers on it. The posteriors are kept: new parameters apply
        from the next answer on.
        """
        if not self.refit_days or not self.answers:
            return
        if now_s < (self.refits + 1) * self.refit_days * DAY_S:
            return
        self.refits = int(now_s // (self.refit_days * DAY_S))
        log = self.course.interaction_log(self.n_learners, self.answers)
        fitted = BKT(n_restarts=1, seed=self.refits).fit(log)
        assert fitted.fit_report is not None
        enough = fitted.fit_report.n_obs >= REFIT_MIN_ANSWERS
        params = fitted.params
        self.learn = np.where(enough, np.asarray(params.learn), self.learn)
        self.guess = np.where(enough, np.asarray(params.guess), self.guess)
        self.slip = np.where(enough, np.asarray(params.slip), self.slip)

    def observe(self, items: IntArray, correct: BoolArray, active: BoolArray, now_s: float) -> None:
        self._maybe_refit(now_s)
        if self.refit_days:
            rows = np.flatnonzero(active)
            self.answers.append((rows, items[rows], correct[rows], now_s))
        mask = self.course.item_skills[items] & active[:, None]
        # The recall the choice was made on: an answer on a faded mastery is a review.
        before = self.recall
        self._bkt_update(mask, correct)
        self._memory_update(mask, correct, now_s)
        rows = np.flatnonzero(active)
        self.tracker.record(
            rows, mask[rows], correct[rows], now_s, self.p_known[rows], before[rows]
        )
        self._refresh(now_s)

    def eligible(self) -> BoolArray:
        """Unlocked and not mastered, or due for review: the candidates zoped would offer."""
        levels = self.level
        met = (
            at_least_proficient(levels)
            if self.unlock_at == MasteryLevel.PROFICIENT
            else levels >= self.unlock_at
        )
        unlocked = self.course.graph.unlocked(met)
        due = levels == MasteryLevel.REVIEW_DUE
        out: BoolArray = unlocked & ((levels < MasteryLevel.MASTERED) | due)
        return out

    def reviewing(self, choice: IntArray) -> BoolArray:
        """A review: the choice was due, or nothing else was left (the fallback)."""
        rows = np.arange(self.n_learners)
        level = self.level[rows, choice]
        out: BoolArray = (level == MasteryLevel.REVIEW_DUE) | (level == MasteryLevel.MASTERED)
        return out

    def _fallback(self, rows: IntArray) -> IntArray:
        """Nothing left to offer: review the mastered competency with the lowest recall."""
        out: IntArray = np.argmin(self.recall[rows], axis=1).astype(np.int64)
        return out


class ZopedPolicy(ModelledPolicy):
    """zoped's pathway: placement, then the recommender's top option at every step.

    With ``choice_k > 1`` the simulated learner picks among the ``choice_k`` best options of
    the menu, each with probability proportional to ``exp(score / choice_temperature)``
    (a learner with the wheel, not a perfect optimiser).
    """

    name = "zoped"

    def __init__(
        self,
        course: SimCourse,
        n_learners: int,
        bkt: BKT,
        memory: MemoryModel | MemoryParameters,
        mastery: MasteryConfig | None = None,
        recommender: RecommenderConfig | None = None,
        placement: PlacementConfig | None = None,
        prior: StatePrior | None = None,
        choice_k: int = 1,
        choice_temperature: float = 0.1,
        unlock_at: int = MasteryLevel.PROFICIENT,
        refit_days: int = 0,
    ) -> None:
        super().__init__(course, n_learners, bkt, memory, mastery, unlock_at, refit_days)
        self.config = recommender or RecommenderConfig()
        self.prior_states = prior
        base = PlacementConfig(
            guess=float(np.clip(np.median(self.guess), 0.01, 0.49)),
            slip=float(np.clip(np.median(self.slip), 0.01, 0.49)),
            max_states=4000,
        )
        self.placement_config = placement or (prior.config(base) if prior else base)
        self.choice_k = choice_k
        self.choice_temperature = choice_temperature
        self.history = np.full((n_learners, max(self.config.recent_window, 1)), -1)
        self.placement_agreement: FloatArray | None = None

    def start(self, population: HiddenLearners, rng: np.random.Generator, now_s: float) -> None:
        """Run the placement diagnostic for everyone, in lockstep rounds of one question."""
        batch = PlacementBatch(
            self.course.graph,
            self.course.item_skills,
            self.n_learners,
            self.placement_config,
            self.prior_states,
        )
        t = now_s
        while True:
            active = ~batch.done()
            if not active.any():
                break
            items = np.where(active, batch.next_items(), 0)
            correct = population.respond(items, t, rng, learn=False, active=active)
            who = np.flatnonzero(active)
            batch.answer(who, items[who], correct[who])
            t += self.course.item_gap_s
        results = batch.results()
        self.diagnostic_items = np.array([r.questions for r in results], dtype=np.int64)
        truth = population.truly_mastered(t)
        levels = np.array([r.levels for r in results], dtype=np.int64)
        placed = levels >= MasteryLevel.PROFICIENT
        self.placement_agreement = (placed == truth).mean(axis=1)
        self.p_known = np.clip(batch.marginals(), 0.02, 0.99)
        for learner in range(self.n_learners):
            self.tracker.place(learner, levels[learner], t)
        # Placed out: a passed check today, as far as the memory model is concerned.
        out = levels == MasteryLevel.MASTERED
        self._memory_update(out, np.ones(self.n_learners, dtype=np.bool_), t)
        self._refresh(t)

    def choose(self, now_s: float, rng: np.random.Generator) -> IntArray:
        del now_s
        cfg = self.config
        eligible = self.eligible()
        due = (self.level == MasteryLevel.REVIEW_DUE).astype(np.float64)
        n = self.course.graph.n
        recent = (self.history[:, :, None] == np.arange(n)[None, None, :]).mean(axis=1)
        zeros = np.zeros_like(due)
        # Secure today but not yet shown over time: more practice now is massed practice, so
        # it waits (the variety part, at full weight) for another day or other competencies.
        waiting = (self.level == MasteryLevel.PROFICIENT) & (
            self.p_known >= self.tracker.config.mastered_p
        )
        recent = np.maximum(recent, np.where(waiting, 2.0, 0.0))
        p_success = self.p_correct()
        # The app's menu offers nothing below the floor while anything reaches it.
        eligible = floor_filter(p_success, eligible, cfg.success_floor)
        total, _ = score_parts(
            p_success,
            goal=zeros,
            interest=zeros,
            modality=zeros,
            variety=1.0 - 0.5 * recent,
            review=due,
            unfinished=zeros,
            config=cfg,
            p_known=self.p_known,
            recheck=self.tracker.recheck.astype(np.float64),
            foundation=foundation_score(self.course.graph, self.level),
        )
        # A seeded jitter far below any score difference breaks exact ties reproducibly.
        total = np.where(eligible, total + 1e-9 * rng.random(total.shape), -np.inf)
        if self.choice_k > 1:
            # The learner picks among the menu's top k, softmax over the scores.
            kth = -np.sort(-total, axis=1)[:, min(self.choice_k, n) - 1 : min(self.choice_k, n)]
            on_menu = np.isfinite(total) & (total >= kth)
            gumbel = -np.log(-np.log(rng.random(total.shape)))
            total = np.where(on_menu, total / self.choice_temperature + gumbel, -np.inf)
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

    def reviewing(self, choice: IntArray) -> BoolArray:
        """After the schedule every item is a review cycle (``step`` already advanced)."""
        return np.full(choice.shape, self.step > self.schedule.size, dtype=np.bool_)


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
        self._done = done
        return choice

    def reviewing(self, choice: IntArray) -> BoolArray:
        """Everything truly mastered: the lowest recall is a review."""
        done = getattr(self, "_done", None)
        return np.zeros(choice.shape, dtype=np.bool_) if done is None else done.copy()
