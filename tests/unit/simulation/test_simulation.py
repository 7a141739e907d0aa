"""The simulator: hidden families differ from zoped's model, and a fixed-seed regression."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from zoped.domain.content import Item, ItemType
from zoped.domain.framework import Competency
from zoped.errors import InvalidInput
from zoped.simulation import FAMILIES, SimCourse, SimulationConfig, simulate
from zoped.simulation.metrics import saving_lower_bound
from zoped.simulation.policies import REFIT_MIN_ANSWERS, OraclePolicy, RandomPolicy
from zoped.simulation.runner import fit_models, run_policy


def small_course(n: int = 4) -> SimCourse:
    comps = [
        Competency(f"c{i}", f"C{i}", prerequisites=(f"c{i - 1}",) if i else ()) for i in range(n)
    ]
    items = [
        Item(f"q{i}-{k}", ItemType.NUMERIC, "x", (f"c{i}",), answer=1.0, difficulty=0.3 * k)
        for i in range(n)
        for k in range(3)
    ]
    items.append(Item("mix", ItemType.NUMERIC, "x", ("c1", "c0"), answer=1.0))
    return SimCourse.build(comps, items)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_practice_raises_true_knowledge(family: str) -> None:
    course = small_course()
    pop = FAMILIES[family](course, 300, np.random.default_rng(0))
    before = pop.true_p(0.0)[:, 0].mean()
    for step in range(15):
        pop.respond(
            course.pick_items(np.zeros(300, dtype=np.int64), np.random.default_rng(step)),
            course.time_of(step),
            np.random.default_rng(100 + step),
        )
    assert pop.true_p(course.time_of(15))[:, 0].mean() > before + 0.1


def test_multi_skill_item_practises_its_prerequisites() -> None:
    course = small_course()
    assert course.item_skills[course.item_ids.index("mix")].sum() == 2
    assert course.item_ids.index("mix") in course.practice_items[1]
    assert course.item_ids.index("mix") not in course.practice_items[0]


def test_config_validation() -> None:
    with pytest.raises(InvalidInput) as err:
        SimulationConfig(n_learners=1, budget=0, families=("nope",), cohort="adults")
    assert [p.location for p in err.value.problems] == ["learners", "budget", "families", "cohort"]


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_cohorts_differ_in_prior_knowledge_and_stay_prerequisite_closed(family: str) -> None:
    course = small_course(8)
    known = {}
    for cohort in ("mixed", "new"):
        pop = FAMILIES[family](course, 2000, np.random.default_rng(0), cohort)
        k = pop.initially_known
        pre = course.graph.prereq
        # Nobody knows a competency without knowing all it needs.
        assert not (k[:, :, None] & pre[None] & ~k[:, None, :]).any()
        known[cohort] = k.mean(axis=1)
    # A mixed class knows more of the course on average, and differs more from one learner to
    # the next: that is what placement is for.
    assert known["mixed"].mean() > known["new"].mean() + 0.1
    assert known["mixed"].std() > known["new"].std()
    with pytest.raises(ValueError, match="cohort"):
        FAMILIES[family](course, 5, np.random.default_rng(0), "adults")


def test_fixed_seed_regression() -> None:
    config = SimulationConfig(
        n_learners=30, budget=50, seeds=(0,), families=("strength", "stage"), memory_max_iter=3
    )
    report = simulate(small_course(), config)
    again = simulate(small_course(), config)
    assert report == again  # deterministic for a seed
    savings = report["savings_vs_linear"]
    bound = savings["lower_bound"]
    # Where every saving is known, the bound is the saving.
    if savings["mean"] is not None:
        assert bound["mean"] == pytest.approx(savings["mean"])
    assert set(savings["coverage"]) >= {"mean", "ci95", "by_family", "lower_bound"}
    pol = report["policies"]
    assert set(pol) == {"zoped", "linear", "random", "oracle"}
    for block in pol.values():
        assert 0.0 <= block["mastery_rate"] <= 1.0
        assert 0.0 <= block["retention"] <= 1.0
        full, cover = block["median_items_to_mastery"], block["median_items_to_coverage"]
        if full is not None:
            assert cover is not None
            assert cover <= full
    # The oracle is the upper bound on reaching mastery; nobody beats it by much.
    assert pol["oracle"]["mastery_rate"] >= max(b["mastery_rate"] for b in pol.values()) - 0.1
    assert pol["oracle"]["premature_advancement"] == 0.0
    assert report["placement"]["accuracy"] > 0.7
    # Where the items go until full mastery: the oracle never practises prematurely, and the
    # move-on parameters were tuned once per family and seed on the calibration population.
    assert set(pol["zoped"]["items_breakdown"]) >= {"learning", "premature", "over_practice"}
    assert pol["oracle"]["items_breakdown"]["premature"] == 0.0
    tuned = report["settings"]["zoped_tuned"]
    assert {f: len(v) for f, v in tuned.items()} == {"strength": 1, "stage": 1}
    assert all(t["unlock_at"] in (3.0, 4.0) for v in tuned.values() for t in v)


def test_worker_processes_give_the_same_report() -> None:
    """Each (family, seed) run draws from its own seeded generators: processes change nothing."""
    config = SimulationConfig(
        n_learners=12,
        budget=30,
        seeds=(0, 1),
        families=("strength", "stage"),
        memory_max_iter=3,
        tune_zoped=False,
    )
    alone = simulate(small_course(), config)
    pooled = simulate(small_course(), replace(config, jobs=2))
    assert pooled == alone
    # Every seed of every family came back (and, by the equality above, in the same order).
    assert {f: len(v) for f, v in pooled["settings"]["memory_fits"].items()} == {
        "strength": 2,
        "stage": 2,
    }
    with pytest.raises(InvalidInput, match="simulation settings") as caught:
        replace(config, jobs=0)
    assert any(p.location == "jobs" for p in caught.value.problems)


def test_untuned_zoped_uses_the_platform_defaults() -> None:
    config = SimulationConfig(
        n_learners=20,
        budget=30,
        seeds=(0,),
        families=("stage",),
        memory_max_iter=3,
        tune_zoped=False,
    )
    report = simulate(small_course(), config)
    assert report["settings"]["zoped_tuned"]["stage"] == [
        {"unlock_at": 3.0, "mastered_p": 0.95, "review_retrievability": 0.8}
    ]


def test_fitted_memory_is_plausible_in_days_without_a_clamp() -> None:
    """The simulator uses the MAP fit as is; its dynamics must be day-scale (docs/memory.md)."""
    course = small_course(6)
    pop = FAMILIES["stage"](course, 40, np.random.default_rng(0))
    fitted = fit_models(course, pop, SimulationConfig(n_learners=40, budget=200, seeds=(0,)), 0)
    p = fitted.memory_used
    assert p == fitted.memory.parameters
    assert p.s0_success_days >= 1.0 / 24.0 - 1e-9
    assert 0.1 - 1e-9 <= p.spacing <= 5.0 + 1e-9
    assert 0.1 - 1e-9 <= p.growth <= 20.0 + 1e-9


def test_zoped_refits_its_knowledge_model_on_its_own_learners_answers() -> None:
    course = small_course(4)
    pop = FAMILIES["strength"](course, 30, np.random.default_rng(0))
    config = SimulationConfig(n_learners=30, budget=60, seeds=(0,), memory_max_iter=3)
    fitted = fit_models(course, pop.copy(), config, 0)
    calibrated = np.asarray(fitted.bkt.params.learn)

    def run(refit_days: int) -> RandomPolicy:
        policy = RandomPolicy(course, 30, fitted.bkt, fitted.memory_used, refit_days=refit_days)
        run_policy(course, pop.copy(), policy, 30, np.random.default_rng(1))
        return policy

    kept, refitted = run(0), run(1)
    assert kept.answers == []
    assert kept.refits == 0
    np.testing.assert_array_equal(kept.learn, calibrated)
    # 30 items = two school days of 15: one refit, at the start of day 1, on day 0's answers.
    assert refitted.refits == 1
    assert sum(step[0].size for step in refitted.answers) == 30 * 30
    first_day = course.interaction_log(30, refitted.answers[:15])
    counts = np.bincount(first_day.skill_idx, minlength=course.graph.n)
    changed = refitted.learn != calibrated
    # Only a competency with enough answers takes refitted parameters; the chain's deep end
    # keeps the calibration fit.
    enough = counts >= REFIT_MIN_ANSWERS
    assert enough.any()
    assert not enough.all()
    np.testing.assert_array_equal(changed, enough)


def test_refit_days_must_not_be_negative() -> None:
    with pytest.raises(InvalidInput) as err:
        SimulationConfig(refit_days=-1)
    assert [p.location for p in err.value.problems] == ["refit_days"]


def test_saving_lower_bound_when_linear_never_gets_there() -> None:
    # Both reached: the saving itself.
    assert saving_lower_bound(300.0, 400.0, 1000) == pytest.approx(0.25)
    # Linear's median beyond the budget: at least 1 - zoped / budget.
    assert saving_lower_bound(600.0, float("nan"), 1000) == pytest.approx(0.4)
    # zoped's median beyond the budget: nothing is known.
    assert np.isnan(saving_lower_bound(float("nan"), 400.0, 1000))
    assert np.isnan(saving_lower_bound(float("nan"), float("nan"), 1000))


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_coverage_comes_no_later_than_full_mastery(family: str) -> None:
    course = small_course(4)
    pop = FAMILIES[family](course, 40, np.random.default_rng(2))
    # The oracle gets most learners to full mastery, so the comparison has cases.
    outcome = run_policy(course, pop, OraclePolicy(course, 40, pop), 80, np.random.default_rng(3))
    full, cover = outcome.items_to_mastery, outcome.items_to_coverage
    assert np.isfinite(full).any()
    # Whoever had every competency mastered at once had each mastered at least once by then.
    assert np.all(np.isfinite(cover[np.isfinite(full)]))
    assert np.all(cover[np.isfinite(full)] <= full[np.isfinite(full)])
    scores = outcome.scores()
    assert scores["median_items_to_coverage"] <= scores["median_items_to_mastery"]
