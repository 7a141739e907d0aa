"""The laws that make mastery trustworthy, on the engine's own online path (BKT's one step and
the mastery tracker), for random answer sequences and random valid parameters.

* a wrong answer never raises P(known), nor a level above where it was (a first answer, right
  or wrong, makes a competency "attempted");
* P(known) stays strictly inside (0, 1): a wrong answer after any streak of right ones moves it;
* 3 right out of 10 (or fewer) is never mastered, in any order;
* mastered needs recent right answers: the answer that makes it mastered is right, and so are at
  least 4 of the last 5;
* a level is the same whenever, and however often, it is read.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tests.property.test_bkt_props import bkt_params
from zoped.engine.base import Interaction
from zoped.engine.bkt import BKT, BKTParams
from zoped.engine.mastery import MasteryConfig, MasteryLevel, MasteryTracker

DAY = 86_400.0
# (competency 0 or 1, right?, hours since the previous answer)
answers = st.lists(
    st.tuples(st.integers(0, 1), st.booleans(), st.sampled_from([0.02, 1.0, 20.0, 50.0])),
    min_size=1,
    max_size=40,
)


def _model(params: BKTParams) -> BKT:
    return BKT.from_params(params, np.array(["a", "b"]))


def _run(params: BKTParams, seq, read_every_step: bool):
    """Feed ``seq`` through BKT and the tracker; yield (p before, p after, level before,
    level after, tracker) per answer."""
    model = _model(params)
    state = model.new_state()
    tracker = MasteryTracker(1, 2, MasteryConfig())
    t = 0.0
    for comp, right, hours in seq:
        t += hours * 3600.0
        p_before = model.p_known(state)["ab"[comp]]
        level_before = tracker.levels()[0, comp]
        state = model.update(state, Interaction(skills=(comp,), correct=right))
        p_after = model.p_known(state)
        mask = np.array([[comp == 0, comp == 1]])
        known = np.array([[p_after["a"], p_after["b"]]])
        tracker.record(np.array([0]), mask, np.array([right]), t, known)
        if read_every_step:
            tracker.levels()
        yield p_before, p_after["ab"[comp]], level_before, tracker.levels()[0, comp], tracker


@given(bkt_params(n_skills=2), answers)
def test_a_wrong_answer_never_raises_p_known_or_a_level(params, seq) -> None:
    for (_, right, _), (p0, p1, l0, l1, _) in zip(seq, _run(params, seq, True), strict=True):
        assert 0.0 < p1 < 1.0
        if not right:
            assert p1 <= p0
            assert l1 <= max(l0, MasteryLevel.ATTEMPTED)


@st.composite
def informative_params(draw: st.DrawFn) -> BKTParams:
    """Parameters under which a wrong answer is real evidence (slip <= 0.25, guess <= 0.4) and
    one answer's learning is far from certain (learn <= 0.4)."""
    value = {
        "prior": draw(st.floats(0.0, 1.0)),
        "learn": draw(st.floats(0.0, 0.4)),
        "guess": draw(st.floats(0.01, 0.4)),
        "slip": draw(st.floats(0.01, 0.25)),
    }
    return BKTParams.from_values(**{name: [v, v] for name, v in value.items()}, forget=[0.0, 0.0])


@given(informative_params(), st.integers(5, 300))
def test_a_wrong_answer_after_any_streak_still_moves_p_known(params, streak) -> None:
    model = _model(params)
    state = model.new_state()
    for _ in range(streak):
        state = model.update(state, Interaction(skills=(0,), correct=True))
    before = model.p_known(state)["a"]
    state = model.update(state, Interaction(skills=(0,), correct=False))
    after = model.p_known(state)["a"]
    assert 0.0 < after < before < 1.0


@given(
    bkt_params(n_skills=2),
    st.lists(st.booleans(), min_size=10, max_size=10).filter(lambda r: sum(r) <= 3),
    st.sampled_from([1.0, 30.0]),
)
def test_three_right_out_of_ten_is_never_mastered(params, rights, hours) -> None:
    seq = [(0, right, hours) for right in rights]
    for *_, level, _ in _run(params, seq, False):
        assert level < MasteryLevel.MASTERED


@given(bkt_params(n_skills=2), answers)
def test_mastery_is_reached_only_on_recent_right_answers(params, seq) -> None:
    was = [False, False]
    for (comp, right, _), (*_, tracker) in zip(seq, _run(params, seq, False), strict=True):
        now = bool(tracker.mastered[0, comp])
        if now and not was[comp]:
            assert right
            assert tracker.recent_right(5)[0, comp] >= 4
        was = [bool(m) for m in tracker.mastered[0]]


@given(bkt_params(n_skills=2), answers)
def test_a_level_is_the_same_however_often_it_is_read(params, seq) -> None:
    often = [step[3] for step in _run(params, seq, True)]
    once = [step[3] for step in _run(params, seq, False)]
    assert often == once
    *_, tracker = list(_run(params, seq, False))[-1]
    first = tracker.levels(np.array([[0.5, 0.9]]))
    assert np.array_equal(first, tracker.levels(np.array([[0.5, 0.9]])))
