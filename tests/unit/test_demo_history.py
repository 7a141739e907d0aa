"""The demo school's simulated histories: deterministic, varied, valid."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from tests.conftest import DEMO_NOW, REPO
from zoped.interop.course_file import load_course_file
from zoped.services.demo_history import Archetype, archetypes_for, simulate_history

NOW = DEMO_NOW
COURSE = load_course_file(REPO / "zoped" / "content" / "demo_course.yaml")


def _history(kind: Archetype, seed: int = 1):
    return simulate_history(COURSE, "x", kind, rng=random.Random(seed), now=NOW)


def test_same_seed_same_history():
    first = [e.content_fingerprint() for e in _history(Archetype.TYPICAL)]
    second = [e.content_fingerprint() for e in _history(Archetype.TYPICAL)]
    assert first == second
    assert first != [e.content_fingerprint() for e in _history(Archetype.TYPICAL, seed=2)]


def test_histories_end_before_now_and_inactive_learners_stopped_long_ago():
    for kind in Archetype:
        events = _history(kind)
        assert events, kind
        assert max(e.occurred_at for e in events) < NOW
    inactive = _history(Archetype.INACTIVE)
    assert NOW - max(e.occurred_at for e in inactive) > timedelta(days=14)


def test_no_event_is_dated_after_the_reference_time_whatever_its_hour():
    # Each active archetype practises on its last day in some seeds: the newest of those
    # sessions must still end before the reference time, early or late in the day.
    for hour in (0, 9, 17, 23):
        now = NOW.replace(hour=hour, minute=59)
        newest = []
        for kind in (Archetype.FAST, Archetype.TYPICAL, Archetype.GAPS):
            for seed in range(12):
                events = simulate_history(COURSE, "x", kind, rng=random.Random(seed), now=now)
                assert all(e.occurred_at <= now and e.recorded_at <= now for e in events)
                newest.append(now - max(e.occurred_at for e in events))
        assert min(newest) < timedelta(days=1), "no history reaches the last day"


def test_fast_learners_get_further_than_slow_ones():
    def reached(kind: Archetype) -> float:
        counts = []
        for seed in range(5):
            history = _history(kind, seed)
            competencies = {c for e in history if e.correct for c in e.competency_ids}
            counts.append(len(competencies))
        return sum(counts) / len(counts)

    assert reached(Archetype.FAST) > reached(Archetype.SLOW)


def test_a_class_mixes_every_archetype():
    mix = Counter(archetypes_for(20))
    assert set(mix) == set(Archetype)
    assert mix[Archetype.TYPICAL] > mix[Archetype.INACTIVE]
