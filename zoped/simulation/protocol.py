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

Scores come from the hidden truth only (see :mod:`zoped.simulation.metrics`).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, replace
from functools import partial
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from zoped.engine.mastery import MasteryConfig, MasteryLevel
from zoped.simulation.course import SimCourse
from zoped.simulation.learners import FAMILIES, HiddenLearners
from zoped.simulation.metrics import RunOutcome, summarise
from zoped.simulation.policies import (
    LinearPolicy,
    OraclePolicy,
    Policy,
    RandomPolicy,
    ZopedPolicy,
)
from zoped.simulation.runner import (
    MASTERED_P_GRID,
    POLICIES,
    REVIEW_GRID,
    TUNING_QUANTILES,
    UNLOCK_GRID,
    FittedModels,
    IntArray,
    SimulationConfig,
    fit_models,
    run_policy,
)


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
