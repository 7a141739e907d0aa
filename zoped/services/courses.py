"""Course use cases: import a validated course, read it back."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from zoped.domain.course import Course
from zoped.domain.people import Role, User
from zoped.errors import NotFound, PermissionDenied
from zoped.services import transaction
from zoped.store.repositories import CourseRepository, append_audit

#: Roles that may import or replace a course.
COURSE_EDITORS = frozenset({Role.TEACHER, Role.ADMIN})


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote.

    Attributes:
        course_id: the course imported.
        created: True for a new course, False when an existing one was replaced.
        competencies: how many competencies the course now has (likewise the others).
    """

    course_id: str
    created: bool
    competencies: int
    activities: int
    items: int
    rubrics: int


def import_course(
    session: Session,
    *,
    actor: User | None = None,
    course: Course,
    now: datetime,
) -> ImportSummary:
    """Write a validated course in one transaction; a course with the same id is replaced.

    Content kept under the same ids is updated in place, so assignments and placement
    sessions that refer to it survive; content the new version drops is deleted.

    Args:
        session: the session; this function commits or rolls back.
        actor: who imports (a teacher or an admin); None for the system (CLI, demo).
        course: a valid course (the domain validated it when it was built).
        now: the import time.

    Returns:
        What was written.

    Raises:
        PermissionDenied: when the actor is not a teacher or an admin.
        Conflict: when an id of the course's content belongs to another course.
    """
    if actor is not None and actor.role not in COURSE_EDITORS:
        raise PermissionDenied("only teachers and admins import courses")
    at = now
    repo = CourseRepository(session)
    with transaction(session):
        created = not repo.exists(course.id)
        repo.save(course, imported_at=at, imported_by=actor.id if actor else None)
        summary = ImportSummary(
            course_id=course.id,
            created=created,
            competencies=len(course.framework),
            activities=len(course.activities),
            items=len(course.items),
            rubrics=len(course.rubrics),
        )
        append_audit(
            session,
            at=at,
            actor_id=actor.id if actor else None,
            action="course.import" if created else "course.reimport",
            subject_type="course",
            subject_id=course.id,
            details={
                "competencies": summary.competencies,
                "activities": summary.activities,
                "items": summary.items,
                "rubrics": summary.rubrics,
            },
        )
    return summary


#: Courses read lately, by (id, revision): a course is read on every request, and reading it
#: (with its items, checked) costs more than the rest of an answer. A course is immutable and
#: each import stores a new revision, so an entry is never stale, whichever database it is from.
_READ: OrderedDict[tuple[str, str], Course] = OrderedDict()
_READ_MAX = 64
_READ_LOCK = threading.Lock()  # requests run in a thread pool


def get_course(session: Session, *, course_id: str) -> Course:
    """The stored course.

    Raises:
        NotFound: when there is no such course.
    """
    repo = CourseRepository(session)
    revision = repo.revision(course_id)
    if revision is None:
        raise NotFound(f"no course {course_id!r}")
    key = (course_id, revision)
    with _READ_LOCK:
        course = _READ.get(key)
        if course is not None:
            _READ.move_to_end(key)
            return course
    course = repo.get(course_id)
    with _READ_LOCK:
        _READ[key] = course
        while len(_READ) > _READ_MAX:
            _READ.popitem(last=False)
    return course


def list_course_ids(session: Session) -> list[str]:
    """The ids of every stored course, sorted."""
    return CourseRepository(session).list_ids()
