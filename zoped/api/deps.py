"""Dependencies of the JSON API: a database session and the authenticated caller.

A caller authenticates with an API token (``Authorization: Bearer KEY.SECRET``) or with the
session cookie of a signed-in user. A cookie-authenticated unsafe request must also send the
session's CSRF token in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from zoped.api.errors import Unauthenticated
from zoped.clock import request_now
from zoped.domain.people import User
from zoped.errors import PermissionDenied
from zoped.services import auth as auth_services
from zoped.services import tokens as token_services
from zoped.services.audit import AUDIT_PENDING
from zoped.services.system import Database
from zoped.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Caller:
    """Who is calling: the user, and the token's scopes (None for a session: all scopes)."""

    user: User
    scopes: frozenset[str] | None

    def require(self, scope: str) -> None:
        """Refuse when a token lacks ``scope``. Raises: PermissionDenied."""
        token_services.require_scope(self.scopes, scope)


def settings(request: Request) -> Settings:
    """The app's settings."""
    found: Settings = request.app.state.settings
    return found


def db_session(request: Request) -> Iterator[Session]:
    """A session for one request; audit entries of a read are committed when it succeeds."""
    database: Database = request.app.state.db
    with database.session() as session:
        yield session
        if session.info.pop(AUDIT_PENDING, False) and session.in_transaction():
            session.commit()


def caller(
    request: Request,
    session: Annotated[Session, Depends(db_session)],
    now: Annotated[datetime, Depends(request_now)],
) -> Caller:
    """The authenticated caller.

    Raises:
        Unauthenticated: no valid token or session (401).
        PermissionDenied: a cookie-authenticated unsafe request without its CSRF header.
    """
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if header:
        if scheme.lower() != "bearer" or not value:
            raise Unauthenticated()
        found = token_services.authenticate_token(session, value=value, now=now)
        if found is None:
            raise Unauthenticated()
        return Caller(found[0], found[1])
    session_id = request.session.get("sid") if "session" in request.scope else None
    user = auth_services.web_session_user(session, session_id=session_id)
    if user is None:
        raise Unauthenticated()
    if request.method not in SAFE_METHODS:
        expected = request.session.get("csrf")
        given = request.headers.get("x-csrf-token", "")
        if not auth_services.csrf_matches(expected, given):
            raise PermissionDenied("send the session's CSRF token in the X-CSRF-Token header")
    return Caller(user, None)


DbSession = Annotated[Session, Depends(db_session)]
Now = Annotated[datetime, Depends(request_now)]
CurrentCaller = Annotated[Caller, Depends(caller)]
AppSettings = Annotated[Settings, Depends(settings)]
