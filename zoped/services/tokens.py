"""API tokens for the JSON API and xAPI clients: scoped, expiring, revocable, stored as hashes.

A token is shown once as ``KEY.SECRET``: the key id names the row, the secret is 32 random
bytes of which only the SHA-256 digest is stored (the secret is random and long, so a fast
hash is enough; a database leak reveals no usable token). A token acts as the user it belongs
to, through the same authorization policy, and only for the scopes it was given.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from zoped.domain.people import Role, User
from zoped.errors import InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import transaction
from zoped.services.audit import record_access
from zoped.store import auth_repository as repo
from zoped.store.repositories import PeopleRepository


class Scope:
    """The scopes a token may carry."""

    READ_LEARNERS = "read:learners"
    WRITE_EVIDENCE = "write:evidence"
    EXPORT_LEARNERS = "export:learners"
    ERASE_LEARNERS = "erase:learners"
    READ_AUDIT = "read:audit"  # the school's audit log (an admin's token only)
    ADMIN_ROSTER = "admin:roster"  # the school's people, classes and tokens (an admin's only)
    XAPI_LRS = "xapi:lrs"  # the school's xAPI Learning Record Store at /xapi (nothing else)
    WRITE_ASSIGNMENTS = "write:assignments"  # a teacher assigns work to their learners


ALL_SCOPES = frozenset(
    {
        Scope.READ_LEARNERS,
        Scope.WRITE_EVIDENCE,
        Scope.EXPORT_LEARNERS,
        Scope.ERASE_LEARNERS,
        Scope.READ_AUDIT,
        Scope.ADMIN_ROSTER,
        Scope.XAPI_LRS,
        Scope.WRITE_ASSIGNMENTS,
    }
)
DEFAULT_SCOPES = (Scope.READ_LEARNERS,)
MAX_DAYS = 366
_LAST_USED_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class IssuedToken:
    """A token just created: the only time its secret is known."""

    key_id: str
    secret: str
    user_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None

    @property
    def value(self) -> str:
        """What the client sends: ``Authorization: Bearer KEY.SECRET``."""
        return f"{self.key_id}.{self.secret}"


@dataclass(frozen=True)
class TokenInfo:
    """A stored token, without its secret."""

    key_id: str
    user_id: str
    name: str
    scopes: tuple[str, ...]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check(name: str, scopes: Iterable[str], days: int | None) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(scopes))
    problems = [
        Problem("scope", f"unknown scope {s!r}; known: {', '.join(sorted(ALL_SCOPES))}")
        for s in wanted
        if s not in ALL_SCOPES
    ]
    if not wanted:
        problems.append(Problem("scope", "give at least one scope"))
    if not name.strip():
        problems.append(Problem("name", "must not be empty"))
    if days is not None and not 1 <= days <= MAX_DAYS:
        problems.append(Problem("days", f"must be between 1 and {MAX_DAYS}"))
    if problems:
        raise InvalidInput("invalid token", problems)
    return wanted


def create_token(
    session: Session,
    *,
    user: User,
    name: str,
    scopes: Iterable[str] = DEFAULT_SCOPES,
    days: int | None = 90,
    now: datetime,
) -> IssuedToken:
    """Issue a token acting as ``user``; the secret is returned once and stored hashed.

    Raises:
        InvalidInput: an unknown scope, an empty name or a lifetime out of range.
    """
    wanted = _check(name, scopes, days)
    at = now
    key_id = "zk_" + secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    expires_at = at + timedelta(days=days) if days is not None else None
    with transaction(session):
        repo.add_token(
            session,
            {
                "id": key_id,
                "user_id": user.id,
                "name": name.strip(),
                "scopes": list(wanted),
                "secret_hash": _digest(secret),
                "created_at": at,
                "expires_at": expires_at,
                "revoked_at": None,
                "last_used_at": None,
            },
        )
        record_access(
            session,
            actor=None,
            action="create_token",
            subject_type="user",
            subject_id=user.id,
            now=at,
            details={"key_id": key_id, "scopes": list(wanted)},
        )
    return IssuedToken(key_id, secret, user.id, wanted, expires_at)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24] or "client"


def create_service_credentials(
    session: Session,
    *,
    role: Role,
    name: str,
    scopes: Iterable[str] = DEFAULT_SCOPES,
    days: int | None = 90,
    school_id: str | None = None,
    now: datetime,
) -> IssuedToken:
    """Create a service account (a user with ``role`` and no password) and a token for it.

    A service account is authorized like any user of its role: an admin one reaches the whole
    school, a teacher one the classes it is made a teacher of.

    Raises:
        InvalidInput: bad scopes or lifetime, or no school given when there are several.
    """
    _check(name, scopes, days)
    schools = repo.school_ids(session)
    chosen = school_id or (schools[0] if len(schools) == 1 else None)
    if chosen is None or chosen not in schools:
        raise InvalidInput(
            "choose a school", [Problem("school", f"one of: {', '.join(schools) or '(none)'}")]
        )
    at = now
    user_id = f"svc-{_slug(name)}-{secrets.token_hex(3)}"
    user = User(
        id=user_id, school_id=chosen, role=role, display_name=name.strip(), username=user_id
    )
    with transaction(session):
        PeopleRepository(session).add_user(user, at=at)
    return create_token(session, user=user, name=name, scopes=scopes, days=days, now=at)


def create_lrs_credentials(
    session: Session,
    *,
    name: str,
    days: int | None = 90,
    school_id: str | None = None,
    now: datetime,
) -> IssuedToken:
    """Create the credentials of an xAPI client of the school's LRS (``--role lrs``): a
    service account whose token has only the ``xapi:lrs`` scope. It sends HTTP Basic with the
    key id as the user name and the secret as the password.

    The account is an admin of the school to the policy, so that statements about any of the
    school's learners can become evidence under the policy's evidence authority; its one scope
    keeps it out of every other API.

    Raises:
        InvalidInput: a bad lifetime, or no school given when there are several.
    """
    return create_service_credentials(
        session,
        role=Role.ADMIN,
        name=name,
        scopes=(Scope.XAPI_LRS,),
        days=days,
        school_id=school_id,
        now=now,
    )


def authenticate_token(
    session: Session, *, value: str, now: datetime
) -> tuple[User, frozenset[str]] | None:
    """The user and scopes of a valid ``KEY.SECRET``; None for an unknown, wrong, expired or
    revoked token (the reason is not told to the client)."""
    key_id, dot, secret = value.strip().partition(".")
    if not dot or not key_id or not secret or len(value) > 200:
        return None
    row = repo.get_token(session, key_id=key_id)
    if row is None:
        _digest(secret)  # same work as a known key
        return None
    if not hmac.compare_digest(row["secret_hash"], _digest(secret)):
        return None
    at = now
    if row["revoked_at"] is not None or (row["expires_at"] is not None and row["expires_at"] <= at):
        return None
    user = repo.find_user(session, user_id=row["user_id"])
    if user is None or not user.active:
        return None
    last = row["last_used_at"]
    if last is None or at - last >= _LAST_USED_EVERY:
        with transaction(session):
            repo.update_token(session, key_id=key_id, last_used_at=at)
    return user, frozenset(row["scopes"])


def _info(row: dict[str, Any]) -> TokenInfo:
    return TokenInfo(
        key_id=str(row["id"]),
        user_id=str(row["user_id"]),
        name=str(row["name"]),
        scopes=tuple(row["scopes"]),
        created_at=row["created_at"],
        expires_at=row["expires_at"],
        revoked_at=row["revoked_at"],
        last_used_at=row["last_used_at"],
    )


def list_tokens(session: Session, *, actor: User | None = None) -> list[TokenInfo]:
    """Tokens, newest first: all of them for the command line (``actor`` None), an admin's
    school's, or a user's own."""
    if actor is None:
        return [_info(r) for r in repo.list_tokens(session)]
    if actor.role is Role.ADMIN:
        ids = [u.id for u in PeopleRepository(session).list_users(actor.school_id)]
    else:
        ids = [actor.id]
    return [_info(r) for r in repo.list_tokens(session, user_ids=ids)]


def revoke_token(
    session: Session, *, key_id: str, actor: User | None = None, now: datetime
) -> None:
    """Revoke a token at once (the command line passes no actor; a user revokes their own,
    an admin any of their school's).

    Raises:
        NotFound: no such token, or not one the actor may see.
    """
    row = repo.get_token(session, key_id=key_id)
    if row is None:
        raise NotFound(f"no token {key_id!r}")
    if actor is not None and row["user_id"] != actor.id:
        owner = repo.find_user(session, user_id=row["user_id"])
        if actor.role is not Role.ADMIN or owner is None or owner.school_id != actor.school_id:
            raise NotFound(f"no token {key_id!r}")
    at = now
    with transaction(session):
        repo.update_token(session, key_id=key_id, revoked_at=at)
        record_access(
            session,
            actor=actor,
            action="revoke_token",
            subject_type="user",
            subject_id=row["user_id"],
            now=at,
            details={"key_id": key_id},
        )


def require_scope(scopes: frozenset[str] | None, scope: str) -> None:
    """Refuse a token that lacks ``scope`` (None: a signed-in session, which has them all).

    Raises:
        PermissionDenied: the token lacks the scope.
    """
    if scopes is not None and scope not in scopes:
        raise PermissionDenied(f"this token lacks the scope {scope!r}")
