"""Which courses a class follows: an admin of the school attaches and detaches them.

A class follows one or more of its school's courses, in order; its learners see those courses
(the first by default) and its teachers' class page offers them. An ``actor`` of None is the
system (the demo, a migration's fixtures, an operator's script).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from zoped.domain.course import CourseInfo
from zoped.domain.people import Role, SchoolClass, User
from zoped.errors import InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import transaction
from zoped.store.course_repository import CourseRepository
from zoped.store.repositories import PeopleRepository, append_audit

#: A class follows at most this many courses.
MAX_COURSES = 20


@dataclass(frozen=True)
class ClassCourses:
    """A class with the courses it follows, in order."""

    school_class: SchoolClass
    courses: tuple[CourseInfo, ...]


def _class_for(session: Session, actor: User | None, class_id: str) -> SchoolClass:
    """The class, if the actor runs its school. A class of another school is not found."""
    if actor is not None and actor.role is not Role.ADMIN:
        raise PermissionDenied("only a school admin chooses the courses a class follows")
    try:
        found = PeopleRepository(session).get_class(class_id)
    except NotFound:
        raise NotFound(f"no class {class_id!r}") from None
    if actor is not None and found.school_id != actor.school_id:
        raise NotFound(f"no class {class_id!r}")
    return found


def set_class_courses(
    session: Session,
    *,
    actor: User | None,
    class_id: str,
    course_ids: Sequence[str],
    now: datetime,
) -> ClassCourses:
    """Make a class follow exactly ``course_ids`` (course keys of its school), in this order;
    an empty list detaches every course. Audited.

    Raises:
        PermissionDenied: the actor is not an admin.
        NotFound: no such class in the actor's school.
        InvalidInput: a course that is not one of the school's, or too many (nothing changes).
    """
    wanted = list(dict.fromkeys(course_ids))
    with transaction(session):
        school_class = _class_for(session, actor, class_id)
        repo = CourseRepository(session)
        own = {c.key: c for c in repo.of_school(school_class.school_id)}
        problems = [
            Problem(f"course_ids[{i}]", f"no course {key!r} in this school")
            for i, key in enumerate(wanted)
            if key not in own
        ]
        if len(wanted) > MAX_COURSES:
            problems.append(Problem("course_ids", f"a class follows at most {MAX_COURSES} courses"))
        if problems:
            raise InvalidInput("the class's courses were not changed", problems)
        before = [c.key for c in repo.of_class(class_id)]
        repo.set_of_class(class_id, wanted)
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor else None,
            action="class.courses",
            subject_type="class",
            subject_id=class_id,
            details={"before": before, "after": wanted},
        )
    return ClassCourses(school_class, tuple(own[key] for key in wanted))


def school_class_courses(session: Session, *, actor: User) -> list[ClassCourses]:
    """Every class of the admin's school with the courses it follows, classes by name.

    Raises:
        PermissionDenied: the actor is not an admin.
    """
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("only a school admin sees every class's courses")
    with transaction(session):
        found = PeopleRepository(session).list_classes(actor.school_id)
        following = CourseRepository(session).of_classes([c.id for c in found])
    return [ClassCourses(c, tuple(following[c.id])) for c in found]
