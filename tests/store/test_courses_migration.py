"""Migration 0012 (courses per school) on a database that already holds a running school: every
course gets a school, schools that used another school's course get their own copy, every class
follows its school's courses, and nothing learners did is lost on the way (SQLite cascades
would delete it if a referenced table were dropped)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, func, select

from tests import factories as f
from zoped.domain import Role
from zoped.domain.people import School
from zoped.store import mappers
from zoped.store.db import make_engine, upgrade
from zoped.store.tables import (
    activities,
    activity_competencies,
    assignments,
    class_courses,
    classes,
    competencies,
    competency_prerequisites,
    courses,
    enrollments,
    evidence_events,
    item_competencies,
    items,
    learner_fold_checkpoints,
    learner_folds,
    model_parameters,
    placement_sessions,
    rubrics,
    schools,
    users,
)
from zoped.store.types import UtcDateTime, json_type

T0 = f.T0
UUID_IDS = {"assignments", "placement_sessions"}


def _old(name: str, *columns: str, json: tuple[str, ...] = (), at: tuple[str, ...] = ()) -> Any:
    """A table as revision 0011 has it, for inserting rows (only the columns written)."""
    cols: list[sa.ColumnClause[Any]] = [
        sa.column(c, sa.Uuid()) if c == "id" and name in UUID_IDS else sa.column(c) for c in columns
    ]
    cols += [sa.column(c, json_type()) for c in json]
    cols += [sa.column(c, UtcDateTime()) for c in at]
    return sa.table(name, *cols)


OLD_COURSES = _old(
    "courses", "id", "title", "description", "language", "imported_by", at=("imported_at",)
)
OLD_COMPETENCIES = _old("competencies", "id", "course_id", "position", "title", "description")
OLD_PREREQS = _old("competency_prerequisites", "competency_id", "prerequisite_id", "position")
OLD_RUBRICS = _old("rubrics", "id", "course_id", "position", "title", json=("content",))
OLD_ACTIVITIES = _old(
    "activities", "id", "course_id", "position", "title", "modality", "rubric_id", json=("content",)
)
OLD_ACTIVITY_LINKS = _old("activity_competencies", "activity_id", "competency_id", "position")
OLD_ITEMS = _old("items", "id", "course_id", "position", "kind", json=("content",))
OLD_ITEM_LINKS = _old("item_competencies", "item_id", "competency_id", "position")
OLD_ASSIGNMENTS = _old(
    "assignments", "id", "assigned_by", "activity_id", "learner_id", at=("assigned_at",)
)
OLD_PLACEMENTS = _old(
    "placement_sessions",
    "id",
    "learner_id",
    "course_id",
    "status",
    json=("state",),
    at=("started_at", "updated_at"),
)
OLD_PARAMS = _old(
    "model_parameters", "course_id", "model", "n_answers", json=("parameters",), at=("fitted_at",)
)
OLD_FOLDS = _old(
    "learner_folds",
    "learner_id",
    "course_id",
    "version",
    "n_events",
    "n_placements",
    json=("state",),
    at=("updated_at",),
)
OLD_CHECKPOINTS = _old(
    "learner_fold_checkpoints",
    "learner_id",
    "course_id",
    "n_events",
    "version",
    "n_placements",
    json=("state",),
)


def _user(connection: Connection, uid: str, school: str, role: Role) -> None:
    row = mappers.user_row(f.user(role, id=uid, school_id=school), created_at=T0)
    connection.execute(users.insert(), [row])


def _course(connection: Connection, course_id: str, imported_by: str | None) -> None:
    """A small course: competencies a and b (b needs a), item q on a, activity act with rubric
    r, all under ids that are unique across the database (as before 0012)."""
    p = course_id + "."
    connection.execute(
        OLD_COURSES.insert(),
        [
            {
                "id": course_id,
                "title": course_id.title(),
                "description": "",
                "language": "en",
                "imported_by": imported_by,
                "imported_at": T0,
            }
        ],
    )
    connection.execute(
        OLD_COMPETENCIES.insert(),
        [
            {"id": p + c, "course_id": course_id, "position": i, "title": c, "description": ""}
            for i, c in enumerate("ab")
        ],
    )
    connection.execute(
        OLD_PREREQS.insert(),
        [{"competency_id": p + "b", "prerequisite_id": p + "a", "position": 0}],
    )
    connection.execute(
        OLD_RUBRICS.insert(),
        [
            {
                "id": p + "r",
                "course_id": course_id,
                "position": 0,
                "title": "R",
                "content": {"_v": 1},
            }
        ],
    )
    connection.execute(
        OLD_ACTIVITIES.insert(),
        [
            {
                "id": p + "act",
                "course_id": course_id,
                "position": 0,
                "title": "Act",
                "modality": "project",
                "rubric_id": p + "r",
                "content": {"_v": 1},
            }
        ],
    )
    connection.execute(
        OLD_ACTIVITY_LINKS.insert(),
        [{"activity_id": p + "act", "competency_id": p + "a", "position": 0}],
    )
    connection.execute(
        OLD_ITEMS.insert(),
        [{"id": p + "q", "course_id": course_id, "position": 0, "kind": "numeric", "content": {}}],
    )
    connection.execute(
        OLD_ITEM_LINKS.insert(), [{"item_id": p + "q", "competency_id": p + "a", "position": 0}]
    )
    connection.execute(
        OLD_PARAMS.insert(),
        [
            {
                "course_id": course_id,
                "model": "bkt",
                "n_answers": 7,
                "parameters": {"_v": 1},
                "fitted_at": T0,
            }
        ],
    )


def _used(connection: Connection, learner: str, course_id: str, teacher: str) -> None:
    """The learner answered on the course, has a fold, a checkpoint and a placement check on
    it, and their teacher assigned its activity."""
    connection.execute(
        evidence_events.insert(),
        [
            mappers.event_row(
                f.event(
                    learner_id=learner, item_id=course_id + ".q", competency_ids=[course_id + ".a"]
                )
            )
        ],
    )
    connection.execute(
        OLD_FOLDS.insert(),
        [
            {
                "learner_id": learner,
                "course_id": course_id,
                "version": "v",
                "n_events": 1,
                "n_placements": 0,
                "state": {"_v": 1},
                "updated_at": T0,
            }
        ],
    )
    connection.execute(
        OLD_CHECKPOINTS.insert(),
        [
            {
                "learner_id": learner,
                "course_id": course_id,
                "n_events": 1,
                "version": "v",
                "n_placements": 0,
                "state": {"_v": 1},
            }
        ],
    )
    connection.execute(
        OLD_PLACEMENTS.insert(),
        [
            {
                "id": uuid.uuid4(),
                "learner_id": learner,
                "course_id": course_id,
                "status": "active",
                "state": {"_v": 1},
                "started_at": T0,
                "updated_at": T0,
            }
        ],
    )
    connection.execute(
        OLD_ASSIGNMENTS.insert(),
        [
            {
                "id": uuid.uuid4(),
                "assigned_by": teacher,
                "activity_id": course_id + ".act",
                "learner_id": learner,
                "assigned_at": T0,
            }
        ],
    )


def _count(connection: Connection, table: sa.Table, **where: str) -> int:
    stmt = select(func.count()).select_from(table)
    for column, value in where.items():
        stmt = stmt.where(table.c[column] == value)
    return int(connection.scalar(stmt) or 0)


def _school_row(school: School, *, created_at: datetime) -> dict[str, Any]:
    """A school's row as these tests' schema (0011) has it: without 0017's time zone."""
    row = mappers.school_row(school, created_at=created_at)
    del row["time_zone"]
    return row


def _pairs(connection: Connection, table: sa.Table) -> set[tuple[str, str]]:
    return {(r.learner_id, r.course_id) for r in connection.execute(select(table))}


def test_one_school_keeps_everything_and_its_classes_follow_its_course(db_url: str) -> None:
    upgrade(db_url, "0011")
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(schools.insert(), [_school_row(f.school(id="s1"), created_at=T0)])
            _user(connection, "l1", "s1", Role.LEARNER)
            _user(connection, "t1", "s1", Role.TEACHER)
            connection.execute(
                classes.insert(), [{"id": "k1", "school_id": "s1", "name": "K1", "created_at": T0}]
            )
            connection.execute(
                enrollments.insert(), [{"class_id": "k1", "learner_id": "l1", "enrolled_at": T0}]
            )
            _course(connection, "zeta", imported_by=None)
            _course(connection, "alpha", imported_by="t1")
            _used(connection, "l1", "zeta", "t1")
        upgrade(db_url)
        with engine.connect() as connection:
            stored = {r.id: (r.school_id, r.code) for r in connection.execute(select(courses))}
            assert stored == {"alpha": ("s1", "alpha"), "zeta": ("s1", "zeta")}
            # The class follows both, by key: the course its learners saw first stays first.
            follows = connection.execute(
                select(class_courses.c.course_id).order_by(class_courses.c.position)
            ).scalars()
            assert list(follows) == ["alpha", "zeta"]
            for table, n in (
                (competencies, 2),
                (competency_prerequisites, 1),
                (rubrics, 1),
                (activities, 1),
                (activity_competencies, 1),
                (items, 1),
                (item_competencies, 1),
                (model_parameters, 1),
            ):
                assert _count(connection, table, course_id="zeta") == n, table.name
            assert (
                connection.scalar(
                    select(activities.c.rubric_id).where(activities.c.course_id == "zeta")
                )
                == "zeta.r"
            )
            assert _pairs(connection, learner_folds) == {("l1", "zeta")}
            assert _pairs(connection, learner_fold_checkpoints) == {("l1", "zeta")}
            assert _pairs(connection, placement_sessions) == {("l1", "zeta")}
            assert connection.execute(
                select(assignments.c.course_id, assignments.c.activity_id)
            ).all() == [("zeta", "zeta.act")]
            assert _count(connection, evidence_events) == 1
    finally:
        engine.dispose()


def test_a_course_used_by_two_schools_becomes_one_course_in_each(db_url: str) -> None:
    """The issue's case: a teacher of school 2 imported a course under the id school 1's
    learners use. Each school keeps a course of its own, with its learners' folds, placement
    checks and assignments; a course imported by the system is copied into every school."""
    upgrade(db_url, "0011")
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            for i, school in enumerate(("s1", "s2")):
                connection.execute(
                    schools.insert(),
                    [_school_row(f.school(id=school), created_at=T0.replace(hour=i))],
                )
                _user(connection, f"l-{school}", school, Role.LEARNER)
                _user(connection, f"t-{school}", school, Role.TEACHER)
                connection.execute(
                    classes.insert(),
                    [{"id": f"k-{school}", "school_id": school, "name": "K", "created_at": T0}],
                )
            _course(connection, "shared", imported_by="t-s2")
            _course(connection, "system", imported_by=None)
            _course(connection, "own", imported_by="t-s2")
            _used(connection, "l-s1", "shared", "t-s1")
            _used(connection, "l-s2", "shared", "t-s2")
            _used(connection, "l-s2", "system", "t-s2")
        upgrade(db_url)
        with engine.connect() as connection:
            stored = {r.id: (r.school_id, r.code) for r in connection.execute(select(courses))}
            assert stored == {
                "shared": ("s2", "shared"),
                "shared--s1": ("s1", "shared"),
                "system": ("s1", "system"),
                "system--s2": ("s2", "system"),
                "own": ("s2", "own"),
            }
            for key in stored:
                assert _count(connection, competencies, course_id=key) == 2, key
                assert _count(connection, item_competencies, course_id=key) == 1, key
                assert _count(connection, model_parameters, course_id=key) == 1, key
            moved = {("l-s1", "shared--s1"), ("l-s2", "shared"), ("l-s2", "system--s2")}
            for table in (learner_folds, learner_fold_checkpoints, placement_sessions):
                assert _pairs(connection, table) == moved, table.name
            assert set(
                connection.execute(select(assignments.c.assigned_by, assignments.c.course_id))
            ) == {("t-s1", "shared--s1"), ("t-s2", "shared"), ("t-s2", "system--s2")}
            follows = {
                (r.class_id, r.position): r.course_id
                for r in connection.execute(select(class_courses))
            }
            assert follows == {
                ("k-s1", 0): "shared--s1",
                ("k-s1", 1): "system",
                ("k-s2", 0): "own",
                ("k-s2", 1): "shared",
                ("k-s2", 2): "system--s2",
            }
            assert _count(connection, evidence_events) == 3
    finally:
        engine.dispose()
