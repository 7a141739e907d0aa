"""Courses get a revision token, new at every import, so that a process may keep a course it
has read while the stored one is the same.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("courses") as batch:
        batch.add_column(
            sa.Column("revision", sa.String(length=32), nullable=False, server_default="initial")
        )
    # Courses already stored get a token of this database's own, so two databases' courses of
    # the same id are never taken for one another.
    op.execute(sa.text("UPDATE courses SET revision = :token").bindparams(token=uuid.uuid4().hex))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("courses") as batch:
        batch.drop_column("revision")
