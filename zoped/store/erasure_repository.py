"""The store side of the data lifecycle: erasure requests, the rows an erasure must find that
no user column names (sign-in failures, roster records), and pushing erased bytes out of
SQLite's write-ahead log.

Like the other repositories it reads and writes through the session it is given and never
commits; :func:`checkpoint_wal` is the exception, and runs after the erasing transaction has
committed, on a connection of its own.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.orm import Session

from zoped.domain.erasure import ErasureRequest, ErasureStatus
from zoped.domain.people import Role, User
from zoped.store import mappers
from zoped.store.tables import erasure_requests, roster_records, signin_failures, users

log = logging.getLogger("zoped.store")

_PENDING = str(ErasureStatus.PENDING)


def request_from_row(row: RowMapping) -> ErasureRequest:
    """An erasure request from its row."""
    return ErasureRequest(
        id=row["id"],
        school_id=row["school_id"],
        learner_id=row["learner_id"],
        requested_by=row["requested_by"],
        requested_at=row["requested_at"],
        due_at=row["due_at"],
        status=ErasureStatus(row["status"]),
        closed_by=row["closed_by"],
        closed_at=row["closed_at"],
    )


def _requests(session: Session, *where: Any, limit: int | None = None) -> list[ErasureRequest]:
    stmt = (
        select(erasure_requests)
        .where(*where)
        .order_by(erasure_requests.c.due_at, erasure_requests.c.id)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [request_from_row(r) for r in session.execute(stmt).mappings()]


def add_if_none_pending(
    session: Session,
    *,
    school_id: str,
    learner_id: str,
    requested_by: str,
    at: datetime,
    due_at: datetime,
) -> ErasureRequest:
    """Add a pending request for the learner unless one is pending already; return the pending
    one either way.

    The learner's user row is locked first (PostgreSQL; SQLite has one writer at a time) and
    the insert is conditional, so two requests at the same moment leave one pending request.
    """
    session.execute(select(users.c.id).where(users.c.id == learner_id).with_for_update())
    pending = and_(
        erasure_requests.c.learner_id == learner_id, erasure_requests.c.status == _PENDING
    )
    values = select(
        literal(uuid.uuid4(), erasure_requests.c.id.type),
        literal(school_id, erasure_requests.c.school_id.type),
        literal(learner_id, erasure_requests.c.learner_id.type),
        literal(requested_by, erasure_requests.c.requested_by.type),
        literal(at, erasure_requests.c.requested_at.type),
        literal(due_at, erasure_requests.c.due_at.type),
        literal(_PENDING, erasure_requests.c.status.type),
    ).where(~select(erasure_requests.c.id).where(pending).exists())
    columns = ["id", "school_id", "learner_id", "requested_by", "requested_at", "due_at", "status"]
    session.execute(insert(erasure_requests).from_select(columns, values))
    found = _requests(session, pending)
    return found[0]


def pending_for_learners(session: Session, learner_ids: Sequence[str]) -> list[ErasureRequest]:
    """The pending requests of these learners, the soonest due first."""
    if not learner_ids:
        return []
    return _requests(
        session,
        erasure_requests.c.learner_id.in_(list(learner_ids)),
        erasure_requests.c.status == _PENDING,
    )


def closed_in_school(session: Session, *, school_id: str, limit: int) -> list[ErasureRequest]:
    """The school's cancelled and done requests, the latest closed first."""
    stmt = (
        select(erasure_requests)
        .where(
            erasure_requests.c.school_id == school_id,
            erasure_requests.c.status != _PENDING,
        )
        .order_by(erasure_requests.c.closed_at.desc(), erasure_requests.c.id)
        .limit(limit)
    )
    return [request_from_row(r) for r in session.execute(stmt).mappings()]


def due(session: Session, *, at: datetime) -> list[ErasureRequest]:
    """Every pending request whose grace period is over at ``at``, the longest due first."""
    return _requests(
        session, erasure_requests.c.status == _PENDING, erasure_requests.c.due_at <= at
    )


def close(
    session: Session,
    *,
    request_id: uuid.UUID,
    status: ErasureStatus,
    closed_by: str | None,
    at: datetime,
) -> bool:
    """Close a pending request (cancelled or done); False when it was no longer pending (closed
    by someone else meanwhile: the update waits for their transaction and then finds nothing)."""
    result = session.execute(
        update(erasure_requests)
        .where(erasure_requests.c.id == request_id, erasure_requests.c.status == _PENDING)
        .values(status=str(status), closed_by=closed_by, closed_at=at)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def pseudonymise(session: Session, *, subject: str, pseudonym: str, at: datetime) -> int:
    """Replace a user erased now by their pseudonym in every request (as learner, requester or
    canceller), and close a request of theirs still pending as done. Returns the requests that
    named them."""
    table = erasure_requests
    session.execute(
        update(table)
        .where(table.c.learner_id == subject, table.c.status == _PENDING)
        .values(status=str(ErasureStatus.DONE), closed_at=at)
    )
    named = or_(
        table.c.learner_id == subject, table.c.requested_by == subject, table.c.closed_by == subject
    )
    count = session.scalar(select(func.count()).select_from(table).where(named)) or 0
    for column in (table.c.learner_id, table.c.requested_by, table.c.closed_by):
        session.execute(update(table).where(column == subject).values({column: pseudonym}))
    return int(count)


def delete_signin_failures(session: Session, *, account_digests: Iterable[str]) -> int:
    """Delete the failed sign-ins of an account: its account-scope rows (by digest) and the
    (account, address) rows written by the same attempts (same instant: their digest needs the
    address, which is not kept). Address-scope rows name no account and stay."""
    digests = sorted(set(account_digests))
    if not digests:
        return 0
    account = and_(signin_failures.c.scope == "account", signin_failures.c.key_digest.in_(digests))
    times = sorted(set(session.scalars(select(signin_failures.c.failed_at).where(account))))
    removed = 0
    if times:
        result = session.execute(
            delete(signin_failures).where(
                signin_failures.c.scope == "pair", signin_failures.c.failed_at.in_(times)
            )
        )
        removed += int(getattr(result, "rowcount", 0) or 0)
    result = session.execute(delete(signin_failures).where(account))
    return removed + int(getattr(result, "rowcount", 0) or 0)


def _mentions(document: Any, value: str) -> bool:
    """Whether a JSON document holds ``value`` as a string anywhere (walked without recursion)."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item == value:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def delete_roster_records(session: Session, *, school_id: str, local_id: str) -> int:
    """Delete what roster imports recorded about a user: the records that became them and the
    enrollments that name their ``sourcedId``. Other records that merely name them (a
    guardian's ``agentSourcedIds``) keep everything else: the sourcedId is scrubbed out of
    them, so the guardian stays the same account. A later import of a bundle that still lists
    the user creates them again, as new, and links them again."""
    rr = roster_records
    in_school = rr.c.school_id == school_id
    sourced_ids = set(
        session.scalars(
            select(rr.c.sourced_id).where(in_school, rr.c.kind == "user", rr.c.local_id == local_id)
        )
    )
    result = session.execute(delete(rr).where(in_school, rr.c.local_id == local_id))
    removed = int(getattr(result, "rowcount", 0) or 0)
    if not sourced_ids:
        return removed
    others = session.execute(select(rr.c.kind, rr.c.sourced_id, rr.c.data).where(in_school))
    naming = [
        (kind, sourced, data)
        for kind, sourced, data in others
        if any(_mentions(data, s) for s in sourced_ids)
    ]
    for kind, sourced, data in naming:
        where = (in_school, rr.c.kind == kind, rr.c.sourced_id == sourced)
        if kind == "enrollment":
            session.execute(delete(rr).where(*where))
        else:
            session.execute(update(rr).where(*where).values(data=_without(data, sourced_ids)))
    return removed + len(naming)


def _without(document: Any, values: set[str]) -> Any:
    """A JSON document with every string in ``values`` taken out of its lists (and emptied
    where it stands alone), so that it no longer names them."""
    if isinstance(document, str):
        return "" if document in values else document
    if isinstance(document, list):
        return [_without(item, values) for item in document if item not in values]
    if isinstance(document, dict):
        return {key: _without(value, values) for key, value in document.items()}
    return document


def search_learners(session: Session, *, school_id: str, query: str, limit: int) -> list[User]:
    """The school's learners whose name, username, email or id contains ``query`` (any case),
    by name; every learner of the school (up to ``limit``) for an empty query."""
    stmt = select(users).where(users.c.school_id == school_id, users.c.role == str(Role.LEARNER))
    words = query.strip().lower()
    if words:
        escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            or_(
                *(
                    func.lower(column).like(pattern, escape="\\")
                    for column in (
                        users.c.display_name,
                        users.c.username,
                        users.c.email,
                        users.c.id,
                    )
                )
            )
        )
    stmt = stmt.order_by(users.c.display_name, users.c.id).limit(limit)
    return [mappers.user_from_row(r) for r in session.execute(stmt).mappings()]


def names_of(session: Session, user_ids: Iterable[str | None]) -> dict[str, User]:
    """The users among ``user_ids`` that still exist, by id."""
    ids = sorted({u for u in user_ids if u})
    if not ids:
        return {}
    rows = session.execute(select(users).where(users.c.id.in_(ids))).mappings()
    return {r["id"]: mappers.user_from_row(r) for r in rows}


def checkpoint_wal(bind: Engine | Connection) -> bool:
    """On SQLite, copy the write-ahead log into the database file and truncate it to zero bytes
    (``PRAGMA wal_checkpoint(TRUNCATE)``), so that erased rows leave the ``-wal`` file; readers
    are waited for up to the busy timeout. Nothing to do on other databases.

    Returns:
        True when done (or not SQLite); False when a reader kept it from completing (SQLite
        checkpoints again on its own, and the next erasure tries again).
    """
    engine = bind.engine if isinstance(bind, Connection) else bind
    if engine.dialect.name != "sqlite":
        return True
    with engine.connect() as connection:
        row = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
        connection.commit()
    busy = bool(row[0]) if row is not None else False
    if busy:
        log.warning("the WAL checkpoint after an erasure could not complete: a reader was busy")
    return not busy
