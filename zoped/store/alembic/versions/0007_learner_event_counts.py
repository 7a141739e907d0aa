"""Add learner_event_counts: each learner's number of events, kept as events are added, so a
stored fold is known to be up to date without counting the log.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "learner_event_counts",
        sa.Column("learner_id", sa.String(length=64), nullable=False),
        sa.Column("n_events", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["users.id"],
            name=op.f("fk_learner_event_counts_learner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", name=op.f("pk_learner_event_counts")),
    )
    op.execute(
        sa.text(
            "INSERT INTO learner_event_counts (learner_id, n_events) "
            "SELECT learner_id, COUNT(*) FROM evidence_events GROUP BY learner_id"
        )
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("learner_event_counts")
