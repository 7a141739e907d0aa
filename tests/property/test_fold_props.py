"""Folding a learner's evidence in two parts gives the same state as folding it at once: the
property the incremental learner state rests on (issue 13)."""

from __future__ import annotations

import functools
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import REPO
from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.engine.bkt import BKT
from zoped.engine.fold import Replay, continue_replay, learning_graph, replay, step
from zoped.engine.learner_view import compute_states, read_states
from zoped.engine.memory import MemoryModel, MemoryParameters
from zoped.errors import InvalidInput
from zoped.interop.course_file import load_course_file
from zoped.services.models import PlatformModels, default_bkt_params

START = datetime(2026, 9, 1, 8, tzinfo=UTC)


@functools.cache
def _course_and_models() -> tuple[Course, PlatformModels]:
    course = load_course_file(REPO / "zoped" / "content" / "demo_course.yaml")
    ids = np.asarray(list(course.framework.ids), dtype=object)
    bkt = BKT.from_params(default_bkt_params(course), ids)
    return course, PlatformModels(course.id, bkt, MemoryModel(MemoryParameters()), False)


@st.composite
def histories(draw: st.DrawFn) -> list[EvidenceEvent]:
    """A learner's answers (and the odd rubric score and override) in time order."""
    course, _ = _course_and_models()
    leaves = learning_graph(course).ids[:6]
    n = draw(st.integers(1, 40))
    at = START
    events = []
    for k in range(n):
        at += timedelta(minutes=draw(st.sampled_from([2, 40, 60 * 20, 60 * 24 * 3])))
        cid = draw(st.sampled_from(leaves))
        kind = draw(st.sampled_from(["answer"] * 8 + ["rubric", "override"]))
        common: dict[str, Any] = {
            "id": uuid.UUID(int=k + 1),
            "learner_id": "x",
            "occurred_at": at,
            "recorded_at": at,
            "source": EvidenceSource.WEB,
        }
        if kind == "answer":
            item = course.items_for(cid)[0]
            right = draw(st.booleans())
            event = EvidenceEvent(
                kind=EvidenceKind.ANSWER, item_id=item.id, competency_ids=item.competencies,
                correct=right, score=float(right), **common,
            )  # fmt: skip
        elif kind == "rubric":
            event = EvidenceEvent(
                kind=EvidenceKind.RUBRIC_SCORE, competency_ids=(cid,), actor_id="t",
                score=draw(st.sampled_from([0.25, 0.5, 1.0])), **common,
            )  # fmt: skip
        else:
            level = draw(st.integers(0, 4))
            event = EvidenceEvent(
                kind=EvidenceKind.TEACHER_OVERRIDE, competency_ids=(cid,), actor_id="t",
                note="seen in class", score=level / 4, payload={"level": level}, **common,
            )  # fmt: skip
        events.append(event)
    return events


@given(histories(), st.data())
def test_folding_in_two_parts_equals_folding_at_once(events, data) -> None:
    course, models = _course_and_models()
    cut = data.draw(st.integers(0, len(events)))
    now = events[-1].occurred_at + timedelta(days=data.draw(st.sampled_from([0, 1, 30])))
    whole, _ = compute_states(course, models, {"x": events}, now=now)
    first = replay(course, models, {"x": events[:cut]})
    later = first.copy()
    continue_replay(later, course, {"x": events[cut:]})
    parts = read_states(later, course, now=now)
    assert parts == whole
    # The copy left the first part's fold as it was.
    again = replay(course, models, {"x": events[:cut]})
    assert read_states(first, course, now=now) == read_states(again, course, now=now)


@given(histories(), st.data())
def test_a_stored_fold_continues_like_the_whole(events, data) -> None:
    """A fold written as a JSON document and read back continues as if never stored."""
    course, models = _course_and_models()
    cut = data.draw(st.integers(0, len(events)))
    now = events[-1].occurred_at + timedelta(days=data.draw(st.sampled_from([0, 2, 40])))
    whole, _ = compute_states(course, models, {"x": events}, now=now)
    text = json.dumps(replay(course, models, {"x": events[:cut]}).to_doc(0), allow_nan=False)
    stored = Replay.from_docs(course, models, ["x"], [json.loads(text)])
    continue_replay(stored, course, {"x": events[cut:]})
    assert read_states(stored, course, now=now) == whole


def test_a_stored_fold_of_another_course_is_refused() -> None:
    course, models = _course_and_models()
    doc = replay(course, models, {"x": []}).to_doc(0)
    doc["known"] = doc["known"][:-1]
    with pytest.raises(InvalidInput):
        Replay.from_docs(course, models, ["x"], [doc])


@given(histories())
def test_a_replay_is_a_fold_of_pure_steps(events) -> None:
    """Stepping through the events one at a time gives the replay's state; a step never
    changes the fold it starts from, and a wrong answer never raises the level it reports."""
    course, models = _course_and_models()
    now = events[-1].occurred_at + timedelta(hours=1)
    whole = replay(course, models, {"x": events})
    fold = replay(course, models, {"x": []})
    for event in events:
        kept = json.dumps(fold.to_doc(0))
        later, changes = step(fold, course, event)
        assert json.dumps(fold.to_doc(0)) == kept, "step changed its input"
        if event.kind is EvidenceKind.ANSWER and not event.correct:
            assert all(c.level_after <= max(c.level_before, 1) for c in changes)
            assert all(c.p_known_after <= c.p_known_before for c in changes)
        fold = later
    assert read_states(fold, course, now=now) == read_states(whole, course, now=now)


@given(histories(), st.integers(0, 60 * 60 * 24 * 90))
def test_a_class_reads_recall_and_review_dates_as_the_memory_model_does_cell_by_cell(
    events: list[EvidenceEvent], later_s: int
) -> None:
    """The class page reads every learner's recall and review date in one numpy pass: the
    same numbers as the memory model's own functions, one competency at a time."""
    course, models = _course_and_models()
    rep = replay(course, models, {"x": events, "y": events[: len(events) // 2], "z": []})
    now_s = events[-1].occurred_at.timestamp() + later_s
    recall, due = rep.retrievability(now_s), rep.review_due_s(0.8)
    memory = models.memory
    for row, state in enumerate(rep.memory_states):
        for code in range(rep.graph.n):
            if code in state.skills:
                assert recall[row, code] == memory.retrievability(state, code, now_s)
                assert due[row, code] == memory.next_review_s(state, code, 0.8)
            else:
                assert recall[row, code] == 1.0
                assert np.isnan(due[row, code])
