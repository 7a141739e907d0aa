"""CASE frameworks: what a course imported from a CASE package keeps beside its competencies
(the CFDocument, items and associations as read, and each item's competency id), one course
per CASE framework and school.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "case_frameworks",
        sa.Column("course_id", sa.String(length=64), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("document_id", sa.String(length=64), nullable=False),
        sa.Column("case_version", sa.String(length=8), nullable=False),
        sa.Column(
            "record",
            sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
            nullable=False,
        ),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_case_frameworks_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["schools.id"],
            name=op.f("fk_case_frameworks_school_id_schools"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_case_frameworks")),
        sa.UniqueConstraint(
            "school_id", "document_id", name=op.f("uq_case_frameworks_school_id_document_id")
        ),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("case_frameworks")
