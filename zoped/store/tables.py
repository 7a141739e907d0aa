"""The database schema as SQLAlchemy Core tables: the one place the schema is declared.

Migrations under ``alembic/versions`` must produce exactly this metadata; a test compares them
with Alembic's autogenerate. Rows become domain objects only in :mod:`zoped.store.mappers`.

Conventions:

* Ids of people, content and courses are strings chosen by the importer (slugs or uuids as
  text); ids of events and other records written by the system are UUIDs.
* Every timestamp is a :class:`~zoped.store.types.UtcDateTime`.
* Structured content lives in JSON columns whose document carries its schema version under
  the key ``"_v"`` (see :mod:`zoped.store.jsondocs`), so that old rows can be upgraded when read.
* ``evidence_events`` and ``audit_log`` are append-only: the repositories offer no update path.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    false,
    true,
)

from zoped.store.types import UtcDateTime, json_type

# Named constraints make migrations reproducible and let SQLite batch migrations find them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

ID = 64  # length of string ids: slugs, usernames as ids, uuids as text
TITLE = 300

# --- people -------------------------------------------------------------------------------

schools = Table(
    "schools",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("name", String(TITLE), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # An IANA name: due dates end at midnight there and pages show times there.
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
)

users = Table(
    "users",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("display_name", String(TITLE), nullable=False),
    # A user signs in with either; each is unique within the school (NULLs do not collide).
    Column("username", String(ID), nullable=True),
    Column("email", String(320), nullable=True),
    # Filled in by authentication; a user rostered by import may not have signed in yet.
    Column("password_hash", String(255), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    # A deactivated user cannot sign in or use a token; their data stays (reactivation undoes).
    Column("active", Boolean(), nullable=False, server_default=true()),
    # Set by an admin's password reset: the next sign-in must choose a new password first.
    Column("must_change_password", Boolean(), nullable=False, server_default=false()),
    UniqueConstraint("school_id", "username"),
    UniqueConstraint("school_id", "email"),
    CheckConstraint("role IN ('learner', 'guardian', 'teacher', 'admin')", name="role"),
)

classes = Table(
    "classes",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(TITLE), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

class_teachers = Table(
    "class_teachers",
    metadata,
    Column("class_id", ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("teacher_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # Keeps the teachers in the order they were given.
    Column("position", Integer(), nullable=False),
)

enrollments = Table(
    "enrollments",
    metadata,
    Column("class_id", ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("enrolled_at", UtcDateTime(), nullable=False),
)

guardian_links = Table(
    "guardian_links",
    metadata,
    Column("guardian_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", UtcDateTime(), nullable=False),
)

learner_profiles = Table(
    "learner_profiles",
    metadata,
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    # Display name, interests, preferred modalities, goals, strengths, needs, accessibility,
    # languages and prior-learning claims.
    Column("details", json_type(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# --- content ------------------------------------------------------------------------------

# A course belongs to a school. ``id`` is the course's stored key, unique across the database
# (what every other table refers to); ``code`` is the course file's own id, unique within the
# school. An import keeps the key equal to the code unless another school's course holds it
# (see docs/storage.md, "Courses belong to a school").
courses = Table(
    "courses",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("code", String(ID), nullable=False),
    Column("title", String(TITLE), nullable=False),
    Column("description", Text(), nullable=False),
    Column("language", String(35), nullable=False),
    Column("grade_band", String(32), nullable=True),
    Column("imported_at", UtcDateTime(), nullable=False),
    Column("imported_by", ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    # A new random token at every import: a process may keep a course read while it is the same.
    Column("revision", String(32), nullable=False, server_default="initial"),
    UniqueConstraint("school_id", "code"),
)

# The courses a class follows, in order (its learners' first course is the first).
class_courses = Table(
    "class_courses",
    metadata,
    Column("class_id", ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("position", Integer(), nullable=False),
)

# Content is keyed by (course, id): two schools' courses may use the same ids. Within one
# school the content ids of its courses do not overlap (the import refuses that), so an
# evidence event's item or competency id names one thing for the learner's school.


def _in_course(owner: str, table: str, column: str) -> ForeignKeyConstraint:
    """A foreign key of ``owner`` from (course_id, ``column``) to ``table``'s (course_id, id),
    named after ``column`` (the convention would name two of them after course_id alike)."""
    return ForeignKeyConstraint(
        ["course_id", column],
        [f"{table}.course_id", f"{table}.id"],
        ondelete="CASCADE",
        name=f"fk_{owner}_{column}_{table}",
    )


competencies = Table(
    "competencies",
    metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("position", Integer(), nullable=False),
    Column("title", String(TITLE), nullable=False),
    Column("description", Text(), nullable=False),
    # No foreign key: a parent may come later in the file, and the domain checks the tree.
    Column("parent_id", String(ID), nullable=True),
    Column("standard_code", String(ID), nullable=True),
    Column("grade_band", String(32), nullable=True),
)

competency_prerequisites = Table(
    "competency_prerequisites",
    metadata,
    Column("course_id", String(ID), primary_key=True),
    Column("competency_id", String(ID), primary_key=True),
    Column("prerequisite_id", String(ID), primary_key=True),
    # Keeps the prerequisites in the order the course lists them.
    Column("position", Integer(), nullable=False),
    _in_course("competency_prerequisites", "competencies", "competency_id"),
    _in_course("competency_prerequisites", "competencies", "prerequisite_id"),
    Index("ix_competency_prerequisites_prerequisite", "course_id", "prerequisite_id"),
)

rubrics = Table(
    "rubrics",
    metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("position", Integer(), nullable=False),
    Column("title", String(TITLE), nullable=False),
    # Criteria with their competencies and levels.
    Column("content", json_type(), nullable=False),
)

activities = Table(
    "activities",
    metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("position", Integer(), nullable=False),
    Column("title", String(TITLE), nullable=False),
    Column("modality", String(32), nullable=False),
    # A rubric of the same course. No foreign key: SET NULL on a key that includes course_id
    # would null the course too; the domain checks the rubric exists and an import writes the
    # activity before it drops a rubric.
    Column("rubric_id", String(ID), nullable=True),
    # Body, link, minutes, interests, language and anything else the format adds.
    Column("content", json_type(), nullable=False),
)

activity_competencies = Table(
    "activity_competencies",
    metadata,
    Column("course_id", String(ID), primary_key=True),
    Column("activity_id", String(ID), primary_key=True),
    Column("competency_id", String(ID), primary_key=True),
    Column("position", Integer(), nullable=False),
    _in_course("activity_competencies", "activities", "activity_id"),
    _in_course("activity_competencies", "competencies", "competency_id"),
    Index("ix_activity_competencies_competency", "course_id", "competency_id"),
)

items = Table(
    "items",
    metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(ID), primary_key=True),
    Column("position", Integer(), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("difficulty", Float(), nullable=True),
    # Stem, hints, explanation and the answer shape of the kind (options, answer, accepted…).
    Column("content", json_type(), nullable=False),
)

item_competencies = Table(
    "item_competencies",
    metadata,
    Column("course_id", String(ID), primary_key=True),
    Column("item_id", String(ID), primary_key=True),
    Column("competency_id", String(ID), primary_key=True),
    Column("position", Integer(), nullable=False),
    _in_course("item_competencies", "items", "item_id"),
    _in_course("item_competencies", "competencies", "competency_id"),
    Index("ix_item_competencies_competency", "course_id", "competency_id"),
)

# --- evidence -----------------------------------------------------------------------------

# Append-only. Item, activity and competency ids are not foreign keys: the log is the source
# of truth and must survive a course re-import that drops an item.
evidence_events = Table(
    "evidence_events",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("item_id", String(ID), nullable=True),
    Column("activity_id", String(ID), nullable=True),
    Column("competency_ids", json_type(), nullable=False),
    Column("correct", Boolean(), nullable=True),
    Column("score", Float(), nullable=True),
    Column("occurred_at", UtcDateTime(), nullable=False),
    Column("recorded_at", UtcDateTime(), nullable=False),
    Column("duration_s", Float(), nullable=True),
    Column("hints_used", Integer(), nullable=False),
    Column("source", String(32), nullable=False),
    Column("actor_id", String(ID), nullable=True),
    Column("note", Text(), nullable=False),
    Column("payload", json_type(), nullable=False),
    Column("supersedes", Uuid(), nullable=True),
    # The domain's content fingerprint: equal fingerprints = the same event submitted again.
    Column("fingerprint", String(128), nullable=False),
    Index("ix_evidence_events_learner_occurred", "learner_id", "occurred_at"),
)

# The file handed in with a project, by the evidence event that hands it in (the event's
# payload names it: name, type, size, SHA-256). Kept apart from the event so the log stays
# small; goes with the learner (exported with their data, erased with their account).
project_files = Table(
    "project_files",
    metadata,
    Column("event_id", Uuid(), primary_key=True),
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(TITLE), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size_bytes", Integer(), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary(), nullable=False),
    Column("stored_at", UtcDateTime(), nullable=False),
)

# The pictures a course's items show, named SHA256.EXT and served at /media/NAME (migration 0018).
course_media = Table(
    "course_media",
    metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("name", String(80), primary_key=True, index=True),
    Column("content_type", String(64), nullable=False),
    Column("size_bytes", Integer(), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", LargeBinary(), nullable=False),
    Column("stored_at", UtcDateTime(), nullable=False),
)

# --- plans and reflection -----------------------------------------------------------------

learning_plans = Table(
    "learning_plans",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    # Incremented on every save; a write carrying an older version is refused (Conflict).
    Column("version", Integer(), nullable=False),
    # Goals, strategies, resources and how mastery will be shown.
    Column("content", json_type(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=True),
    Column("updated_by", String(ID), nullable=True),
)

learning_plan_versions = Table(
    "learning_plan_versions",
    metadata,
    Column("plan_id", ForeignKey("learning_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer(), primary_key=True),
    Column("content", json_type(), nullable=False),
    Column("saved_at", UtcDateTime(), nullable=False),
    Column("saved_by", String(ID), nullable=True),
)

plan_comments = Table(
    "plan_comments",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("plan_id", ForeignKey("learning_plans.id", ondelete="CASCADE"), nullable=False),
    Column("author_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("body", Text(), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    # The plan version the comment was written against.
    Column("plan_version", Integer(), nullable=False),
    Index("ix_plan_comments_plan_created", "plan_id", "created_at"),
)

log_entries = Table(
    "log_entries",
    metadata,
    Column("id", String(ID), primary_key=True),
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("body", Text(), nullable=False),
    # Private to the learner unless shared with their teachers.
    Column("shared", Boolean(), nullable=False),
    Column("activity_id", String(ID), nullable=True),
    Column("competency_ids", json_type(), nullable=False),
    Index("ix_log_entries_learner_created", "learner_id", "created_at"),
)

# --- engine decisions and sessions --------------------------------------------------------

recommendation_decisions = Table(
    "recommendation_decisions",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("decided_at", UtcDateTime(), nullable=False),
    Column("policy", String(ID), nullable=False),
    # Every candidate with its score components, and the menu shown; for offline evaluation.
    Column("candidates", json_type(), nullable=False),
    Column("chosen_id", String(ID), nullable=True),
    Index("ix_recommendation_decisions_learner_decided", "learner_id", "decided_at"),
)

placement_sessions = Table(
    "placement_sessions",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    # The engine's resumable state: beliefs, asked items, stopping statistics.
    Column("state", json_type(), nullable=False),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
    Column("finished_at", UtcDateTime(), nullable=True),
)

assignments = Table(
    "assignments",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("assigned_by", ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    # The course of the activity or item (a re-import that drops it drops the assignment).
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), nullable=False),
    Column("activity_id", String(ID), nullable=True),
    Column("item_id", String(ID), nullable=True),
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("class_id", ForeignKey("classes.id", ondelete="CASCADE"), nullable=True, index=True),
    # A small group within a class (list of learner ids); None when the target is a class or one
    # learner.
    Column("group_learner_ids", json_type(), nullable=True),
    Column("assigned_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=True),
    Column("note", Text(), nullable=True),
    _in_course("assignments", "activities", "activity_id"),
    _in_course("assignments", "items", "item_id"),
    CheckConstraint("(activity_id IS NULL) <> (item_id IS NULL)", name="one_activity_or_item"),
    CheckConstraint("(learner_id IS NOT NULL) OR (class_id IS NOT NULL)", name="has_target"),
)

# --- audit --------------------------------------------------------------------------------

# Append-only: who did what to which subject, and when. No foreign keys, so an erasure of a
# user does not erase the record that the erasure happened.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("at", UtcDateTime(), nullable=False),
    Column("actor_id", String(ID), nullable=True),
    Column("action", String(64), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(ID), nullable=True),
    Column("details", json_type(), nullable=False),
    Index("ix_audit_log_subject", "subject_type", "subject_id"),
    Index("ix_audit_log_at", "at"),
    # The admin's filters: who (and the school scope, which matches actors), and which action.
    Index("ix_audit_log_actor_at", "actor_id", "at"),
    Index("ix_audit_log_action_at", "action", "at"),
)

# --- rosters and the data lifecycle -------------------------------------------------------

# What a roster import (OneRoster) last said about each record, keyed by the bundle's own
# ``sourcedId`` within the school, so that a re-import updates in place and a delta applies
# changes. ``local_id`` names the zoped row (user, class) the record became; records with no
# zoped row of their own (academic sessions, roster courses) keep their fields in ``data``.
roster_records = Table(
    "roster_records",
    metadata,
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
    # "org", "academicSession", "course", "class", "user" or "enrollment".
    Column("kind", String(32), primary_key=True),
    Column("sourced_id", String(255), primary_key=True),
    Column("local_id", String(ID), nullable=True),
    # "active" or "tobedeleted", as the bundle last said.
    Column("status", String(16), nullable=False),
    Column("date_last_modified", UtcDateTime(), nullable=True),
    Column("data", json_type(), nullable=False),
    Column("imported_at", UtcDateTime(), nullable=False),
    Index("ix_roster_records_local", "school_id", "kind", "local_id"),
)

# Requests to erase a learner's data. A request waits out a grace period (``due_at``), shown to
# the learner, their guardians, teachers and admins, any of whom may cancel it; when it is due,
# the learner is erased and the request is marked done. The learner id is plain text (no foreign
# key) so that the row outlives the user it names; erasure replaces it with the pseudonym.
erasure_requests = Table(
    "erasure_requests",
    metadata,
    Column("id", Uuid(), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), nullable=False),
    Column("learner_id", String(ID), nullable=False, index=True),
    Column("requested_by", String(ID), nullable=True),
    Column("requested_at", UtcDateTime(), nullable=False),
    Column("due_at", UtcDateTime(), nullable=False),
    # "pending", "cancelled" or "done".
    Column("status", String(16), nullable=False),
    Column("closed_by", String(ID), nullable=True),
    Column("closed_at", UtcDateTime(), nullable=True),
    Index("ix_erasure_requests_status_due", "status", "due_at"),
    CheckConstraint("status IN ('pending', 'cancelled', 'done')", name="status"),
)

# --- authentication -----------------------------------------------------------------------

# One row per failed sign-in, keyed by a SHA-256 digest of the account ("school/username") or of
# the client address, so that the table holds no name or address in clear. Throttling counts the
# recent rows; it survives restarts and is shared by every app process.
signin_failures = Table(
    "signin_failures",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    # "account" or "address".
    Column("scope", String(16), nullable=False),
    Column("key_digest", String(64), nullable=False),
    Column("failed_at", UtcDateTime(), nullable=False),
    Index("ix_signin_failures_scope_key_failed", "scope", "key_digest", "failed_at"),
)

# Signed-in sessions of the pages: the session cookie names one, and signing out ends it here,
# so a copy of the cookie taken before is worth nothing after.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("started_at", UtcDateTime(), nullable=False),
    Column("ended_at", UtcDateTime(), nullable=True),
)

# One-time password-reset codes an admin hands over. Only a digest of the code is stored; a
# code works once, before it expires, and a newer code for the same user replaces it.
password_resets = Table(
    "password_resets",
    metadata,
    Column("code_digest", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("created_by", String(ID), nullable=True),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("used_at", UtcDateTime(), nullable=True),
)

# Credentials for the JSON API and xAPI clients. The secret is never stored: only its SHA-256.
api_tokens = Table(
    "api_tokens",
    metadata,
    # The key id, shown with the secret as ``KEY.SECRET``.
    Column("id", String(ID), primary_key=True),
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("name", String(TITLE), nullable=False),
    # List of scope strings such as "read:learners" or "write:evidence".
    Column("scopes", json_type(), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=True),
    Column("revoked_at", UtcDateTime(), nullable=True),
    Column("last_used_at", UtcDateTime(), nullable=True),
)

# --- fitted model parameters --------------------------------------------------------------

# The platform's learner-model parameters per course (BKT per competency, the memory model's
# globals), fitted from the event log and replaced by the next fit. The log stays the source
# of truth: these are a cache of a deterministic fit, never evidence.
model_parameters = Table(
    "model_parameters",
    metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("model", String(32), primary_key=True),
    Column("parameters", json_type(), nullable=False),
    Column("fitted_at", UtcDateTime(), nullable=False),
    Column("n_answers", Integer(), nullable=False),
)

# --- folded learner states ------------------------------------------------------------------

# Earlier copies of a learner's stored fold (every ``CHECKPOINT_EVERY`` events, the last few
# kept): an event that arrives late is folded from the newest copy before it, not from scratch.
learner_fold_checkpoints = Table(
    "learner_fold_checkpoints",
    metadata,
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("n_events", Integer(), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("last_occurred_at", UtcDateTime(), nullable=True),
    Column("last_event_id", Uuid(), nullable=True),
    Column("n_placements", Integer(), nullable=False),
    Column("state", json_type(), nullable=False),
)

# How many events each learner has, kept by the log's one insert path
# (``EvidenceRepository.add``) in the insert's transaction: a stored fold that folded as many
# is up to date without counting the log, however long it is.
learner_event_counts = Table(
    "learner_event_counts",
    metadata,
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("n_events", Integer(), nullable=False),
)

# A learner's fold on a course (``zoped.engine.fold.Replay.to_doc``), so that a request folds
# only the evidence that came after it. A cache of the event log, never evidence: it is
# rebuilt when ``version`` (the parameters and the course) changes, or when the learner's
# events after the last one it folded (``last_occurred_at``, ``last_event_id``: the log's
# order) and the ``n_events`` it folded do not add up to ``learner_event_counts`` (a late
# event arrived).
learner_folds = Table(
    "learner_folds",
    metadata,
    Column("learner_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("n_events", Integer(), nullable=False),
    Column("last_occurred_at", UtcDateTime(), nullable=True),
    Column("last_event_id", Uuid(), nullable=True),
    Column("n_placements", Integer(), nullable=False),
    Column("state", json_type(), nullable=False),
    Column("updated_at", UtcDateTime(), nullable=False),
)

# --- xAPI Learning Record Store -----------------------------------------------------------
# Statements any xAPI client of a school sends to ``/xapi`` (zoped.api.lrs), each school's
# apart. ``statement`` is the statement as stored (id, stored, authority and version filled),
# as JSON text; the other columns are what the GET filters read. ``seq`` orders the store (the
# order statements were stored) and is what ``more`` pages after.
lrs_statements = Table(
    "lrs_statements",
    metadata,
    Column("seq", Integer(), primary_key=True, autoincrement=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), nullable=False),
    Column("id", String(36), nullable=False),
    Column("stored", UtcDateTime(), nullable=False),
    Column("voided", Boolean(), nullable=False),
    Column("verb_id", Text(), nullable=False),
    Column("registration", String(36), nullable=True),
    Column("target_id", String(36), nullable=True),
    Column("statement", Text(), nullable=False),
    UniqueConstraint("school_id", "id", name="uq_lrs_statements_school_id_id"),
    Index("ix_lrs_statements_school_stored", "school_id", "stored"),
    Index("ix_lrs_statements_school_verb", "school_id", "verb_id"),
    Index("ix_lrs_statements_school_registration", "school_id", "registration"),
)

# The agents and activities a statement is about, for the ``agent`` and ``activity`` filters:
# ``kind`` is ``agent`` or ``activity``, ``key`` the agent's identifier (see
# zoped.interop.xapi_lrs.agent_key) or the activity's id, and ``direct`` is true for the
# statement's actor or object (the plain filter), false for the places only
# ``related_agents`` / ``related_activities`` reach.
lrs_statement_refs = Table(
    "lrs_statement_refs",
    metadata,
    Column("seq", ForeignKey("lrs_statements.seq", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("direct", Boolean(), primary_key=True),
    Index("ix_lrs_statement_refs_kind_key", "kind", "key", "seq"),
)

# Attachments of stored statements, by their SHA-2 (the statement names it).
lrs_attachments = Table(
    "lrs_attachments",
    metadata,
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
    Column("sha2", String(128), primary_key=True),
    Column("content_type", String(255), nullable=False),
    Column("content", LargeBinary(), nullable=False),
)

# The state, activity profile and agent profile documents: ``kind`` says which; the key
# columns a kind does not use are ''.
lrs_documents = Table(
    "lrs_documents",
    metadata,
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", String(16), primary_key=True),
    Column("activity_id", String(512), primary_key=True),
    Column("agent_key", String(512), primary_key=True),
    Column("registration", String(36), primary_key=True),
    Column("document_id", String(512), primary_key=True),
    Column("content_type", String(255), nullable=False),
    Column("content", LargeBinary(), nullable=False),
    Column("etag", String(64), nullable=False),
    Column("updated", UtcDateTime(), nullable=False),
)

# --- CASE frameworks ------------------------------------------------------------------------
# What a course imported from a CASE package keeps beside its competencies (zoped.interop.case):
# the CFDocument, each CFItem and CFAssociation as read, and the competency id of each item, so
# a re-import of the framework updates the same course and competencies in place and an export
# writes the same identifiers again. ``document_id`` is the CFDocument's identifier: a school
# has at most one course per CASE framework.
case_frameworks = Table(
    "case_frameworks",
    metadata,
    Column("course_id", ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    Column("school_id", ForeignKey("schools.id", ondelete="CASCADE"), nullable=False),
    Column("document_id", String(ID), nullable=False),
    Column("case_version", String(8), nullable=False),
    Column("record", json_type(), nullable=False),
    Column("imported_at", UtcDateTime(), nullable=False),
    UniqueConstraint("school_id", "document_id"),
)
