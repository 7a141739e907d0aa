"""Rows of the xAPI Learning Record Store: statements, the agents and activities they are
about, attachments and documents, each school's apart.

Like every repository, these functions never commit; the calling service owns the transaction.
A statement is kept as the JSON text it was stored as; the filters read indexed columns and the
``lrs_statement_refs`` rows, so a GET costs what it returns, not what the store holds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, or_, select, union, update
from sqlalchemy.orm import Session

from zoped.store.tables import (
    lrs_attachments,
    lrs_documents,
    lrs_statement_refs,
    lrs_statements,
)


@dataclass(frozen=True)
class StatementQuery:
    """The filters of a statements GET (None: not filtered by it)."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    related_agents: bool = False
    related_activities: bool = False
    ascending: bool = False


def find_statements(session: Session, school_id: str, ids: Sequence[str]) -> dict[str, str]:
    """The stored JSON of those of ``ids`` the school holds, by id."""
    if not ids:
        return {}
    rows = session.execute(
        select(lrs_statements.c.id, lrs_statements.c.statement).where(
            lrs_statements.c.school_id == school_id, lrs_statements.c.id.in_(list(ids))
        )
    )
    return {row.id: row.statement for row in rows}


def get_statement(session: Session, school_id: str, statement_id: str) -> tuple[str, bool] | None:
    """The stored JSON of a statement and whether it is voided."""
    row = session.execute(
        select(lrs_statements.c.statement, lrs_statements.c.voided).where(
            lrs_statements.c.school_id == school_id, lrs_statements.c.id == statement_id
        )
    ).first()
    return None if row is None else (row.statement, bool(row.voided))


def voiding_targets(session: Session, school_id: str, ids: Sequence[str]) -> dict[str, str]:
    """Of ``ids``, those stored by the school, each with its verb (a voiding statement may not
    itself be voided)."""
    if not ids:
        return {}
    rows = session.execute(
        select(lrs_statements.c.id, lrs_statements.c.verb_id).where(
            lrs_statements.c.school_id == school_id, lrs_statements.c.id.in_(list(ids))
        )
    )
    return {row.id: row.verb_id for row in rows}


def voided_on_arrival(
    session: Session, school_id: str, ids: Sequence[str], voiding_verb: str
) -> set[str]:
    """Of ``ids``, those a statement the school already stores voids (its verb is
    ``voiding_verb``, its object a StatementRef to the id): read from the ``statement`` refs'
    index."""
    if not ids:
        return set()
    refs, t = lrs_statement_refs, lrs_statements
    found = session.scalars(
        select(refs.c.key)
        .join(t, t.c.seq == refs.c.seq)
        .where(
            refs.c.kind == "statement",
            refs.c.key.in_(list(ids)),
            t.c.school_id == school_id,
            t.c.verb_id == voiding_verb,
        )
    )
    return set(found)


def add_statement(
    session: Session,
    *,
    school_id: str,
    statement_id: str,
    stored: datetime,
    verb_id: str,
    registration: str | None,
    target_id: str | None,
    statement: str,
    refs: Iterable[tuple[str, str, bool]],
) -> None:
    """Store a statement and the keys it is filtered by."""
    seq = session.execute(
        insert(lrs_statements)
        .values(
            school_id=school_id,
            id=statement_id,
            stored=stored,
            voided=False,
            verb_id=verb_id,
            registration=registration,
            target_id=target_id,
            statement=statement,
        )
        .returning(lrs_statements.c.seq)
    ).scalar_one()
    rows = [{"seq": seq, "kind": k, "key": key[:512], "direct": d} for k, key, d in refs]
    if rows:
        session.execute(insert(lrs_statement_refs), rows)


def void(session: Session, school_id: str, ids: Sequence[str]) -> None:
    """Mark statements voided."""
    if ids:
        session.execute(
            update(lrs_statements)
            .where(lrs_statements.c.school_id == school_id, lrs_statements.c.id.in_(list(ids)))
            .values(voided=True)
        )


def _refs(kind: str, key: str, related: bool) -> Any:
    """The seqs of the statements with a ref of ``kind`` and ``key`` (the refs' index)."""
    refs = lrs_statement_refs
    found = select(refs.c.seq).where(refs.c.kind == kind, refs.c.key == key[:512])
    if not related:
        found = found.where(refs.c.direct.is_(True))
    return found.distinct()


#: How deep a chain of StatementRefs is followed when a filter matches a targeted statement.
REF_DEPTH = 3


def _direct_matches(school_id: str, query: StatementQuery) -> Any:
    """The seqs of the school's statements the content filters match, read from the agent and
    activity refs when the query names one (joined, so they drive the plan), else from the
    verb or registration index."""
    t = lrs_statements
    named = [
        _refs(kind, key, related).subquery(f"by_{kind}")
        for kind, key, related in (
            ("agent", query.agent, query.related_agents),
            ("activity", query.activity, query.related_activities),
        )
        if key is not None
    ]
    conditions: list[Any] = [t.c.school_id == school_id]
    if query.verb is not None:
        conditions.append(t.c.verb_id == query.verb)
    if query.registration is not None:
        conditions.append(t.c.registration == query.registration)
    if not named:
        return select(t.c.seq).where(*conditions)
    source: Any = named[0]
    for other in named[1:]:
        source = source.join(other, other.c.seq == named[0].c.seq)
    source = source.join(t, t.c.seq == named[0].c.seq)
    return select(t.c.seq).select_from(source).where(*conditions)


def _matching_seqs(school_id: str, query: StatementQuery) -> Any:
    """The seqs of the school's statements that match the content filters, voided or not, and
    of those that target one of them by a StatementRef, up to :data:`REF_DEPTH` deep (xAPI
    1.0.3, 2.1.3: filter conditions for StatementRefs). Each step reads an index: the filters'
    columns, then the ``statement`` refs by the targeted id.

    Each level is a common table expression that the next one reads, so it is computed once;
    on PostgreSQL it is ``MATERIALIZED``: inlined, each level repeated the levels under it, and
    on tables not yet analyzed (a new LRS) the planner's nested loops over those copies took
    minutes for a few hundred statements."""
    found = _level(_direct_matches(school_id, query), 0)
    levels = [select(found.c.seq)]
    for depth in range(REF_DEPTH):
        inner = lrs_statements.alias(f"targeted_{depth}")
        # A join from the level's seqs (not ``seq IN``): the planner then looks each one up by
        # its key instead of reading every statement of the school.
        ids = (
            select(inner.c.id)
            .select_from(found.join(inner, inner.c.seq == found.c.seq))
            .where(inner.c.school_id == school_id)
        )
        level = select(lrs_statement_refs.c.seq).where(
            lrs_statement_refs.c.kind == "statement", lrs_statement_refs.c.key.in_(ids)
        )
        found = _level(level, depth + 1)
        levels.append(select(found.c.seq))
    return union(*levels)


def _level(level: Any, depth: int) -> Any:
    """One level of :func:`_matching_seqs` as a common table expression (materialized on
    PostgreSQL)."""
    return level.cte(f"level_{depth}").prefix_with("MATERIALIZED", dialect="postgresql")


#: Where a page ended: the last statement's stored time and seq (the store's order).
Cursor = tuple[datetime, int]


def query_statements(
    session: Session,
    school_id: str,
    query: StatementQuery,
    *,
    limit: int,
    after: Cursor | None = None,
    until_seq: int | None = None,
) -> list[tuple[Cursor, str]]:
    """Up to ``limit`` unvoided statements matching ``query``, newest stored first (oldest with
    ``ascending``), each with its cursor; ``after`` continues a page after that cursor,
    ``until_seq`` leaves out what was stored after the first page was read.

    Without content filters the school's (school_id, stored) index gives the order and the
    query reads only the page; with them, the matches are found through their indexes first.
    """
    t = lrs_statements
    conditions: list[Any] = [t.c.school_id == school_id, t.c.voided.is_(False)]
    source: Any = t
    if any(v is not None for v in (query.verb, query.registration, query.agent, query.activity)):
        # Joined, not ``seq IN``: the matches drive the query (each looked up by its key), so
        # its cost follows the matches, not the size of the school's store.
        matches = _matching_seqs(school_id, query).subquery("matches")
        source = matches.join(t, t.c.seq == matches.c.seq)
    if query.since is not None:
        conditions.append(t.c.stored > query.since)
    if query.until is not None:
        conditions.append(t.c.stored <= query.until)
    if until_seq is not None:
        conditions.append(t.c.seq <= until_seq)
    if after is not None:
        stored, seq = after
        if query.ascending:
            conditions.append(or_(t.c.stored > stored, and_(t.c.stored == stored, t.c.seq > seq)))
        else:
            conditions.append(or_(t.c.stored < stored, and_(t.c.stored == stored, t.c.seq < seq)))
    order = (
        (t.c.stored.asc(), t.c.seq.asc())
        if query.ascending
        else (t.c.stored.desc(), t.c.seq.desc())
    )
    rows = session.execute(
        select(t.c.seq, t.c.stored, t.c.statement)
        .select_from(source)
        .where(*conditions)
        .order_by(*order)
        .limit(limit)
    )
    return [((row.stored, row.seq), row.statement) for row in rows]


def last_seq(session: Session) -> int:
    """The newest seq of the whole store (0 when empty): what a first page saw."""
    return int(session.scalar(select(func.max(lrs_statements.c.seq))) or 0)


def add_attachments(
    session: Session, school_id: str, parts: Mapping[str, tuple[str, bytes]]
) -> None:
    """Keep attachment contents by SHA-2 (one already kept is left as it is)."""
    if not parts:
        return
    known = set(
        session.scalars(
            select(lrs_attachments.c.sha2).where(
                lrs_attachments.c.school_id == school_id,
                lrs_attachments.c.sha2.in_(list(parts)),
            )
        )
    )
    rows = [
        {"school_id": school_id, "sha2": sha2, "content_type": ctype, "content": content}
        for sha2, (ctype, content) in parts.items()
        if sha2 not in known
    ]
    if rows:
        session.execute(insert(lrs_attachments), rows)


def get_attachments(
    session: Session, school_id: str, hashes: Sequence[str]
) -> dict[str, tuple[str, bytes]]:
    """Kept attachment contents by SHA-2."""
    if not hashes:
        return {}
    rows = session.execute(
        select(lrs_attachments).where(
            lrs_attachments.c.school_id == school_id, lrs_attachments.c.sha2.in_(list(hashes))
        )
    )
    return {row.sha2: (row.content_type, bytes(row.content)) for row in rows}


@dataclass(frozen=True)
class DocumentKey:
    """Where a document lives: ``kind`` is state, activity_profile or agent_profile; the parts
    a kind does not use are ''."""

    school_id: str
    kind: str
    activity_id: str = ""
    agent_key: str = ""
    registration: str = ""

    def where(self) -> list[Any]:
        """The conditions selecting this place's documents."""
        t = lrs_documents
        return [
            t.c.school_id == self.school_id,
            t.c.kind == self.kind,
            t.c.activity_id == self.activity_id[:512],
            t.c.agent_key == self.agent_key[:512],
            t.c.registration == self.registration,
        ]


@dataclass(frozen=True)
class Document:
    """A stored document."""

    document_id: str
    content_type: str
    content: bytes
    etag: str
    updated: datetime


def get_document(session: Session, key: DocumentKey, document_id: str) -> Document | None:
    """One document, if stored."""
    t = lrs_documents
    row = session.execute(select(t).where(*key.where(), t.c.document_id == document_id)).first()
    if row is None:
        return None
    return Document(row.document_id, row.content_type, bytes(row.content), row.etag, row.updated)


def document_ids(session: Session, key: DocumentKey, since: datetime | None) -> list[str]:
    """The ids of the documents in a place, updated after ``since`` if given."""
    t = lrs_documents
    conditions = key.where()
    if since is not None:
        conditions.append(t.c.updated > since)
    return list(session.scalars(select(t.c.document_id).where(*conditions).order_by(t.c.updated)))


def put_document(session: Session, key: DocumentKey, document: Document) -> None:
    """Store a document, replacing one with its id."""
    t = lrs_documents
    session.execute(delete(t).where(*key.where(), t.c.document_id == document.document_id))
    session.execute(
        insert(t).values(
            school_id=key.school_id,
            kind=key.kind,
            activity_id=key.activity_id[:512],
            agent_key=key.agent_key[:512],
            registration=key.registration,
            document_id=document.document_id,
            content_type=document.content_type,
            content=document.content,
            etag=document.etag,
            updated=document.updated,
        )
    )


def delete_documents(session: Session, key: DocumentKey, document_id: str | None) -> None:
    """Delete one document, or (``document_id`` None) every document of the place."""
    t = lrs_documents
    conditions = key.where()
    if document_id is not None:
        conditions.append(t.c.document_id == document_id)
    session.execute(delete(t).where(*conditions))


def about_activity(session: Session, school_id: str, activity_id: str, limit: int) -> list[str]:
    """The newest ``limit`` stored statements (JSON) about this activity, newest first."""
    t = lrs_statements
    rows = session.scalars(
        select(t.c.statement)
        .where(
            t.c.school_id == school_id,
            exists().where(
                lrs_statement_refs.c.seq == t.c.seq,
                lrs_statement_refs.c.kind == "activity",
                lrs_statement_refs.c.key == activity_id[:512],
            ),
        )
        .order_by(t.c.seq.desc())
        .limit(limit)
    )
    return [str(row) for row in rows]


def _attachment_hashes(statement: str) -> set[str]:
    """The SHA-2 of each attachment a stored statement (JSON) lists."""
    found = json.loads(statement).get("attachments")
    return {
        a["sha2"]
        for a in (found if isinstance(found, list) else [])
        if isinstance(a, dict) and isinstance(a.get("sha2"), str)
    }


def _listed(sha2: str) -> str:
    """How a stored statement (compact JSON) lists an attachment: ``"sha2":"<hash>"``."""
    return json.dumps({"sha2": sha2}, separators=(",", ":"))[1:-1]


def _delete_unreferenced_attachments(session: Session, school_id: str, hashes: set[str]) -> int:
    """Delete the kept contents of ``hashes`` that no statement of the school lists any more
    (a statement is kept as compact JSON, so it lists one as ``"sha2":"<hash>"``); returns how
    many went."""
    t = lrs_statements
    gone = 0
    for sha2 in sorted(hashes):
        listed = session.scalar(
            select(t.c.seq)
            .where(
                t.c.school_id == school_id,
                t.c.statement.contains(_listed(sha2), autoescape=True),
            )
            .limit(1)
        )
        if listed is None:
            a = lrs_attachments
            result = session.execute(delete(a).where(a.c.school_id == school_id, a.c.sha2 == sha2))
            gone += int(getattr(result, "rowcount", 0) or 0)
    return gone


@dataclass(frozen=True)
class AccountRecordsDeleted:
    """What :func:`delete_account_records` deleted: statements, and attachment contents no
    other statement lists."""

    statements: int
    attachments: int


def delete_account_records(
    session: Session, *, school_id: str, account_name: str
) -> AccountRecordsDeleted:
    """Delete what the school's LRS holds about an agent whose account name is
    ``account_name`` (any home page): the statements that name it anywhere (as ``agent`` refs,
    related ones included), the attachment contents only those statements listed, and its
    state and agent profile documents."""
    refs = lrs_statement_refs
    named = and_(
        refs.c.kind == "agent",
        refs.c.key.startswith("account:"),
        refs.c.key.endswith("|" + account_name, autoescape=True),
    )
    rows = session.execute(
        select(lrs_statements.c.seq, lrs_statements.c.statement).where(
            lrs_statements.c.school_id == school_id,
            lrs_statements.c.seq.in_(select(refs.c.seq).where(named)),
        )
    ).all()
    seqs = [row.seq for row in rows]
    hashes = set().union(*(_attachment_hashes(row.statement) for row in rows))
    for start in range(0, len(seqs), 500):
        chunk = seqs[start : start + 500]
        session.execute(delete(refs).where(refs.c.seq.in_(chunk)))
        session.execute(delete(lrs_statements).where(lrs_statements.c.seq.in_(chunk)))
    d = lrs_documents
    session.execute(
        delete(d).where(
            d.c.school_id == school_id,
            d.c.agent_key.startswith("account:"),
            d.c.agent_key.endswith("|" + account_name, autoescape=True),
        )
    )
    attachments = _delete_unreferenced_attachments(session, school_id, hashes)
    return AccountRecordsDeleted(len(seqs), attachments)
