"""Course import: one transaction, a faithful round trip, re-import replaces in place."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain import Course, Framework, Role
from zoped.errors import Conflict, NotFound, PermissionDenied
from zoped.services.courses import get_course, import_course, list_course_ids
from zoped.store.repositories import CourseRepository
from zoped.store.tables import (
    activities,
    assignments,
    audit_log,
    competencies,
    competency_prerequisites,
    courses,
    item_competencies,
    items,
    rubrics,
)

CONTENT_TABLES = (courses, competencies, competency_prerequisites, activities, items, rubrics)

NOW = f.T0


def counts(session: Session) -> dict[str, int]:
    return {
        t.name: session.scalar(select(func.count()).select_from(t)) or 0
        for t in (*CONTENT_TABLES, item_competencies)
    }


def test_a_course_round_trips_equal(roster: Session) -> None:
    course = f.course()
    summary = import_course(roster, course=course, now=f.T0)
    assert summary.created
    assert (summary.competencies, summary.activities, summary.items, summary.rubrics) == (
        4,
        2,
        5,
        1,
    )
    roster.expunge_all()
    stored = get_course(roster, course_id="fractions")
    assert stored == course
    # Order matters to learners and to the engine: prerequisites keep the file's order.
    assert stored.framework.get("frac.add").prerequisites == ("frac.equiv", "frac.unit")
    assert stored.item("q.multi").competencies == ("frac.equiv", "frac.unit")
    assert list_course_ids(roster) == ["fractions"]


def test_reimport_updates_in_place_and_drops_what_is_gone(roster: Session) -> None:
    import_course(roster, course=f.course(), now=f.T0)
    # A teacher assigned the strips activity; it must survive a re-import that keeps it.
    roster.execute(
        assignments.insert().values(
            id=uuid.uuid4(),
            assigned_by="teacher-1",
            activity_id="act.strips",
            learner_id="learner-1",
            assigned_at=f.T0,
        )
    )
    roster.commit()
    old = f.course()
    new_item = dataclasses.replace(old.items[0], id="q.new", stem="A new question?")
    changed = f.course(
        title="Fractions, revised",
        items=[dataclasses.replace(old.items[0], stem="Which part is shaded?"), new_item],
        framework=Framework.build(f.competencies()[:3]),
        activities=[old.activities[0]],
        rubrics=[],
    )
    summary = import_course(roster, course=changed, now=f.T0)
    assert not summary.created
    roster.expunge_all()
    assert get_course(roster, course_id="fractions") == changed
    assert counts(roster)["competencies"] == 3
    assert counts(roster)["items"] == 2
    assert roster.scalar(select(func.count()).select_from(assignments)) == 1
    actions = list(roster.scalars(select(audit_log.c.action).order_by(audit_log.c.id)))
    assert actions[-2:] == ["course.import", "course.reimport"]


def test_ids_owned_by_another_course_are_a_conflict_and_nothing_is_written(
    roster: Session,
) -> None:
    import_course(roster, course=f.course(), now=f.T0)
    before = counts(roster)
    with pytest.raises(Conflict, match=r"items: q\.single \(in course fractions\)"):
        import_course(roster, course=f.course(id="copy"), now=f.T0)
    assert counts(roster) == before
    # With its own ids, a second course can live beside the first.
    import_course(roster, course=f.course(id="copy", prefix="b-"), now=f.T0)
    assert list_course_ids(roster) == ["copy", "fractions"]


@pytest.mark.parametrize("reimport", [False, True])
def test_a_database_error_mid_import_rolls_everything_back(
    roster: Session, monkeypatch: pytest.MonkeyPatch, reimport: bool
) -> None:
    if reimport:
        import_course(roster, course=f.course(), now=f.T0)
    before = counts(roster)

    def fail(self: CourseRepository, course: Course) -> None:
        raise OperationalError("INSERT INTO item_competencies", {}, Exception("disk full"))

    # The links are written after the course, competencies, activities and items.
    monkeypatch.setattr(CourseRepository, "_replace_links", fail)
    with pytest.raises(OperationalError):
        import_course(roster, course=f.course(title="Half written"), now=f.T0)
    assert counts(roster) == before
    if reimport:
        assert get_course(roster, course_id="fractions") == f.course()
    else:
        with pytest.raises(NotFound):
            get_course(roster, course_id="fractions")


def test_learners_may_not_import(roster: Session) -> None:
    with pytest.raises(PermissionDenied):
        import_course(roster, actor=f.user(Role.LEARNER), course=f.course(), now=NOW)
    assert counts(roster)["courses"] == 0
    summary = import_course(
        roster, actor=f.user(Role.TEACHER, id="teacher-1"), course=f.course(), now=NOW
    )
    assert summary.created
    assert roster.scalar(select(courses.c.imported_by)) == "teacher-1"


def test_a_course_read_again_after_a_reimport_at_the_same_moment_is_the_new_one(
    roster: Session,
) -> None:
    """Courses are kept in memory between requests by revision: a re-import (even one stamped
    with the same time) is read afresh, and a read of the same revision is the same course."""
    import_course(roster, course=f.course(), now=NOW)
    first = get_course(roster, course_id="fractions")
    assert get_course(roster, course_id="fractions") is first
    renamed = dataclasses.replace(f.course(), title="Fractions, second edition")
    import_course(roster, course=renamed, now=NOW)
    assert get_course(roster, course_id="fractions").title == "Fractions, second edition"
