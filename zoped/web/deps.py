"""What every page router depends on: the signed-in user, CSRF, the database, rendering.

Use the ``Annotated`` aliases in route signatures::

    @router.get("/learner")
    def home(request: Request, user: LearnerUser, db: DbSession) -> Response:
        return render(request, "learner/home.html", {...})

    @router.post("/learner/goals", dependencies=[CsrfProtected])
    def add_goal(...): ...

Templates rendered through :func:`render` receive ``user`` (or None), ``csrf_token``,
``body_class`` (the learner's accessibility classes for ``<body>``) and ``time_zone`` (the
user's school's, for the ``local`` filter of :mod:`zoped.web.times`; UTC for a visitor).
Every POST form carries ``<input type="hidden" name="csrf_token" value="{{ csrf_token }}">``;
the app also refuses any unsafe page request without it, so a route that forgets
``CsrfProtected`` is still protected.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from zoped.clock import request_now
from zoped.domain.people import Role, User
from zoped.errors import PermissionDenied
from zoped.services import accounts
from zoped.services import auth as auth_services
from zoped.services.audit import AUDIT_PENDING
from zoped.services.system import Database

SESSION_ID = "sid"  # the server's record of the signed-in session (auth.web_sessions)
SESSION_CSRF = "csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """An anonymous request reached a page that needs a user: the app redirects to /signin."""

    def __init__(self, next_path: str = "/") -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PasswordChangeRequired(Exception):
    """The signed-in user must choose a new password before anything else (an admin set it)."""


#: Pages a user who must change their password may still reach.
PASSWORD_CHANGE_PATHS = frozenset({"/account/password", "/signout"})


class CsrfRefused(Exception):
    """An unsafe request without the session's CSRF token."""


def database(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


def session(request: Request) -> Iterator[Session]:
    """A SQLAlchemy session for one request; services take it as ``session=``.

    Audit entries that a read-only request recorded are committed when the route succeeds.
    """
    with database(request).session() as db_session:
        yield db_session
        if db_session.info.pop(AUDIT_PENDING, False) and db_session.in_transaction():
            db_session.commit()


def sign_in_session(request: Request, db_session: Session, user: User, now: datetime) -> None:
    """Start a fresh session for ``user``, recorded on the server (new id and CSRF token: no
    session fixation)."""
    request.session.clear()
    request.session[SESSION_ID] = auth_services.start_web_session(db_session, user=user, now=now)
    request.session[SESSION_CSRF] = secrets.token_urlsafe(32)
    request.state.user = user
    request.state.time_zone = accounts.school_zone(db_session, school_id=user.school_id)


def sign_out_session(request: Request, db_session: Session, now: datetime) -> None:
    """End the session on the server, and forget it and the CSRF token in the cookie."""
    auth_services.end_web_session(db_session, session_id=request.session.get(SESSION_ID), now=now)
    request.session.clear()
    request.state.user = None
    request.state.time_zone = UTC


def optional_user(request: Request) -> User | None:
    """The signed-in user, or None for an anonymous request (cached on the request)."""
    if "user" in request.state._state:
        cached: User | None = request.state.user
        return cached
    user: User | None = None
    body_class = ""
    zone: tzinfo = UTC
    session_id = request.session.get(SESSION_ID) if "session" in request.scope else None
    if isinstance(session_id, str):
        with database(request).session() as db_session:
            user = auth_services.web_session_user(db_session, session_id=session_id)
            if user is not None and user.role is Role.LEARNER:
                body_class = " ".join(auth_services.accessibility_classes(db_session, user=user))
            if user is not None:
                zone = accounts.school_zone(db_session, school_id=user.school_id)
        if user is None:  # signed out elsewhere, or the account was removed: forget it
            request.session.clear()
    request.state.user = user
    request.state.body_class = body_class
    request.state.time_zone = zone
    return user


def current_user(request: Request) -> User:
    """The signed-in user.

    Raises:
        SignInRequired: for an anonymous request (the app redirects pages to /signin).
    """
    user = optional_user(request)
    if user is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(target)
    if user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        raise PasswordChangeRequired
    return user


def require_role(*roles: Role) -> Callable[[Request], User]:
    """A dependency: the signed-in user, who must have one of ``roles`` (403 page otherwise)."""
    allowed = frozenset(roles)

    def dependency(request: Request) -> User:
        user = current_user(request)
        if user.role not in allowed:
            raise PermissionDenied("this page is not for your role")
        return user

    return dependency


def csrf_token(request: Request) -> str:
    """The session's CSRF token, created on first use (also for anonymous sessions)."""
    token = request.session.get(SESSION_CSRF)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[SESSION_CSRF] = token
    return token


async def verify_csrf(request: Request) -> None:
    """A dependency for POST routes: the form field ``csrf_token`` (or the ``X-CSRF-Token``
    header, for htmx) must equal the session's token.

    Raises:
        CsrfRefused: when it does not (the app answers 403).
    """
    given: object = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        given = form.get(CSRF_FIELD)
    if not auth_services.csrf_matches(request.session.get(SESSION_CSRF), given):
        raise CsrfRefused()


async def submitted_form(request: Request) -> FormData:
    """The request's form, read without blocking (Starlette keeps it for the CSRF check too).

    Handlers that read a whole form take it as ``form: SubmittedForm`` and stay plain ``def``:
    FastAPI runs them in its thread pool, so their database work never blocks the event loop.
    """
    return await request.form()


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    """Render a page with ``user``, ``csrf_token``, ``body_class`` and ``time_zone`` added to
    ``context``."""
    user = optional_user(request)
    full: dict[str, Any] = {
        "user": user,
        "csrf_token": csrf_token(request),
        "body_class": getattr(request.state, "body_class", ""),
        "time_zone": getattr(request.state, "time_zone", UTC),
    }
    full.update(context or {})
    response: Response = request.app.state.templates.TemplateResponse(
        request, template, full, status_code=status_code
    )
    return response


DbSession = Annotated[Session, Depends(session)]
Now = Annotated[datetime, Depends(request_now)]
CurrentUser = Annotated[User, Depends(current_user)]
OptionalUser = Annotated[User | None, Depends(optional_user)]
LearnerUser = Annotated[User, Depends(require_role(Role.LEARNER))]
TeacherUser = Annotated[User, Depends(require_role(Role.TEACHER, Role.ADMIN))]
GuardianUser = Annotated[User, Depends(require_role(Role.GUARDIAN))]
AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
CsrfProtected = Depends(verify_csrf)
SubmittedForm = Annotated[FormData, Depends(submitted_form)]
