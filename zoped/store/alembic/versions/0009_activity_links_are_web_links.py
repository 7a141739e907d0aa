"""Activity links must be web addresses (http or https): a stored link of another scheme (a
``javascript:`` link from a course imported before the check) is removed, and an activity left
without a body says so, so that every stored course still reads.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _web_link(url: Any) -> bool:
    if not isinstance(url, str):
        return False
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


def upgrade() -> None:
    """Apply this migration."""
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, content FROM activities")).all()
    for activity_id, raw in rows:
        content = json.loads(raw) if isinstance(raw, str) else dict(raw)
        link = content.get("link")
        if link is None or not str(link).strip() or _web_link(link):
            continue
        content["link"] = None
        if not str(content.get("body") or "").strip():
            content["body"] = "(The material's link was removed: it was not a web address.)"
        connection.execute(
            sa.text("UPDATE activities SET content = :content WHERE id = :id").bindparams(
                sa.bindparam("content", type_=sa.JSON())
            ),
            {"content": content, "id": activity_id},
        )


def downgrade() -> None:
    """Nothing to undo: the removed links were never safe to show."""
