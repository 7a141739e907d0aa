"""Each school has its own time zone (an IANA name): due dates end at midnight there and its
pages show times there. Schools stored before get UTC, which is what they had.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    # A plain ADD COLUMN, never batch mode: recreating ``schools`` on SQLite drops the old
    # table, and with foreign keys on, that cascades into every user and their evidence.
    op.execute(
        sa.text("ALTER TABLE schools ADD COLUMN time_zone VARCHAR(64) DEFAULT 'UTC' NOT NULL")
    )


def downgrade() -> None:
    """Revert this migration."""
    # SQLite drops a column in place (3.35+); batch mode would cascade as in upgrade().
    op.execute(sa.text("ALTER TABLE schools DROP COLUMN time_zone"))
