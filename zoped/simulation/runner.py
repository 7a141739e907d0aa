"""One policy run on a population of hidden learners, and the models fitted on its answers:
the pieces :mod:`zoped.simulation.protocol` puts together."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from zoped.engine.base import InteractionLog
from zoped.engine.bkt import BKT
from zoped.engine.mastery import MasteryConfig, MasteryLevel
from zoped.engine.memory import MemoryModel, MemoryParameters
from zoped.engine.placement import StatePrior, fit_state_prior
from zoped.engine.recommend import RecommenderConfig
from zoped.errors import InvalidInput, Problem
from zoped.simulation.course import DAY_S, AnswerStep, SimCourse
from zoped.simulation.learners import COHORTS, FAMILIES, HiddenLearners
from zoped.simulation.metrics import BREAKDOWN, RunOutcome
from zoped.simulation.policies import (
    LinearPolicy,
    Policy,
)

IntArray = NDArray[np.int64]
POLICIES = ("zoped", "linear", "random", "oracle")
# The default budget per competency: enough for most learners under every policy to reach
# full mastery on the strength family and on the second course; the demo course's stage
# family needs more (bench/results/pathways.md).
ITEMS_PER_COMPETENCY = 80
DELAY_DAYS = 30.0
TUNING_QUANTILES = (0.6, 0.75, 0.9)
# zoped's move-on decision, tuned on the calibration population (coordinate search): the
# level prerequisites need before a competency is offered, P(known) to call it mastered, then
# the memory model's recall below which a mastered competency is due for review.
UNLOCK_GRID = (int(MasteryLevel.PROFICIENT), int(MasteryLevel.MASTERED))
# The review grid reaches down to 0.5: on the strength family the best review point was the
# lowest of (0.7, 0.8, 0.9) on every seed; 0.6 saved ~6 points more than 0.8 there in an
# exploratory run (bench/results/pathways.md).
MASTERED_P_GRID = (0.85, 0.9, 0.95, 0.98)
REVIEW_GRID = (0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class SimulationConfig:
    """What to simulate. Validated on construction.

    Raises:
        InvalidInput: every bad value at once.
    """

    n_learners: int = 200
    budget: int = 400
    seeds: tuple[int, ...] = (0, 1, 2, 3, 4)
    families: tuple[str, ...] = ("strength", "stage")
    # Who the learners are (see learners.HiddenLearners): "mixed" grades with varied prior
    # knowledge of the course, or a cohort "new" to it.
    cohort: str = "mixed"
    calibration_count: int = 8
    max_block: int = 40
    memory_max_iter: int = 60
    pretest_per_competency: int = 2
    mastery: MasteryConfig = field(default_factory=MasteryConfig)
    choice_k: int = 1
    # zoped refits BKT on its own learners' answers every this many school days, as a school
    # refits the platform's models on its own data (0: only the calibration fit).
    refit_days: int = 10
    # Tune zoped's move-on parameters on the calibration population (False: the platform's
    # MasteryConfig as given, unlocking at proficient).
    tune_zoped: bool = True
    # The engine's default recommender: the desirable-difficulty band on the attainable range
    # (band_scale="relative"); RecommenderConfig(w_difficulty=0.0) switches it off.
    recommender: RecommenderConfig = field(default_factory=RecommenderConfig)
    # Worker processes for the (family, seed) runs; 1 runs them here, one after another. The
    # report is the same for any number: every run draws from its own seeded generators.
    jobs: int = 1

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        if self.n_learners < 2:
            problems.append(Problem("learners", "must be at least 2"))
        if self.budget < 1:
            problems.append(Problem("budget", "must be at least 1"))
        if not self.seeds:
            problems.append(Problem("seeds", "need at least one seed"))
        unknown = [f for f in self.families if f not in FAMILIES]
        if unknown or not self.families:
            problems.append(Problem("families", f"choose from {sorted(FAMILIES)}, got {unknown}"))
        if self.cohort not in COHORTS:
            problems.append(Problem("cohort", f"choose from {list(COHORTS)}, got {self.cohort!r}"))
        if self.refit_days < 0:
            problems.append(Problem("refit_days", "must be >= 0 (0: no refit)"))
        if not (isinstance(self.jobs, int) and self.jobs >= 1):
            problems.append(Problem("jobs", f"must be an integer >= 1, got {self.jobs!r}"))
        if self.calibration_count < 1 or self.max_block < 1 or self.memory_max_iter < 1:
            problems.append(Problem("calibration_count", "counts must be >= 1"))
        if problems:
            raise InvalidInput("invalid simulation settings", problems)


def default_budget(course: SimCourse) -> int:
    """Items per learner when none is given: :data:`ITEMS_PER_COMPETENCY` per competency."""
    return ITEMS_PER_COMPETENCY * course.graph.n


def run_policy(
    course: SimCourse,
    population: HiddenLearners,
    policy: Policy,
    budget: int,
    rng: np.random.Generator,
    log: list[AnswerStep] | None = None,
) -> RunOutcome:
    """Run one policy on one population for ``budget`` items per learner (diagnostic included).

    Args:
        log: when given, each step's (learners, items, correct, time) is appended (for fitting).
    """
    n = population.n_learners
    policy.start(population, rng, 0.0)
    used = policy.diagnostic_items.copy()
    reached = np.full(n, np.nan)
    covered = np.full(n, np.nan)
    ever = np.zeros((n, course.graph.n), dtype=np.bool_)
    over = np.zeros(n, dtype=np.int64)
    premature = np.zeros(n, dtype=np.int64)
    practice = np.zeros(n, dtype=np.int64)
    breakdown = np.zeros((n, len(BREAKDOWN)), dtype=np.int64)
    g = course.graph
    # Practice starts on the day after placement, so both happen at school times.
    offset = course.time_of(course.items_per_day) if used.any() else 0.0
    now = offset
    for step in range(budget):
        now = offset + course.time_of(step)
        truth = population.truly_mastered(now)
        all_done = truth.all(axis=1) & np.isnan(reached)
        reached[all_done] = used[all_done]
        ever |= truth
        each_done = ever.all(axis=1) & np.isnan(covered)
        covered[each_done] = used[each_done]
        active = used < budget
        if not active.any():
            break
        choice = policy.choose(now, rng)
        items = course.pick_items(choice, rng)
        rows = np.arange(n)
        known = truth[rows, choice]
        early = (g.prereq[choice] & ~truth).any(axis=1)
        over += active & known
        premature += active & early
        # Where the items go until full mastery (see metrics.BREAKDOWN).
        review = policy.reviewing(choice)
        kind = np.where(
            early,
            2,
            np.where(known, np.where(review, 4, 3), np.where(review, 1, 0)),
        )
        counting = active & np.isnan(reached)
        np.add.at(breakdown, (rows[counting], kind[counting]), 1)
        correct = population.respond(items, now, rng, active=active)
        policy.observe(items, correct, active, now)
        if log is not None:
            who = np.flatnonzero(active)
            log.append((who, items[who], correct[who], now))
        used += active
        practice += active
    end = now + course.item_gap_s
    truth = population.truly_mastered(end)
    last = truth.all(axis=1) & np.isnan(reached)
    reached[last] = used[last]
    ever |= truth
    last = ever.all(axis=1) & np.isnan(covered)
    covered[last] = used[last]
    recall = population.true_p(end).mean(axis=1)
    later = end + DELAY_DAYS * DAY_S
    population.advance(later, rng)
    delayed = population.true_p(later).mean(axis=1)
    return RunOutcome(
        items_to_mastery=reached,
        items_to_coverage=covered,
        over_practice=over / np.maximum(practice, 1),
        premature=premature / np.maximum(practice, 1),
        retention=recall,
        delayed_retention=delayed,
        diagnostic_items=policy.diagnostic_items.copy(),
        breakdown=breakdown,
    )


def pretest(
    course: SimCourse, population: HiddenLearners, per_competency: int, rng: np.random.Generator
) -> tuple[IntArray, IntArray]:
    """A fixed pretest without feedback: ``per_competency`` practice items of each competency.

    Returns:
        ``(right, wrong)`` counts per learner and item, the data a placement prior is fitted on.
    """
    n_items = len(course.item_ids)
    right = np.zeros((population.n_learners, n_items), dtype=np.int64)
    wrong = np.zeros_like(right)
    rows = np.arange(population.n_learners)
    t = 0.0
    for c in course.graph.order:
        for _ in range(per_competency):
            items = course.pick_items(np.full(population.n_learners, c), rng)
            ok = population.respond(items, t, rng, learn=False)
            right[rows, items] += ok
            wrong[rows, items] += ~ok
            t += course.item_gap_s
    return right, wrong


def first_of_day(log: InteractionLog) -> InteractionLog:
    """Keep each learner's first answer per competency set and day (as FSRS fits on reviews).

    Same-day repeats of massed practice say little about forgetting over days, and a fit on
    them explains within-session runs of right answers with stabilities of seconds.
    """
    assert log.timestamp_s is not None
    day = np.floor(log.timestamp_s / DAY_S).astype(np.int64)
    first_skill = log.skill_idx[log.skill_ptr[:-1]]
    key = np.stack([log.learner, first_skill, day], axis=1)
    _, keep = np.unique(key, axis=0, return_index=True)
    keep = np.sort(keep)
    counts = np.diff(log.skill_ptr)[keep]
    ptr = np.zeros(keep.size + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    idx = np.concatenate(
        [log.skill_idx[log.skill_ptr[i] : log.skill_ptr[i + 1]] for i in keep]
    ).astype(np.int64)
    return InteractionLog(
        learner=log.learner[keep],
        item=log.item[keep],
        skill_ptr=ptr,
        skill_idx=idx,
        correct=log.correct[keep],
        order=log.order[keep],
        learner_ids=log.learner_ids,
        skill_ids=log.skill_ids,
        item_ids=log.item_ids,
        timestamp_s=log.timestamp_s[keep],
    )


@dataclass(frozen=True)
class FittedModels:
    """What zoped learns from the calibration population's answers (never its hidden state)."""

    bkt: BKT
    memory: MemoryModel
    memory_used: MemoryParameters
    prior: StatePrior


def fit_models(
    course: SimCourse, population: HiddenLearners, config: SimulationConfig, seed: int
) -> FittedModels:
    """Fit zoped's models on the answers of a calibration population (never its hidden state).

    The population first takes a pretest without feedback (the placement prior is fitted on
    it by EM), then works through an untuned linear curriculum (BKT is fitted on every answer,
    the memory model on the first answer per competency and day).
    """
    rng = np.random.default_rng(seed)
    right, wrong = pretest(course, population, config.pretest_per_competency, rng)
    prior = fit_state_prior(course.graph, course.item_skills, right, wrong, seed=seed)
    counts = np.full(course.graph.n, config.calibration_count, dtype=np.int64)
    steps: list[AnswerStep] = []
    policy = LinearPolicy(course, population.n_learners, counts)
    run_policy(course, population, policy, config.budget, rng, steps)
    log = course.interaction_log(population.n_learners, steps)
    bkt = BKT(n_restarts=3, seed=seed).fit(log)
    memory = MemoryModel(max_iter=config.memory_max_iter).fit(first_of_day(log))
    assert memory.parameters is not None
    # The MAP fit (MemoryModel's default prior) is used as fitted: no clamp.
    return FittedModels(bkt, memory, memory.parameters, prior)
