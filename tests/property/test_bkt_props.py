"""Invariants of zoped.engine.bkt, driven by hypothesis."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from zoped.engine.base import Interaction, InteractionLog
from zoped.engine.bkt import BKT, BKTParams, BKTState
from zoped.engine.bkt_simulate import simulate

unit = st.floats(0.0, 1.0, allow_nan=False)


@st.composite
def bkt_params(draw: st.DrawFn, n_skills: int | None = None) -> BKTParams:
    """Valid parameters: guess + slip < 1 and learn + forget <= 1."""
    k = draw(st.integers(1, 4)) if n_skills is None else n_skills
    prior = [draw(unit) for _ in range(k)]
    learn = [draw(unit) for _ in range(k)]
    forget = [draw(st.floats(0.0, 1.0 - lrn)) for lrn in learn]
    guess = [draw(st.floats(1e-4, 0.99)) for _ in range(k)]
    slip = [draw(st.floats(1e-4, max(1e-4, 0.999 - g))) for g in guess]
    return BKTParams.from_values(prior=prior, learn=learn, guess=guess, slip=slip, forget=forget)


@st.composite
def model_and_log(draw: st.DrawFn) -> tuple[BKT, InteractionLog]:
    """A model and a log of a few learners whose rows carry 1 to 3 of its skills."""
    params = draw(bkt_params())
    k = params.n_skills
    combine = draw(st.sampled_from(["product", "mean"]))
    model = BKT.from_params(params, np.array([f"s{i}" for i in range(k)]), combine=combine)
    rows = draw(
        st.lists(
            st.tuples(
                st.integers(0, 3),
                st.lists(st.integers(0, k - 1), min_size=1, max_size=3),
                st.booleans(),
            ),
            min_size=1,
            max_size=40,
        )
    )
    rows.sort(key=lambda r: r[0])  # stable: keeps each learner's rows in drawn order
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r[1]) for r in rows], out=ptr[1:])
    log = InteractionLog(
        learner=np.array([r[0] for r in rows], dtype=np.int64),
        item=np.full(len(rows), -1, dtype=np.int64),
        skill_ptr=ptr,
        skill_idx=np.array([s for r in rows for s in r[1]], dtype=np.int64),
        correct=np.array([r[2] for r in rows], dtype=np.int8),
        order=np.arange(len(rows), dtype=np.float64),
        learner_ids=np.arange(4),
        skill_ids=model.skill_ids,
        item_ids=np.array([], dtype=np.int64),
    )
    return model, log


@given(model_and_log())
def test_predictions_are_probabilities(case: tuple[BKT, InteractionLog]):
    model, log = case
    probs = model.predict_proba(log)
    assert probs.shape == (len(log),)
    assert np.all((probs >= 0.0) & (probs <= 1.0))
    states = model.knowledge_states(log)
    assert np.all((states >= 0.0) & (states <= 1.0))


@given(model_and_log())
def test_replaying_events_online_equals_the_batch_filter(case: tuple[BKT, InteractionLog]):
    model, log = case
    batch = model.predict_proba(log)
    final = model.knowledge_states(log)
    states: dict[int, BKTState] = {}
    for r in range(len(log)):
        who = int(log.learner[r])
        state = states.setdefault(who, model.new_state())
        skills = tuple(int(s) for s in log.skill_idx[log.skill_ptr[r] : log.skill_ptr[r + 1]])
        event = Interaction(skills=skills, correct=bool(log.correct[r]))
        assert model.predict_one(state, event) == batch[r]
        model.update(state, event)
    for who, state in states.items():
        assert list(model.p_known(state).values()) == final[who].tolist()


@given(bkt_params(n_skills=1), unit)
def test_a_correct_answer_never_leaves_p_known_below_a_wrong_one(params: BKTParams, p: float):
    model = BKT.from_params(params, np.array(["a"]))
    right = model.new_state()
    wrong = model.new_state()
    right.p_known[0] = p
    wrong.p_known[0] = p
    model.update(right, Interaction(skills=(0,), correct=True))
    model.update(wrong, Interaction(skills=(0,), correct=False))
    assert right.p_known[0] >= wrong.p_known[0] - 1e-12
    assert 0.0 <= wrong.p_known[0] <= right.p_known[0] + 1e-12 <= 1.0 + 1e-12


@given(bkt_params(), st.sampled_from(["product", "mean"]), st.booleans())
def test_save_then_load_gives_the_same_model(params: BKTParams, combine: str, forgetting: bool):
    model = BKT.from_params(
        params,
        np.array([f"skill {i}" for i in range(params.n_skills)]),
        combine=combine,
        forgetting=forgetting,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.json"
        model.save(path)
        loaded = BKT.load(path)
    assert repr(loaded) == repr(model)
    assert loaded.skill_ids.tolist() == model.skill_ids.tolist()
    np.testing.assert_array_equal(loaded.params.as_matrix(), model.params.as_matrix())


@settings(max_examples=5, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    prior=st.floats(0.1, 0.6),
    learn=st.floats(0.05, 0.3),
    guess=st.floats(0.05, 0.3),
    slip=st.floats(0.05, 0.2),
)
def test_em_recovers_the_parameters_that_generated_the_data(
    seed: int, prior: float, learn: float, guess: float, slip: float
):
    true = BKTParams.from_values(prior=[prior], learn=[learn], guess=[guess], slip=[slip])
    log = simulate(true, 4000, 15, np.random.default_rng(seed))
    fitted = BKT(n_restarts=3, seed=seed, tol=1e-6).fit(log).params
    assert abs(fitted.learn[0] - learn) < 0.04
    assert abs(fitted.guess[0] - guess) < 0.04
    assert abs(fitted.slip[0] - slip) < 0.04
    assert abs(fitted.prior[0] - prior) < 0.08
