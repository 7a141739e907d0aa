"""Project files: the file a learner hands in with a project, kept by its evidence event instead
of as base64 inside the event's payload (which bounded files to 30 kB).

Files handed in before stay in their events' payloads and are still read from there.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "project_files",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("media_type", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_project_files_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_project_files")),
    )
    op.create_index(
        op.f("ix_project_files_learner_id"), "project_files", ["learner_id"], unique=False
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f("ix_project_files_learner_id"), table_name="project_files")
    op.drop_table("project_files")
