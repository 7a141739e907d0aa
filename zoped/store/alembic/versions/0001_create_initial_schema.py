"""Create the initial schema: people, content, evidence, plans, decisions, audit.

Revision ID: 0001
Revises: (none)
Created: 2026-12-01 05:51:24.413297+00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON documents: JSONB on PostgreSQL, JSON elsewhere (as zoped.store.types.json_type).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject_type", sa.String(length=32), nullable=False),
        sa.Column("subject_id", sa.String(length=64), nullable=True),
        sa.Column("details", JSON_DOC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"], unique=False)
    op.create_index(
        "ix_audit_log_subject", "audit_log", ["subject_type", "subject_id"], unique=False
    )
    op.create_table(
        "schools",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schools")),
    )
    op.create_table(
        "classes",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_classes_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classes")),
    )
    op.create_index(op.f("ix_classes_school_id"), "classes", ["school_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("display_name", sa.String(length=300), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('learner', 'guardian', 'teacher', 'admin')", name=op.f("ck_users_role")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_users_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("school_id", "email", name=op.f("uq_users_school_id_email")),
        sa.UniqueConstraint("school_id", "username", name=op.f("uq_users_school_id_username")),
    )
    op.create_table(
        "class_teachers",
        sa.Column("class_id", sa.String(length=64), nullable=False),
        sa.Column("teacher_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_class_teachers_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["users.id"],
            name=op.f("fk_class_teachers_teacher_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("class_id", "teacher_id", name=op.f("pk_class_teachers")),
    )
    op.create_table(
        "courses",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=35), nullable=False),
        sa.Column("grade_band", sa.String(length=32), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["imported_by"],
            ["users.id"],
            name=op.f("fk_courses_imported_by_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
    )
    op.create_table(
        "enrollments",
        sa.Column("class_id", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_enrollments_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_enrollments_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("class_id", "learner_id", name=op.f("pk_enrollments")),
    )
    op.create_table(
        "evidence_events",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=True),
        sa.Column("activity_id", sa.String(length=64), nullable=True),
        sa.Column("competency_ids", JSON_DOC, nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("hints_used", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("payload", JSON_DOC, nullable=False),
        sa.Column("supersedes", sa.Uuid(), nullable=True),
        sa.Column("fingerprint", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_evidence_events_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_events")),
    )
    op.create_index(
        "ix_evidence_events_learner_occurred",
        "evidence_events",
        ["learner_id", "occurred_at"],
        unique=False,
    )
    op.create_table(
        "guardian_links",
        sa.Column("guardian_id", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["guardian_id"],
            ["users.id"],
            name=op.f("fk_guardian_links_guardian_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_guardian_links_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("guardian_id", "learner_id", name=op.f("pk_guardian_links")),
    )
    op.create_table(
        "learner_profiles",
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("details", JSON_DOC, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_learner_profiles_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_learner_profiles")),
    )
    op.create_table(
        "learning_plans",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", JSON_DOC, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_learning_plans_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_plans")),
    )
    op.create_index(
        op.f("ix_learning_plans_learner_id"), "learning_plans", ["learner_id"], unique=False
    )
    op.create_table(
        "log_entries",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=True),
        sa.Column("competency_ids", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_log_entries_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_entries")),
    )
    op.create_index(
        "ix_log_entries_learner_created", "log_entries", ["learner_id", "created_at"], unique=False
    )
    op.create_table(
        "recommendation_decisions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy", sa.String(length=64), nullable=False),
        sa.Column("candidates", JSON_DOC, nullable=False),
        sa.Column("chosen_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_recommendation_decisions_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_decisions")),
    )
    op.create_index(
        "ix_recommendation_decisions_learner_decided",
        "recommendation_decisions",
        ["learner_id", "decided_at"],
        unique=False,
    )
    op.create_table(
        "competencies",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("standard_code", sa.String(length=64), nullable=True),
        sa.Column("grade_band", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_competencies_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_competencies")),
    )
    op.create_index(op.f("ix_competencies_course_id"), "competencies", ["course_id"], unique=False)
    op.create_table(
        "items",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("difficulty", sa.Float(), nullable=True),
        sa.Column("content", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_items_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_items")),
    )
    op.create_index(op.f("ix_items_course_id"), "items", ["course_id"], unique=False)
    op.create_table(
        "learning_plan_versions",
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("content", JSON_DOC, nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("saved_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["learning_plans.id"],
            name=op.f("fk_learning_plan_versions_plan_id_learning_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("plan_id", "version", name=op.f("pk_learning_plan_versions")),
    )
    op.create_table(
        "placement_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("state", JSON_DOC, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_placement_sessions_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_placement_sessions_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_placement_sessions")),
    )
    op.create_index(
        op.f("ix_placement_sessions_learner_id"), "placement_sessions", ["learner_id"], unique=False
    )
    op.create_table(
        "plan_comments",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("plan_id", sa.String(length=64), nullable=False),
        sa.Column("author_id", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("plan_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_plan_comments_author_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["learning_plans.id"],
            name=op.f("fk_plan_comments_plan_id_learning_plans"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_comments")),
    )
    op.create_index(
        "ix_plan_comments_plan_created", "plan_comments", ["plan_id", "created_at"], unique=False
    )
    op.create_table(
        "rubrics",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("content", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_rubrics_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rubrics")),
    )
    op.create_index(op.f("ix_rubrics_course_id"), "rubrics", ["course_id"], unique=False)
    op.create_table(
        "activities",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("modality", sa.String(length=32), nullable=False),
        sa.Column("rubric_id", sa.String(length=64), nullable=True),
        sa.Column("content", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_activities_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rubric_id"],
            ["rubrics.id"],
            name=op.f("fk_activities_rubric_id_rubrics"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activities")),
    )
    op.create_index(op.f("ix_activities_course_id"), "activities", ["course_id"], unique=False)
    op.create_table(
        "competency_prerequisites",
        sa.Column("competency_id", sa.String(length=64), nullable=False),
        sa.Column("prerequisite_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_competency_prerequisites_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["prerequisite_id"],
            ["competencies.id"],
            name=op.f("fk_competency_prerequisites_prerequisite_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "competency_id", "prerequisite_id", name=op.f("pk_competency_prerequisites")
        ),
    )
    op.create_index(
        op.f("ix_competency_prerequisites_prerequisite_id"),
        "competency_prerequisites",
        ["prerequisite_id"],
        unique=False,
    )
    op.create_table(
        "item_competencies",
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("competency_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_item_competencies_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["items.id"],
            name=op.f("fk_item_competencies_item_id_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("item_id", "competency_id", name=op.f("pk_item_competencies")),
    )
    op.create_index(
        op.f("ix_item_competencies_competency_id"),
        "item_competencies",
        ["competency_id"],
        unique=False,
    )
    op.create_table(
        "activity_competencies",
        sa.Column("activity_id", sa.String(length=64), nullable=False),
        sa.Column("competency_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_activity_competencies_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["competency_id"],
            ["competencies.id"],
            name=op.f("fk_activity_competencies_competency_id_competencies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "activity_id", "competency_id", name=op.f("pk_activity_competencies")
        ),
    )
    op.create_index(
        op.f("ix_activity_competencies_competency_id"),
        "activity_competencies",
        ["competency_id"],
        unique=False,
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("assigned_by", sa.String(length=64), nullable=False),
        sa.Column("activity_id", sa.String(length=64), nullable=True),
        sa.Column("item_id", sa.String(length=64), nullable=True),
        sa.Column("learner_id", sa.String(length=64), nullable=True),
        sa.Column("class_id", sa.String(length=64), nullable=True),
        sa.Column("group_learner_ids", JSON_DOC, nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "(activity_id IS NULL) <> (item_id IS NULL)",
            name=op.f("ck_assignments_one_activity_or_item"),
        ),
        sa.CheckConstraint(
            "(learner_id IS NOT NULL) OR (class_id IS NOT NULL)",
            name=op.f("ck_assignments_has_target"),
        ),
        sa.ForeignKeyConstraint(
            ["activity_id"],
            ["activities.id"],
            name=op.f("fk_assignments_activity_id_activities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_by"],
            ["users.id"],
            name=op.f("fk_assignments_assigned_by_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["class_id"],
            ["classes.id"],
            name=op.f("fk_assignments_class_id_classes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_assignments_item_id_items"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_assignments_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    op.create_index(op.f("ix_assignments_class_id"), "assignments", ["class_id"], unique=False)
    op.create_index(op.f("ix_assignments_learner_id"), "assignments", ["learner_id"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f("ix_assignments_learner_id"), table_name="assignments")
    op.drop_index(op.f("ix_assignments_class_id"), table_name="assignments")
    op.drop_table("assignments")
    op.drop_index(
        op.f("ix_activity_competencies_competency_id"), table_name="activity_competencies"
    )
    op.drop_table("activity_competencies")
    op.drop_index(op.f("ix_item_competencies_competency_id"), table_name="item_competencies")
    op.drop_table("item_competencies")
    op.drop_index(
        op.f("ix_competency_prerequisites_prerequisite_id"), table_name="competency_prerequisites"
    )
    op.drop_table("competency_prerequisites")
    op.drop_index(op.f("ix_activities_course_id"), table_name="activities")
    op.drop_table("activities")
    op.drop_index(op.f("ix_rubrics_course_id"), table_name="rubrics")
    op.drop_table("rubrics")
    op.drop_index("ix_plan_comments_plan_created", table_name="plan_comments")
    op.drop_table("plan_comments")
    op.drop_index(op.f("ix_placement_sessions_learner_id"), table_name="placement_sessions")
    op.drop_table("placement_sessions")
    op.drop_table("learning_plan_versions")
    op.drop_index(op.f("ix_items_course_id"), table_name="items")
    op.drop_table("items")
    op.drop_index(op.f("ix_competencies_course_id"), table_name="competencies")
    op.drop_table("competencies")
    op.drop_index(
        "ix_recommendation_decisions_learner_decided", table_name="recommendation_decisions"
    )
    op.drop_table("recommendation_decisions")
    op.drop_index("ix_log_entries_learner_created", table_name="log_entries")
    op.drop_table("log_entries")
    op.drop_index(op.f("ix_learning_plans_learner_id"), table_name="learning_plans")
    op.drop_table("learning_plans")
    op.drop_table("learner_profiles")
    op.drop_table("guardian_links")
    op.drop_index("ix_evidence_events_learner_occurred", table_name="evidence_events")
    op.drop_table("evidence_events")
    op.drop_table("enrollments")
    op.drop_table("courses")
    op.drop_table("class_teachers")
    op.drop_table("users")
    op.drop_index(op.f("ix_classes_school_id"), table_name="classes")
    op.drop_table("classes")
    op.drop_table("schools")
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
