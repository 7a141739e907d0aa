"""A statements GET costs what it returns or matches, not what the store holds: on SQLite the
plan of every filter reads indexes (never a scan of the statements), and an unfiltered page
walks the (school, stored) index in order instead of sorting the school's statements."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.orm import Session

from tests.lrs.conftest import Lrs
from zoped.services import transaction
from zoped.store import lrs_repository as repo
from zoped.store.tables import metadata

AT = datetime(2026, 11, 30, tzinfo=UTC)


def _plans(query: repo.StatementQuery, after: repo.Cursor | None = None) -> list[str]:
    engine = create_engine("sqlite://")
    metadata.create_all(engine)
    seen: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def keep(conn: Any, cursor: Any, statement: str, params: Any, *rest: Any) -> None:
        seen.append((statement, params))

    with Session(engine) as session:
        repo.query_statements(session, "north", query, limit=10, after=after, until_seq=99)
        connection = session.connection()
        statement, params = seen[-1]
        return [
            str(row[3])
            for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        ]


@pytest.mark.parametrize(
    "query",
    [
        repo.StatementQuery(verb="http://example.com/verb"),
        repo.StatementQuery(agent="mbox:mailto:ada@example.com", related_agents=True),
        repo.StatementQuery(activity="http://example.com/a", registration="r", since=AT),
        repo.StatementQuery(agent="mbox:mailto:ada@example.com", ascending=True),
    ],
)
def test_filters_read_indexes_only(query: repo.StatementQuery) -> None:
    plans = _plans(query, after=(AT, 5))
    assert not [p for p in plans if p.startswith("SCAN lrs_")], plans
    assert not [p for p in plans if "lrs_statements" in p and p.endswith("(school_id=?)")], plans


@pytest.mark.parametrize("ascending", [False, True])
def test_an_unfiltered_page_walks_the_index_in_order(ascending: bool) -> None:
    plans = _plans(repo.StatementQuery(ascending=ascending), after=(AT, 5))
    assert any("ix_lrs_statements_school_stored" in p for p in plans), plans
    assert not [p for p in plans if "TEMP B-TREE" in p or p.startswith("SCAN")], plans


def test_a_filtered_page_is_quick_on_tables_not_yet_analyzed(lrs: Lrs) -> None:
    """A new LRS's tables have no planner statistics yet: a filtered GET over a few dozen
    statements (some targeting others by StatementRef) still answers at once, where each
    level of StatementRefs inlined into the next took PostgreSQL minutes."""
    postgres = lrs.database.url.startswith("postgresql")
    with lrs.database.session() as session, transaction(session):
        if postgres:
            for table in ("lrs_statements", "lrs_statement_refs"):
                session.execute(text(f"ALTER TABLE {table} SET (autovacuum_enabled = false)"))
        for n in range(40):
            refs = {("agent", "mbox:mailto:ada@example.com", True)}
            if n:
                refs.add(("statement", f"00000000-0000-0000-0000-{n - 1:012d}", True))
            repo.add_statement(
                session,
                school_id="north",
                statement_id=f"00000000-0000-0000-0000-{n:012d}",
                stored=AT,
                verb_id="http://example.com/verb",
                registration=None,
                target_id=None,
                statement="{}",
                refs=refs,
            )
    with lrs.database.session() as session:
        if postgres:
            session.execute(text("SET LOCAL statement_timeout = 5000"))
        query = repo.StatementQuery(agent="mbox:mailto:ada@example.com", related_agents=True)
        rows = repo.query_statements(session, "north", query, limit=100, until_seq=10**9)
    assert len(rows) == 40
