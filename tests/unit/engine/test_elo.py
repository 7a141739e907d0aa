"""Elo: hand-computed updates, the fallback difficulty, replay == batch, save/load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.factories import make_log, sig, synthetic
from zoped.engine.base import Interaction, LearnerModel
from zoped.engine.elo import Elo
from zoped.errors import InvalidInput, NotFitted


def test_fit_matches_hand_computed_updates() -> None:
    log = make_log([0, 0], [0, 0], [(0,), (0,)], [1, 0])
    model = Elo(alpha=1.0, beta=0.5).fit(log)
    # Row 1: p = 0.5, error +0.5, K = 1 -> item difficulty -0.5, ability 0.5.
    # Row 2: p = sig(0.5 + 0.5), error -p, K = 1/1.5 -> difficulty -0.5 + p/1.5.
    p2 = sig(1.0)
    assert model.item_difficulty_ is not None
    assert model.item_difficulty_[0] == pytest.approx(-0.5 + p2 / 1.5)
    assert model.skill_difficulty_[0] == pytest.approx(-0.5 + p2 / 1.5)
    # A new learner: first prediction from the frozen difficulty, then ability moves by K = 1.
    d = model.item_difficulty_[0]
    test = make_log([0, 0], [0, 0], [(0,), (0,)], [1, 1])
    p = model.predict_proba(test)
    assert p[0] == pytest.approx(sig(-d))
    assert p[1] == pytest.approx(sig((1 - sig(-d)) - d))
    # Difficulties do not move at prediction time.
    assert model.item_difficulty_[0] == pytest.approx(d)


def test_per_skill_ability_moves_only_the_practised_skill() -> None:
    log = make_log([0, 0], [0, 1], [(0,), (1,)], [1, 0])
    model = Elo(alpha=1.0, beta=0.0, per_skill=True).fit(log)
    state = model.new_state()
    state = model.update(state, Interaction(skills=(0,), correct=True, item=0))
    p0 = sig(-model.item_difficulty_[0])  # type: ignore[index]
    # global += (1 - p0), skill 0 += (1 - p0); skill 1 untouched.
    assert state.ability[0] == pytest.approx(1 - p0)
    assert state.ability[1] == pytest.approx(1 - p0)
    assert state.ability[2] == 0.0
    before = model.predict_one(state, Interaction(skills=(1,), correct=True, item=1))
    assert before == pytest.approx(sig((1 - p0) - model.item_difficulty_[1]))  # type: ignore[index]


def test_unseen_item_falls_back_to_mean_skill_difficulty() -> None:
    log = make_log([0, 1], [0, 1], [(0,), (1,)], [0, 1], n_items=3)
    model = Elo().fit(log)
    event = Interaction(skills=(0, 1), correct=True, item=2)
    expected = sig(-model.skill_difficulty_.mean())
    assert model.predict_one(model.new_state(), event) == pytest.approx(expected)


def test_skill_only_log_rates_skills() -> None:
    log = make_log([0, 0, 1], [-1, -1, -1], [(0,), (0, 1), (1,)], [1, 0, 1])
    model = Elo().fit(log)
    p = model.predict_proba(log)
    assert p[0] == pytest.approx(sig(-model.skill_difficulty_[0]))


@pytest.mark.parametrize("per_skill", [False, True])
def test_replay_equals_batch_and_learns(per_skill: bool) -> None:
    train, _ = synthetic(0)
    test, _ = synthetic(1, n_learners=10)
    model = Elo(per_skill=per_skill).fit(train)
    assert isinstance(model, LearnerModel)
    batch = model.predict_proba(test)
    online = []
    for u in range(test.n_learners):
        state = model.new_state()
        for r in np.flatnonzero(test.learner == u):
            skills = tuple(
                int(s) for s in test.skill_idx[test.skill_ptr[r] : test.skill_ptr[r + 1]]
            )
            event = Interaction(
                skills=skills, correct=bool(test.correct[r]), item=int(test.item[r])
            )
            online.append(model.predict_one(state, event))
            state = model.update(state, event)
    np.testing.assert_allclose(online, batch, atol=1e-12)
    # Better than chance on held-out learners.
    y = test.correct.astype(bool)
    assert batch[y].mean() > batch[~y].mean() + 0.05


def test_save_load_round_trip(tmp_path: Path) -> None:
    train, _ = synthetic(2)
    model = Elo(per_skill=True, alpha=0.7).fit(train)
    model.save(tmp_path / "elo.npz")
    loaded = Elo.load(tmp_path / "elo.npz")
    assert loaded.alpha == 0.7
    assert loaded.per_skill
    np.testing.assert_array_equal(loaded.predict_proba(train), model.predict_proba(train))


def test_errors() -> None:
    with pytest.raises(NotFitted):
        Elo().new_state()
    with pytest.raises(InvalidInput) as info:
        Elo(alpha=0, beta=-1, n_epochs=0)
    assert {p.location for p in info.value.problems} == {"alpha", "beta", "n_epochs"}
    small = make_log([0], [0], [(0,)], [1])
    big = make_log([0], [5], [(3,)], [1])
    with pytest.raises(InvalidInput):
        Elo().fit(small).predict_proba(big)
