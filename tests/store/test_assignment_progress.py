"""Assignments are done by what the learner did after they were made, never by the act of
assigning; the learner's list and the class's report read the same rule. On SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain.assignments import ANSWERS_FOR_DONE, AssignmentStatus
from zoped.domain.evidence import EvidenceKind
from zoped.domain.people import Enrollment, Role
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, NotFound
from zoped.services import transaction
from zoped.services.assignments import assign, class_assignments, learner_assignments
from zoped.services.class_courses import set_class_courses
from zoped.services.courses import import_course
from zoped.services.roster import create_class, enroll_learner
from zoped.store.evidence_log import EvidenceRepository
from zoped.store.tables import audit_log

T1 = f.T0 + timedelta(days=3)
TEACHER = f.user(Role.TEACHER, id="teacher-1")
LEARNER = f.user(Role.LEARNER, id="learner-1")
OTHER = f.user(Role.LEARNER, id="learner-2")


@pytest.fixture
def school(roster: Session) -> Session:
    """class-1 (taught by teacher-1) holds learner-1 and learner-2 and follows the course."""
    import_course(roster, course=f.course(), school_id="school-1", now=f.T0)
    create_class(roster, school_class=f.school_class(teacher_ids=("teacher-1",)), now=f.T0)
    set_class_courses(roster, actor=None, class_id="class-1", course_ids=["fractions"], now=f.T0)
    for learner_id in ("learner-1", "learner-2"):
        enroll_learner(roster, enrollment=Enrollment("class-1", learner_id), now=f.T0)
    return roster


def _record(session: Session, **fields: Any) -> None:
    with transaction(session):
        EvidenceRepository(session).add(f.event(**fields))


def _answer(session: Session, at, *, item: str = "q.single", right: bool = True, **more: Any):
    _record(session, occurred_at=at, recorded_at=at, item_id=item, correct=right, **more)


def _mine(session: Session, now=T1, learner=LEARNER, **kw: Any):
    return learner_assignments(session, actor=learner, learner_id=learner.id, now=now, **kw)


def test_work_the_learner_already_did_does_not_make_new_work_done(school: Session) -> None:
    # The "done the moment it is made": the learner has practised this competency a
    # lot, and masters it; the old rule (done = mastered) closed the new assignment at once.
    for k in range(12):
        _answer(school, f.T0 + timedelta(hours=k), competency_ids=[])
    made = assign(
        school, actor=TEACHER, learner_ids=["learner-1"], activity_id="act.strips", now=T1
    )
    # Nor does a teacher's word after it: an override to mastered is not the learner's work.
    _record(
        school,
        kind=EvidenceKind.TEACHER_OVERRIDE,
        item_id=None,
        correct=None,
        score=1.0,
        competency_ids=["frac.unit"],
        actor_id="teacher-1",
        note="knows it",
        occurred_at=T1 + timedelta(minutes=1),
    )
    [progress] = _mine(
        school, now=T1 + timedelta(hours=1), levels={"frac.unit": MasteryLevel.MASTERED}
    )
    assert progress.assignment.id == made.id
    assert progress.status is AssignmentStatus.NOT_STARTED
    assert progress.open_for_learner
    assert progress.answers == 0


def test_an_item_is_started_by_a_wrong_answer_and_done_by_a_right_one(school: Session) -> None:
    assign(school, actor=TEACHER, learner_ids=["learner-1"], item_id="q.single", now=T1)
    [progress] = _mine(school)
    assert progress.assignment.title == "A question on Unit fractions"
    assert progress.status is AssignmentStatus.NOT_STARTED
    _answer(school, T1 + timedelta(minutes=5), right=False)
    _answer(school, T1 + timedelta(minutes=6), item="q.num")  # another item: not this work
    [progress] = _mine(school, now=T1 + timedelta(hours=1))
    assert (progress.status, progress.answers, progress.right) == (AssignmentStatus.STARTED, 1, 0)
    _answer(school, T1 + timedelta(minutes=7))
    [progress] = _mine(school, now=T1 + timedelta(hours=1))
    assert progress.status is AssignmentStatus.DONE
    assert progress.done_at == T1 + timedelta(minutes=7)
    assert not progress.open_for_learner


def test_an_activity_is_done_by_its_completion_or_enough_answers(school: Session) -> None:
    later = T1 + timedelta(days=1)
    assign(school, actor=TEACHER, learner_ids=["learner-1"], activity_id="act.strips", now=T1)
    assign(
        school,
        actor=TEACHER,
        learner_ids=["learner-1", "learner-2"],
        class_id="class-1",
        activity_id="act.strips",
        now=T1 + timedelta(minutes=1),
    )
    for k in range(ANSWERS_FOR_DONE - 1):
        _answer(school, T1 + timedelta(minutes=10 + k), item="q.num", competency_ids=[])
    statuses = [p.status for p in _mine(school, now=later)]
    assert statuses == [AssignmentStatus.STARTED, AssignmentStatus.STARTED]
    _answer(school, T1 + timedelta(minutes=30), item="q.text", right=False, competency_ids=[])
    statuses = [p.status for p in _mine(school, now=later)]
    assert statuses == [AssignmentStatus.DONE, AssignmentStatus.DONE]
    # learner-2 completes the activity itself: done; a progress report alone only starts it.
    _record(
        school,
        learner_id="learner-2",
        kind=EvidenceKind.ACTIVITY_PROGRESS,
        item_id=None,
        correct=None,
        score=0.5,
        activity_id="act.strips",
        occurred_at=T1 + timedelta(minutes=40),
    )
    [theirs] = _mine(school, now=later, learner=OTHER)
    assert theirs.status is AssignmentStatus.STARTED
    _record(
        school,
        learner_id="learner-2",
        kind=EvidenceKind.ACTIVITY_COMPLETION,
        item_id=None,
        correct=None,
        score=1.0,
        activity_id="act.strips",
        occurred_at=T1 + timedelta(minutes=50),
    )
    [theirs] = _mine(school, now=later, learner=OTHER)
    assert (theirs.status, theirs.completed) == (AssignmentStatus.DONE, True)


def test_work_not_done_by_its_due_date_is_overdue_and_said_so(school: Session) -> None:
    due = T1 + timedelta(days=2)  # Sun 6 Sep 2026, 08:00
    assign(
        school,
        actor=TEACHER,
        learner_ids=["learner-1"],
        item_id="q.single",
        due_at=due,
        note="Before the quiz",
        now=T1,
    )
    [progress] = _mine(school)
    assert progress.due == "due Sunday 6 September"
    assert progress.assignment.note == "Before the quiz"
    [progress] = _mine(school, now=due + timedelta(days=2))
    assert (progress.status, progress.due) == (AssignmentStatus.OVERDUE, "overdue by 2 days")
    _answer(school, due + timedelta(days=2, minutes=1))
    [progress] = _mine(school, now=due + timedelta(days=3))
    assert (progress.status, progress.due) == (AssignmentStatus.DONE, "")


def test_done_work_whose_competency_faded_comes_back_to_the_learner(school: Session) -> None:
    assign(school, actor=TEACHER, learner_ids=["learner-1"], item_id="q.single", now=T1)
    _answer(school, T1 + timedelta(minutes=1))
    [progress] = _mine(school, now=T1 + timedelta(days=40), levels={"frac.unit": "review due"})
    assert progress.status is AssignmentStatus.DONE
    assert progress.to_review == ()  # a level that is not one of ours: nothing to review
    faded = {"frac.unit": MasteryLevel.REVIEW_DUE}
    [progress] = _mine(school, now=T1 + timedelta(days=40), levels=faded)
    assert (progress.status, progress.to_review) == (AssignmentStatus.DONE, ("Unit fractions",))
    assert progress.open_for_learner


def test_the_teacher_sees_each_learners_status_and_others_see_nothing(school: Session) -> None:
    assign(
        school,
        actor=TEACHER,
        learner_ids=["learner-1", "learner-2"],
        class_id="class-1",
        item_id="q.single",
        now=T1,
    )
    _answer(school, T1 + timedelta(minutes=1))
    [report] = class_assignments(school, actor=TEACHER, class_id="class-1", now=T1 + timedelta(1))
    assert [(p.learner_id, p.status) for p in report.learners] == [
        ("learner-1", AssignmentStatus.DONE),
        ("learner-2", AssignmentStatus.NOT_STARTED),
    ]
    assert report.count(AssignmentStatus.DONE) == 1
    assert not report.all_done
    with pytest.raises(NotFound):  # a learner reads only their own
        learner_assignments(school, actor=OTHER, learner_id="learner-1", now=T1)
    with pytest.raises(NotFound):
        class_assignments(school, actor=LEARNER, class_id="class-1", now=T1)


def test_the_learners_list_is_audited_once_per_read(school: Session) -> None:
    assign(school, actor=TEACHER, learner_ids=["learner-1"], item_id="q.single", now=T1)
    assign(school, actor=TEACHER, learner_ids=["learner-1"], activity_id="act.strips", now=T1)

    def reads() -> int:
        stmt = select(func.count()).where(
            audit_log.c.actor_id == "learner-1", audit_log.c.action == "read"
        )
        return int(school.scalar(stmt) or 0)

    before = reads()
    assert len(_mine(school)) == 2
    assert reads() == before + 1


def test_bad_assignments_are_refused_and_change_nothing(school: Session) -> None:
    with pytest.raises(InvalidInput) as refused:
        assign(
            school,
            actor=TEACHER,
            learner_ids=["learner-1"],
            item_id="q.single",
            due_at=T1 - timedelta(days=1),
            note="x" * 501,
            now=T1,
        )
    assert {p.location for p in refused.value.problems} == {"due_at", "note"}
    assert _mine(school) == []
