"""Several courses per school (issue 14, item 3), through the services on the small school:
a learner sees the courses of their classes; an import whose id sorts first moves nobody; a
re-import of a course in use keeps the learners' evidence and levels on what it keeps; a class
follows only its own school's courses."""

from __future__ import annotations

import dataclasses

import pytest

from tests import factories as f
from tests.services.conftest import NOW, SCHOOL, SmallSchool
from zoped.domain import Framework, Role, School
from zoped.domain.course import Course
from zoped.errors import InvalidInput, NotFound, PermissionDenied
from zoped.services.class_courses import school_class_courses, set_class_courses
from zoped.services.courses import (
    courses_of_learner,
    import_course,
    preview_course_import,
)
from zoped.services.evidence import list_evidence
from zoped.services.pathways import learner_state
from zoped.services.roster import create_school


def _other_course(course_id: str = "aaa-first") -> Course:
    """A small course whose id sorts before the demo course's, with ids of its own."""
    return f.course(id=course_id, title="A first course", prefix="first-")


def test_an_import_whose_id_sorts_first_moves_nobody(school: SmallSchool) -> None:
    with school.db.session() as s:
        before = learner_state(s, actor=school.other, learner_id="bo", now=NOW)
        import_course(s, course=_other_course(), school_id=SCHOOL, now=NOW)
        after = learner_state(s, actor=school.other, learner_id="bo", now=NOW)
        assert [c.code for c in courses_of_learner(s, learner_id="bo")] == [school.course.id]
    assert after.course_id == before.course_id == school.course.id
    assert after == before


def test_a_learner_sees_the_courses_of_their_classes_in_order(school: SmallSchool) -> None:
    with school.db.session() as s:
        import_course(s, course=_other_course(), school_id=SCHOOL, now=NOW)
        # Class 1 follows only the new course: its learners see it, and only it.
        set_class_courses(s, actor=None, class_id="c1", course_ids=["aaa-first"], now=NOW)
        state = learner_state(s, actor=school.other, learner_id="bo", now=NOW)
        assert state.course_id == "aaa-first"
        with pytest.raises(NotFound):
            learner_state(
                s, actor=school.other, learner_id="bo", now=NOW, course_id=school.course.id
            )
        # Both, the new one second: the first stays the default, the second can be asked for.
        set_class_courses(
            s, actor=None, class_id="c1", course_ids=[school.course.id, "aaa-first"], now=NOW
        )
        assert [c.key for c in courses_of_learner(s, learner_id="bo")] == [
            school.course.id,
            "aaa-first",
        ]
        assert learner_state(s, actor=school.other, learner_id="bo", now=NOW).course_id == (
            school.course.id
        )
        chosen = learner_state(
            s, actor=school.other, learner_id="bo", now=NOW, course_id="aaa-first"
        )
        assert chosen.course_title == "A first course"
        # No course at all: the learner's pages are told so.
        set_class_courses(s, actor=None, class_id="c1", course_ids=[], now=NOW)
        with pytest.raises(NotFound, match="none of your classes follows a course"):
            learner_state(s, actor=school.other, learner_id="bo", now=NOW)


def test_a_class_follows_only_courses_of_its_school_and_only_an_admin_sets_them(
    school: SmallSchool,
) -> None:
    with school.db.session() as s:
        create_school(s, school=School("s2", "Other"), now=NOW)
        theirs = import_course(s, course=_other_course("theirs"), school_id="s2", now=NOW)
        with pytest.raises(InvalidInput, match="were not changed") as caught:
            set_class_courses(s, actor=None, class_id="c1", course_ids=[theirs.key], now=NOW)
        assert "no course 'theirs' in this school" in caught.value.problems[0].message
        with pytest.raises(PermissionDenied):
            set_class_courses(
                s, actor=school.teacher, class_id="c1", course_ids=[school.course.id], now=NOW
            )
        other_admin = f.user(Role.ADMIN, id="admin-2", school_id="s2")
        with pytest.raises(NotFound):
            set_class_courses(s, actor=other_admin, class_id="c1", course_ids=[], now=NOW)
        admin = f.user(Role.ADMIN, id="admin", school_id=SCHOOL)
        classes = school_class_courses(s, actor=admin)
        assert [(c.school_class.id, [x.key for x in c.courses]) for c in classes] == [
            ("c1", [school.course.id]),
            ("c2", [school.course.id]),
        ]


def _without(course: Course, competency_id: str) -> Course:
    """The course less one leaf competency and the items and activities on it."""
    comps = [c for c in course.framework.competencies if c.id != competency_id]
    return dataclasses.replace(
        course,
        framework=Framework.build(comps),
        items=tuple(i for i in course.items if competency_id not in i.competencies),
        activities=tuple(a for a in course.activities if competency_id not in a.competencies),
    )


def test_a_reimport_of_a_course_in_use_keeps_the_evidence_and_the_levels_it_keeps(
    school: SmallSchool,
) -> None:
    course = school.course
    with school.db.session() as s:
        events = list_evidence(s, learner_id="bo")
        practised = {cid for e in events for cid in e.competency_ids}
        needed = {p for c in course.framework.competencies for p in c.prerequisites}
        parents = {c.parent for c in course.framework.competencies}
        in_rubrics = {cid for r in course.rubrics for c in r.criteria for cid in c.competencies}
        leaf = next(
            c.id
            for c in reversed(course.framework.competencies)
            if c.id in practised and c.id not in needed | parents | in_rubrics
        )
        before = learner_state(s, actor=school.other, learner_id="bo", now=NOW)
        smaller = _without(course, leaf)
        preview = preview_course_import(s, course=smaller, school_id=SCHOOL)
        removed = {(c.kind, c.id): c.learners for c in preview.removed}
        assert removed[("competencies", leaf)] == 1  # bo's evidence is on it
        summary = import_course(s, course=smaller, school_id=SCHOOL, now=NOW, confirm=True)
        assert summary.removed == len(preview.removed)
        after = learner_state(s, actor=school.other, learner_id="bo", now=NOW)
        assert list_evidence(s, learner_id="bo") == events
    kept = {c.competency_id: c for c in after.competencies}
    assert leaf not in kept
    for old in before.competencies:
        if old.competency_id != leaf:
            assert kept[old.competency_id].level is old.level, old.competency_id
            assert kept[old.competency_id].evidence_count == old.evidence_count
