"""IRT 1PL/2PL: the probability formula, the online step, parameter recovery, LSAT parity."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from tests.factories import make_log, sig, synthetic
from zoped.engine.base import Interaction, InteractionLog
from zoped.engine.irt import IRT1PL, IRT2PL
from zoped.errors import InvalidInput, NotFitted


def matrix_log(x: np.ndarray) -> InteractionLog:
    """A cross-sectional persons x items 0/1 matrix as a log (item k is also skill k)."""
    n, k = x.shape
    item = np.tile(np.arange(k), n).astype(np.int64)
    return InteractionLog(
        learner=np.repeat(np.arange(n), k).astype(np.int64),
        item=item,
        skill_ptr=np.arange(n * k + 1, dtype=np.int64),
        skill_idx=item.copy(),
        correct=x.ravel().astype(np.int8),
        order=item.astype(np.float64),
        learner_ids=np.arange(n),
        skill_ids=np.arange(k),
        item_ids=np.arange(k),
    )


def test_probability_and_online_step_golden() -> None:
    model = IRT2PL().fit(make_log([0, 1], [0, 0], [(0,), (0,)], [1, 0]))
    model.difficulty_ = np.array([0.5])
    model.discrimination_ = np.array([2.0])
    event = Interaction(skills=(0,), correct=True, item=0)
    state = model.new_state()
    # Prior N(0, 1): p = sig(a (0 - b) / sqrt(1 + pi a^2 / 8)).
    p = sig(2.0 * -0.5 / math.sqrt(1 + math.pi * 4 / 8))
    assert model.predict_one(state, event) == pytest.approx(p)
    state = model.update(state, event)
    # Laplace step: g = a (1 - p), h = a^2 p (1 - p), mean += g / (1 + h), var = 1 - h / (1 + h).
    g, h = 2.0 * (1 - p), 4.0 * p * (1 - p)
    assert state.mean[0] == pytest.approx(g / (1 + h))
    assert state.var[0] == pytest.approx(1 - h / (1 + h))


def test_fit_recovers_simulated_difficulties() -> None:
    rng = np.random.default_rng(7)
    b = np.linspace(-2, 2, 10)
    theta = rng.normal(size=3000)
    x = (rng.random((3000, 10)) < sig_array(theta[:, None] - b[None, :])).astype(int)
    model = IRT1PL(prior_sd_difficulty=10.0).fit(matrix_log(x))
    assert model.converged_
    assert model.difficulty_ is not None
    error = np.abs(model.difficulty_ - b)
    # Sampling error alone is about 0.05 per item here.
    assert error.mean() < 0.08
    assert error.max() < 0.2


def test_fit_recovers_simulated_discriminations() -> None:
    rng = np.random.default_rng(8)
    b = np.linspace(-1.5, 1.5, 8)
    a = np.array([0.6, 1.0, 1.6, 2.2] * 2)
    theta = rng.normal(size=3000)
    x = (rng.random((3000, 8)) < sig_array(a * (theta[:, None] - b[None, :]))).astype(int)
    model = IRT2PL(prior_sd_difficulty=10.0, prior_sd_log_discrimination=10.0)
    model.fit(matrix_log(x))
    np.testing.assert_allclose(difficulty(model), b, atol=0.2)
    np.testing.assert_allclose(model.discrimination_, a, rtol=0.25)


def sig_array(z: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)


def difficulty(model: IRT1PL | IRT2PL) -> np.ndarray:
    assert model.difficulty_ is not None
    return model.difficulty_


# Published marginal-ML estimates (Bock & Lieberman's LSAT sections, N(0, 1) ability):
# LSAT6 Rasch with discrimination fixed at 1, R ltm `rasch(LSAT, constraint = cbind(6, 1))`;
# LSAT7 2PL, R mirt `coef(mirt(LSAT7, 1), IRTpars = TRUE)`.
LSAT6_RASCH_B = [-2.872, -1.063, -0.257, -1.388, -2.219]
LSAT7_2PL_A = [0.988, 1.081, 1.706, 0.765, 0.736]
LSAT7_2PL_B = [-1.879, -0.748, -1.058, -0.635, -2.521]


@pytest.mark.data
def test_lsat_estimates_match_published(shared_data: Path) -> None:
    folder = shared_data / "irt_classic_response_matrices"
    lsat6 = np.loadtxt(folder / "mirt_LSAT6_persons.csv", delimiter=",", skiprows=1)[:, 1:]
    lsat7 = np.loadtxt(folder / "mirt_LSAT7_persons.csv", delimiter=",", skiprows=1)[:, 1:]
    # Flat priors: plain marginal maximum likelihood, as the published fits.
    rasch = IRT1PL(prior_sd_difficulty=100.0).fit(matrix_log(lsat6.astype(int)))
    np.testing.assert_allclose(difficulty(rasch), np.array(LSAT6_RASCH_B), atol=0.02)
    two_pl = IRT2PL(prior_sd_difficulty=100.0, prior_sd_log_discrimination=100.0)
    two_pl.fit(matrix_log(lsat7.astype(int)))
    np.testing.assert_allclose(difficulty(two_pl), np.array(LSAT7_2PL_B), atol=0.03)
    np.testing.assert_allclose(two_pl.discrimination_, np.array(LSAT7_2PL_A), atol=0.03)


@pytest.mark.parametrize(("cls", "per_skill"), [(IRT1PL, False), (IRT1PL, True), (IRT2PL, True)])
def test_replay_equals_batch_and_learns(cls: type[IRT1PL], per_skill: bool) -> None:
    train, _ = synthetic(0)
    test, _ = synthetic(1, n_learners=10)
    model = cls(per_skill=per_skill).fit(train)
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
    y = test.correct.astype(bool)
    assert batch[y].mean() > batch[~y].mean() + 0.05


def test_skill_only_log_and_unseen_item_fallback() -> None:
    log = make_log([0, 0, 1, 1], [-1] * 4, [(0,), (1,), (0,), (1,)], [1, 0, 1, 0])
    model = IRT1PL().fit(log)
    assert not model.use_items_
    assert model.difficulty_ is not None
    assert model.difficulty_[0] < model.difficulty_[1]
    items = make_log([0, 1], [0, 0], [(0,), (0,)], [1, 1], n_items=2)
    fitted = IRT1PL().fit(items)
    unseen = Interaction(skills=(0,), correct=True, item=1)
    seen = Interaction(skills=(0,), correct=True, item=0)
    state = fitted.new_state()
    assert fitted.predict_one(state, unseen) == pytest.approx(fitted.predict_one(state, seen))


def test_save_load_round_trip(tmp_path: Path) -> None:
    train, _ = synthetic(3)
    model = IRT2PL(per_skill=True, skill_ability_sd=0.3).fit(train)
    model.save(tmp_path / "m.npz")
    loaded = IRT2PL.load(tmp_path / "m.npz")
    assert loaded.skill_ability_sd == 0.3
    np.testing.assert_array_equal(loaded.predict_proba(train), model.predict_proba(train))
    with pytest.raises(InvalidInput):
        IRT1PL.load(tmp_path / "m.npz")


def test_errors() -> None:
    with pytest.raises(NotFitted):
        IRT1PL().predict_proba(make_log([0], [0], [(0,)], [1]))
    with pytest.raises(InvalidInput) as info:
        IRT2PL(prior_sd_difficulty=0, n_quadrature=2)
    assert len(info.value.problems) == 2
