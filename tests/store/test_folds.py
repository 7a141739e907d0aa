"""The stored fold equals a fold of the whole log, on SQLite and PostgreSQL, whatever arrives:
answers in order and late, rubric scores, overrides and their undos, accepted prior learning,
finished placement checks (issue 13's snapshot-equals-replay property)."""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.conftest import REPO
from zoped.domain import Enrollment, Role
from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.engine.fold import learning_graph
from zoped.engine.learner_view import compute_states
from zoped.interop.course_file import load_course_file
from zoped.services import pathways, transaction
from zoped.services.class_courses import set_class_courses
from zoped.services.courses import import_course, list_course_ids
from zoped.services.evidence import list_evidence, record_evidence
from zoped.services.models import platform_models
from zoped.services.pathways import learner_state
from zoped.services.roster import create_class, create_user, enroll_learner
from zoped.store import evidence_log, jsondocs
from zoped.store.learning_repositories import PlacementRepository
from zoped.store.tables import learner_folds


@functools.cache
def _course() -> Course:
    return load_course_file(REPO / "zoped" / "content" / "demo_course.yaml")


LEAVES = learning_graph(_course()).ids[:5]
ops = st.lists(
    st.tuples(
        st.sampled_from(
            ["answer"] * 6 + ["late", "rubric", "override", "undo", "claim", "placement"]
        ),
        st.sampled_from(LEAVES),
        st.booleans(),
        st.sampled_from([3, 90, 60 * 26]),
    ),
    min_size=1,
    max_size=14,
)


def _learner_on_course(roster: Session, prefix: str) -> tuple[Course, Any]:
    """The demo course in school-1 (imported once per database: examples share it), followed
    by a class, and a new learner of that class."""
    course = _course()
    if course.id not in list_course_ids(roster, school_id="school-1"):
        import_course(roster, course=course, school_id="school-1", now=f.T0)
        create_class(roster, school_class=f.school_class(id="folds"), now=f.T0)
        set_class_courses(roster, actor=None, class_id="folds", course_ids=[course.id], now=f.T0)
    learner = f.user(Role.LEARNER, id=f"{prefix}-{uuid.uuid4().hex[:8]}")
    create_user(roster, user=learner, now=f.T0)
    enroll_learner(roster, enrollment=Enrollment("folds", learner.id), now=f.T0)
    return course, learner


def _event(kind: EvidenceKind, learner: str, at: Any, **fields: Any) -> EvidenceEvent:
    return EvidenceEvent(
        id=uuid.uuid4(), learner_id=learner, kind=kind, occurred_at=at, recorded_at=at,
        source=EvidenceSource.WEB, **fields,
    )  # fmt: skip


@settings(max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=ops)
# An answer dated before a placement check already folded (found by this property).
@example(steps=[("placement", LEAVES[0], False, 3), ("late", LEAVES[0], False, 3)])
# A late answer before a placement that a checkpoint folded after its last event.
@example(
    steps=[
        ("answer", LEAVES[0], False, 3), ("placement", LEAVES[0], False, 1560),
        ("late", LEAVES[0], False, 3), ("answer", LEAVES[0], False, 1560),
        ("late", LEAVES[0], False, 3),
    ]
)  # fmt: skip
def test_the_stored_fold_equals_the_whole_fold(
    roster: Session, steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checkpoints every 2 events, 2 kept: late events here are folded from them, or from scratch.
    monkeypatch.setattr(pathways, "CHECKPOINT_EVERY", 2)
    monkeypatch.setattr(pathways, "CHECKPOINTS_KEPT", 2)
    course, learner = _learner_on_course(roster, "fold")
    at = f.T0 + timedelta(days=1)
    overrides: list[EvidenceEvent] = []
    n_events = 0
    for kind, cid, right, minutes in steps:
        at += timedelta(minutes=minutes)
        when = at - timedelta(days=2) if kind == "late" else at
        item = course.items_for(cid)[0]
        if kind == "placement":
            _place(roster, learner.id, course.id, cid, right, when)
        elif kind in ("answer", "late"):
            event = _event(
                EvidenceKind.ANSWER, learner.id, when, item_id=item.id,
                competency_ids=item.competencies, correct=right, score=float(right),
            )  # fmt: skip
        elif kind == "rubric":
            event = _event(
                EvidenceKind.RUBRIC_SCORE, learner.id, when, competency_ids=(cid,),
                score=1.0 if right else 0.25, actor_id="teacher-1",
            )  # fmt: skip
        elif kind == "override" or (kind == "undo" and not overrides):
            event = _event(
                EvidenceKind.TEACHER_OVERRIDE, learner.id, when, competency_ids=(cid,),
                score=0.75, payload={"level": 3}, actor_id="teacher-1", note="seen in class",
            )  # fmt: skip
            overrides.append(event)
        elif kind == "undo":
            undone = overrides.pop()
            event = _event(
                EvidenceKind.TEACHER_OVERRIDE, learner.id, when, supersedes=undone.id,
                competency_ids=undone.competency_ids, score=0.0, actor_id="teacher-1", note="undo",
            )  # fmt: skip
        else:
            event = _event(
                EvidenceKind.PRIOR_LEARNING, learner.id, when, competency_ids=(cid,),
                payload={"level": 3}, actor_id="teacher-1", note="accepted claim",
            )  # fmt: skip
        if kind != "placement":
            record_evidence(roster, event=event)
            n_events += 1
        now = at + timedelta(hours=1)
        stored = learner_state(roster, actor=learner, learner_id=learner.id, now=now)
        events = list_evidence(roster, learner_id=learner.id, limit=100_000)
        placed = PlacementRepository(roster).finished(learner.id, course.id)
        models = platform_models(roster, course=course)
        whole, _ = compute_states(
            course, models, {learner.id: events}, now=now, placements={learner.id: placed}
        )
        assert stored == whole[learner.id]
    folded = roster.scalar(
        select(learner_folds.c.n_events).where(learner_folds.c.learner_id == learner.id)
    )
    assert folded == n_events


def _place(session: Session, learner: str, course: str, cid: str, high: bool, at: Any) -> None:
    """A placement check that finished at ``at`` and placed ``cid`` (high or low)."""
    result = {"levels": {cid: 3 if high else 1}, "p_known": {cid: 0.9 if high else 0.2}}
    with transaction(session):
        PlacementRepository(session).add(
            {
                "id": uuid.uuid4(), "learner_id": learner, "course_id": course,
                "status": "finished", "state": jsondocs.dump("placement_state", {"result": result}),
                "started_at": at, "updated_at": at, "finished_at": at,
            }
        )  # fmt: skip


def test_a_late_event_is_folded_from_the_checkpoint_before_it(
    roster: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A late answer dated among the last events re-folds from the newest checkpoint before
    it, reading only the events after that checkpoint, and gives the whole fold's state."""
    monkeypatch.setattr(pathways, "CHECKPOINT_EVERY", 5)
    course, learner = _learner_on_course(roster, "late")
    item = course.items_for(LEAVES[0])[0]
    start = f.T0 + timedelta(days=1)

    def answer(minutes: int, right: bool) -> None:
        at = start + timedelta(minutes=minutes)
        record_evidence(roster, event=_event(
            EvidenceKind.ANSWER, learner.id, at, item_id=item.id,
            competency_ids=item.competencies, correct=right, score=float(right),
        ))  # fmt: skip

    now = start + timedelta(days=1)
    for k in range(20):
        answer(10 * k, k % 3 != 0)
        learner_state(roster, actor=learner, learner_id=learner.id, now=now)
    reads: list[dict[str, Any] | None] = []
    real = evidence_log.list_events_for_learners

    def spy(session: Session, ids: Any, **kw: Any) -> Any:
        reads.append(kw.get("after"))
        return real(session, ids, **kw)

    monkeypatch.setattr(pathways, "list_events_for_learners", spy)
    answer(10 * 17 + 5, False)  # between the 18th and 19th answers
    stored = learner_state(roster, actor=learner, learner_id=learner.id, now=now)
    assert reads[-1] is not None, "folded from scratch"
    assert learner.id in reads[-1], "folded from scratch"
    events = list_evidence(roster, learner_id=learner.id, limit=100_000)
    models = platform_models(roster, course=course)
    whole, _ = compute_states(course, models, {learner.id: events}, now=now)
    assert stored == whole[learner.id]
