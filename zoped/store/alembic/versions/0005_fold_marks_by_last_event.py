"""Stored folds remember the last event they folded instead of a digest of all of them, so
that a request reads only the events after it.

The folds are a cache of the event log: the old ones are dropped and rebuilt on the next read.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.execute(sa.text("DELETE FROM learner_folds"))
    with op.batch_alter_table("learner_folds") as batch:
        batch.drop_column("digest")
        batch.add_column(sa.Column("last_occurred_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_event_id", sa.Uuid(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    op.execute(sa.text("DELETE FROM learner_folds"))
    with op.batch_alter_table("learner_folds") as batch:
        batch.drop_column("last_event_id")
        batch.drop_column("last_occurred_at")
        batch.add_column(sa.Column("digest", sa.String(length=64), nullable=False))
