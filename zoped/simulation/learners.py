"""Hidden learners: two generating families that are *not* zoped's own models in disguise.

zoped models a learner with BKT (two states per skill, one learn rate per skill, no time) and a
memory model (FSRS-like stability). The hidden learners differ from both on purpose:

``strength`` (continuous knowledge, power-law forgetting)
    Knowledge ``k`` in [0, 1] per competency grows by a learner-specific rate, scaled by how well
    the prerequisites are recalled ("readiness") and by feedback; practice also transfers to the
    prerequisites. Recall decays as a power law of time, ``(1 + dt / (h m))**-d``, with each
    learner's own ``h`` and ``d``, and memory strength ``m`` grows more from spaced than from
    massed practice. An item needs all its competencies: P(correct) = guess + (1 - guess -
    slip) * prod_c (k_c R_c) ** (1 + 2 difficulty).
``stage`` (discrete stages, misconceptions, consolidation)
    Each competency is at stage 0 (none), 1 (partial), 2 (secure) or 3 (fluent). Moving up needs
    secure prerequisites; some learners hold a misconception that keeps them wrong at stage 1
    until feedback on an error repairs it; stage 3 needs practice spaced by at least 20 hours.
    Stages fall by one with a power-law hazard in the time since the last practice. Reaching
    secure pulls partial prerequisites up with some probability (transfer).

Prior knowledge comes from the *cohort*, the same for both families and always
prerequisite-closed: ``mixed`` (the default: a class of several grades, as the demo school uses
the demo course; each learner was taught the course up to their own point, uniform over its
depth, and kept each competency taught with a probability rising with their ability) or ``new``
(nobody was taught the course: what a learner knows thins out with absolute depth, so on a deep
course almost nobody knows its second half).

Both share one interface and expose the truth only to the runner and the oracle:
:meth:`HiddenLearners.true_p` (P(solving a typical item without guessing)) and
:meth:`HiddenLearners.truly_mastered` (``true_p >= MASTERY_P``).
"""

from __future__ import annotations

import copy
from abc import ABC, abstractmethod

import numpy as np
from numpy.typing import NDArray

from zoped.simulation.course import DAY_S, SimCourse

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
IntArray = NDArray[np.int64]
MASTERY_P = 0.85
COHORTS = ("mixed", "new")


class HiddenLearners(ABC):
    """A population of hidden learners, stepped in lockstep (one item each per step)."""

    family: str = ""

    def __init__(
        self,
        course: SimCourse,
        n_learners: int,
        rng: np.random.Generator,
        cohort: str = "mixed",
    ) -> None:
        if cohort not in COHORTS:
            raise ValueError(f"cohort must be one of {COHORTS}, got {cohort!r}")
        self.course = course
        self.n_learners = n_learners
        self.cohort = cohort
        g = course.graph
        # Prior knowledge is prerequisite-closed: nobody knows a competency without knowing
        # what it needs. Either way a latent ability decides what a learner kept.
        ability = rng.normal(0.0, 1.0, n_learners)
        depth = g.depth().astype(np.float64)
        # "mixed": a class of several grades; each learner was taught the course up to their
        # own point (uniform over its depth) and kept each competency taught with a
        # probability rising with ability. "new": nobody was taught the course; what they
        # know comes from elsewhere and thins out with absolute depth.
        reach = rng.uniform(0.0, 1.0, n_learners) * (depth.max() + 1.0)
        known = np.zeros((n_learners, g.n), dtype=np.bool_)
        for c in g.order:
            if cohort == "mixed":
                ok = (depth[c] < reach) & (ability + rng.normal(0.0, 0.6, n_learners) > -0.8)
            else:
                thr = -0.3 + 0.45 * depth[c] + rng.normal(0.0, 0.3)
                ok = ability + rng.normal(0.0, 0.6, n_learners) > thr
            pre = g.prereq[c]
            if pre.any():
                ok &= known[:, pre].all(axis=1)
            known[:, c] = ok
        self.initially_known = known
        self.slip = rng.uniform(0.02, 0.10, n_learners)
        self.guess = rng.uniform(0.10, 0.25, n_learners)
        self._init_family(rng)

    @abstractmethod
    def _init_family(self, rng: np.random.Generator) -> None:
        """Draw the family's own hidden state, after the prior knowledge is known."""

    def copy(self) -> HiddenLearners:
        """An independent copy (for tuning the baseline without touching this population)."""
        return copy.deepcopy(self)

    @abstractmethod
    def true_p(self, now_s: float) -> FloatArray:
        """``(learners, competencies)``: P(solving a typical single-skill item), no guessing."""

    def truly_mastered(self, now_s: float) -> BoolArray:
        """The hidden truth the policies are scored against."""
        return self.true_p(now_s) >= MASTERY_P

    @abstractmethod
    def _p_item(self, items: IntArray, now_s: float) -> FloatArray:
        """P(correct) per learner on their item, before learning from it."""

    @abstractmethod
    def _learn(
        self,
        items: IntArray,
        correct: BoolArray,
        now_s: float,
        rng: np.random.Generator,
        active: BoolArray,
    ) -> None:
        """Change the hidden state after practice with feedback."""

    def advance(self, now_s: float, rng: np.random.Generator) -> None:  # noqa: B027
        """Let time pass up to ``now_s`` (families with random forgetting draw it here)."""

    def respond(
        self,
        items: IntArray,
        now_s: float,
        rng: np.random.Generator,
        *,
        learn: bool = True,
        active: BoolArray | None = None,
    ) -> BoolArray:
        """Each learner answers their item; with ``learn`` they also learn from the feedback.

        Args:
            items: one item code per learner.
            now_s: the time of the answers.
            rng: the simulation's generator.
            learn: False for diagnostic questions (no feedback, so no learning).
            active: learners who answer (the others' answers are drawn but change nothing).
        """
        act = np.ones(self.n_learners, dtype=np.bool_) if active is None else active
        self.advance(now_s, rng)
        p = self._p_item(items, now_s)
        p = self.guess + (1.0 - self.guess - self.slip) * p
        correct = rng.random(self.n_learners) < p
        if learn:
            self._learn(items, correct, now_s, rng, act)
        return correct

    def _readiness_inputs(self, q: FloatArray, mask: BoolArray | None = None) -> FloatArray:
        """``(learners, competencies)``: the weakest prerequisite's value (1 for roots).

        With ``mask``, only the masked cells are computed (the others are 1): the hot path
        needs readiness only where a learner practises.
        """
        pre = self.course.graph.prereq
        if mask is None:
            # (L, 1, n) against (n, n): min over each competency's prerequisites.
            masked = np.where(pre[None, :, :], q[:, None, :], 1.0)
            full: FloatArray = masked.min(axis=2)
            return full
        rows, cols = np.nonzero(mask)
        out: FloatArray = np.ones_like(q)
        out[rows, cols] = np.where(pre[cols], q[rows], 1.0).min(axis=1)
        return out


class StrengthLearners(HiddenLearners):
    """Continuous knowledge with learner-specific power-law forgetting and transfer."""

    family = "strength"

    def _init_family(self, rng: np.random.Generator) -> None:
        n_learners = self.n_learners
        shape = (n_learners, self.course.graph.n)
        known = self.initially_known
        self.rate = np.clip(rng.lognormal(np.log(0.12), 0.5, n_learners), 0.02, 0.5)
        self.decay = rng.uniform(0.2, 0.45, n_learners)
        self.memory_scale = rng.lognormal(0.0, 0.4, n_learners)
        self.k = np.where(known, rng.uniform(0.97, 1.0, shape), rng.uniform(0.0, 0.3, shape))
        self.m_days = np.where(known, rng.uniform(20.0, 60.0, shape), 0.5)
        self.last_s = np.where(known, -rng.uniform(0.0, 10.0, shape) * DAY_S, -30 * DAY_S)

    def _recall(self, now_s: float) -> FloatArray:
        dt_days = np.maximum(now_s - self.last_s, 0.0) / DAY_S
        scale = self.memory_scale[:, None] * self.m_days
        out: FloatArray = (1.0 + dt_days / scale) ** (-self.decay[:, None])
        return out

    def true_p(self, now_s: float) -> FloatArray:
        q = self.k * self._recall(now_s)
        out: FloatArray = q**2.0  # a typical item: difficulty 0.5
        return out

    def _p_item(self, items: IntArray, now_s: float) -> FloatArray:
        q = self.k * self._recall(now_s)
        mask = self.course.item_skills[items]
        expo = 1.0 + 2.0 * self.course.item_difficulty[items]
        per = np.where(mask, q ** expo[:, None], 1.0)
        out: FloatArray = per.prod(axis=1)
        return out

    def _learn(
        self,
        items: IntArray,
        correct: BoolArray,
        now_s: float,
        rng: np.random.Generator,
        active: BoolArray,
    ) -> None:
        del rng
        mask = self.course.item_skills[items] & active[:, None]
        recall = self._recall(now_s)
        q = self.k * recall
        ready = self._readiness_inputs(q, mask) ** 2
        feedback = np.where(correct, 1.0, 0.6)[:, None]
        gain = np.where(mask, self.rate[:, None] * ready * (1.0 - self.k) * feedback, 0.0)
        self.k += gain
        # Transfer down the graph: practising c also firms up what c builds on.
        pre = self.course.graph.prereq.astype(np.float64)
        self.k = np.minimum(self.k + 0.3 * (gain @ pre) * (1.0 - self.k), 1.0)
        # Spacing effect: memory grows more when recall had faded before the practice.
        grown = self.m_days * (1.0 + 2.0 * (1.0 - recall)) + 0.5 * self.k
        self.m_days = np.where(mask, grown, self.m_days)
        self.last_s = np.where(mask, now_s, self.last_s)


class StageLearners(HiddenLearners):
    """Discrete stages with misconceptions, spaced consolidation and power-law stage decay."""

    family = "stage"
    STAGE_P = np.array([0.0, 0.35, 0.88, 0.97])

    def _init_family(self, rng: np.random.Generator) -> None:
        n_learners = self.n_learners
        shape = (n_learners, self.course.graph.n)
        known = self.initially_known
        self.rate = np.clip(rng.lognormal(np.log(0.25), 0.5, n_learners), 0.05, 0.8)
        self.tau_days = rng.lognormal(np.log(6.0), 0.5, n_learners)
        self.stage = np.where(known, rng.integers(2, 4, shape), rng.integers(0, 2, shape))
        self.misconception = ~known & (rng.random(shape) < 0.25)
        self.last_s = np.where(known, -rng.uniform(0.0, 10.0, shape) * DAY_S, -30 * DAY_S)
        self.checked_s = np.zeros(shape)

    def _survival(self, elapsed_s: FloatArray, tau: FloatArray) -> FloatArray:
        out: FloatArray = (1.0 + np.maximum(elapsed_s, 0.0) / DAY_S / tau) ** -0.7
        return out

    def advance(self, now_s: float, rng: np.random.Generator) -> None:
        """Stages decay with a power-law hazard in the time since the last practice."""
        if now_s <= float(self.checked_s.max()):
            return
        tau = np.where(self.stage >= 3, 8.0, 1.0) * self.tau_days[:, None]
        before = self._survival(self.checked_s - self.last_s, tau)
        after = self._survival(now_s - self.last_s, tau)
        drop = (self.stage >= 2) & (rng.random(self.stage.shape) > after / before)
        self.stage = np.where(drop, self.stage - 1, self.stage)
        # A drop restarts the clock of the lower stage.
        self.last_s = np.where(drop, now_s, self.last_s)
        self.checked_s[:] = now_s

    def true_p(self, now_s: float) -> FloatArray:
        del now_s
        p = self.STAGE_P[self.stage]
        out: FloatArray = np.where(self.misconception & (self.stage <= 1), 0.02, p)
        return out

    def _p_item(self, items: IntArray, now_s: float) -> FloatArray:
        p = self.true_p(now_s)
        mask = self.course.item_skills[items]
        expo = 0.5 + self.course.item_difficulty[items]
        out: FloatArray = np.where(mask, p ** expo[:, None], 1.0).prod(axis=1)
        return out

    def _learn(
        self,
        items: IntArray,
        correct: BoolArray,
        now_s: float,
        rng: np.random.Generator,
        active: BoolArray,
    ) -> None:
        mask = self.course.item_skills[items] & active[:, None]
        shape = self.stage.shape
        secure = (self.stage >= 2).astype(np.float64)
        ready = np.where(self._readiness_inputs(secure, mask) >= 1.0, 1.0, 0.2)
        u = rng.random(shape)
        # Feedback on an error sometimes repairs a misconception.
        repaired = mask & self.misconception & ~correct[:, None] & (u < 0.3)
        self.misconception &= ~repaired
        rate = self.rate[:, None]
        spaced = (now_s - self.last_s) >= 20 * 3600
        p_up = np.where(
            self.stage < 2,
            rate * ready * np.where(self.misconception & (self.stage == 1), 0.0, 1.0),
            np.where(self.stage == 2, rate * np.where(spaced, 1.0, 0.05), 0.0),
        )
        up = mask & (rng.random(shape) < p_up)
        new_secure = up & (self.stage == 1)
        self.stage = np.where(up, self.stage + 1, self.stage)
        # Transfer: securing c pulls partial prerequisites up with probability 0.3.
        pulled = (new_secure.astype(np.int64) @ self.course.graph.prereq.astype(np.int64)) > 0
        lift = pulled & (self.stage == 1) & ~self.misconception & (rng.random(shape) < 0.3)
        self.stage = np.where(lift, 2, self.stage)
        self.last_s = np.where(mask | lift, now_s, self.last_s)


FAMILIES: dict[str, type[HiddenLearners]] = {
    StrengthLearners.family: StrengthLearners,
    StageLearners.family: StageLearners,
}
