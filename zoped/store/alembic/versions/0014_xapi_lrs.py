"""The xAPI Learning Record Store: statements (with the agents and activities they are about,
for the filters), their attachments, and the state, activity profile and agent profile
documents, each school's apart.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _school_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["school_id"],
        ["schools.id"],
        name=op.f(f"fk_{table}_school_id_schools"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "lrs_statements",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("stored", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided", sa.Boolean(), nullable=False),
        sa.Column("verb_id", sa.Text(), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=True),
        sa.Column("target_id", sa.String(length=36), nullable=True),
        sa.Column("statement", sa.Text(), nullable=False),
        _school_fk("lrs_statements"),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_lrs_statements")),
        sa.UniqueConstraint("school_id", "id", name="uq_lrs_statements_school_id_id"),
    )
    op.create_index("ix_lrs_statements_school_stored", "lrs_statements", ["school_id", "stored"])
    op.create_index("ix_lrs_statements_school_verb", "lrs_statements", ["school_id", "verb_id"])
    op.create_index(
        "ix_lrs_statements_school_registration", "lrs_statements", ["school_id", "registration"]
    )
    op.create_table(
        "lrs_statement_refs",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("direct", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"],
            ["lrs_statements.seq"],
            name=op.f("fk_lrs_statement_refs_seq_lrs_statements"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", "kind", "key", "direct", name=op.f("pk_lrs_statement_refs")),
    )
    op.create_index("ix_lrs_statement_refs_kind_key", "lrs_statement_refs", ["kind", "key", "seq"])
    op.create_table(
        "lrs_attachments",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("sha2", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        _school_fk("lrs_attachments"),
        sa.PrimaryKeyConstraint("school_id", "sha2", name=op.f("pk_lrs_attachments")),
    )
    op.create_table(
        "lrs_documents",
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("activity_id", sa.String(length=512), nullable=False),
        sa.Column("agent_key", sa.String(length=512), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=False),
        sa.Column("document_id", sa.String(length=512), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("etag", sa.String(length=64), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        _school_fk("lrs_documents"),
        sa.PrimaryKeyConstraint(
            "school_id",
            "kind",
            "activity_id",
            "agent_key",
            "registration",
            "document_id",
            name=op.f("pk_lrs_documents"),
        ),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("lrs_documents")
    op.drop_table("lrs_attachments")
    op.drop_index("ix_lrs_statement_refs_kind_key", table_name="lrs_statement_refs")
    op.drop_table("lrs_statement_refs")
    op.drop_index("ix_lrs_statements_school_registration", table_name="lrs_statements")
    op.drop_index("ix_lrs_statements_school_verb", table_name="lrs_statements")
    op.drop_index("ix_lrs_statements_school_stored", table_name="lrs_statements")
    op.drop_table("lrs_statements")
