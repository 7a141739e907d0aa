"""Courses belong to a school: ``courses.school_id`` and ``courses.code`` (the file's own id,
unique within the school; ``courses.id`` stays the stored key, unique across the database);
content keyed by (course, id), so that two schools' courses may use the same ids; assignments
name their course; classes follow courses (``class_courses``).

Every existing course gets a school: the school of the user who imported it; else the only
school; else the first school created (with no school at all, a school "school" is created to
hold them). Every other school whose learners used the course (a stored fold, checkpoint or
placement check on it, or an assignment by one of its teachers), and every other school at all
when nobody in particular imported it, gets its own copy, to which its learners' folds,
placement checks and assignments move. Every class then follows its school's courses, ordered
by key: the course its learners saw first before ("the first stored course") comes first.

The tables whose keys change are rebuilt: each old table is renamed away, the new one created,
the rows copied, and the old tables dropped children first. Never batch mode, and never a DROP
of a table that kept rows still point at: on SQLite with foreign keys on, dropping a table
deletes its rows first, and ``ON DELETE CASCADE`` would reach the evidence's neighbours.
(SQLite 3.26+ rewrites the foreign keys of the other tables to follow a renamed table, so the
old children keep pointing at the old parents until they are dropped, first.)

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON documents: JSONB on PostgreSQL, JSON elsewhere (as zoped.store.types.json_type).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 64
OLD = "old0012_"

# Parents first: the order the new tables are created and filled in (and the old ones dropped
# in reverse).
REBUILT = (
    "courses",
    "competencies",
    "competency_prerequisites",
    "rubrics",
    "activities",
    "activity_competencies",
    "items",
    "item_competencies",
    "assignments",
    "placement_sessions",
    "model_parameters",
    "learner_fold_checkpoints",
    "learner_folds",
)


def _in_course(owner: str, table: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["course_id", column],
        [f"{table}.course_id", f"{table}.id"],
        name=f"fk_{owner}_{column}_{table}",
        ondelete="CASCADE",
    )


def _course_fk(owner: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["course_id"], ["courses.id"], name=f"fk_{owner}_course_id_courses", ondelete="CASCADE"
    )


def _user_fk(owner: str, column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], ["users.id"], name=f"fk_{owner}_{column}_users", ondelete="CASCADE"
    )


def _string(name: str, *, nullable: bool = False, length: int = ID) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _at(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _create_new_tables() -> None:
    """The tables as ``zoped/store/tables.py`` declares them at this revision."""
    op.create_table(
        "courses",
        _string("id"),
        _string("school_id"),
        _string("code"),
        _string("title", length=300),
        sa.Column("description", sa.Text(), nullable=False),
        _string("language", length=35),
        _string("grade_band", nullable=True, length=32),
        _at("imported_at"),
        _string("imported_by", nullable=True),
        sa.Column("revision", sa.String(length=32), server_default="initial", nullable=False),
        sa.ForeignKeyConstraint(
            ["imported_by"], ["users.id"], name="fk_courses_imported_by_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["schools.id"], name="fk_courses_school_id_schools", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_courses"),
        sa.UniqueConstraint("school_id", "code", name="uq_courses_school_id_code"),
    )
    op.create_index("ix_courses_school_id", "courses", ["school_id"])
    op.create_table(
        "competencies",
        _string("course_id"),
        _string("id"),
        sa.Column("position", sa.Integer(), nullable=False),
        _string("title", length=300),
        sa.Column("description", sa.Text(), nullable=False),
        _string("parent_id", nullable=True),
        _string("standard_code", nullable=True),
        _string("grade_band", nullable=True, length=32),
        _course_fk("competencies"),
        sa.PrimaryKeyConstraint("course_id", "id", name="pk_competencies"),
    )
    op.create_table(
        "competency_prerequisites",
        _string("course_id"),
        _string("competency_id"),
        _string("prerequisite_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        _in_course("competency_prerequisites", "competencies", "competency_id"),
        _in_course("competency_prerequisites", "competencies", "prerequisite_id"),
        sa.PrimaryKeyConstraint(
            "course_id", "competency_id", "prerequisite_id", name="pk_competency_prerequisites"
        ),
    )
    op.create_index(
        "ix_competency_prerequisites_prerequisite",
        "competency_prerequisites",
        ["course_id", "prerequisite_id"],
    )
    op.create_table(
        "rubrics",
        _string("course_id"),
        _string("id"),
        sa.Column("position", sa.Integer(), nullable=False),
        _string("title", length=300),
        sa.Column("content", JSON_DOC, nullable=False),
        _course_fk("rubrics"),
        sa.PrimaryKeyConstraint("course_id", "id", name="pk_rubrics"),
    )
    op.create_table(
        "activities",
        _string("course_id"),
        _string("id"),
        sa.Column("position", sa.Integer(), nullable=False),
        _string("title", length=300),
        _string("modality", length=32),
        _string("rubric_id", nullable=True),
        sa.Column("content", JSON_DOC, nullable=False),
        _course_fk("activities"),
        sa.PrimaryKeyConstraint("course_id", "id", name="pk_activities"),
    )
    op.create_table(
        "activity_competencies",
        _string("course_id"),
        _string("activity_id"),
        _string("competency_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        _in_course("activity_competencies", "activities", "activity_id"),
        _in_course("activity_competencies", "competencies", "competency_id"),
        sa.PrimaryKeyConstraint(
            "course_id", "activity_id", "competency_id", name="pk_activity_competencies"
        ),
    )
    op.create_index(
        "ix_activity_competencies_competency",
        "activity_competencies",
        ["course_id", "competency_id"],
    )
    op.create_table(
        "items",
        _string("course_id"),
        _string("id"),
        sa.Column("position", sa.Integer(), nullable=False),
        _string("kind", length=32),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("content", JSON_DOC, nullable=False),
        _course_fk("items"),
        sa.PrimaryKeyConstraint("course_id", "id", name="pk_items"),
    )
    op.create_table(
        "item_competencies",
        _string("course_id"),
        _string("item_id"),
        _string("competency_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        _in_course("item_competencies", "items", "item_id"),
        _in_course("item_competencies", "competencies", "competency_id"),
        sa.PrimaryKeyConstraint(
            "course_id", "item_id", "competency_id", name="pk_item_competencies"
        ),
    )
    op.create_index(
        "ix_item_competencies_competency", "item_competencies", ["course_id", "competency_id"]
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        _string("assigned_by"),
        _string("course_id"),
        _string("activity_id", nullable=True),
        _string("item_id", nullable=True),
        _string("learner_id", nullable=True),
        _string("class_id", nullable=True),
        sa.Column("group_learner_ids", JSON_DOC, nullable=True),
        _at("assigned_at"),
        _at("due_at", nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(activity_id IS NULL) <> (item_id IS NULL)", name="ck_assignments_one_activity_or_item"
        ),
        sa.CheckConstraint(
            "(learner_id IS NOT NULL) OR (class_id IS NOT NULL)", name="ck_assignments_has_target"
        ),
        _user_fk("assignments", "assigned_by"),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name="fk_assignments_class_id_classes", ondelete="CASCADE"
        ),
        _in_course("assignments", "activities", "activity_id"),
        _in_course("assignments", "items", "item_id"),
        _course_fk("assignments"),
        _user_fk("assignments", "learner_id"),
        sa.PrimaryKeyConstraint("id", name="pk_assignments"),
    )
    op.create_index("ix_assignments_class_id", "assignments", ["class_id"])
    op.create_index("ix_assignments_learner_id", "assignments", ["learner_id"])
    op.create_table(
        "placement_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        _string("learner_id"),
        _string("course_id"),
        _string("status", length=16),
        sa.Column("state", JSON_DOC, nullable=False),
        _at("started_at"),
        _at("updated_at"),
        _at("finished_at", nullable=True),
        _course_fk("placement_sessions"),
        _user_fk("placement_sessions", "learner_id"),
        sa.PrimaryKeyConstraint("id", name="pk_placement_sessions"),
    )
    op.create_index("ix_placement_sessions_learner_id", "placement_sessions", ["learner_id"])
    op.create_table(
        "model_parameters",
        _string("course_id"),
        _string("model", length=32),
        sa.Column("parameters", JSON_DOC, nullable=False),
        _at("fitted_at"),
        sa.Column("n_answers", sa.Integer(), nullable=False),
        _course_fk("model_parameters"),
        sa.PrimaryKeyConstraint("course_id", "model", name="pk_model_parameters"),
    )
    for name, key, extra in (
        ("learner_fold_checkpoints", ("learner_id", "course_id", "n_events"), []),
        ("learner_folds", ("learner_id", "course_id"), [_at("updated_at")]),
    ):
        op.create_table(
            name,
            _string("learner_id"),
            _string("course_id"),
            *([sa.Column("n_events", sa.Integer(), nullable=False)] if "n_events" in key else []),
            _string("version"),
            *([] if "n_events" in key else [sa.Column("n_events", sa.Integer(), nullable=False)]),
            _at("last_occurred_at", nullable=True),
            sa.Column("last_event_id", sa.Uuid(), nullable=True),
            sa.Column("n_placements", sa.Integer(), nullable=False),
            sa.Column("state", JSON_DOC, nullable=False),
            *extra,
            _course_fk(name),
            _user_fk(name, "learner_id"),
            sa.PrimaryKeyConstraint(*key, name=f"pk_{name}"),
        )
    op.create_table(
        "class_courses",
        _string("class_id"),
        _string("course_id"),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name="fk_class_courses_class_id_classes",
            ondelete="CASCADE",
        ),
        _course_fk("class_courses"),
        sa.PrimaryKeyConstraint("class_id", "course_id", name="pk_class_courses"),
    )
    op.create_index("ix_class_courses_course_id", "class_courses", ["course_id"])


# How each new table is filled from the old ones (``{o}`` is the prefix of the old tables).
COPY = {
    "competencies": """
        INSERT INTO competencies (course_id, id, position, title, description, parent_id,
                                  standard_code, grade_band)
        SELECT course_id, id, position, title, description, parent_id, standard_code, grade_band
        FROM {o}competencies""",
    "competency_prerequisites": """
        INSERT INTO competency_prerequisites (course_id, competency_id, prerequisite_id, position)
        SELECT c.course_id, p.competency_id, p.prerequisite_id, p.position
        FROM {o}competency_prerequisites p JOIN {o}competencies c ON c.id = p.competency_id""",
    "rubrics": """
        INSERT INTO rubrics (course_id, id, position, title, content)
        SELECT course_id, id, position, title, content FROM {o}rubrics""",
    "activities": """
        INSERT INTO activities (course_id, id, position, title, modality, rubric_id, content)
        SELECT course_id, id, position, title, modality, rubric_id, content FROM {o}activities""",
    "activity_competencies": """
        INSERT INTO activity_competencies (course_id, activity_id, competency_id, position)
        SELECT a.course_id, l.activity_id, l.competency_id, l.position
        FROM {o}activity_competencies l JOIN {o}activities a ON a.id = l.activity_id""",
    "items": """
        INSERT INTO items (course_id, id, position, kind, difficulty, content)
        SELECT course_id, id, position, kind, difficulty, content FROM {o}items""",
    "item_competencies": """
        INSERT INTO item_competencies (course_id, item_id, competency_id, position)
        SELECT i.course_id, l.item_id, l.competency_id, l.position
        FROM {o}item_competencies l JOIN {o}items i ON i.id = l.item_id""",
    "assignments": """
        INSERT INTO assignments (id, assigned_by, course_id, activity_id, item_id, learner_id,
                                 class_id, group_learner_ids, assigned_at, due_at, note)
        SELECT a.id, a.assigned_by, COALESCE(ac.course_id, it.course_id), a.activity_id,
               a.item_id, a.learner_id, a.class_id, a.group_learner_ids, a.assigned_at, a.due_at,
               a.note
        FROM {o}assignments a
        LEFT JOIN {o}activities ac ON ac.id = a.activity_id
        LEFT JOIN {o}items it ON it.id = a.item_id
        WHERE COALESCE(ac.course_id, it.course_id) IS NOT NULL""",
    "placement_sessions": """
        INSERT INTO placement_sessions (id, learner_id, course_id, status, state, started_at,
                                        updated_at, finished_at)
        SELECT id, learner_id, course_id, status, state, started_at, updated_at, finished_at
        FROM {o}placement_sessions""",
    "model_parameters": """
        INSERT INTO model_parameters (course_id, model, parameters, fitted_at, n_answers)
        SELECT course_id, model, parameters, fitted_at, n_answers FROM {o}model_parameters""",
    "learner_fold_checkpoints": """
        INSERT INTO learner_fold_checkpoints (learner_id, course_id, n_events, version,
                                              last_occurred_at, last_event_id, n_placements, state)
        SELECT learner_id, course_id, n_events, version, last_occurred_at, last_event_id,
               n_placements, state
        FROM {o}learner_fold_checkpoints""",
    "learner_folds": """
        INSERT INTO learner_folds (learner_id, course_id, version, n_events, last_occurred_at,
                                   last_event_id, n_placements, state, updated_at)
        SELECT learner_id, course_id, version, n_events, last_occurred_at, last_event_id,
               n_placements, state, updated_at
        FROM {o}learner_folds""",
}

# A course's rows, copied under another key for another school (``:new``, ``:old``).
CONTENT_COPY = (
    """INSERT INTO competencies (course_id, id, position, title, description, parent_id,
                                 standard_code, grade_band)
       SELECT :new, id, position, title, description, parent_id, standard_code, grade_band
       FROM competencies WHERE course_id = :old""",
    """INSERT INTO competency_prerequisites (course_id, competency_id, prerequisite_id, position)
       SELECT :new, competency_id, prerequisite_id, position
       FROM competency_prerequisites WHERE course_id = :old""",
    """INSERT INTO rubrics (course_id, id, position, title, content)
       SELECT :new, id, position, title, content FROM rubrics WHERE course_id = :old""",
    """INSERT INTO activities (course_id, id, position, title, modality, rubric_id, content)
       SELECT :new, id, position, title, modality, rubric_id, content
       FROM activities WHERE course_id = :old""",
    """INSERT INTO activity_competencies (course_id, activity_id, competency_id, position)
       SELECT :new, activity_id, competency_id, position
       FROM activity_competencies WHERE course_id = :old""",
    """INSERT INTO items (course_id, id, position, kind, difficulty, content)
       SELECT :new, id, position, kind, difficulty, content FROM items WHERE course_id = :old""",
    """INSERT INTO item_competencies (course_id, item_id, competency_id, position)
       SELECT :new, item_id, competency_id, position
       FROM item_competencies WHERE course_id = :old""",
    """INSERT INTO model_parameters (course_id, model, parameters, fitted_at, n_answers)
       SELECT :new, model, parameters, fitted_at, n_answers
       FROM model_parameters WHERE course_id = :old""",
)

# What a school's learners and teachers hold on a course moves to that school's copy.
MOVED = (
    ("placement_sessions", "learner_id"),
    ("learner_folds", "learner_id"),
    ("learner_fold_checkpoints", "learner_id"),
    ("assignments", "assigned_by"),
)


def _copy_key(code: str, school_id: str, taken: set[str]) -> str:
    """A stored key for ``code`` in ``school_id`` that no course has, and a slug (as the import
    derives it): ``code--school``, or the code and a digest when that is taken or too long."""
    school = re.sub(r"[^a-z0-9._-]+", "-", school_id.lower()).strip("-._") or "school"
    key = f"{code}--{school}"
    if len(key) <= ID and key not in taken:
        return key
    digest = hashlib.sha256(f"{school_id}\n{code}".encode()).hexdigest()
    for length in range(12, 41):
        key = f"{code[: ID - length - 2]}--{digest[:length]}"
        if key not in taken:
            return key
    raise RuntimeError(f"no free key for course {code!r} of school {school_id!r}")


def _schools(bind: sa.Connection) -> list[str]:
    rows = bind.execute(sa.text("SELECT id FROM schools ORDER BY created_at, id")).all()
    if rows:
        return [str(r.id) for r in rows]
    courses = bind.execute(sa.text(f"SELECT count(*) FROM {OLD}courses")).scalar()
    if not courses:
        return []
    # Courses imported before any school existed: a school to hold them, as old as the first.
    bind.execute(
        sa.text(
            "INSERT INTO schools (id, name, created_at) "
            f"SELECT 'school', 'School', min(imported_at) FROM {OLD}courses"
        )
    )
    return ["school"]


def _schools_using(bind: sa.Connection, course_id: str) -> set[str]:
    """The schools whose learners have a fold, checkpoint or placement check on the old
    course, or whose teachers assigned its content."""
    found: set[str] = set()
    for table in ("placement_sessions", "learner_folds", "learner_fold_checkpoints"):
        rows = bind.execute(
            sa.text(
                f"SELECT DISTINCT u.school_id FROM {OLD}{table} t "
                "JOIN users u ON u.id = t.learner_id WHERE t.course_id = :course"
            ),
            {"course": course_id},
        )
        found |= {str(r.school_id) for r in rows}
    rows = bind.execute(
        sa.text(
            f"SELECT DISTINCT u.school_id FROM {OLD}assignments a "
            "JOIN users u ON u.id = a.assigned_by "
            f"LEFT JOIN {OLD}activities ac ON ac.id = a.activity_id "
            f"LEFT JOIN {OLD}items it ON it.id = a.item_id "
            "WHERE COALESCE(ac.course_id, it.course_id) = :course"
        ),
        {"course": course_id},
    )
    return found | {str(r.school_id) for r in rows}


def _assign_courses(bind: sa.Connection) -> None:
    """Fill ``courses`` from the old table, each in its school, then the content, and copy
    each course for the other schools that use it (see the module's docstring)."""
    schools = _schools(bind)
    old = bind.execute(
        sa.text(
            f"SELECT c.*, u.school_id AS importer_school FROM {OLD}courses c "
            "LEFT JOIN users u ON u.id = c.imported_by ORDER BY c.id"
        )
    ).mappings()
    rows = [dict(r) for r in old]
    taken = {str(r["id"]) for r in rows}
    copies: list[tuple[dict[str, object], str]] = []
    for row in rows:
        owner = row["importer_school"] or schools[0]
        row["school_id"] = owner
        if row["importer_school"] is None:
            users = set(schools)
        else:
            users = _schools_using(bind, str(row["id"]))
        copies += [(row, school) for school in schools if school in users and school != owner]
    columns = (
        "id, school_id, code, title, description, language, grade_band, imported_at, "
        "imported_by, revision"
    )
    insert = sa.text(
        f"INSERT INTO courses ({columns}) VALUES (:id, :school_id, :code, :title, :description, "
        ":language, :grade_band, :imported_at, :imported_by, :revision)"
    )
    for row in rows:
        bind.execute(insert, {**_course_values(row), "code": row["id"]})
    for table in REBUILT[1:]:
        bind.execute(sa.text(COPY[table].format(o=OLD)))
    for row, school in copies:
        key = _copy_key(str(row["id"]), school, taken)
        taken.add(key)
        values = _course_values(row)
        values.update(
            id=key, school_id=school, code=row["id"], imported_by=None, revision=uuid.uuid4().hex
        )
        bind.execute(insert, values)
        for statement in CONTENT_COPY:
            bind.execute(sa.text(statement), {"new": key, "old": row["id"]})
        for table, column in MOVED:
            bind.execute(
                sa.text(
                    f"UPDATE {table} SET course_id = :new WHERE course_id = :old AND {column} IN "
                    "(SELECT id FROM users WHERE school_id = :school)"
                ),
                {"new": key, "old": row["id"], "school": school},
            )


def _course_values(row: dict[str, object]) -> dict[str, object]:
    names = (
        "id",
        "school_id",
        "title",
        "description",
        "language",
        "grade_band",
        "imported_at",
        "imported_by",
        "revision",
    )
    return {name: row[name] for name in names}


def _follow_courses(bind: sa.Connection) -> None:
    """Every class follows its school's courses, ordered by key."""
    courses: dict[str, list[str]] = {}
    for row in bind.execute(sa.text("SELECT id, school_id FROM courses ORDER BY id")):
        courses.setdefault(str(row.school_id), []).append(str(row.id))
    links = [
        {"class_id": row.id, "course_id": course_id, "position": position}
        for row in bind.execute(sa.text("SELECT id, school_id FROM classes ORDER BY id"))
        for position, course_id in enumerate(courses.get(str(row.school_id), []))
    ]
    if links:
        bind.execute(
            sa.text(
                "INSERT INTO class_courses (class_id, course_id, position) "
                "VALUES (:class_id, :course_id, :position)"
            ),
            links,
        )


def upgrade() -> None:
    """Apply this migration."""
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    postgres = bind.dialect.name == "postgresql"
    # Index names (and, on PostgreSQL, primary-key names) are schema-wide: free them first.
    for table in REBUILT:
        for index in inspector.get_indexes(table):
            if index["name"]:
                op.drop_index(index["name"], table_name=table)
    for table in REBUILT:
        op.rename_table(table, OLD + table)
        if postgres:
            op.execute(
                sa.text(f"ALTER TABLE {OLD}{table} RENAME CONSTRAINT pk_{table} TO {OLD}pk_{table}")
            )
    _create_new_tables()
    _assign_courses(bind)
    for table in reversed(REBUILT):
        op.drop_table(OLD + table)
    _follow_courses(bind)


def downgrade() -> None:
    """Revert this migration: not possible once courses are per school."""
    raise NotImplementedError(
        "migration 0012 (courses per school) cannot be undone: two schools' courses may now "
        "share ids that the older schema keeps unique; restore a backup taken before it"
    )
