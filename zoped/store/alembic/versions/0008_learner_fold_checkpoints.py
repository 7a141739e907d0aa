"""Add learner_fold_checkpoints: earlier copies of each learner's stored fold, so that an
event that arrives late is folded from the newest copy before it instead of from scratch.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# JSON documents: JSONB on PostgreSQL, JSON elsewhere (as zoped.store.types.json_type).
JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "learner_fold_checkpoints",
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("n_events", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("last_occurred_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_event_id", sa.Uuid(), nullable=True),
        sa.Column("n_placements", sa.Integer(), nullable=False),
        sa.Column("state", JSON_DOC, nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_learner_fold_checkpoints_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_learner_fold_checkpoints_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "learner_id", "course_id", "n_events", name=op.f("pk_learner_fold_checkpoints")
        ),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("learner_fold_checkpoints")
