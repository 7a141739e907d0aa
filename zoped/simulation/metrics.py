"""Scores against the hidden truth, aggregated over seeds with 95 % confidence intervals.

Per run (one policy, family and seed):

``median_items_to_mastery``  median over learners of the items (diagnostic included) used when
                             every competency was first truly mastered at once; learners who
                             never got there count as infinite, so the median is null when
                             half of them never did.
``median_items_to_coverage`` the same for *coverage*: every competency truly mastered at least
                             once, not necessarily at the same time (what was forgotten since
                             counts in ``retention``). Never later than full mastery.
``mastery_rate``             share of learners who got there within the budget.
``retention``                mean true recall (P(solving a typical item)) at the end.
``delayed_retention``        the same, 30 days later without practice.
``over_practice``            share of practice items on a competency already truly mastered.
``premature_advancement``    share of practice items on a competency with a prerequisite not
                             truly mastered.
``items_breakdown``          where the practice items go *until* full mastery (or the end of the
                             budget), mean items per learner: ``learning`` (not yet truly
                             mastered, prerequisites truly mastered), ``relearning`` (a review
                             the learner needed: truly forgotten), ``premature`` (a prerequisite
                             not truly mastered), ``over_practice`` (truly mastered, not a
                             review), ``redundant_review`` (a review of something still truly
                             mastered). ``over_practice`` above counts every item of the budget,
                             including those after full mastery, so it says little alone.

Across runs: the mean and a Student-t 95 % interval over seeds (families reported apart and
pooled). ``savings_vs_linear`` is zoped's ``1 - median / linear's median`` per run; where
linear's median lies beyond the budget the saving is undefined, and ``lower_bound`` gives
what is still known: :func:`saving_lower_bound` per run. ``savings_vs_linear["coverage"]``
is the same for the items to coverage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
METRICS = (
    "median_items_to_mastery",
    "median_items_to_coverage",
    "mastery_rate",
    "retention",
    "delayed_retention",
    "over_practice",
    "premature_advancement",
)
BREAKDOWN = ("learning", "relearning", "premature", "over_practice", "redundant_review")


@dataclass(frozen=True)
class RunOutcome:
    """Per-learner results of one policy on one population."""

    items_to_mastery: FloatArray
    items_to_coverage: FloatArray
    over_practice: FloatArray
    premature: FloatArray
    retention: FloatArray
    delayed_retention: FloatArray
    diagnostic_items: IntArray
    breakdown: IntArray | None = None

    def item_breakdown(self) -> dict[str, float]:
        """Mean items per learner in each :data:`BREAKDOWN` category until full mastery."""
        if self.breakdown is None:
            return {}
        means = self.breakdown.mean(axis=0)
        return {name: float(means[j]) for j, name in enumerate(BREAKDOWN)}

    def scores(self) -> dict[str, float]:
        """The run's metrics (``nan`` for a median that was never reached)."""
        reached = np.where(np.isnan(self.items_to_mastery), np.inf, self.items_to_mastery)
        return {
            "median_items_to_mastery": _median_reached(self.items_to_mastery),
            "median_items_to_coverage": _median_reached(self.items_to_coverage),
            "mastery_rate": float(np.isfinite(reached).mean()),
            "retention": float(self.retention.mean()),
            "delayed_retention": float(self.delayed_retention.mean()),
            "over_practice": float(self.over_practice.mean()),
            "premature_advancement": float(self.premature.mean()),
        }


def _median_reached(items: FloatArray) -> float:
    """Median over learners, those who never got there (nan) counting as infinite."""
    median = float(np.median(np.where(np.isnan(items), np.inf, items)))
    return median if math.isfinite(median) else math.nan


def mean_ci(values: list[float]) -> tuple[float | None, list[float | None]]:
    """Mean and Student-t 95 % interval; None where any value is missing (nan)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or np.isnan(arr).any():
        return None, [None, None]
    mean = float(arr.mean())
    if arr.size < 2:
        return round(mean, 4), [None, None]
    half = float(stats.t.ppf(0.975, arr.size - 1) * arr.std(ddof=1) / math.sqrt(arr.size))
    return round(mean, 4), [round(mean - half, 4), round(mean + half, 4)]


def saving_lower_bound(zoped_median: float, linear_median: float, budget: int) -> float:
    """zoped's saving where linear's median may lie beyond the budget (censored).

    A median that was never reached is more than ``budget``, so with zoped's median reached
    ``1 - zoped / budget`` is a lower bound on the saving; with both reached it is the saving
    itself. Where zoped's median was not reached the saving is unknown (nan).
    """
    if math.isnan(zoped_median):
        return math.nan
    reference = budget if math.isnan(linear_median) else linear_median
    return 1.0 - zoped_median / reference if reference > 0 else math.nan


def _block(runs: list[dict[str, float]], names: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    ci: dict[str, list[float | None]] = {}
    for name in names:
        out[name], ci[name] = mean_ci([r[name] for r in runs])
    out["ci95"] = ci
    out["runs"] = len(runs)
    return out


def _savings(
    outcomes: dict[str, dict[str, list[RunOutcome]]], metric: str, budget: int
) -> dict[str, Any]:
    """zoped's saving against linear on one median, pooled and by family, with its lower bound."""
    per_run: list[float] = []
    per_run_bound: list[float] = []
    saved_by_family: dict[str, Any] = {}
    bound_by_family: dict[str, Any] = {}
    for family, zoped_runs in outcomes["zoped"].items():
        fam: list[float] = []
        fam_bound: list[float] = []
        for z, lin in zip(zoped_runs, outcomes["linear"][family], strict=True):
            zm = z.scores()[metric]
            lm = lin.scores()[metric]
            fam.append(1.0 - zm / lm if lm > 0 else math.nan)
            fam_bound.append(saving_lower_bound(zm, lm, budget))
        per_run += fam
        per_run_bound += fam_bound
        mean, ci = mean_ci(fam)
        saved_by_family[family] = {"mean": mean, "ci95": ci}
        mean, ci = mean_ci(fam_bound)
        bound_by_family[family] = {"mean": mean, "ci95": ci}
    mean, ci = mean_ci(per_run)
    bound, bound_ci = mean_ci(per_run_bound)
    return {
        "mean": mean,
        "ci95": ci,
        "by_family": saved_by_family,
        "lower_bound": {"mean": bound, "ci95": bound_ci, "by_family": bound_by_family},
    }


def summarise(
    outcomes: dict[str, dict[str, list[RunOutcome]]],
    placement: dict[str, list[tuple[FloatArray, IntArray]]],
    budget: int,
) -> dict[str, Any]:
    """The report: every policy pooled and by family, savings against linear, placement."""
    policies: dict[str, Any] = {}
    for name, by_family in outcomes.items():
        pooled: list[dict[str, float]] = []
        fams: dict[str, Any] = {}
        for family, runs in by_family.items():
            scores = [r.scores() for r in runs]
            pooled += scores
            fams[family] = _block(scores, METRICS)
        policies[name] = {**_block(pooled, METRICS), "by_family": fams}
        runs_all = [r for runs in by_family.values() for r in runs]
        parts = [r.item_breakdown() for r in runs_all if r.breakdown is not None]
        if parts:
            policies[name]["items_breakdown"] = _block(parts, BREAKDOWN)
            for family, runs in by_family.items():
                fam_parts = [r.item_breakdown() for r in runs if r.breakdown is not None]
                fams[family]["items_breakdown"] = _block(fam_parts, BREAKDOWN)
    savings: dict[str, Any] = {}
    if "zoped" in outcomes and "linear" in outcomes:
        savings = {
            **_savings(outcomes, "median_items_to_mastery", budget),
            "coverage": _savings(outcomes, "median_items_to_coverage", budget),
        }
    place_runs: list[dict[str, float]] = []
    place_fams: dict[str, Any] = {}
    for family, placed in placement.items():
        place_scores = [
            {"median_questions": float(np.median(q)), "accuracy": float(a.mean())}
            for a, q in placed
        ]
        place_runs += place_scores
        place_fams[family] = _block(place_scores, ("median_questions", "accuracy"))
    return {
        "policies": policies,
        "savings_vs_linear": savings,
        "placement": {
            **_block(place_runs, ("median_questions", "accuracy")),
            "by_family": place_fams,
        },
        "budget": budget,
    }
