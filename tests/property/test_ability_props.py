"""Invariants of the Elo, IRT and logistic models, driven by hypothesis.

Each model is fitted once on a seeded synthetic log; hypothesis then draws held-out learners'
histories (items with one or two skills, optional timestamps) and checks that probabilities stay
in [0, 1], replay equals batch, a correct answer never predicts worse than a wrong one, saving
round-trips, and that the IRT fit recovers known difficulties.
"""

from __future__ import annotations

import copy
import dataclasses
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.factories import make_log, synthetic
from tests.unit.engine.test_irt import matrix_log, sig_array
from zoped.engine.base import Interaction, InteractionLog
from zoped.engine.elo import Elo
from zoped.engine.irt import IRT1PL, IRT2PL
from zoped.engine.logistic import DAS3H, BestLR

N_ITEMS, N_SKILLS = 12, 4
ITEM_SKILLS = [
    (i % N_SKILLS,) if i % 3 else (i % N_SKILLS, (i + 1) % N_SKILLS) for i in range(N_ITEMS)
]
TIMED = {"das3h-timed"}


def with_time(log: InteractionLog, gaps: np.ndarray) -> InteractionLog:
    return dataclasses.replace(log, timestamp_s=np.cumsum(gaps).astype(np.float64))


@cache
def fitted() -> dict[str, Any]:
    """Every model variant, fitted once on the same synthetic training log."""
    train, _ = synthetic(0)
    gaps = np.random.default_rng(0).choice([60.0, 7200.0, 86_400.0 * 3], size=len(train))
    return {
        "elo": Elo().fit(train),
        "elo-skill": Elo(per_skill=True).fit(train),
        "irt-skill": IRT1PL(per_skill=True).fit(train),
        "irt2pl": IRT2PL().fit(train),
        "lr+": BestLR(item_counts=True, window_attempts=(3.0, 10.0)).fit(train),
        "das3h": DAS3H().fit(train),
        "das3h-timed": DAS3H().fit(with_time(train, gaps)),
    }


MODEL_NAMES = st.sampled_from(
    ["elo", "elo-skill", "irt-skill", "irt2pl", "lr+", "das3h", "das3h-timed"]
)
ROW = st.tuples(
    st.integers(0, N_ITEMS - 1),
    st.booleans(),
    st.sampled_from([30.0, 3600.0, 86_400.0, 40 * 86_400.0]),
)


@st.composite
def histories(draw: st.DrawFn) -> InteractionLog:
    """One to three learners, each with up to 15 responses."""
    n_learners = draw(st.integers(1, 3))
    learner, item, skills, correct, gaps = [], [], [], [], []
    for u in range(n_learners):
        for it, ok, gap in draw(st.lists(ROW, min_size=1, max_size=15)):
            learner.append(u)
            item.append(it)
            skills.append(ITEM_SKILLS[it])
            correct.append(int(ok))
            gaps.append(gap)
    log = make_log(learner, item, skills, correct, N_ITEMS, N_SKILLS)
    return with_time(log, np.array(gaps))


def events(log: InteractionLog, rows: np.ndarray) -> list[Interaction]:
    out = []
    for r in rows:
        skills = tuple(int(s) for s in log.skill_idx[log.skill_ptr[r] : log.skill_ptr[r + 1]])
        t = None if log.timestamp_s is None else float(log.timestamp_s[r])
        out.append(Interaction(skills, bool(log.correct[r]), int(log.item[r]), t))
    return out


def prepared(name: str, log: InteractionLog) -> InteractionLog:
    return log if name in TIMED else dataclasses.replace(log, timestamp_s=None)


@settings(max_examples=25)
@given(name=MODEL_NAMES, log=histories())
def test_probabilities_in_unit_interval_and_replay_equals_batch(
    name: str, log: InteractionLog
) -> None:
    model = fitted()[name]
    log = prepared(name, log)
    batch = model.predict_proba(log)
    assert batch.shape == (len(log),)
    assert np.all(np.isfinite(batch))
    assert np.all((batch >= 0) & (batch <= 1))
    online = []
    for u in range(log.n_learners):
        state = model.new_state()
        for event in events(log, np.flatnonzero(log.learner == u)):
            online.append(model.predict_one(state, event))
            state = model.update(state, event)
    np.testing.assert_allclose(online, batch, atol=1e-10)


@settings(max_examples=25)
@given(name=MODEL_NAMES, log=histories(), nxt=ROW, last=st.integers(0, N_ITEMS - 1))
def test_correct_answer_never_predicts_worse_than_wrong(
    name: str, log: InteractionLog, nxt: tuple[int, bool, float], last: int
) -> None:
    model = fitted()[name]
    log = prepared(name, log)
    state = model.new_state()
    history = events(log, np.flatnonzero(log.learner == 0))
    for event in history:
        state = model.update(state, event)
    t = history[-1].timestamp_s
    answered = Interaction(ITEM_SKILLS[last], True, last, t)
    after_right = model.update(copy.deepcopy(state), answered)
    after_wrong = model.update(copy.deepcopy(state), dataclasses.replace(answered, correct=False))
    it, _, gap = nxt
    later = None if t is None else t + gap
    probe = Interaction(ITEM_SKILLS[it], True, it, later)
    assert model.predict_one(after_right, probe) >= model.predict_one(after_wrong, probe) - 1e-12


@settings(max_examples=10)
@given(name=MODEL_NAMES, log=histories())
def test_save_load_round_trip(name: str, log: InteractionLog) -> None:
    model = fitted()[name]
    log = prepared(name, log)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        model.save(path)
        loaded = type(model).load(path)
    np.testing.assert_array_equal(loaded.predict_proba(log), model.predict_proba(log))


@settings(max_examples=4)
@given(
    b=st.lists(st.floats(-1.5, 1.5), min_size=4, max_size=4),
    seed=st.integers(0, 2**32 - 1),
)
def test_irt_fit_recovers_known_difficulties(b: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=2500)
    x = (rng.random((2500, 4)) < sig_array(theta[:, None] - np.array(b)[None, :])).astype(int)
    model = IRT1PL(prior_sd_difficulty=10.0).fit(matrix_log(x))
    assert model.difficulty_ is not None
    # About four standard errors of a single item's estimate at this size.
    np.testing.assert_allclose(model.difficulty_, b, atol=0.25)


@settings(max_examples=20)
@given(name=MODEL_NAMES, log=histories(), data=st.data())
def test_no_leak_from_the_future(name: str, log: InteractionLog, data: st.DataObject) -> None:
    """Flipping one answer changes no prediction at or before it, nor any other learner's."""
    model = fitted()[name]
    log = prepared(name, log)
    r = data.draw(st.integers(0, len(log) - 1))
    flipped = log.correct.copy()
    flipped[r] = 1 - flipped[r]
    before = model.predict_proba(log)
    after = model.predict_proba(dataclasses.replace(log, correct=flipped))
    same = (np.arange(len(log)) <= r) | (log.learner != log.learner[r])
    np.testing.assert_array_equal(after[same], before[same])
