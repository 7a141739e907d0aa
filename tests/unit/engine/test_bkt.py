"""Unit tests for zoped.engine.bkt: the filter's maths, multi-skill rows, errors, persistence."""

from __future__ import annotations

import doctest
import json
from collections.abc import Sequence
from pathlib import Path

import numba
import numpy as np
import pytest

import zoped.engine.bkt as bkt_module
from zoped.engine.base import Interaction, InteractionLog, LearnerModel
from zoped.engine.bkt import BKT, BKTParams, BKTState
from zoped.engine.bkt_simulate import simulate
from zoped.errors import InvalidInput, NotFitted


def make_log(
    rows: Sequence[tuple[int, tuple[int, ...], int]], skill_ids: list[str]
) -> InteractionLog:
    """A log from (learner, skills, correct) rows, already in (learner, time) order."""
    n = len(rows)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([len(r[1]) for r in rows], out=ptr[1:])
    learners = np.array([r[0] for r in rows], dtype=np.int64)
    return InteractionLog(
        learner=learners,
        item=np.full(n, -1, dtype=np.int64),
        skill_ptr=ptr,
        skill_idx=np.array([k for r in rows for k in r[1]], dtype=np.int64),
        correct=np.array([r[2] for r in rows], dtype=np.int8),
        order=np.arange(n, dtype=np.float64),
        learner_ids=np.arange(int(learners.max()) + 1 if n else 0),
        skill_ids=np.array(skill_ids),
        item_ids=np.array([], dtype=np.int64),
    )


ONE_SKILL = BKTParams.from_values(prior=[0.2], learn=[0.1], guess=[0.2], slip=[0.1])


def test_follows_the_learner_model_protocol():
    assert isinstance(BKT(), LearnerModel)
    assert BKT.name == "bkt"


def test_forward_filter_matches_hand_computed_sequence():
    # Worked by hand: P(c) = p(1-s) + (1-p)g; posterior by Bayes; then p' = post + (1-post)l.
    # Step 1: 0.2*0.9 + 0.8*0.2 = 0.34; post = 0.18/0.34 = 0.52941; p' = 0.57647.
    # Step 2 (after a correct answer): 0.57647*0.9 + 0.42353*0.2 = 0.60353; wrong answer:
    # post = 0.057647/0.396471 = 0.14540; p' = 0.23086. Step 3: 0.36160, then 0.63199.
    model = BKT.from_params(ONE_SKILL, np.array(["a"]))
    log = make_log([(0, (0,), 1), (0, (0,), 0), (0, (0,), 1), (0, (0,), 1)], ["a"])
    expected = [0.34, 0.6035294118, 0.3616023739, 0.6319940916]
    np.testing.assert_allclose(model.predict_proba(log), expected, atol=1e-9)
    np.testing.assert_allclose(model.knowledge_states(log), [[0.8909549853]], atol=1e-9)


def test_new_learner_starts_again_from_the_prior():
    model = BKT.from_params(ONE_SKILL, np.array(["a"]))
    log = make_log([(0, (0,), 1), (0, (0,), 1), (1, (0,), 0)], ["a"])
    assert model.predict_proba(log)[2] == pytest.approx(0.34)


def test_multi_skill_row_updates_every_skill_and_can_be_mastered():
    params = BKTParams.from_values(
        prior=[0.1, 0.3], learn=[0.1, 0.2], guess=[0.2, 0.25], slip=[0.1, 0.05]
    )
    model = BKT.from_params(params, np.array(["add", "carry"]), combine="product")
    state = model.new_state()
    both = Interaction(skills=(0, 1), correct=True)
    first = model.predict_one(state, both)
    # Product rule: both skills are needed for the item.
    assert first == pytest.approx((0.1 * 0.9 + 0.9 * 0.2) * (0.3 * 0.95 + 0.7 * 0.25))
    before = model.p_known(state)
    model.update(state, both)
    after = model.p_known(state)
    assert after["add"] > before["add"]
    assert after["carry"] > before["carry"]
    for _ in range(10):
        model.update(state, both)
    assert min(model.p_known(state).values()) > 0.95
    assert model.predict_one(state, both) > 0.8


def test_mean_combination_is_the_average_of_the_skills():
    params = BKTParams.from_values(
        prior=[0.1, 0.3], learn=[0.1, 0.2], guess=[0.2, 0.25], slip=[0.1, 0.05]
    )
    model = BKT.from_params(params, np.array(["a", "b"]))  # mean is the default
    p = model.predict_one(model.new_state(), Interaction(skills=(0, 1), correct=True))
    assert p == pytest.approx(((0.1 * 0.9 + 0.9 * 0.2) + (0.3 * 0.95 + 0.7 * 0.25)) / 2)


def test_fit_gives_multi_skill_rows_to_each_skill():
    rng = np.random.default_rng(0)
    rows = []
    for learner in range(300):
        known = False
        for _ in range(8):
            known = known or rng.random() < 0.3
            rows.append((learner, (0, 1), int(rng.random() < (0.9 if known else 0.2))))
    log = make_log(rows, ["x", "y"])
    model = BKT(n_restarts=2).fit(log)
    # Both skills saw the same answers, so they get the same parameters and answer counts.
    assert model.fit_report is not None
    assert model.fit_report.n_obs.tolist() == [2400, 2400]
    np.testing.assert_allclose(model.params.as_matrix()[0], model.params.as_matrix()[1], atol=0.05)


def test_fit_recovers_parameters_of_one_simulated_skill_set():
    true = BKTParams.from_values(
        prior=[0.3, 0.1], learn=[0.15, 0.05], guess=[0.2, 0.1], slip=[0.1, 0.15]
    )
    log = simulate(true, 3000, 12, np.random.default_rng(7))
    fitted = BKT(n_restarts=3, seed=1).fit(log).params
    for name in ("learn", "guess", "slip"):
        np.testing.assert_allclose(getattr(fitted, name), getattr(true, name), atol=0.03)
    np.testing.assert_allclose(fitted.prior, true.prior, atol=0.06)
    assert np.all(fitted.forget == 0.0)


def test_fit_with_forgetting_finds_forgetting():
    true = BKTParams.from_values(prior=[0.5], learn=[0.2], guess=[0.15], slip=[0.1], forget=[0.1])
    log = simulate(true, 3000, 15, np.random.default_rng(3))
    fitted = BKT(forgetting=True, seed=2).fit(log).params
    assert fitted.forget[0] == pytest.approx(0.1, abs=0.04)
    assert BKT(seed=2).fit(log).params.forget[0] == 0.0


def test_guess_and_slip_stay_within_their_caps():
    # Everyone answers right half the time whatever they know: EM would like guess = 0.5.
    rng = np.random.default_rng(4)
    rows = [(lrn, (0,), int(rng.random() < 0.5)) for lrn in range(200) for _ in range(10)]
    fitted = BKT(max_guess=0.3, max_slip=0.3).fit(make_log(rows, ["a"])).params
    assert fitted.guess[0] <= 0.3
    assert fitted.slip[0] <= 0.3


def test_knowing_always_makes_a_correct_answer_likelier_by_min_gap():
    # Answers are coin flips whatever the learner knows: EM would like guess + slip = 1.
    rng = np.random.default_rng(4)
    rows = [(lrn, (0,), int(rng.random() < 0.5)) for lrn in range(200) for _ in range(10)]
    for min_gap in (0.05, 0.3):
        fitted = BKT(min_gap=min_gap).fit(make_log(rows, ["a"])).params
        assert (1.0 - fitted.slip[0]) - fitted.guess[0] >= min_gap - 1e-12


def test_a_long_run_of_correct_answers_does_not_lock_the_learner_in():
    # After 60 correct answers P(not known) is ~1e-40: kept as 1 - P(known) it would round to
    # 0 and no wrong answer could ever bring P(known) down again.
    params = BKTParams.from_values(prior=[0.5], learn=[0.1], guess=[0.2], slip=[0.05])
    model = BKT.from_params(params, np.array(["a"]))
    rows = [(0, (0,), 1)] * 60 + [(0, (0,), 0)] * 40
    p = model.predict_proba(make_log(rows, ["a"]))
    assert p[59] > 0.949
    assert p[-1] < 0.3
    state = model.new_state()
    for _, skills, correct in rows:
        state = model.update(state, Interaction(skills=skills, correct=bool(correct)))
    assert state.p_known[0] < 0.3


def test_a_p_known_set_by_the_caller_is_used_as_it_is():
    model = BKT.from_params(ONE_SKILL, np.array(["a"]))
    state = model.update(model.new_state(), Interaction(skills=(0,), correct=True))
    state.p_known[0] = 0.5  # e.g. a placement test's estimate
    assert model.predict_one(state, Interaction(skills=(0,), correct=True)) == pytest.approx(
        0.5 * 0.9 + 0.5 * 0.2
    )


def test_skill_without_answers_gets_the_median_parameters():
    true = BKTParams.from_values(
        prior=[0.3, 0.2], learn=[0.1, 0.2], guess=[0.2, 0.1], slip=[0.1, 0.1]
    )
    log = simulate(true, 200, 5, np.random.default_rng(0))
    log = InteractionLog(**{**log.__dict__, "skill_ids": np.array(["s0", "s1", "unused"])})
    theta = BKT(n_restarts=1).fit(log).params.as_matrix()
    np.testing.assert_allclose(theta[2], np.median(theta[:2], axis=0))


def test_seed_makes_the_fit_reproducible():
    log = simulate(ONE_SKILL, 300, 6, np.random.default_rng(0))
    a = BKT(seed=5).fit(log).params.as_matrix()
    b = BKT(seed=5).fit(log).params.as_matrix()
    np.testing.assert_array_equal(a, b)


def test_the_fit_does_not_depend_on_the_number_of_threads():
    # EM deals (skill, restarts) jobs to the threads, more jobs where there are few skills;
    # each writes only its own slots, so one thread and every thread give the same floats.
    params = BKTParams.from_values(
        prior=[0.2, 0.4, 0.1], learn=[0.1, 0.2, 0.05], guess=[0.2, 0.3, 0.1], slip=[0.1] * 3
    )
    log = simulate(params, 200, 8, np.random.default_rng(1))
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        single = BKT(n_restarts=4, seed=3).fit(log).params.as_matrix()
    finally:
        numba.set_num_threads(threads)
    many = BKT(n_restarts=4, seed=3).fit(log).params.as_matrix()
    np.testing.assert_array_equal(single, many)


def test_bad_parameters_are_all_reported_at_once():
    with pytest.raises(InvalidInput) as info:
        BKTParams.from_values(
            prior=[1.5, 0.2], learn=[0.1, np.nan], guess=[0.0, 0.6], slip=[0.1, 0.5]
        )
    where = {p.location for p in info.value.problems}
    assert {"prior[0]", "learn[1]", "guess[0]", "guess[1]+slip[1]"} <= where


def test_parameter_shapes_must_agree():
    with pytest.raises(InvalidInput, match="1-D"):
        BKTParams.from_values(prior=[0.1, 0.2], learn=[0.1], guess=[0.2, 0.2], slip=[0.1, 0.1])


def test_bad_settings_are_all_reported_at_once():
    with pytest.raises(InvalidInput) as info:
        BKT(n_restarts=0, max_iter=0, tol=-1, max_guess=1.2, combine="max")  # type: ignore[arg-type]
    assert len(info.value.problems) >= 5


def test_using_an_unfitted_model_raises_not_fitted(tmp_path: Path):
    model = BKT()
    with pytest.raises(NotFitted):
        model.new_state()
    with pytest.raises(NotFitted):
        model.save(tmp_path / "m.json")


def test_empty_log_cannot_be_fitted():
    with pytest.raises(InvalidInput, match="no answers"):
        BKT().fit(make_log([], ["a"]))


def test_events_with_unknown_skill_codes_are_refused():
    model = BKT.from_params(ONE_SKILL, np.array(["a"]))
    with pytest.raises(InvalidInput):
        model.predict_one(model.new_state(), Interaction(skills=(1,), correct=True))
    with pytest.raises(InvalidInput):
        model.update(model.new_state(), Interaction(skills=(), correct=True))


def test_predict_maps_a_log_with_another_vocabulary_by_skill_name():
    params = BKTParams.from_values(
        prior=[0.1, 0.6], learn=[0.1, 0.1], guess=[0.2, 0.2], slip=[0.1, 0.1]
    )
    model = BKT.from_params(params, np.array(["a", "b"]))
    log = make_log([(0, (0,), 1)], ["b", "a"])  # code 0 is "b" here
    assert model.predict_proba(log)[0] == pytest.approx(0.6 * 0.9 + 0.4 * 0.2)
    with pytest.raises(InvalidInput, match="not fitted on"):
        model.predict_proba(make_log([(0, (0,), 1)], ["zzz"]))


def test_save_and_load_round_trip_as_json(tmp_path: Path):
    log = simulate(ONE_SKILL, 200, 5, np.random.default_rng(1))
    model = BKT(n_restarts=2, combine="product", forgetting=True).fit(log)
    path = tmp_path / "bkt.json"
    model.save(path)
    doc = json.loads(path.read_text())
    assert doc["format"] == "zoped.bkt"
    loaded = BKT.load(path)
    assert repr(loaded) == repr(model)
    np.testing.assert_array_equal(loaded.params.as_matrix(), model.params.as_matrix())
    np.testing.assert_array_equal(loaded.predict_proba(log), model.predict_proba(log))


def test_load_refuses_other_files(tmp_path: Path):
    path = tmp_path / "x.json"
    path.write_text('{"format": "something"}')
    with pytest.raises(InvalidInput, match="not a zoped BKT model"):
        BKT.load(path)
    path.write_text("not json")
    with pytest.raises(InvalidInput, match="cannot read"):
        BKT.load(path)


def test_p_known_lists_every_skill_by_name():
    params = BKTParams.from_values(
        prior=[0.1, 0.6], learn=[0.1, 0.1], guess=[0.2, 0.2], slip=[0.1, 0.1]
    )
    model = BKT.from_params(params, np.array(["a", "b"]))
    state = model.update(model.new_state(), Interaction(skills=(1,), correct=False))
    known = model.p_known(state)
    assert known["a"] == pytest.approx(0.1)
    assert known["b"] < 0.6
    assert isinstance(state, BKTState)


def test_module_docstring_examples_run():
    result = doctest.testmod(bkt_module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
