"""Merging a multi-skill response stored once per skill (``zoped.engine.expanded``)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from zoped.engine.expanded import expanded_copies, merge_expanded_rows

from ..factories import make_log

# Rows of two learners over three items and four skills, with runs of repeats likely.
rows = st.lists(
    st.tuples(
        st.integers(0, 1),  # learner
        st.integers(-1, 2),  # item (-1: none)
        st.lists(st.integers(0, 3), min_size=1, max_size=2, unique=True),
        st.integers(0, 1),  # correct
    ),
    min_size=1,
    max_size=30,
)


def log_of(data):
    data = sorted(data, key=lambda r: r[0])  # grouped by learner, order kept within one
    return make_log(
        [r[0] for r in data], [r[1] for r in data], [tuple(r[2]) for r in data],
        [r[3] for r in data], n_items=3, n_skills=4,
    )  # fmt: skip


def skills_of(log, r):
    return list(log.skill_idx[log.skill_ptr[r] : log.skill_ptr[r + 1]])


@settings(max_examples=300, deadline=None)
@given(rows)
def test_each_run_of_copies_becomes_its_first_row_with_every_skill(data):
    log = log_of(data)
    merged = merge_expanded_rows(log)
    merged.validate()
    copy = expanded_copies(log)
    assert len(merged) == len(log) - copy.sum()
    first = np.flatnonzero(~copy)
    for m, (start, end) in enumerate(zip(first, [*first[1:], len(log)], strict=True)):
        assert merged.learner[m] == log.learner[start]
        assert merged.item[m] == log.item[start]
        assert merged.correct[m] == log.correct[start]
        assert merged.order[m] == log.order[start]
        expected: list[int] = []
        for r in range(start, end):
            expected += [k for k in skills_of(log, r) if k not in expected]
        assert skills_of(merged, m) == expected
    assert not expanded_copies(merged).any()


@settings(max_examples=200, deadline=None)
@given(rows)
def test_copies_are_same_learner_item_and_outcome_only(data):
    log = log_of(data)
    copy = expanded_copies(log)
    for r in range(1, len(log)):
        same = (
            log.learner[r] == log.learner[r - 1]
            and log.item[r] == log.item[r - 1] >= 0
            and log.correct[r] == log.correct[r - 1]
        )
        assert copy[r] == same
    assert not copy[0]


def test_two_answers_that_differ_are_two_attempts_and_time_stamps_must_agree():
    log = make_log([0, 0, 0, 0], [1, 1, 1, 1], [(0,), (1,), (2,), (3,)], [1, 1, 0, 0])
    assert expanded_copies(log).tolist() == [False, True, False, True]
    merged = merge_expanded_rows(log)
    assert merged.meta["merged_copies"] == 2
    assert [skills_of(merged, 0), skills_of(merged, 1)] == [[0, 1], [2, 3]]
    timed = type(log)(**{**vars(log), "timestamp_s": np.array([0.0, 0.0, 5.0, 9.0])})
    assert expanded_copies(timed).tolist() == [False, True, False, False]


def test_a_log_without_copies_is_returned_as_is():
    log = make_log([0, 0, 1], [0, 1, 1], [(0,), (0,), (0,)], [1, 1, 1])
    assert merge_expanded_rows(log) is log
