"""Authentication rows: password hashes, sign-in failures and API tokens.

Like every repository, these functions never commit; the calling service owns the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from zoped.domain.people import User
from zoped.store import mappers
from zoped.store.tables import (
    api_tokens,
    password_resets,
    schools,
    signin_failures,
    users,
    web_sessions,
)


def find_user_with_hash(
    session: Session, *, school_id: str, username: str
) -> tuple[User, str | None] | None:
    """The user of a school with this username and their password hash, if any."""
    stmt = select(users).where(users.c.school_id == school_id, users.c.username == username)
    found = session.execute(stmt).mappings().first()
    if found is None:
        return None
    return mappers.user_from_row(found), found["password_hash"]


def find_user(session: Session, *, user_id: str) -> User | None:
    """The user with this id, if any."""
    found = session.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return None if found is None else mappers.user_from_row(found)


def set_password_hash(session: Session, *, user_id: str, password_hash: str) -> None:
    """Replace a user's password hash."""
    session.execute(update(users).where(users.c.id == user_id).values(password_hash=password_hash))


def school_ids(session: Session) -> list[str]:
    """Every school id, sorted."""
    return list(session.scalars(select(schools.c.id).order_by(schools.c.id)))


def add_failure(session: Session, *, scope: str, key_digest: str, at: datetime) -> None:
    """Record one failed sign-in."""
    session.execute(
        insert(signin_failures), [{"scope": scope, "key_digest": key_digest, "failed_at": at}]
    )


def recent_failures(
    session: Session, *, scope: str, key_digest: str, since: datetime
) -> list[datetime]:
    """Times of the failures of this key at or after ``since``, oldest first."""
    stmt = (
        select(signin_failures.c.failed_at)
        .where(
            signin_failures.c.scope == scope,
            signin_failures.c.key_digest == key_digest,
            signin_failures.c.failed_at >= since,
        )
        .order_by(signin_failures.c.failed_at)
    )
    return list(session.scalars(stmt))


def clear_failures(
    session: Session, *, scope: str | None = None, key_digest: str | None = None, before: datetime
) -> None:
    """Delete failures older than ``before`` (all keys), or every failure of one key."""
    if key_digest is not None:
        session.execute(
            delete(signin_failures).where(
                signin_failures.c.scope == scope, signin_failures.c.key_digest == key_digest
            )
        )
    session.execute(delete(signin_failures).where(signin_failures.c.failed_at < before))


def add_token(session: Session, row: dict[str, Any]) -> None:
    """Insert an API token row (its secret already hashed)."""
    session.execute(insert(api_tokens), [row])


def get_token(session: Session, *, key_id: str) -> dict[str, Any] | None:
    """The token row with this key id, if any."""
    found = session.execute(select(api_tokens).where(api_tokens.c.id == key_id)).mappings().first()
    return None if found is None else dict(found)


def list_tokens(session: Session, *, user_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Token rows (optionally of some users), newest first."""
    stmt = select(api_tokens).order_by(api_tokens.c.created_at.desc(), api_tokens.c.id)
    if user_ids is not None:
        stmt = stmt.where(api_tokens.c.user_id.in_(list(user_ids)))
    return [dict(r) for r in session.execute(stmt).mappings()]


def update_token(session: Session, *, key_id: str, **values: Any) -> int:
    """Update one token row; returns the number of rows changed."""
    result = session.execute(update(api_tokens).where(api_tokens.c.id == key_id).values(**values))
    return int(getattr(result, "rowcount", 0) or 0)


def count_rows(session: Session, table_name: str) -> int:
    """Rows in one table of the metadata (for checks and tests)."""
    table = api_tokens.metadata.tables[table_name]
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def users_by_ids(session: Session, *, user_ids: Sequence[str]) -> list[User]:
    """The users with these ids, in the order given (missing ones skipped)."""
    rows = session.execute(select(users).where(users.c.id.in_(list(user_ids)))).mappings()
    found = {row["id"]: mappers.user_from_row(row) for row in rows}
    return [found[i] for i in user_ids if i in found]


def start_web_session(session: Session, *, session_id: str, user_id: str, at: datetime) -> None:
    """Record a new signed-in session."""
    session.execute(
        insert(web_sessions), [{"id": session_id, "user_id": user_id, "started_at": at}]
    )


def web_session_user(session: Session, *, session_id: str) -> str | None:
    """The user of a session that has not ended (None: unknown or ended)."""
    return session.scalar(
        select(web_sessions.c.user_id).where(
            web_sessions.c.id == session_id, web_sessions.c.ended_at.is_(None)
        )
    )


def end_web_session(session: Session, *, session_id: str, at: datetime) -> None:
    """End a session (signing out): its cookie no longer signs anyone in."""
    session.execute(
        update(web_sessions)
        .where(web_sessions.c.id == session_id, web_sessions.c.ended_at.is_(None))
        .values(ended_at=at)
    )


def set_password(session: Session, *, user_id: str, password_hash: str, must_change: bool) -> None:
    """Replace a user's password hash and say whether they must change it at next sign-in."""
    session.execute(
        update(users)
        .where(users.c.id == user_id)
        .values(password_hash=password_hash, must_change_password=must_change)
    )


def replace_reset_code(
    session: Session,
    *,
    user_id: str,
    code_digest: str,
    created_by: str | None,
    at: datetime,
    expires_at: datetime,
) -> None:
    """Store a user's new reset code, dropping any earlier one."""
    session.execute(delete(password_resets).where(password_resets.c.user_id == user_id))
    session.execute(
        insert(password_resets),
        [
            {
                "code_digest": code_digest,
                "user_id": user_id,
                "created_by": created_by,
                "created_at": at,
                "expires_at": expires_at,
            }
        ],
    )


def usable_reset_code(session: Session, *, code_digest: str, user_id: str, at: datetime) -> bool:
    """Whether this code was issued to this user, is unused and has not expired."""
    stmt = select(password_resets.c.code_digest).where(
        password_resets.c.code_digest == code_digest,
        password_resets.c.user_id == user_id,
        password_resets.c.used_at.is_(None),
        password_resets.c.expires_at > at,
    )
    return session.scalar(stmt) is not None


def use_reset_code(session: Session, *, code_digest: str, at: datetime) -> None:
    """Mark a reset code used: it works once."""
    session.execute(
        update(password_resets)
        .where(password_resets.c.code_digest == code_digest)
        .values(used_at=at)
    )


def end_user_web_sessions(session: Session, *, user_id: str, at: datetime) -> None:
    """End every open session of a user (deactivation, a new password)."""
    session.execute(
        update(web_sessions)
        .where(web_sessions.c.user_id == user_id, web_sessions.c.ended_at.is_(None))
        .values(ended_at=at)
    )


def list_schools(session: Session) -> list[tuple[str, str]]:
    """Every school's id and name, by name."""
    stmt = select(schools.c.id, schools.c.name).order_by(schools.c.name, schools.c.id)
    return [(row.id, row.name) for row in session.execute(stmt)]
