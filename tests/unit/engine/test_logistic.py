"""Best-LR and DAS3H: hand-checked features, window counts, fit, replay == batch, save/load."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest

from tests.factories import make_log, synthetic
from zoped.engine._features import prior_counts, window_counts
from zoped.engine.base import Interaction, InteractionLog
from zoped.engine.logistic import DAS3H, BestLR
from zoped.errors import InvalidInput, NotFitted


def test_prior_counts_golden() -> None:
    learner = np.array([0, 0, 0, 0, 1, 1])
    key = np.array([3, 5, 3, 3, 3, 3])
    correct = np.array([1, 0, 0, 1, 1, 1])
    att, suc = prior_counts(learner, key, correct)
    np.testing.assert_array_equal(att, [0, 0, 1, 2, 0, 1])
    np.testing.assert_array_equal(suc, [0, 0, 1, 1, 0, 1])


def test_window_counts_golden() -> None:
    learner = np.zeros(5, np.int64)
    key = np.array([0, 0, 1, 0, 0])
    correct = np.array([1, 0, 1, 1, 0])
    time = np.array([0.0, 5.0, 6.0, 9.0, 20.0])
    att, suc = window_counts(learner, key, correct, time, (5.0, math.inf))
    # Window 5 holds earlier same-key times in (t - 5, t]: row 3 (t=9) sees t=5 only.
    np.testing.assert_array_equal(att[:, 0], [0, 0, 0, 1, 0])
    np.testing.assert_array_equal(suc[:, 0], [0, 0, 0, 0, 0])
    np.testing.assert_array_equal(att[:, 1], [0, 1, 0, 2, 3])
    np.testing.assert_array_equal(suc[:, 1], [0, 1, 0, 1, 2])


def test_feature_row_matches_hand_computation() -> None:
    log = make_log([0, 0, 0], [0, 1, 0], [(0,), (0, 1), (0,)], [1, 0, 1])
    model = BestLR(item_counts=True).fit(log)
    assert model.layout_ is not None
    x = model._features(log, model.layout_).toarray()
    lay = model.layout_
    row = x[2]  # third response: item 0, skill 0; before it skill 0 had 1 success, 1 failure.
    assert row[0] == 1.0
    assert row[1] == 0.0
    assert row[lay.skill_onehot + 0] == 1.0
    assert row[lay.skill_succ + 0] == pytest.approx(math.log(2))
    assert row[lay.skill_fail + 0] == pytest.approx(math.log(2))
    assert row[lay.skill_succ + 1] == 0.0
    assert row[lay.total] == pytest.approx(math.log(2))
    assert row[lay.total + 1] == pytest.approx(math.log(2))
    assert row[lay.item_count] == pytest.approx(math.log(2))
    assert row[lay.item_count + 1] == 0.0
    # The multi-skill row carries both skills.
    assert x[1, lay.skill_onehot + 0] == 1.0
    assert x[1, lay.skill_onehot + 1] == 1.0


def test_rows_without_item_do_not_count_as_an_item() -> None:
    log = make_log([0, 0, 0], [-1, 0, 0], [(0,), (0,), (0,)], [1, 1, 0])
    model = BestLR(item_counts=True).fit(log)
    assert model.layout_ is not None
    x = model._features(log, model.layout_).toarray()
    assert x[1, model.layout_.item_count] == 0.0
    assert x[2, model.layout_.item_count] == pytest.approx(math.log(2))
    np.testing.assert_allclose(replay(model, log), model.predict_proba(log), atol=1e-12)


def timed(log: InteractionLog, seed: int) -> InteractionLog:
    """The same log with increasing timestamps: gaps from minutes to weeks."""
    rng = np.random.default_rng(seed)
    gaps = rng.choice([60.0, 3600.0, 86_400.0, 8 * 86_400.0], size=len(log))
    return dataclasses.replace(log, timestamp_s=np.cumsum(gaps))


def replay(model: BestLR, log: InteractionLog) -> np.ndarray:
    out = []
    for u in range(log.n_learners):
        state = model.new_state()
        for r in np.flatnonzero(log.learner == u):
            skills = tuple(int(s) for s in log.skill_idx[log.skill_ptr[r] : log.skill_ptr[r + 1]])
            t = None if log.timestamp_s is None else float(log.timestamp_s[r])
            event = Interaction(skills, bool(log.correct[r]), int(log.item[r]), t)
            out.append(model.predict_one(state, event))
            state = model.update(state, event)
    return np.array(out)


@pytest.mark.parametrize(
    ("model", "with_time"),
    [
        (BestLR(), False),
        (BestLR(item_counts=True, window_attempts=(3.0, 10.0)), False),
        (DAS3H(), False),
        (DAS3H(), True),
    ],
)
def test_replay_equals_batch_and_learns(model: BestLR, with_time: bool) -> None:
    train, _ = synthetic(0)
    test, _ = synthetic(1, n_learners=10)
    if with_time:
        train, test = timed(train, 0), timed(test, 1)
    model.fit(train)
    assert model.converged_
    batch = model.predict_proba(test)
    np.testing.assert_allclose(replay(model, test), batch, atol=1e-10)
    y = test.correct.astype(bool)
    assert batch[y].mean() > batch[~y].mean() + 0.05


def test_monotone_weights_have_the_promised_signs() -> None:
    train, _ = synthetic(4, n_learners=20)
    model = DAS3H().fit(train)
    lay = model.layout_
    assert lay is not None
    w, k = model.weights_, lay.n_skills
    assert np.all(w[lay.skill_succ : lay.skill_succ + k] >= 0)
    assert np.all(w[lay.skill_fail : lay.skill_fail + k] <= 0)
    assert w[lay.total] >= 0 >= w[lay.total + 1]


def test_l2_shrinks_weights() -> None:
    train, _ = synthetic(5)
    loose = BestLR(l2=0.01).fit(train)
    tight = BestLR(l2=100.0).fit(train)
    assert np.linalg.norm(tight.weights_) < 0.5 * np.linalg.norm(loose.weights_)


def test_save_load_round_trip(tmp_path: Path) -> None:
    train = timed(synthetic(6)[0], 2)
    model = DAS3H(item_counts=True, l2=2.0).fit(train)
    model.save(tmp_path / "d.npz")
    loaded = DAS3H.load(tmp_path / "d.npz")
    assert loaded.l2 == 2.0
    assert loaded.timed_
    np.testing.assert_array_equal(loaded.predict_proba(train), model.predict_proba(train))


def test_errors() -> None:
    log = make_log([0], [0], [(0,)], [1])
    with pytest.raises(NotFitted):
        BestLR().predict_proba(log)
    with pytest.raises(InvalidInput) as info:
        DAS3H(l2=-1, window_days=(0.0,))
    assert {p.location for p in info.value.problems} == {"l2", "window_days"}
    with pytest.raises(InvalidInput) as info:
        BestLR(window_attempts="5,x")
    assert info.value.problems[0].location == "window_attempts"
    assert BestLR(window_attempts="5, 20,inf").window_attempts == (5.0, 20.0, math.inf)
    train = timed(synthetic(7, n_learners=15)[0], 3)
    model = DAS3H().fit(train)
    with pytest.raises(InvalidInput):
        model.predict_proba(dataclasses.replace(train, timestamp_s=None))
    with pytest.raises(InvalidInput):
        model.update(model.new_state(), Interaction((0,), True, 0, None))
