"""Courses of a school with their framework, activities, items and rubrics, as one aggregate;
the courses each class follows; and what a re-import would change.

A course's stored key (``courses.id``) is unique across the database; its code (the file's own
id) is unique within its school. Content is keyed by (course key, id). See docs/storage.md,
"Courses belong to a school". Repositories never commit: the calling service owns the
transaction.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from zoped.domain.course import Course, CourseInfo
from zoped.domain.framework import Framework
from zoped.errors import Conflict, NotFound
from zoped.store import mappers
from zoped.store.tables import (
    ID,
    activities,
    activity_competencies,
    class_courses,
    classes,
    competencies,
    competency_prerequisites,
    courses,
    enrollments,
    evidence_events,
    item_competencies,
    items,
    rubrics,
    users,
)

#: The content tables of a course, by the name an import summary or preview uses.
CONTENT = {
    "competencies": competencies,
    "activities": activities,
    "items": items,
    "rubrics": rubrics,
}


def derived_key(code: str, school_id: str, taken: Iterable[str]) -> str:
    """A stored key for a school's course whose code another school's course holds as its key:
    ``code--school``, or the code and a digest when that is taken or too long (always a slug)."""
    used = set(taken)
    school = re.sub(r"[^a-z0-9._-]+", "-", school_id.lower()).strip("-._") or "school"
    key = f"{code}--{school}"
    if len(key) <= ID and key not in used:
        return key
    digest = hashlib.sha256(f"{school_id}\n{code}".encode()).hexdigest()
    for length in range(12, 41):
        key = f"{code[: ID - length - 2]}--{digest[:length]}"
        if key not in used:
            return key
    raise Conflict(f"no free key for course {code!r}")  # pragma: no cover - 2^160 keys


def _info(row: Any) -> CourseInfo:
    return CourseInfo(row.id, row.code, row.school_id, row.title)


_INFO = (courses.c.id, courses.c.code, courses.c.school_id, courses.c.title)


@dataclass(frozen=True)
class ContentRows:
    """What is stored of a course's content, for comparing with a new version: per kind
    ("competencies", "activities", "items", "rubrics"), id -> the comparable content."""

    by_kind: dict[str, dict[str, Any]]


def _upsert(session: Session, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> None:
    """Update the course's rows whose id exists and insert the others.

    Updating in place (rather than delete and re-insert) keeps rows that refer to unchanged
    content, such as assignments, through a re-import.
    """
    ids = [row["id"] for row in rows]
    mine = table.c.course_id == key
    existing = (
        set(session.scalars(select(table.c.id).where(mine, table.c.id.in_(ids)))) if ids else set()
    )
    for row in rows:
        if row["id"] in existing:
            values = {k: v for k, v in row.items() if k not in ("id", "course_id")}
            session.execute(update(table).where(mine, table.c.id == row["id"]).values(**values))
    new = [row for row in rows if row["id"] not in existing]
    if new:
        session.execute(insert(table), new)


def _delete_missing(session: Session, table: Table, key: str, keep: Iterable[str]) -> int:
    """Delete the course's rows of ``table`` whose id is not in ``keep``; return how many."""
    wanted = list(keep)
    condition: ColumnElement[bool] = table.c.course_id == key
    if wanted:
        condition = condition & table.c.id.not_in(wanted)
    stale = list(session.scalars(select(table.c.id).where(condition)))
    if stale:
        session.execute(delete(table).where(table.c.course_id == key, table.c.id.in_(stale)))
    return len(stale)


class CourseRepository:
    """Courses (each of one school) with their content, and the courses classes follow."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- finding courses --------------------------------------------------------------------

    def info(self, key: str) -> CourseInfo | None:
        """The stored course with this key, or None."""
        row = self.session.execute(select(*_INFO).where(courses.c.id == key)).first()
        return None if row is None else _info(row)

    def find(self, school_id: str, code: str) -> CourseInfo | None:
        """The school's course with this code (the course file's id), or None."""
        stmt = select(*_INFO).where(courses.c.school_id == school_id, courses.c.code == code)
        row = self.session.execute(stmt).first()
        return None if row is None else _info(row)

    def with_code(self, code: str) -> list[CourseInfo]:
        """Every school's course with this code (the course file's id), by school."""
        stmt = select(*_INFO).where(courses.c.code == code).order_by(courses.c.school_id)
        return [_info(row) for row in self.session.execute(stmt)]

    def key_for(self, school_id: str, code: str) -> str:
        """The key a new course of the school with this code is stored under: the code, unless
        another course holds that key already."""
        taken = set(
            self.session.scalars(
                select(courses.c.id).where(courses.c.id.startswith(code[:16], autoescape=True))
            )
        )
        return code if code not in taken else derived_key(code, school_id, taken)

    def revision(self, key: str) -> str | None:
        """The stored course's revision (a new token at every import); None: no such course."""
        return self.session.scalar(select(courses.c.revision).where(courses.c.id == key))

    def of_school(self, school_id: str) -> list[CourseInfo]:
        """The school's courses, by title then code."""
        stmt = (
            select(*_INFO)
            .where(courses.c.school_id == school_id)
            .order_by(courses.c.title, courses.c.code)
        )
        return [_info(row) for row in self.session.execute(stmt)]

    def all_keys(self) -> list[str]:
        """Every stored course's key, sorted (for the system's jobs over every school)."""
        return list(self.session.scalars(select(courses.c.id).order_by(courses.c.id)))

    # --- classes and their courses ----------------------------------------------------------

    def of_class(self, class_id: str) -> list[CourseInfo]:
        """The courses a class follows, in its order."""
        stmt = (
            select(*_INFO)
            .join(class_courses, class_courses.c.course_id == courses.c.id)
            .where(class_courses.c.class_id == class_id)
            .order_by(class_courses.c.position)
        )
        return [_info(row) for row in self.session.execute(stmt)]

    def of_classes(self, class_ids: Sequence[str]) -> dict[str, list[CourseInfo]]:
        """The courses each class follows, in order (classes following none map to [])."""
        found: dict[str, list[CourseInfo]] = {cid: [] for cid in class_ids}
        if not class_ids:
            return found
        stmt = (
            select(class_courses.c.class_id, *_INFO)
            .join(class_courses, class_courses.c.course_id == courses.c.id)
            .where(class_courses.c.class_id.in_(list(class_ids)))
            .order_by(class_courses.c.class_id, class_courses.c.position)
        )
        for row in self.session.execute(stmt):
            found[row.class_id].append(_info(row))
        return found

    def set_of_class(self, class_id: str, keys: Sequence[str]) -> None:
        """Make the class follow exactly ``keys``, in this order."""
        self.session.execute(delete(class_courses).where(class_courses.c.class_id == class_id))
        if keys:
            self.session.execute(
                insert(class_courses),
                [
                    {"class_id": class_id, "course_id": key, "position": i}
                    for i, key in enumerate(keys)
                ],
            )

    def of_learner(self, learner_id: str) -> list[CourseInfo]:
        """The courses of the learner's classes: classes by name (then id), each class's
        courses in its order, each course once."""
        stmt = (
            select(*_INFO)
            .select_from(enrollments)
            .join(classes, classes.c.id == enrollments.c.class_id)
            .join(class_courses, class_courses.c.class_id == classes.c.id)
            .join(courses, courses.c.id == class_courses.c.course_id)
            .where(enrollments.c.learner_id == learner_id)
            .order_by(classes.c.name, classes.c.id, class_courses.c.position)
        )
        seen: dict[str, CourseInfo] = {}
        for row in self.session.execute(stmt):
            seen.setdefault(row.id, _info(row))
        return list(seen.values())

    # --- content ------------------------------------------------------------------------------

    def clashes(self, school_id: str, key: str, course: Course) -> list[str]:
        """Content ids of ``course`` that another course of the same school uses.

        Evidence names items and competencies by id alone within the learner's school, so such
        a course cannot be saved there.
        """
        found: list[str] = []
        others = select(courses.c.id).where(courses.c.school_id == school_id, courses.c.id != key)
        for kind, table in CONTENT.items():
            ids = _ids(course, kind)
            if not ids:
                continue
            stmt = (
                select(table.c.id, courses.c.code)
                .join(courses, courses.c.id == table.c.course_id)
                .where(table.c.id.in_(ids), table.c.course_id.in_(others))
                .order_by(table.c.id)
            )
            found += [
                f"{kind}: {row.id} (in course {row.code})" for row in self.session.execute(stmt)
            ]
        return found

    def save(
        self,
        course: Course,
        *,
        key: str,
        school_id: str,
        imported_at: datetime,
        imported_by: str | None,
    ) -> None:
        """Write ``course`` under ``key`` in ``school_id``, replacing what is stored there.

        Content kept in the new version is updated in place, new content inserted, and content
        no longer in the course deleted (with what depends on it).

        Raises:
            Conflict: when a content id belongs to another course of the school.
        """
        clashes = self.clashes(school_id, key, course)
        if clashes:
            raise Conflict(
                f"course {course.id!r} uses ids that other courses of this school use: "
                + "; ".join(clashes)
            )
        s = self.session
        values = {
            "title": course.title,
            "description": course.description,
            "language": course.language,
            "grade_band": course.grade_band,
            "imported_at": imported_at,
            "imported_by": imported_by,
            "revision": uuid.uuid4().hex,
        }
        if self.info(key) is None:
            s.execute(
                insert(courses), [{"id": key, "school_id": school_id, "code": course.id, **values}]
            )
        else:
            s.execute(update(courses).where(courses.c.id == key).values(**values))
        _upsert(
            s,
            competencies,
            key,
            [
                mappers.competency_row(c, course_id=key, position=i)
                for i, c in enumerate(course.framework.competencies)
            ],
        )
        _upsert(
            s,
            rubrics,
            key,
            [
                mappers.rubric_row(r, course_id=key, position=i)
                for i, r in enumerate(course.rubrics)
            ],
        )
        _upsert(
            s,
            activities,
            key,
            [
                mappers.activity_row(a, course_id=key, position=i)
                for i, a in enumerate(course.activities)
            ],
        )
        _upsert(
            s,
            items,
            key,
            [
                mappers.item_row(item, course_id=key, position=i)
                for i, item in enumerate(course.items)
            ],
        )
        self._replace_links(key, course)
        # Remove what the new version dropped: dependants first, then what they point to.
        _delete_missing(s, activities, key, [a.id for a in course.activities])
        _delete_missing(s, items, key, [i.id for i in course.items])
        _delete_missing(s, rubrics, key, [r.id for r in course.rubrics])
        _delete_missing(s, competencies, key, course.framework.ids)
        s.flush()

    def _replace_links(self, key: str, course: Course) -> None:
        """Rewrite the link tables (prerequisites, activity and item competencies)."""
        s = self.session
        for link in (competency_prerequisites, activity_competencies, item_competencies):
            s.execute(delete(link).where(link.c.course_id == key))
        edges = [
            {"course_id": key, "competency_id": c.id, "prerequisite_id": p, "position": i}
            for c in course.framework.competencies
            for i, p in enumerate(c.prerequisites)
        ]
        if edges:
            s.execute(insert(competency_prerequisites), edges)
        activity_links = [
            {"course_id": key, "activity_id": a.id, "competency_id": cid, "position": i}
            for a in course.activities
            for i, cid in enumerate(a.competencies)
        ]
        if activity_links:
            s.execute(insert(activity_competencies), activity_links)
        item_links = [
            {"course_id": key, "item_id": item.id, "competency_id": cid, "position": i}
            for item in course.items
            for i, cid in enumerate(item.competencies)
        ]
        if item_links:
            s.execute(insert(item_competencies), item_links)

    def get(self, key: str) -> Course:
        """The stored course; its ``id`` is the stored key.

        Raises:
            NotFound: when there is no course with this key.
        """
        s = self.session
        row = s.execute(select(courses).where(courses.c.id == key)).mappings().first()
        if row is None:
            raise NotFound(f"no course {key!r}")

        def ordered(table: Table) -> Any:
            stmt = select(table).where(table.c.course_id == key).order_by(table.c.position)
            return s.execute(stmt).mappings()

        prereqs = self._links(competency_prerequisites, "competency_id", "prerequisite_id", key)
        framework = Framework.build(
            mappers.competency_from_row(r, prereqs[r["id"]]) for r in ordered(competencies)
        )
        activity_links = self._links(activity_competencies, "activity_id", "competency_id", key)
        item_links = self._links(item_competencies, "item_id", "competency_id", key)
        return Course(
            id=row["id"],
            title=row["title"],
            framework=framework,
            description=row["description"],
            language=row["language"],
            grade_band=row["grade_band"],
            activities=tuple(
                mappers.activity_from_row(r, activity_links[r["id"]]) for r in ordered(activities)
            ),
            items=tuple(mappers.item_from_row(r, item_links[r["id"]]) for r in ordered(items)),
            rubrics=tuple(mappers.rubric_from_row(r) for r in ordered(rubrics)),
        )

    def _links(self, link: Table, owner: str, target: str, key: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = defaultdict(list)
        stmt = (
            select(link.c[owner], link.c[target])
            .where(link.c.course_id == key)
            .order_by(link.c[owner], link.c.position)
        )
        for owner_id, target_id in self.session.execute(stmt):
            found[owner_id].append(target_id)
        return found

    # --- evidence on content ------------------------------------------------------------------

    def learners_with_evidence(
        self, school_id: str, kind: str, ids: Sequence[str]
    ) -> dict[str, int]:
        """How many of the school's learners have evidence naming each of ``ids`` (of
        ``kind``: "competencies", "activities" or "items"); ids with none are left out."""
        if not ids or kind == "rubrics":
            return {}
        in_school = select(users.c.id).where(users.c.school_id == school_id)
        events = evidence_events
        if kind in ("items", "activities"):
            column = events.c.item_id if kind == "items" else events.c.activity_id
            stmt = (
                select(column, func.count(events.c.learner_id.distinct()))
                .where(column.in_(list(ids)), events.c.learner_id.in_(in_school))
                .group_by(column)
            )
            return {str(cid): int(n) for cid, n in self.session.execute(stmt)}
        return self._competency_learners(school_id, ids)

    def _competency_learners(self, school_id: str, ids: Sequence[str]) -> dict[str, int]:
        """As :meth:`learners_with_evidence` for competencies: each event's competencies are a
        JSON list, read with the database's own JSON functions."""
        postgres = self.session.get_bind().dialect.name == "postgresql"
        each = (
            "jsonb_array_elements_text(e.competency_ids -> 'ids') AS c(value)"
            if postgres
            else "json_each(e.competency_ids, '$.ids') AS c"
        )
        names = ", ".join(f":id{i}" for i in range(len(ids)))
        stmt = text(
            f"SELECT c.value AS cid, count(DISTINCT e.learner_id) AS n "
            f"FROM evidence_events e JOIN users u ON u.id = e.learner_id, {each} "
            f"WHERE u.school_id = :school AND c.value IN ({names}) GROUP BY c.value"
        )
        params: dict[str, Any] = {"school": school_id, **{f"id{i}": v for i, v in enumerate(ids)}}
        return {str(row.cid): int(row.n) for row in self.session.execute(stmt, params)}


def _ids(course: Course, kind: str) -> list[str]:
    if kind == "competencies":
        return list(course.framework.ids)
    return [x.id for x in getattr(course, kind)]
