"""The teacher's "today" page per class: stuck, ready to move on, reviews due summarised,
assignments due soon or overdue. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests import factories as f
from tests.store.test_assignment_progress import TEACHER, school  # noqa: F401 (fixture)
from zoped.errors import NotFound
from zoped.services import transaction
from zoped.services.assignments import assign
from zoped.services.class_courses import set_class_courses
from zoped.services.courses import import_course
from zoped.services.today import class_today, teacher_today
from zoped.store.evidence_log import EvidenceRepository

NOW = f.T0 + timedelta(days=10)


def _answers(
    session: Session,
    learner_id: str,
    item: str,
    rights: list[bool],
    step: timedelta = timedelta(minutes=10),
    **kw: Any,
) -> None:
    with transaction(session):
        repo = EvidenceRepository(session)
        for k, right in enumerate(rights):
            at = NOW - timedelta(days=9) + k * step
            repo.add(
                f.event(
                    learner_id=learner_id,
                    item_id=item,
                    correct=right,
                    occurred_at=at,
                    recorded_at=at,
                    competency_ids=[],
                    **kw,
                )
            )


def test_today_names_the_stuck_the_ready_and_what_is_due(school: Session) -> None:  # noqa: F811
    # Unit fractions: learner-1 right for days (mastered), learner-2 wrong again and again.
    _answers(school, "learner-1", "q.single", [True] * 16, step=timedelta(hours=13))
    _answers(school, "learner-2", "q.single", [False] * 9)  # stuck on them
    today = class_today(school, actor=TEACHER, class_id="class-1", now=NOW)
    assert today.class_name == "5B"
    assert [(a.learner_id, a.competency_id) for a in today.stuck] == [("learner-2", "frac.unit")]
    assert [(r.learner_id, r.from_title, r.title) for r in today.ready] == [
        ("learner-1", "Unit fractions", "Equivalent fractions")
    ]
    assert today.reviews.n_reviews == 0
    # Weeks later the learner is no longer "ready" (not recent), and recall has faded.
    later = class_today(school, actor=TEACHER, class_id="class-1", now=NOW + timedelta(days=120))
    assert later.ready == ()
    assert later.reviews.n_learners >= 1
    due_id = later.reviews.most_due[0][0]
    assert later.titles[due_id] == "Unit fractions"


def test_today_lists_work_due_soon_or_overdue_and_not_yet_done(school: Session) -> None:  # noqa: F811
    def give(item: str, due_days: int | None, at=NOW - timedelta(days=5)) -> None:
        assign(
            school,
            actor=TEACHER,
            learner_ids=["learner-1", "learner-2"],
            class_id="class-1",
            item_id=item,
            due_at=None if due_days is None else NOW + timedelta(days=due_days),
            now=at,
        )

    give("q.single", 3)  # due soon
    give("q.num", 30)  # later
    give("q.text", None)  # no due date
    give("q.multi", -2, at=NOW - timedelta(days=6))  # overdue
    give("q.order", 1, at=NOW - timedelta(days=10))  # due soon, done by both
    for learner in ("learner-1", "learner-2"):
        _answers(school, learner, "q.order", [True])
    today = class_today(school, actor=TEACHER, class_id="class-1", now=NOW)
    assert [(r.assignment.item_id, r.due) for r in today.assignments] == [
        ("q.multi", "overdue by 2 days"),
        ("q.single", "due Monday 14 September"),
    ]
    overdue = today.assignments[0]
    assert [p.learner_id for p in overdue.overdue] == ["learner-1", "learner-2"]
    assert [c.class_id for c in teacher_today(school, actor=TEACHER, now=NOW)] == ["class-1"]
    with pytest.raises(NotFound):
        class_today(school, actor=f.user(id="learner-1"), class_id="class-1", now=NOW)


def test_today_reads_every_course_the_class_follows(school: Session) -> None:  # noqa: F811
    import_course(school, course=f.course(id="second", prefix="b."), school_id="school-1", now=f.T0)
    set_class_courses(
        school, actor=None, class_id="class-1", course_ids=["fractions", "second"], now=f.T0
    )
    # learner-2 is stuck only in the second course the class follows.
    _answers(school, "learner-2", "b.q.single", [False] * 9)
    today = class_today(school, actor=TEACHER, class_id="class-1", now=NOW)
    assert [(a.learner_id, a.competency_id) for a in today.stuck] == [("learner-2", "b.frac.unit")]
    assert today.course_title == "Fractions · Fractions"
