"""What would zoped's pathway gain from knowing a piece of the hidden truth? (issue 4)

The pathways benchmark leaves zoped's saving against the tuned linear curriculum a few points
short of 30 %, with the oracle far ahead. This script asks *which* hidden knowledge the oracle's
edge is made of, by giving zoped's own policy (same models, thresholds, refits and scoring) one
piece of the truth at a time and measuring the saving again on the same learners:

``zoped``                   answers only: the benchmark's policy.
``knows_fading``            a competency zoped holds as mastered becomes *review due* exactly
                            when it truly falls below the mastery line (and not before): the
                            memory model's retrievability replaced by the truth.
``knows_fading_learning``   the same, only while zoped still has competencies to learn.
``knows_fading_endgame``    the same, only once zoped holds every competency as mastered.
``no_false_alarms``         review due when the memory model says so *and* it has truly faded
                            (the model's redundant reviews removed, its late ones kept).
``no_missed_fading``        review due when the memory model says so *or* it has truly faded
                            (fading caught at once, the model's redundant reviews kept).
``knows_false_mastery``     review due at once when a competency zoped holds as mastered has
                            not truly been mastered at any moment since zoped declared it
                            (mastery called too early); everything else as the memory model
                            says.
``knows_true_fading``       review due exactly when a held competency that *was* truly
                            mastered since its declaration falls below the line (fading
                            proper); everything else as the memory model says.
``knows_forgetting_rate``   the memory model's clock scaled by each learner's true forgetting
                            speed (strength: memory scale / decay; stage: the decay time).
``oracle``                  the simulator's oracle (reads the hidden state for every choice).

None of these is deployable: they read the hidden learners, which only the runner and the
oracle may do in ``zoped simulate``. zoped's move-on values are fixed here (``--mastered-p``,
``--review``; unlock at proficient), not tuned, so every variant runs with the same settings.

Usage:
    python bench/pathways_value_of_information.py [--framework FILE] [--family strength]
        [--learners 100] [--seeds 5] [--cohort mixed] [--mastered-p 0.95] [--review 0.7]
        [--variants zoped,knows_fading,...]

Prints a markdown table: saving vs tuned linear (mean and 95 % interval over seeds), median
items, retention and where the items went until full mastery. Results and commands are kept in
``bench/results/pathways.md``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from numpy.typing import NDArray
from pathways_setup import Setup, add_arguments

from zoped.engine.mastery import MasteryLevel
from zoped.engine.memory import MIN_STABILITY_DAYS
from zoped.simulation import protocol, runner
from zoped.simulation.course import DAY_S
from zoped.simulation.learners import (
    MASTERY_P,
    HiddenLearners,
    StageLearners,
    StrengthLearners,
)
from zoped.simulation.metrics import BREAKDOWN, RunOutcome, mean_ci, saving_lower_bound
from zoped.simulation.policies import LinearPolicy, OraclePolicy, Policy, ZopedPolicy

FloatArray = NDArray[np.float64]
# The variants that tell KnowsFading something, and what (its ``phase``).
FADING_PHASES = {
    "knows_fading": "all",
    "knows_fading_learning": "learning",
    "knows_fading_endgame": "endgame",
    "no_false_alarms": "and",
    "no_missed_fading": "or",
    "knows_false_mastery": "false_mastery",
    "knows_true_fading": "true_fading",
}
VARIANTS = ("zoped", *FADING_PHASES, "knows_forgetting_rate", "oracle")


class KnowsFading(ZopedPolicy):
    """zoped, but review due exactly when a held-as-mastered competency truly fades."""

    population: HiddenLearners
    phase = "all"
    # Per cell: held as mastered, and truly mastered at some moment since it was declared.
    _held: NDArray[np.bool_] | None = None
    _was_true: NDArray[np.bool_] | None = None

    def _refresh(self, now_s: float) -> None:
        faded = self.population.true_p(now_s) < MASTERY_P
        told = np.where(faded, 0.0, 1.0)
        modelled = self.retrievability(now_s)
        if self.phase in ("false_mastery", "true_fading"):
            held = self.tracker.mastered
            declared = held if self._held is None else held & ~self._held
            was_true = ~faded if self._was_true is None else self._was_true | ~faded
            was_true = np.where(declared, ~faded, was_true)
            self._held, self._was_true = held.copy(), was_true
            # A refresh can change what is held (a new mastery): the next one sees it.
            told_cells = ~was_true if self.phase == "false_mastery" else was_true
            self.recall = np.where(held, np.where(told_cells, told, modelled), 1.0)
            self.level = self.tracker.levels(self.recall)
            return
        if self.phase in ("and", "or"):
            # Below the review point means due: combine the model's verdict with the truth.
            review_at = self.tracker.config.review_retrievability
            model_due = modelled < review_at
            due = model_due & faded if self.phase == "and" else model_due | faded
            # Cells not due keep the model's recall (at least the review point), so the
            # fallback review, the lowest recall, still ranks them as the model does.
            kept = np.maximum(modelled, review_at)
            self.recall = np.where(self.tracker.mastered, np.where(due, 0.0, kept), 1.0)
            self.level = self.tracker.levels(self.recall)
            return
        endgame = np.broadcast_to(self.tracker.mastered.all(axis=1, keepdims=True), faded.shape)
        use = {"all": np.ones_like(faded), "learning": ~endgame, "endgame": endgame}[self.phase]
        self.recall = np.where(self.tracker.mastered, np.where(use, told, modelled), 1.0)
        self.level = self.tracker.levels(self.recall)


class KnowsForgettingRate(ZopedPolicy):
    """zoped, with the memory model's clock scaled by each learner's true forgetting speed."""

    slowness: FloatArray

    def tell(self, population: HiddenLearners) -> None:
        """Read each learner's forgetting speed (geometric mean 1 over the population)."""
        if isinstance(population, StrengthLearners):
            # Time to fall below the line grows with the memory scale, shrinks with the decay.
            slowness = population.memory_scale / population.decay
        elif isinstance(population, StageLearners):
            slowness = population.tau_days
        else:
            raise TypeError(f"no forgetting rate for {type(population).__name__}")
        self.slowness = slowness / np.exp(np.log(slowness).mean())

    def retrievability(self, now_s: float) -> FloatArray:
        dt_days = np.maximum(now_s - self.last_review, 0.0) / DAY_S
        s = np.maximum(self.stability, MIN_STABILITY_DAYS) * self.slowness[:, None]
        out: FloatArray = np.where(self.seen, 1.0 / (1.0 + dt_days / (9.0 * s)), 0.0)
        return out


def _median(outcome: RunOutcome) -> float:
    """Median items to full mastery; nan where half the learners never got there."""
    return outcome.scores()["median_items_to_mastery"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser, learners=100, seeds=5)
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated subset of the variants"
    )
    args = parser.parse_args()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    setup = Setup.from_args(args)
    course, sim, config, mastery = setup.course, setup.sim, setup.config, setup.mastery
    rows: dict[str, list[tuple[float, float, float, FloatArray]]] = {v: [] for v in variants}
    linear_medians: list[float] = []
    started = time.perf_counter()
    for seed in config.seeds:
        calibration = setup.population(seed, protocol.CALIBRATION)
        fitted = runner.fit_models(sim, calibration.copy(), config, seed)
        counts, _ = protocol.tune_linear(sim, calibration, config, seed)
        population = setup.population(seed, protocol.EVALUATION)
        linear = runner.run_policy(
            sim,
            population.copy(),
            LinearPolicy(sim, args.learners, counts),
            config.budget,
            setup.policy_rng(seed),
        )

        def build(
            policy_cls: type[ZopedPolicy], fitted: runner.FittedModels = fitted
        ) -> ZopedPolicy:
            return protocol.zoped_policy(
                sim, args.learners, fitted, config, mastery, MasteryLevel.PROFICIENT, policy_cls
            )

        for variant in variants:
            pop = population.copy()
            policy: Policy
            if variant == "zoped":
                policy = build(ZopedPolicy)
            elif variant in FADING_PHASES:
                fading = build(KnowsFading)
                assert isinstance(fading, KnowsFading)
                fading.population = pop
                fading.phase = FADING_PHASES[variant]
                policy = fading
            elif variant == "knows_forgetting_rate":
                rate = build(KnowsForgettingRate)
                assert isinstance(rate, KnowsForgettingRate)
                rate.tell(pop)
                policy = rate
            else:
                policy = OraclePolicy(sim, args.learners, pop)
            outcome = runner.run_policy(sim, pop, policy, config.budget, setup.policy_rng(seed))
            rows[variant].append(
                (
                    saving_lower_bound(_median(outcome), _median(linear), config.budget),
                    _median(outcome),
                    float(outcome.retention.mean()),
                    np.array([outcome.item_breakdown()[b] for b in BREAKDOWN]),
                )
            )
        linear_retention = float(linear.retention.mean())
        linear_medians.append(_median(linear))
        print(
            f"seed {seed}: linear {_median(linear):.0f} items, retention {linear_retention:.3f}"
            f" ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    # Where linear never got half its learners to full mastery the saving is a lower bound.
    prefix = ">= " if any(np.isnan(m) for m in linear_medians) else ""
    print(
        f"\n{course.id}, family `{args.family}`, cohort `{args.cohort}`, "
        f"{args.learners} learners x {args.seeds} seeds, mastered_p {args.mastered_p}, "
        f"review {args.review}, refit every {config.refit_days} days\n"
    )
    print(
        "| variant | saving vs tuned linear | median items | retention | "
        + " | ".join(BREAKDOWN)
        + " |"
    )
    print("|---" * (4 + len(BREAKDOWN)) + "|")
    for variant in variants:
        runs = rows[variant]
        saving, (low, high) = mean_ci([r[0] for r in runs])
        shown = "-" if saving is None else f"{prefix}{saving:.3f}"
        if low is not None and high is not None:
            shown += f" [{low:.3f}, {high:.3f}]"
        items, _ = mean_ci([r[1] for r in runs])
        retention = np.mean([r[2] for r in runs])
        breakdown = np.mean(np.array([r[3] for r in runs]), axis=0)
        cells = " | ".join(f"{b:.0f}" for b in breakdown)
        print(
            f"| {variant} | {shown} | {'-' if items is None else f'{items:.0f}'} | "
            f"{retention:.3f} | {cells} |"
        )
    if prefix:
        print(
            "\n>= : linear's median lies beyond the budget on some seed; there the saving is "
            "the lower bound 1 - items / budget."
        )


if __name__ == "__main__":
    main()
