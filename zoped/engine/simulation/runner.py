"""The simulation protocol: fit on one population, tune the baseline, compare on another.

For every (family, seed):

1. A *calibration* population (its own seed) works through an untuned linear curriculum; zoped's
   BKT and memory model are fitted (EM / maximum likelihood) on that log of answers only.
2. The linear curriculum's practice count per competency is tuned on copies of the calibration
   population, against the hidden truth (generous to the baseline): for each competency in
   order, the ``q``-quantile of the items its learners needed to truly master it, for ``q`` in
   a grid; the ``q`` with the smallest median items to full mastery wins.
3. zoped's move-on values (unlock level, P(known) for mastered, review point) are tuned on the
   calibration population the same way (:func:`tune_zoped`; off with ``tune_zoped=False``).
4. A fresh *evaluation* population is drawn; every policy runs on its own deep copy (the same
   learners for each policy), with the same budget of items per learner, diagnostic questions
   included. zoped (and random, which shares its models) refits BKT every ``refit_days``
   school days on its own learners' answers.

Scores come from the hidden truth only (see :mod:`zoped.engine.simulation.metrics`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from zoped.engine.base import InteractionLog
from zoped.engine.bkt import BKT
from zoped.engine.mastery import MasteryConfig, MasteryLevel
from zoped.engine.memory import MemoryModel, MemoryParameters
from zoped.engine.placement import StatePrior, fit_state_prior
from zoped.engine.recommend import RecommenderConfig
from zoped.engine.simulation.course import DAY_S, AnswerStep, SimCourse
from zoped.engine.simulation.learners import COHORTS, FAMILIES, HiddenLearners
from zoped.engine.simulation.metrics import BREAKDOWN, RunOutcome, summarise
from zoped.engine.simulation.policies import (
    LinearPolicy,
    OraclePolicy,
    Policy,
    RandomPolicy,
    ZopedPolicy,
)
from zoped.errors import InvalidInput, Problem

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


def tune_linear(
    course: SimCourse, population: HiddenLearners, config: SimulationConfig, seed: int
) -> tuple[IntArray, RunOutcome]:
    """Practice count per competency for the linear curriculum, tuned against the truth.

    Returns:
        the counts and their run on the calibration population (its retention is the floor
        :func:`tune_zoped` holds zoped to).
    """
    g = course.graph
    best: tuple[float, float, IntArray, RunOutcome] | None = None
    for q in TUNING_QUANTILES:
        rng = np.random.default_rng(seed)
        pop = population.copy()
        counts = np.zeros(g.n, dtype=np.int64)
        step = 0
        for c in g.order:
            # Measure on a copy how many items of c each learner needs, then replay for real.
            probe = pop.copy()
            needed = np.full(pop.n_learners, config.max_block, dtype=np.float64)
            probe_rng = np.random.default_rng([seed, int(c)])
            for j in range(config.max_block):
                now = course.time_of(step + j)
                done = probe.truly_mastered(now)[:, c] & (needed == config.max_block)
                needed[done] = j
                items = course.pick_items(np.full(pop.n_learners, c), probe_rng)
                probe.respond(items, now, probe_rng)
            counts[c] = max(1, int(np.ceil(np.quantile(needed, q))))
            for j in range(int(counts[c])):
                items = course.pick_items(np.full(pop.n_learners, c), rng)
                pop.respond(items, course.time_of(step + j), rng)
            step += int(counts[c])
        outcome = run_policy(
            course,
            population.copy(),
            LinearPolicy(course, population.n_learners, counts),
            config.budget,
            np.random.default_rng(seed),
        )
        reached = np.where(np.isnan(outcome.items_to_mastery), np.inf, outcome.items_to_mastery)
        key = (float(np.median(reached)), -float(np.isfinite(reached).mean()), counts, outcome)
        if best is None or key[:2] < best[:2]:
            best = key
    assert best is not None
    return best[2], best[3]


@dataclass(frozen=True)
class ZopedTuning:
    """zoped's move-on parameters chosen on the calibration population, and the grid's scores."""

    mastery: MasteryConfig
    unlock_at: int
    trials: tuple[dict[str, float], ...] = ()

    def summary(self) -> dict[str, float]:
        """The chosen values, for the report."""
        return {
            "unlock_at": float(self.unlock_at),
            "mastered_p": self.mastery.mastered_p,
            "review_retrievability": self.mastery.review_retrievability,
        }


def _calibration_key(outcome: RunOutcome, retention_floor: float) -> tuple[float, float, float]:
    """Sort key: retention at least the floor first, then median items, then mastery rate."""
    scores = outcome.scores()
    median = scores["median_items_to_mastery"]
    short = max(retention_floor - scores["retention"], 0.0)
    return (
        round(short, 3),
        float("inf") if np.isnan(median) else median,
        -scores["mastery_rate"],
    )


def tune_zoped(
    course: SimCourse,
    population: HiddenLearners,
    fitted: FittedModels,
    linear: RunOutcome,
    config: SimulationConfig,
    seed: int,
) -> ZopedTuning:
    """Choose zoped's move-on parameters on the *calibration* population, as linear's counts are.

    A coordinate search: first the unlock level x ``mastered_p`` (review at the configured
    ``review_retrievability``), then ``review_retrievability`` at the best of those. The
    criterion is the smallest median items to full mastery (then the highest mastery rate)
    among settings whose mean retention is at least the tuned linear curriculum's on the same
    population; scored against that population's hidden truth, never the evaluation learners'.
    """
    base = config.mastery
    floor = linear.scores()["retention"]
    trials: list[dict[str, float]] = []

    def trial(unlock: int, mastered_p: float, review: float) -> tuple[float, float, float]:
        mastery = replace(
            base,
            mastered_p=mastered_p,
            proficient_p=min(base.proficient_p, mastered_p - 0.01),
            review_retrievability=review,
        )
        policy = zoped_policy(course, population.n_learners, fitted, config, mastery, unlock)
        outcome = run_policy(
            course, population.copy(), policy, config.budget, np.random.default_rng(seed)
        )
        key = _calibration_key(outcome, floor)
        trials.append(
            {
                "unlock_at": float(unlock),
                "mastered_p": mastered_p,
                "review_retrievability": review,
                **outcome.scores(),
            }
        )
        return key

    results = {
        (u, m): trial(u, m, base.review_retrievability)
        for u in UNLOCK_GRID
        for m in MASTERED_P_GRID
    }
    unlock, mastered_p = min(results, key=lambda k: results[k])
    best_review, best_key = base.review_retrievability, results[(unlock, mastered_p)]
    for review in REVIEW_GRID:
        if review == base.review_retrievability:
            continue
        key = trial(unlock, mastered_p, review)
        if key < best_key:
            best_review, best_key = review, key
    mastery = replace(
        base,
        mastered_p=mastered_p,
        proficient_p=min(base.proficient_p, mastered_p - 0.01),
        review_retrievability=best_review,
    )
    return ZopedTuning(mastery, unlock, tuple(trials))


def zoped_policy(
    course: SimCourse,
    n_learners: int,
    fitted: FittedModels,
    config: SimulationConfig,
    mastery: MasteryConfig,
    unlock_at: int,
    policy_cls: type[ZopedPolicy] = ZopedPolicy,
) -> ZopedPolicy:
    """zoped's policy on the fitted models and the simulation's settings.

    ``policy_cls`` lets a diagnostic subclass (``bench/pathways_value_of_information.py``)
    be built exactly as the benchmark builds zoped.
    """
    return policy_cls(
        course,
        n_learners,
        fitted.bkt,
        fitted.memory_used,
        mastery,
        recommender=config.recommender,
        prior=fitted.prior,
        choice_k=config.choice_k,
        unlock_at=unlock_at,
        refit_days=config.refit_days,
    )


@dataclass
class SeedRun:
    """One family and seed: every policy's outcome, and how the seed was fitted and tuned."""

    family: str
    outcomes: dict[str, RunOutcome]
    placement: tuple[NDArray[np.float64], IntArray] | None
    linear_counts: list[int]
    memory_fit: dict[str, float]
    zoped_tuned: dict[str, float]


# What each generator of one (family, seed) run draws for: the third part of its seed.
CALIBRATION, EVALUATION, POLICY_CHOICES = 1, 2, 3


def seeded_rng(seed: int, f_index: int, role: int) -> np.random.Generator:
    """The generator for one role of the ``f_index``-th family's run on ``seed``."""
    return np.random.default_rng([seed, f_index, role])


def draw_learners(
    course: SimCourse, config: SimulationConfig, family: str, f_index: int, seed: int, role: int
) -> HiddenLearners:
    """The calibration or evaluation learners of ``family`` (seeded as the ``f_index``-th)."""
    return FAMILIES[family](
        course, config.n_learners, seeded_rng(seed, f_index, role), config.cohort
    )


def run_seed(course: SimCourse, config: SimulationConfig, f_index: int, seed: int) -> SeedRun:
    """Fit, tune and compare every policy for the ``f_index``-th family and one seed.

    Every generator is seeded from ``(seed, f_index, role)``, so a run's result does not depend
    on which process runs it or in what order.
    """
    family = config.families[f_index]
    calibration = draw_learners(course, config, family, f_index, seed, CALIBRATION)
    fitted = fit_models(course, calibration.copy(), config, seed)
    memory_fit = asdict(fitted.memory.parameters or fitted.memory_used)
    counts, calibration_linear = tune_linear(course, calibration, config, seed)
    tuning = (
        tune_zoped(course, calibration, fitted, calibration_linear, config, seed)
        if config.tune_zoped
        else ZopedTuning(config.mastery, int(MasteryLevel.PROFICIENT))
    )
    learners = draw_learners(course, config, family, f_index, seed, EVALUATION)
    outcomes: dict[str, RunOutcome] = {}
    placement: tuple[NDArray[np.float64], IntArray] | None = None
    for name in POLICIES:
        pop = learners.copy()
        policy: Policy
        if name == "zoped":
            policy = zoped_policy(
                course, config.n_learners, fitted, config, tuning.mastery, tuning.unlock_at
            )
        elif name == "random":
            # The same models, thresholds and frontier as zoped: only the choice differs.
            policy = RandomPolicy(
                course,
                config.n_learners,
                fitted.bkt,
                fitted.memory_used,
                tuning.mastery,
                tuning.unlock_at,
                config.refit_days,
            )
        elif name == "linear":
            policy = LinearPolicy(course, config.n_learners, counts)
        else:
            policy = OraclePolicy(course, config.n_learners, pop)
        rng = seeded_rng(seed, f_index, POLICY_CHOICES)
        outcomes[name] = run_policy(course, pop, policy, config.budget, rng)
        if isinstance(policy, ZopedPolicy) and policy.placement_agreement is not None:
            placement = (policy.placement_agreement, policy.diagnostic_items.copy())
    return SeedRun(family, outcomes, placement, counts.tolist(), memory_fit, tuning.summary())


def _one_thread() -> None:
    """In a worker process: one numba thread, since the processes already share the cores."""
    numba.set_num_threads(1)


def simulate(course: SimCourse, config: SimulationConfig) -> dict[str, Any]:
    """Compare every policy under every family and seed; returns the JSON-ready report.

    With ``config.jobs > 1`` the (family, seed) runs go to that many worker processes; the
    report is identical to a run in this process.
    """
    tasks = [(f, seed) for f in range(len(config.families)) for seed in config.seeds]
    workers = min(config.jobs, len(tasks))
    runs: list[SeedRun]
    if workers <= 1:
        runs = [run_seed(course, config, f, seed) for f, seed in tasks]
    else:
        # "spawn": a fresh interpreter per worker, never a fork of threads numba has started.
        with ProcessPoolExecutor(
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_one_thread,
        ) as pool:
            runs = list(
                pool.map(
                    partial(run_seed, course, config),
                    [f for f, _ in tasks],
                    [seed for _, seed in tasks],
                )
            )
    outcomes: dict[str, dict[str, list[RunOutcome]]] = {
        p: {f: [] for f in config.families} for p in POLICIES
    }
    placement: dict[str, list[tuple[NDArray[np.float64], IntArray]]] = {
        f: [] for f in config.families
    }
    linear_counts: dict[str, list[list[int]]] = {f: [] for f in config.families}
    memory_fits: dict[str, list[dict[str, float]]] = {f: [] for f in config.families}
    zoped_tuned: dict[str, list[dict[str, float]]] = {f: [] for f in config.families}
    for run in runs:
        for name, outcome in run.outcomes.items():
            outcomes[name][run.family].append(outcome)
        if run.placement is not None:
            placement[run.family].append(run.placement)
        linear_counts[run.family].append(run.linear_counts)
        memory_fits[run.family].append(run.memory_fit)
        zoped_tuned[run.family].append(run.zoped_tuned)
    report = summarise(outcomes, placement, config.budget)
    report["settings"] = {
        "learners": config.n_learners,
        "budget": config.budget,
        "seeds": list(config.seeds),
        "families": list(config.families),
        "cohort": config.cohort,
        "competencies": course.graph.n,
        "items": len(course.item_ids),
        "linear_counts": linear_counts,
        "memory_fits": memory_fits,
        "zoped_tuned": zoped_tuned,
        "tune_zoped": config.tune_zoped,
        "mastery": asdict(config.mastery),
        "choice_k": config.choice_k,
        "refit_days": config.refit_days,
        "recommender": asdict(config.recommender),
    }
    return report


def simulate_families(
    course: SimCourse,
    *,
    n_learners: int,
    budget: int,
    seeds: Sequence[int],
    families: Sequence[str] = ("strength", "stage"),
) -> dict[str, Any]:
    """Convenience wrapper over :func:`simulate` with plain arguments."""
    config = SimulationConfig(
        n_learners=n_learners, budget=budget, seeds=tuple(seeds), families=tuple(families)
    )
    return simulate(course, config)
