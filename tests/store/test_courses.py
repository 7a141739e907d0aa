"""Course import into a school: one transaction, a faithful round trip, re-import replaces in
place after a preview, and nothing crosses schools. Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain import Course, Framework, Role, School
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zoped.services.courses import (
    get_course,
    import_course,
    list_course_ids,
    preview_course_import,
    school_courses,
)
from zoped.services.evidence import record_evidence
from zoped.services.roster import create_school, create_user
from zoped.store.course_repository import CourseRepository, derived_key
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
S1 = "school-1"


def counts(session: Session) -> dict[str, int]:
    return {
        t.name: session.scalar(select(func.count()).select_from(t)) or 0
        for t in (*CONTENT_TABLES, item_competencies)
    }


def second_school(session: Session) -> None:
    """school-2 with a teacher, teacher-2."""
    create_school(session, school=School("school-2", "Other School"), now=NOW)
    create_user(session, user=f.user(Role.TEACHER, id="teacher-2", school_id="school-2"), now=NOW)


def test_a_course_round_trips_equal(roster: Session) -> None:
    course = f.course()
    summary = import_course(roster, course=course, school_id=S1, now=f.T0)
    assert summary.created
    assert (summary.key, summary.school_id) == ("fractions", S1)
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
    assert list_course_ids(roster, school_id=S1) == ["fractions"]


def test_reimport_updates_in_place_and_drops_what_is_gone_once_confirmed(roster: Session) -> None:
    import_course(roster, course=f.course(), school_id=S1, now=f.T0)
    # A teacher assigned the strips activity; it must survive a re-import that keeps it.
    roster.execute(
        assignments.insert().values(
            id=uuid.uuid4(),
            assigned_by="teacher-1",
            course_id="fractions",
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
    before = counts(roster)
    with pytest.raises(Conflict, match="confirm"):
        import_course(roster, course=changed, school_id=S1, now=f.T0)
    assert counts(roster) == before
    summary = import_course(roster, course=changed, school_id=S1, now=f.T0, confirm=True)
    assert not summary.created
    assert summary.removed == 1 + 4 + 1 + 1  # a competency, 4 items, an activity, a rubric
    roster.expunge_all()
    assert get_course(roster, course_id="fractions") == changed
    assert counts(roster)["competencies"] == 3
    assert counts(roster)["items"] == 2
    assert roster.scalar(select(func.count()).select_from(assignments)) == 1
    actions = list(roster.scalars(select(audit_log.c.action).order_by(audit_log.c.id)))
    assert actions[-2:] == ["course.import", "course.reimport"]


def test_a_reimport_that_only_adds_needs_no_confirmation(roster: Session) -> None:
    import_course(roster, course=f.course(), school_id=S1, now=f.T0)
    extra = dataclasses.replace(f.course().items[0], id="q.extra")
    grown = f.course(items=[*f.course().items, extra])
    preview = preview_course_import(roster, course=grown, school_id=S1)
    assert not preview.needs_confirmation
    assert [(c.kind, c.id) for c in preview.added] == [("items", "q.extra")]
    assert import_course(roster, course=grown, school_id=S1, now=f.T0).removed == 0


def test_the_preview_lists_removals_with_the_learners_who_have_evidence_on_them(
    roster: Session,
) -> None:
    import_course(roster, course=f.course(), school_id=S1, now=f.T0)
    for learner in ("learner-1", "learner-2"):
        record_evidence(roster, event=f.event(learner_id=learner))  # q.single on frac.unit
    record_evidence(
        roster,
        event=f.event(
            learner_id="learner-1", item_id="q.multi", competency_ids=["frac.equiv", "frac.unit"]
        ),
    )
    old = f.course()
    kept = [
        dataclasses.replace(c, prerequisites=("frac.unit",)) if c.id == "frac.add" else c
        for c in f.competencies()
        if c.id != "frac.equiv"
    ]
    smaller = f.course(
        framework=Framework.build(kept),
        items=[i for i in old.items if "frac.equiv" not in i.competencies],
        activities=[old.activities[0]],
        rubrics=[],
    )
    reworded = dataclasses.replace(
        smaller,
        items=tuple(
            dataclasses.replace(i, stem="Which part?") if i.id == "q.single" else i
            for i in smaller.items
        ),
    )
    before = counts(roster)
    preview = preview_course_import(roster, course=reworded, school_id=S1)
    assert counts(roster) == before  # a preview writes nothing
    assert preview.needs_confirmation
    assert not preview.created
    removed = {(c.kind, c.id): c.learners for c in preview.removed}
    assert removed == {
        ("competencies", "frac.equiv"): 1,
        ("items", "q.multi"): 1,
        ("items", "q.order"): 0,
        ("activities", "act.recipe"): 0,
        ("rubrics", "rubric.recipe"): 0,
    }
    changed = {(c.kind, c.id): c.learners for c in preview.changed}
    # frac.add lost a prerequisite; q.single's question changed, with two learners' answers.
    assert changed == {("competencies", "frac.add"): 0, ("items", "q.single"): 2}


def test_ids_of_another_course_of_the_school_are_a_conflict_and_nothing_is_written(
    roster: Session,
) -> None:
    import_course(roster, course=f.course(), school_id=S1, now=f.T0)
    before = counts(roster)
    with pytest.raises(Conflict, match=r"items: q\.single \(in course fractions\)"):
        import_course(roster, course=f.course(id="copy"), school_id=S1, now=f.T0)
    assert counts(roster) == before
    # With its own ids, a second course can live beside the first.
    import_course(roster, course=f.course(id="copy", prefix="b-"), school_id=S1, now=f.T0)
    assert list_course_ids(roster, school_id=S1) == ["copy", "fractions"]


def test_two_schools_import_the_same_course_and_each_sees_only_its_own(roster: Session) -> None:
    """The issue's case: another school's teacher imports a course with this school's course
    id (and the same content ids). It is a second course; this school's is untouched."""
    second_school(roster)
    import_course(roster, course=f.course(), school_id=S1, now=f.T0)
    first = get_course(roster, course_id="fractions")
    theirs = f.course(title="Fractions, their way")
    teacher = f.user(Role.TEACHER, id="teacher-2", school_id="school-2")
    summary = import_course(roster, actor=teacher, course=theirs, now=f.T0)
    assert summary.created
    assert summary.key == "fractions--school-2"
    assert get_course(roster, course_id="fractions") is first  # the same revision: unchanged
    assert get_course(roster, course_id=summary.key).title == "Fractions, their way"
    assert [c.title for c in school_courses(roster, school_id=S1)] == ["Fractions"]
    assert [c.title for c in school_courses(roster, school_id="school-2")] == [
        "Fractions, their way"
    ]
    # Their re-import replaces their course, and still not ours.
    again = import_course(
        roster, actor=teacher, course=f.course(title="Fractions, third way"), now=f.T0
    )
    assert (again.created, again.key) == (False, "fractions--school-2")
    assert get_course(roster, course_id="fractions").title == "Fractions"
    assert counts(roster)["courses"] == 2


def test_an_import_never_touches_another_school(roster: Session) -> None:
    second_school(roster)
    import_course(roster, course=f.course(), school_id=S1, now=f.T0)
    before = {
        t.name: list(roster.execute(select(t).where(t.c.course_id == "fractions")))
        for t in (competencies, activities, items, rubrics)
    }
    teacher = f.user(Role.TEACHER, id="teacher-2", school_id="school-2")
    smaller = f.course(
        framework=Framework.build(f.competencies()[:1]), items=[], activities=[], rubrics=[]
    )
    import_course(roster, actor=teacher, course=smaller, now=f.T0)
    import_course(roster, actor=teacher, course=f.course(), now=f.T0, confirm=True)
    after = {
        t.name: list(roster.execute(select(t).where(t.c.course_id == "fractions")))
        for t in (competencies, activities, items, rubrics)
    }
    assert after == before
    # A teacher imports into their own school only.
    with pytest.raises(PermissionDenied):
        import_course(roster, actor=teacher, course=f.course(), school_id=S1, now=f.T0)


def test_the_system_names_an_existing_school(roster: Session) -> None:
    with pytest.raises(InvalidInput, match="which school"):
        import_course(roster, course=f.course(), now=f.T0)
    with pytest.raises(NotFound):
        import_course(roster, course=f.course(), school_id="nowhere", now=f.T0)
    assert counts(roster)["courses"] == 0


def test_derived_keys_are_slugs_and_never_taken() -> None:
    assert derived_key("fractions", "School 2", ["fractions"]) == "fractions--school-2"
    taken = ["fractions", "fractions--school-2"]
    key = derived_key("fractions", "School 2", taken)
    assert key not in taken
    assert key.startswith("fractions--")
    assert len(key) <= 64
    long = derived_key("a" * 64, "s", ["a" * 64])
    assert len(long) <= 64
    assert long != "a" * 64


@pytest.mark.parametrize("reimport", [False, True])
def test_a_database_error_mid_import_rolls_everything_back(
    roster: Session, monkeypatch: pytest.MonkeyPatch, reimport: bool
) -> None:
    if reimport:
        import_course(roster, course=f.course(), school_id=S1, now=f.T0)
    before = counts(roster)

    def fail(self: CourseRepository, key: str, course: Course) -> None:
        raise OperationalError("INSERT INTO item_competencies", {}, Exception("disk full"))

    # The links are written after the course, competencies, activities and items.
    monkeypatch.setattr(CourseRepository, "_replace_links", fail)
    with pytest.raises(OperationalError):
        import_course(roster, course=f.course(title="Half written"), school_id=S1, now=f.T0)
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
    assert roster.scalar(select(courses.c.school_id)) == S1


def test_a_course_read_again_after_a_reimport_at_the_same_moment_is_the_new_one(
    roster: Session,
) -> None:
    """Courses are kept in memory between requests by revision: a re-import (even one stamped
    with the same time) is read afresh, and a read of the same revision is the same course."""
    import_course(roster, course=f.course(), school_id=S1, now=NOW)
    first = get_course(roster, course_id="fractions")
    assert get_course(roster, course_id="fractions") is first
    renamed = dataclasses.replace(f.course(), title="Fractions, second edition")
    import_course(roster, course=renamed, school_id=S1, now=NOW)
    assert get_course(roster, course_id="fractions").title == "Fractions, second edition"
