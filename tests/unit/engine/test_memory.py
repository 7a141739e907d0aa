"""Unit tests of the memory model: golden maths, scheduling API, fallbacks, errors, persistence."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zoped.engine.base import Interaction, InteractionLog, LearnerModel
from zoped.engine.memory import (
    SECONDS_PER_DAY,
    MemoryModel,
    MemoryParameters,
    MemoryState,
)
from zoped.errors import InvalidInput, NotFitted

DAY = SECONDS_PER_DAY
PARAMS = MemoryParameters(
    p_new=0.6,
    p_floor=0.2,
    p_slip=0.1,
    s0_fail_days=0.5,
    s0_success_days=2.0,
    growth=2.0,
    growth_decay=0.5,
    spacing=1.5,
    lapse_scale=0.4,
    lapse_exponent=0.5,
)


Row = tuple[int, tuple[int, ...], int, float]


def make_log(rows: Sequence[Row], n_skills: int, timestamps: bool = True) -> InteractionLog:
    """A log from (learner, skills, correct, time_s) rows, already sorted by learner."""
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum([len(r[1]) for r in rows], out=ptr[1:])
    n_learners = max(r[0] for r in rows) + 1
    return InteractionLog(
        learner=np.array([r[0] for r in rows], dtype=np.int64),
        item=np.full(len(rows), -1, dtype=np.int64),
        skill_ptr=ptr,
        skill_idx=np.array([k for r in rows for k in r[1]], dtype=np.int64),
        correct=np.array([r[2] for r in rows], dtype=np.int8),
        order=np.arange(len(rows), dtype=np.float64),
        learner_ids=np.arange(n_learners),
        skill_ids=np.arange(n_skills),
        item_ids=np.array([], dtype=np.int64),
        timestamp_s=np.array([r[3] for r in rows], dtype=np.float64) if timestamps else None,
    )


def replay(model: MemoryModel, log: InteractionLog) -> np.ndarray:
    """P(correct) per row through new_state / predict_one / update."""
    out = np.empty(len(log))
    bounds = log.learner_bounds()
    for a, b in itertools.pairwise(bounds):
        state = model.new_state()
        for r in range(a, b):
            skills = tuple(int(k) for k in log.skill_idx[log.skill_ptr[r] : log.skill_ptr[r + 1]])
            ts = None if log.timestamp_s is None else float(log.timestamp_s[r])
            event = Interaction(skills=skills, correct=bool(log.correct[r]), timestamp_s=ts)
            out[r] = model.predict_one(state, event)
            model.update(state, event)
    return out


def test_follows_the_learner_model_protocol() -> None:
    assert isinstance(MemoryModel(PARAMS), LearnerModel)
    assert MemoryModel.name == "memory"


def test_power_curve_pins_the_90_percent_interval_and_the_half_life() -> None:
    model = MemoryModel(PARAMS)
    state = model.update(model.new_state(), Interaction((0,), True, timestamp_s=0.0))
    s = state.skills[0].stability_days
    assert s == pytest.approx(2.0)
    assert model.retrievability(state, 0, s * DAY) == pytest.approx(0.9)
    assert model.retrievability(state, 0, 9 * s * DAY) == pytest.approx(0.5)
    assert model.retrievability(state, 0, 0.0) == 1.0
    assert model.retrievability(state, 1, 10.0) == 0.0  # never reviewed


def test_exponential_curve_has_the_same_meaning_of_stability() -> None:
    model = MemoryModel(PARAMS, curve="exponential")
    state = model.update(model.new_state(), Interaction((0,), True, timestamp_s=0.0))
    assert model.retrievability(state, 0, 2.0 * DAY) == pytest.approx(0.9)
    assert model.retrievability(state, 0, 4.0 * DAY) == pytest.approx(0.81)
    assert model.next_review_s(state, 0, 0.81) == pytest.approx(4.0 * DAY)


def test_golden_sequence() -> None:
    """Pass at day 0, pass at day 4, fail at day 10, pass at day 11: every number by hand."""
    model = MemoryModel(PARAMS)
    state = model.new_state()
    times = [0.0, 4.0, 10.0, 11.0]
    outcomes = [True, True, False, True]
    probs, stabilities = [], []
    for t, ok in zip(times, outcomes, strict=True):
        event = Interaction((3,), ok, timestamp_s=t * DAY)
        probs.append(model.predict_one(state, event))
        model.update(state, event)
        stabilities.append(state.skills[3].stability_days)

    def r(t: float, s: float) -> float:
        return 1 / (1 + t / (9 * s))

    s1 = 2.0
    r2 = r(4.0, s1)
    s2 = s1 * (1 + 2.0 * s1**-0.5 * (math.exp(1.5 * (1 - r2)) - 1))
    r3 = r(6.0, s2)
    s3 = min(s2, 0.4 * s2**0.5)
    r4 = r(1.0, s3)
    s4 = s3 * (1 + 2.0 * s3**-0.5 * (math.exp(1.5 * (1 - r4)) - 1))
    p = [0.6] + [0.2 + 0.8 * 0.9 * x for x in (r2, r3, r4)]
    assert probs == pytest.approx(p, rel=1e-12)
    assert stabilities == pytest.approx([s1, s2, s3, s4], rel=1e-12)
    # The literal values, so a change of formula on both sides still shows up here.
    assert stabilities == pytest.approx([2.0, 2.88683, 0.679627, 1.06649], rel=1e-5)
    assert probs == pytest.approx([0.6, 0.789091, 0.784922, 0.818829], rel=1e-5)
    assert state.skills[3].reviews == 4
    assert state.skills[3].lapses == 1


def test_next_review_is_when_recall_falls_to_the_target() -> None:
    model = MemoryModel(PARAMS)
    state = model.update(model.new_state(), Interaction((0,), True, timestamp_s=100.0))
    for target in (0.95, 0.9, 0.7):
        due = model.next_review_s(state, 0, target)
        assert due > 100.0
        assert model.retrievability(state, 0, due) == pytest.approx(target)
    assert model.next_review_s(state, 0, 0.95) < model.next_review_s(state, 0, 0.7)
    with pytest.raises(InvalidInput, match="target_retention"):
        model.next_review_s(state, 0, 1.0)
    with pytest.raises(InvalidInput, match="never reviewed"):
        model.next_review_s(state, 5)


def test_due_skills_lists_the_most_forgotten_first() -> None:
    model = MemoryModel(PARAMS)
    state = model.new_state()
    model.update(state, Interaction((0,), False, timestamp_s=0.0))  # S = 0.5 d
    model.update(state, Interaction((1,), True, timestamp_s=0.0))  # S = 2 d
    model.update(state, Interaction((2,), True, timestamp_s=5 * DAY))  # fresh
    assert model.due_skills(state, 5 * DAY, threshold=0.9) == [0, 1]
    assert model.due_skills(state, 0.0) == []
    assert model.stability(state, 1) == pytest.approx(2.0)
    assert model.stability(state, 9) == 0.0


def test_multi_skill_row_is_as_weak_as_its_weakest_skill_and_updates_each() -> None:
    model = MemoryModel(PARAMS)
    state = model.new_state()
    model.update(state, Interaction((0,), True, timestamp_s=0.0))
    model.update(state, Interaction((1,), False, timestamp_s=0.0))
    event = Interaction((0, 1), True, timestamp_s=DAY)
    p0 = model.predict_one(state, Interaction((0,), True, timestamp_s=DAY))
    p1 = model.predict_one(state, Interaction((1,), True, timestamp_s=DAY))
    assert p1 < p0
    assert model.predict_one(state, event) == pytest.approx(p1)
    model.update(state, event)
    assert state.skills[0].reviews == 2
    assert state.skills[1].reviews == 2


def test_without_timestamps_row_order_is_the_clock() -> None:
    rows = [(0, (0,), 1, 0.0), (0, (0,), 0, 0.0), (0, (1,), 1, 0.0), (1, (0,), 1, 0.0)]
    log = make_log(rows, n_skills=2, timestamps=False)
    model = MemoryModel(PARAMS, order_step_s=DAY).fit(log)
    assert model.time_source == "order"
    np.testing.assert_allclose(model.predict_proba(log), replay(model, log), rtol=1e-12)
    fixed = MemoryModel(PARAMS, order_step_s=DAY)
    fixed.time_source = "order"
    p = fixed.predict_proba(log)
    # Row 1 comes one "day" after row 0: R = 0.9 / (1 + 1 / 18) at S = 2 days.
    assert p[1] == pytest.approx(0.2 + 0.8 * 0.9 / (1 + 1 / 18))
    assert p[3] == pytest.approx(0.6)  # another learner starts afresh


def test_a_timestamp_model_refuses_a_log_or_event_without_times() -> None:
    rows = [(0, (0,), 1, 0.0), (0, (0,), 0, 60.0)]
    model = MemoryModel(PARAMS)
    with pytest.raises(InvalidInput, match="timestamp"):
        model.predict_proba(make_log(rows, 1, timestamps=False))
    with pytest.raises(InvalidInput, match="timestamp"):
        model.update(model.new_state(), Interaction((0,), True))


def test_unfitted_model_raises_not_fitted() -> None:
    model = MemoryModel()
    with pytest.raises(NotFitted):
        model.predict_one(model.new_state(), Interaction((0,), True, timestamp_s=0.0))
    with pytest.raises(NotFitted):
        model.save(Path("unused.json"))


def test_bad_parameters_are_all_reported() -> None:
    with pytest.raises(InvalidInput) as info:
        MemoryParameters(p_new=1.5, growth=-1.0, s0_fail_days=3.0, s0_success_days=1.0)
    locations = {p.location for p in info.value.problems}
    assert locations == {"p_new", "growth", "s0_success_days"}
    with pytest.raises(InvalidInput) as info:
        MemoryModel(curve="linear", order_step_s=0.0)  # type: ignore[arg-type]
    assert len(info.value.problems) == 2


def test_save_load_round_trip_and_bad_files(tmp_path: Path) -> None:
    rows = [(0, (0,), 1, 0.0), (0, (0,), 1, 3600.0), (0, (0,), 0, 9 * DAY), (1, (0,), 0, 0.0)]
    log = make_log(rows, n_skills=1)
    model = MemoryModel(PARAMS, curve="exponential", max_iter=5).fit(log)
    path = tmp_path / "memory.json"
    model.save(path)
    again = MemoryModel.load(path)
    assert again.parameters == model.parameters
    assert again.curve == "exponential"
    assert again.time_source == "timestamp"
    np.testing.assert_array_equal(again.predict_proba(log), model.predict_proba(log))
    (tmp_path / "other.json").write_text('{"model": "bkt", "format_version": 1}')
    with pytest.raises(InvalidInput, match="not a memory model"):
        MemoryModel.load(tmp_path / "other.json")
    with pytest.raises(InvalidInput, match="cannot read"):
        MemoryModel.load(tmp_path / "missing.json")


def test_state_round_trips_through_json_form() -> None:
    model = MemoryModel(PARAMS)
    state = model.update(model.new_state(), Interaction((4, 7), False, timestamp_s=12.0))
    again = MemoryState.from_dict(state.to_dict())
    assert again == state


def test_fit_refuses_an_empty_log() -> None:
    log = make_log([(0, (0,), 1, 0.0)], 1).take_rows(np.array([], dtype=np.int64))
    with pytest.raises(InvalidInput, match="empty"):
        MemoryModel().fit(log)


@pytest.mark.data
def test_beats_chance_on_timestamped_kdd_students(shared_data: Path) -> None:
    """A short fit on 30 real students, scored on 10 others (full numbers: docs/memory.md)."""
    path = shared_data / "kddcup2010_algebra2005_gervet_test20" / "preprocessed_data_test.csv"
    df = pd.read_csv(path, sep="\t")
    users = np.sort(df.user_id.unique())
    df = df[df.user_id.isin(users[:40])].sort_values(["user_id", "timestamp"], kind="stable")
    _, learner = np.unique(df.user_id.to_numpy(), return_inverse=True)
    skills, skill = np.unique(df.skill_id.to_numpy(), return_inverse=True)
    n = len(df)
    log = InteractionLog(
        learner=learner.astype(np.int64),
        item=np.full(n, -1, dtype=np.int64),
        skill_ptr=np.arange(n + 1, dtype=np.int64),
        skill_idx=skill.astype(np.int64),
        correct=df.correct.to_numpy().astype(np.int8),
        order=np.arange(n, dtype=np.float64),
        learner_ids=np.arange(40),
        skill_ids=skills,
        item_ids=np.array([]),
        timestamp_s=df.timestamp.to_numpy().astype(np.float64),
    )
    train = log.take_learners(np.arange(30))
    test = log.take_learners(np.arange(30, 40))
    model = MemoryModel(max_iter=25).fit(train)
    p = model.predict_proba(test)
    y = test.correct.astype(bool)
    # Rank AUC without sklearn: P(score of a correct row > score of a wrong row).
    ranks = pd.Series(p).rank().to_numpy()
    auc = (ranks[y].sum() - y.sum() * (y.sum() + 1) / 2) / (y.sum() * (~y).sum())
    assert auc > 0.68
    base = np.full(len(p), train.correct.mean())
    nll = -np.mean(np.where(y, np.log(p), np.log1p(-p)))
    nll_base = -np.mean(np.where(y, np.log(base), np.log1p(-base)))
    assert nll < nll_base - 0.02


def test_a_file_without_a_prior_loads_with_the_default_prior(tmp_path: Path) -> None:
    from zoped.engine.memory import DEFAULT_PRIOR

    model = MemoryModel(PARAMS)
    data = model.to_dict()
    assert data["prior"] == DEFAULT_PRIOR.to_dict()
    del data["prior"]  # as written before priors existed
    path = tmp_path / "old.json"
    path.write_text(json.dumps(data))
    assert MemoryModel.load(path).prior == DEFAULT_PRIOR
    mle = MemoryModel(PARAMS, prior=None)
    mle.save(path)
    assert MemoryModel.load(path).prior is None


def test_map_fit_stays_day_plausible_where_maximum_likelihood_runs_off() -> None:
    """Massed runs of right answers a minute apart: MLE explains them with tiny stabilities."""
    rows = []
    for learner in range(30):
        t = 0.0
        for day in range(4):
            t = day * DAY + 9 * 3600.0
            for k in range(6):
                rows.append((learner, (0,), int(k > 1 or day > 0), t + 60.0 * k))
    log = make_log(rows, n_skills=1)
    p = MemoryModel(max_iter=60).fit(log).parameters
    assert p is not None
    assert p.s0_fail_days >= 1.0 / 24.0 - 1e-9
    assert 0.1 - 1e-9 <= p.spacing <= 5.0 + 1e-9
    assert p.lapse_exponent <= 1.0 + 1e-9
