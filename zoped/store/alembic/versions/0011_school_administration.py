"""Run a real school: users can be deactivated and made to change their password, admins hand
out one-time reset codes, roster imports remember each record by its ``sourcedId``, and
erasure requests wait out a grace period.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON documents: JSONB on PostgreSQL, JSON elsewhere (as zoped.store.types.json_type).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    # A plain ADD COLUMN, never batch mode: recreating ``users`` on SQLite drops the old table,
    # and with foreign keys on, that cascades into every learner's evidence. (Alembic falls back
    # to recreating the table on SQLite for a default written as an expression, so the DDL is
    # written out here.)
    yes, no = ("1", "0") if op.get_bind().dialect.name == "sqlite" else ("true", "false")
    op.execute(sa.text(f"ALTER TABLE users ADD COLUMN active BOOLEAN NOT NULL DEFAULT {yes}"))
    op.execute(
        sa.text(f"ALTER TABLE users ADD COLUMN must_change_password BOOLEAN NOT NULL DEFAULT {no}")
    )
    op.create_table(
        "password_resets",
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_password_resets_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_digest", name=op.f("pk_password_resets")),
    )
    op.create_index(op.f("ix_password_resets_user_id"), "password_resets", ["user_id"])
    op.create_table(
        "roster_records",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("sourced_id", sa.String(length=255), nullable=False),
        sa.Column("local_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("date_last_modified", sa.DateTime(timezone=True), nullable=True),
        sa.Column("data", JSON_DOC, nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_roster_records_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("school_id", "kind", "sourced_id", name=op.f("pk_roster_records")),
    )
    op.create_index("ix_roster_records_local", "roster_records", ["school_id", "kind", "local_id"])
    op.create_table(
        "erasure_requests",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'cancelled', 'done')", name=op.f("ck_erasure_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_erasure_requests_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_erasure_requests")),
    )
    op.create_index(op.f("ix_erasure_requests_learner_id"), "erasure_requests", ["learner_id"])
    op.create_index("ix_erasure_requests_status_due", "erasure_requests", ["status", "due_at"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_erasure_requests_status_due", table_name="erasure_requests")
    op.drop_index(op.f("ix_erasure_requests_learner_id"), table_name="erasure_requests")
    op.drop_table("erasure_requests")
    op.drop_index("ix_roster_records_local", table_name="roster_records")
    op.drop_table("roster_records")
    op.drop_index(op.f("ix_password_resets_user_id"), table_name="password_resets")
    op.drop_table("password_resets")
    for column in ("must_change_password", "active"):
        # SQLite drops a column in place (3.35+); batch mode would cascade as in upgrade().
        op.execute(sa.text(f"ALTER TABLE users DROP COLUMN {column}"))
