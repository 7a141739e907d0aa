"""Invariants of the memory model (hypothesis) and parameter recovery from synthetic data."""

from __future__ import annotations

import math
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.unit.engine.test_memory import make_log, replay
from zoped.engine.base import Interaction, InteractionLog
from zoped.engine.memory import SECONDS_PER_DAY, MemoryModel, MemoryParameters, MemoryState

DAY = SECONDS_PER_DAY
curves = st.sampled_from(["power", "exponential"])
prob = st.floats(0.01, 0.99)


@st.composite
def parameters(draw: st.DrawFn) -> MemoryParameters:
    s0_fail = draw(st.floats(1e-4, 10.0))
    return MemoryParameters(
        p_new=draw(prob),
        p_floor=draw(prob),
        p_slip=draw(st.floats(0.001, 0.5)),
        s0_fail_days=s0_fail,
        s0_success_days=s0_fail * draw(st.floats(1.0, 100.0)),
        growth=draw(st.floats(0.01, 20.0)),
        growth_decay=draw(st.floats(0.0, 1.0)),
        spacing=draw(st.floats(0.05, 5.0)),
        lapse_scale=draw(st.floats(0.01, 2.0)),
        lapse_exponent=draw(st.floats(0.0, 1.2)),
    )


# A learner's history: (skills, correct, seconds since the previous event).
events = st.lists(
    st.tuples(
        st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True).map(tuple),
        st.booleans(),
        st.floats(0.0, 30 * DAY),
    ),
    min_size=1,
    max_size=12,
)


History = list[tuple[tuple[int, ...], bool, float]]


def run(model: MemoryModel, history: History) -> MemoryState:
    state = model.new_state()
    now = 0.0
    for skills, ok, gap in history:
        now += gap
        model.update(state, Interaction(skills, ok, timestamp_s=now))
    return state


@given(parameters(), curves, events, st.floats(0.0, 400 * DAY))
def test_retrievability_is_a_probability_decreasing_in_time(
    params: MemoryParameters, curve: str, history: History, extra: float
) -> None:
    model = MemoryModel(params, curve=curve)  # type: ignore[arg-type]
    state = run(model, history)
    for skill, mem in state.skills.items():
        now = mem.last_review_s + extra
        r_now = model.retrievability(state, skill, now)
        r_later = model.retrievability(state, skill, now + DAY)
        assert 0.0 <= r_later <= r_now <= 1.0
        assert r_later < r_now or r_now == 0.0 or r_later > 0.999999
        p = model.predict_one(state, Interaction((skill,), True, timestamp_s=now))
        assert 0.0 < p < 1.0


@given(parameters(), curves, events, st.floats(0.0, 60 * DAY), st.integers(0, 3))
def test_a_success_never_leaves_lower_stability_than_a_failure(
    params: MemoryParameters, curve: str, history: History, gap: float, skill: int
) -> None:
    model = MemoryModel(params, curve=curve)  # type: ignore[arg-type]
    state = run(model, history)
    at = max((m.last_review_s for m in state.skills.values()), default=0.0) + gap
    passed = model.update(
        MemoryState.from_dict(state.to_dict()), Interaction((skill,), True, timestamp_s=at)
    )
    failed = model.update(
        MemoryState.from_dict(state.to_dict()), Interaction((skill,), False, timestamp_s=at)
    )
    assert model.stability(passed, skill) >= model.stability(failed, skill)
    if skill in state.skills:
        assert model.stability(passed, skill) >= model.stability(state, skill)
        assert model.stability(failed, skill) <= model.stability(state, skill)


@given(parameters(), curves, st.floats(60.0, 30 * DAY), st.floats(1.0, 30 * DAY))
def test_a_later_successful_review_gives_a_longer_interval(
    params: MemoryParameters, curve: str, gap: float, more: float
) -> None:
    """Spacing effect: passing after a longer gap (lower R) stabilises more, never less."""
    model = MemoryModel(params, curve=curve)  # type: ignore[arg-type]
    first = model.update(model.new_state(), Interaction((0,), True, timestamp_s=0.0))
    interval_before = model.next_review_s(first, 0) - 0.0
    early = model.update(
        MemoryState.from_dict(first.to_dict()), Interaction((0,), True, timestamp_s=gap)
    )
    late = model.update(
        MemoryState.from_dict(first.to_dict()), Interaction((0,), True, timestamp_s=gap + more)
    )
    assert model.stability(late, 0) >= model.stability(early, 0)
    # After a success, the next interval is at least as long as the one before it.
    assert model.next_review_s(early, 0) - gap >= interval_before * (1 - 1e-12)


@st.composite
def logs(draw: st.DrawFn) -> InteractionLog:
    rows: list[tuple[int, tuple[int, ...], int, float]] = []
    for learner in range(draw(st.integers(1, 4))):
        now = 0.0
        for skills, ok, gap in draw(events):
            now += gap
            rows.append((learner, skills, int(ok), now))
    return make_log(rows, n_skills=4, timestamps=draw(st.booleans()))


@given(parameters(), curves, logs())
def test_replaying_events_equals_the_batch_prediction(
    params: MemoryParameters, curve: str, log: InteractionLog
) -> None:
    model = MemoryModel(params, curve=curve)  # type: ignore[arg-type]
    if log.timestamp_s is None:
        model.time_source = "order"
    batch = model.predict_proba(log)
    assert np.all((batch > 0) & (batch < 1))
    np.testing.assert_allclose(batch, replay(model, log), rtol=1e-12, atol=0)


@given(parameters(), curves, st.sampled_from(["timestamp", "order"]))
def test_save_load_round_trips(params: MemoryParameters, curve: str, source: str) -> None:
    model = MemoryModel(params, curve=curve, order_step_s=17.0)  # type: ignore[arg-type]
    model.time_source = source  # type: ignore[assignment]
    with TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.json"
        model.save(path)
        again = MemoryModel.load(path)
    assert again.to_dict() == model.to_dict()


@given(parameters(), events)
def test_state_dict_round_trips(params: MemoryParameters, history: History) -> None:
    state = run(MemoryModel(params), history)
    assert MemoryState.from_dict(state.to_dict()) == state


def simulate(params: MemoryParameters, n_learners: int, seed: int) -> InteractionLog:
    """Reviews at gaps from a minute to a month, outcomes drawn from the model itself."""
    rng = np.random.default_rng(seed)
    model = MemoryModel(params)
    rows: list[tuple[int, tuple[int, ...], int, float]] = []
    for learner in range(n_learners):
        state = model.new_state()
        now = 0.0
        for _ in range(24):
            now += float(np.exp(rng.uniform(math.log(60.0), math.log(30 * DAY))))
            event = Interaction((int(rng.integers(3)),), True, timestamp_s=now)
            ok = bool(rng.random() < model.predict_one(state, event))
            event = Interaction(event.skills, ok, timestamp_s=now)
            model.update(state, event)
            rows.append((learner, event.skills, int(ok), now))
    return make_log(rows, n_skills=3)


def test_fit_recovers_known_parameters_from_synthetic_reviews() -> None:
    truth = MemoryParameters(
        p_new=0.55,
        p_floor=0.25,
        p_slip=0.05,
        s0_fail_days=0.2,
        s0_success_days=3.0,
        growth=2.5,
        growth_decay=0.3,
        spacing=1.2,
        lapse_scale=0.5,
        lapse_exponent=0.6,
    )
    log = simulate(truth, n_learners=400, seed=7)
    model = MemoryModel(max_iter=150).fit(log)
    got = model.parameters
    assert got is not None
    p_true = MemoryModel(truth).predict_proba(log)
    truth_nll = -np.sum(np.where(log.correct == 1, np.log(p_true), np.log1p(-p_true)))
    # Maximum likelihood: the fit is at least as likely as the truth it was drawn from ...
    assert model.fit_summary["neg_log_likelihood"] <= truth_nll + 1e-6
    # ... and lands near it on the well-identified parameters.
    assert got.p_new == pytest.approx(truth.p_new, abs=0.04)
    assert got.p_floor == pytest.approx(truth.p_floor, abs=0.08)
    assert got.s0_success_days == pytest.approx(truth.s0_success_days, rel=0.5)
    assert got.s0_fail_days == pytest.approx(truth.s0_fail_days, rel=0.6)
