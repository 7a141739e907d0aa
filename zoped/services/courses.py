"""Course use cases: import a validated course into a school (after a preview of what a
re-import would change), read it back, and list the courses of a school, a class or a learner.

A course belongs to one school; an import never reads or writes another school's course (see
docs/storage.md, "Courses belong to a school"). Re-importing a course matches its content by id:
what is kept is updated in place and learners' evidence, which names content by id, is never
touched. A re-import that removes or changes content is applied only when confirmed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from zoped.domain.course import Course, CourseInfo
from zoped.domain.media import CourseMedia
from zoped.domain.people import Role, User
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import transaction
from zoped.store.course_repository import CONTENT, CourseRepository
from zoped.store.media_repository import MediaRepository
from zoped.store.repositories import PeopleRepository, append_audit

#: Roles that may import or replace a course (of their own school).
COURSE_EDITORS = frozenset({Role.TEACHER, Role.ADMIN})


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote.

    Attributes:
        course_id: the course file's id (the course's code in its school).
        key: the stored key (the code, unless another school's course holds it).
        school_id: the school the course belongs to.
        created: True for a new course, False when the school's course was replaced.
        competencies: how many competencies the course now has (likewise the others).
        removed: how many competencies, activities, items and rubrics the import removed.
    """

    course_id: str
    key: str
    school_id: str
    created: bool
    competencies: int
    activities: int
    items: int
    rubrics: int
    removed: int = 0


@dataclass(frozen=True)
class ContentChange:
    """One competency, activity, item or rubric that an import adds, changes or removes.

    Attributes:
        kind: "competencies", "activities", "items" or "rubrics".
        id: its id.
        title: its title (an item's question).
        learners: how many of the school's learners have evidence naming it (0 for rubrics,
            which evidence names through their competencies).
    """

    kind: str
    id: str
    title: str
    learners: int = 0


@dataclass(frozen=True)
class ImportPreview:
    """What importing a course file into a school would do; nothing is written.

    Attributes:
        course_id: the course file's id.
        key: the key it is (or would be) stored under.
        school_id: the school.
        title: the new title.
        created: True when the school has no course with this id yet.
        added: content the file has and the stored course has not.
        changed: content under the same id whose text, answers or links differ.
        removed: content of the stored course that the file no longer has.
        clashes: content ids that another course of the school uses (the import is refused).
    """

    course_id: str
    key: str
    school_id: str
    title: str
    created: bool
    added: tuple[ContentChange, ...] = ()
    changed: tuple[ContentChange, ...] = ()
    removed: tuple[ContentChange, ...] = ()
    clashes: tuple[str, ...] = ()

    @property
    def needs_confirmation(self) -> bool:
        """Whether applying it removes or changes content (learners may hold evidence on it)."""
        return bool(self.changed or self.removed)

    def count(self, which: str, kind: str) -> int:
        """How many of ``kind`` are in ``which`` ("added", "changed" or "removed")."""
        changes: tuple[ContentChange, ...] = getattr(self, which)
        return sum(1 for c in changes if c.kind == kind)


def _school_for(session: Session, actor: User | None, school_id: str | None) -> str:
    """The school an import by ``actor`` goes to: the actor's own, or ``school_id`` for the
    system (the CLI, the demo). Raises: PermissionDenied, InvalidInput, NotFound."""
    if actor is not None:
        if actor.role not in COURSE_EDITORS:
            raise PermissionDenied("only teachers and admins import courses")
        if school_id not in (None, actor.school_id):
            raise PermissionDenied("you import courses into your own school only")
        return actor.school_id
    if not school_id:
        raise InvalidInput("which school?", [Problem("school_id", "name the school of the course")])
    PeopleRepository(session).get_school(school_id)
    return school_id


def _title(kind: str, thing: Any) -> str:
    if kind == "items":
        stem = " ".join(str(thing.stem).split())
        return stem if len(stem) <= 80 else stem[:79] + "…"
    return str(thing.title)


def _content(course: Course, kind: str) -> dict[str, Any]:
    if kind == "competencies":
        return {c.id: c for c in course.framework.competencies}
    return {x.id: x for x in getattr(course, kind)}


def _preview(session: Session, course: Course, school_id: str) -> ImportPreview:
    repo = CourseRepository(session)
    found = repo.find(school_id, course.id)
    key = found.key if found is not None else repo.key_for(school_id, course.id)
    clashes = tuple(repo.clashes(school_id, key, course))
    if found is None:
        added = tuple(
            ContentChange(kind, cid, _title(kind, thing))
            for kind in CONTENT
            for cid, thing in _content(course, kind).items()
        )
        return ImportPreview(course.id, key, school_id, course.title, True, added, clashes=clashes)
    stored = repo.get(key)
    added_list: list[ContentChange] = []
    changed: list[tuple[str, str, Any]] = []
    removed: list[tuple[str, str, Any]] = []
    for kind in CONTENT:
        old, new = _content(stored, kind), _content(course, kind)
        added_list += [
            ContentChange(kind, i, _title(kind, t)) for i, t in new.items() if i not in old
        ]
        changed += [(kind, i, t) for i, t in new.items() if i in old and old[i] != t]
        removed += [(kind, i, t) for i, t in old.items() if i not in new]
    learners: dict[tuple[str, str], int] = {}
    for kind in CONTENT:
        ids = [i for k, i, _ in (*changed, *removed) if k == kind]
        for cid, n in repo.learners_with_evidence(school_id, kind, ids).items():
            learners[kind, cid] = n
    return ImportPreview(
        course.id,
        key,
        school_id,
        course.title,
        False,
        tuple(added_list),
        tuple(ContentChange(k, i, _title(k, t), learners.get((k, i), 0)) for k, i, t in changed),
        tuple(ContentChange(k, i, _title(k, t), learners.get((k, i), 0)) for k, i, t in removed),
        clashes,
    )


def preview_course_import(
    session: Session, *, actor: User | None = None, course: Course, school_id: str | None = None
) -> ImportPreview:
    """What importing ``course`` into the school would add, change and remove; writes nothing.

    Args:
        session: the session (read only).
        actor: who imports (a teacher or an admin: into their own school); None for the system.
        course: a valid course.
        school_id: the school, for the system (an actor imports into their own school).

    Raises:
        PermissionDenied: the actor may not import (or not into that school).
        InvalidInput / NotFound: the system named no school, or one that does not exist.
    """
    with transaction(session):
        school = _school_for(session, actor, school_id)
        return _preview(session, course, school)


def import_course(
    session: Session,
    *,
    actor: User | None = None,
    course: Course,
    now: datetime,
    school_id: str | None = None,
    confirm: bool = False,
    media: Sequence[CourseMedia] = (),
) -> ImportSummary:
    """Write a validated course into a school in one transaction; the school's course with the
    same id is replaced, and no other school's course is read or written.

    Content kept under the same ids is updated in place, so assignments and placement checks
    that refer to it survive; content the new version drops is deleted. Learners' evidence is
    never touched (it names content by id), and their stored states are refolded from it.

    Args:
        session: the session; this function commits or rolls back.
        actor: who imports (a teacher or an admin, into their own school); None for the system.
        course: a valid course (the domain validated it when it was built).
        now: the import time.
        school_id: the school, for the system (an actor imports into their own school).
        confirm: apply a re-import that removes or changes content
            (:func:`preview_course_import` says what it would).
        media: pictures its items show (from a QTI package), kept with it in the same
            transaction.

    Returns:
        What was written.

    Raises:
        PermissionDenied: when the actor is not a teacher or an admin (of that school).
        Conflict: an id of the course's content belongs to another course of the school, or
            the re-import removes or changes content and ``confirm`` is False.
        InvalidInput / NotFound: the system named no school, or one that does not exist.
    """
    repo = CourseRepository(session)
    with transaction(session):
        school = _school_for(session, actor, school_id)
        preview = _preview(session, course, school)
        if preview.needs_confirmation and not confirm:
            raise Conflict(
                f"re-importing course {course.id!r} would remove {len(preview.removed)} and "
                f"change {len(preview.changed)} competencies, activities, items or rubrics: "
                "look at the preview, then confirm"
            )
        repo.save(
            course,
            key=preview.key,
            school_id=school,
            imported_at=now,
            imported_by=actor.id if actor else None,
        )
        if media:
            MediaRepository(session).add(preview.key, media, now=now)
        summary = ImportSummary(
            course_id=course.id,
            key=preview.key,
            school_id=school,
            created=preview.created,
            competencies=len(course.framework),
            activities=len(course.activities),
            items=len(course.items),
            rubrics=len(course.rubrics),
            removed=len(preview.removed),
        )
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor else None,
            action="course.import" if preview.created else "course.reimport",
            subject_type="course",
            subject_id=preview.key,
            details={
                "school": school,
                "code": course.id,
                "competencies": summary.competencies,
                "activities": summary.activities,
                "items": summary.items,
                "rubrics": summary.rubrics,
                "added": len(preview.added),
                "changed": len(preview.changed),
                "removed": [f"{c.kind}:{c.id}" for c in preview.removed],
            },
        )
    return summary


#: Courses read lately, by (key, revision): a course is read on every request, and reading it
#: (with its items, checked) costs more than the rest of an answer. A course is immutable and
#: each import stores a new revision, so an entry is never stale, whichever database it is from.
_READ: OrderedDict[tuple[str, str], Course] = OrderedDict()
_READ_MAX = 64
_READ_LOCK = threading.Lock()  # requests run in a thread pool


def get_course(session: Session, *, course_id: str) -> Course:
    """The stored course with this key (its ``id`` is the key).

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


def course_info(session: Session, *, course_id: str) -> CourseInfo:
    """The stored course with this key, without its content. Raises: NotFound."""
    found = CourseRepository(session).info(course_id)
    if found is None:
        raise NotFound(f"no course {course_id!r}")
    return found


def school_courses(session: Session, *, school_id: str) -> list[CourseInfo]:
    """The school's courses, by title."""
    return CourseRepository(session).of_school(school_id)


def list_course_ids(session: Session, *, school_id: str) -> list[str]:
    """The keys of the school's courses, sorted."""
    return sorted(c.key for c in school_courses(session, school_id=school_id))


def all_course_ids(session: Session) -> list[str]:
    """The keys of every school's courses, sorted: for the system's jobs (fitting models)."""
    return CourseRepository(session).all_keys()


def courses_of_class(session: Session, *, class_id: str) -> list[CourseInfo]:
    """The courses a class follows, in its order (callers check access to the class)."""
    return CourseRepository(session).of_class(class_id)


def courses_of_learner(session: Session, *, learner_id: str) -> list[CourseInfo]:
    """The courses of the learner's classes, in order: classes by name, each class's courses
    in its order, each course once (callers check access to the learner)."""
    return CourseRepository(session).of_learner(learner_id)


#: Why a learner has no course (their pages say it).
NO_COURSE = "no course yet: none of your classes follows a course (a school admin attaches them)"


def pick_course(
    courses: Sequence[CourseInfo], wanted: str | None, *, empty: str = NO_COURSE
) -> CourseInfo:
    """The course of ``courses`` that ``wanted`` names (its key, else its code), or the first
    when ``wanted`` is None.

    Raises:
        NotFound: ``courses`` is empty (with the message ``empty``), or none of them is
            ``wanted``.
    """
    if not courses:
        raise NotFound(empty)
    if wanted is None:
        return courses[0]
    for course in courses:
        if course.key == wanted:
            return course
    for course in courses:
        if course.code == wanted:
            return course
    raise NotFound(f"no course {wanted!r} here")
