"""Suggested small groups and peer tutors (pure engine functions)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoped.engine.grouping import (
    GroupingConfig,
    PeerTutorMatch,
    SuggestedGroup,
    suggest_groups,
    suggest_peer_tutors,
)
from zoped.engine.mastery import MasteryLevel as L
from zoped.errors import InvalidInput


def test_learners_with_the_same_next_competency_form_a_group():
    groups = suggest_groups(
        {"ana": "b", "ben": "a", "cai": "b", "dee": "c", "eli": None, "fay": "a"},
        order=["a", "b", "c"],
    )
    assert groups == [SuggestedGroup("a", ("ben", "fay")), SuggestedGroup("b", ("ana", "cai"))]


def test_a_learner_alone_on_a_competency_gets_no_group():
    assert suggest_groups({"ana": "a", "ben": "b"}) == []


def test_a_crowd_is_split_into_balanced_small_groups():
    members = {f"l{i:02}": "a" for i in range(11)}
    groups = suggest_groups(members, config=GroupingConfig(max_size=4))
    assert [len(g.learner_ids) for g in groups] == [4, 4, 3]
    assert sorted(x for g in groups for x in g.learner_ids) == sorted(members)


def test_grouping_config_reports_every_bad_value():
    with pytest.raises(InvalidInput) as error:
        GroupingConfig(min_size=0, max_learners_per_tutor=0)
    assert {p.location for p in error.value.problems} == {"min_size", "max_learners_per_tutor"}
    with pytest.raises(InvalidInput):
        GroupingConfig(min_size=4, max_size=3)


def test_a_peer_tutor_has_mastered_what_the_learner_is_stuck_on():
    levels = {
        "ana": {"a": L.FAMILIAR},
        "ben": {"a": L.MASTERED},
        "cai": {"a": L.REVIEW_DUE},
        "dee": {"a": L.PROFICIENT},
    }
    assert suggest_peer_tutors({"ana": ["a"]}, levels) == [PeerTutorMatch("a", "ana", "ben")]


def test_no_tutor_when_nobody_mastered_it_and_never_oneself():
    levels = {"ana": {"a": L.MASTERED}, "ben": {"a": L.REVIEW_DUE}}
    assert suggest_peer_tutors({"ana": ["a"]}, levels) == []


def test_tutoring_load_is_shared():
    levels = {
        "t1": {"a": L.MASTERED},
        "t2": {"a": L.MASTERED},
        **{f"s{i}": {"a": L.ATTEMPTED} for i in range(5)},
    }
    matches = suggest_peer_tutors(
        {f"s{i}": ["a"] for i in range(5)}, levels, config=GroupingConfig(max_learners_per_tutor=2)
    )
    assert len(matches) == 4
    tutors = [m.tutor_id for m in matches]
    assert tutors.count("t1") == 2
    assert tutors.count("t2") == 2


def _tutors_by_scanning(stuck_on, levels, max_load):
    """The matching rule read plainly: each (competency, learner) in order takes the least
    loaded free master (ties by id) that is not themself."""
    load: dict[str, int] = {}
    out = []
    for competency, learner in sorted((c, x) for x, cs in stuck_on.items() for c in set(cs)):
        free = [
            t
            for t, by in levels.items()
            if t != learner and by.get(competency) == L.MASTERED and load.get(t, 0) < max_load
        ]
        if free:
            tutor = min(free, key=lambda t: (load.get(t, 0), t))
            load[tutor] = load.get(tutor, 0) + 1
            out.append(PeerTutorMatch(competency, learner, tutor))
    return out


@given(
    levels=st.dictionaries(
        st.sampled_from("abcdefgh"),
        st.dictionaries(st.sampled_from("xyz"), st.sampled_from([L.MASTERED, L.FAMILIAR])),
    ),
    stuck=st.dictionaries(st.sampled_from("abcdefgh"), st.lists(st.sampled_from("xyz"))),
    max_load=st.integers(1, 3),
)
def test_tutor_matching_follows_the_plain_rule(levels, stuck, max_load):
    config = GroupingConfig(max_learners_per_tutor=max_load)
    found = suggest_peer_tutors(stuck, levels, config=config)
    assert found == _tutors_by_scanning(stuck, levels, max_load)
