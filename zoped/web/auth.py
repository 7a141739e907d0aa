"""Pages: sign in and out, the learner's privacy page, the access log and the admin audit log."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from zoped.domain.people import Role, User
from zoped.errors import InvalidInput, NotFound, Problem
from zoped.services import auth as auth_services
from zoped.services import privacy
from zoped.services.audit import list_audit, who_looked_at
from zoped.services.policy import Action, may_access, visible_learner_ids
from zoped.web.deps import (
    AdminUser,
    CsrfProtected,
    CurrentUser,
    DbSession,
    Now,
    optional_user,
    render,
    sign_in_session,
    sign_out_session,
)

router = APIRouter()

HOME_BY_ROLE = {
    Role.LEARNER: "/learner",
    Role.TEACHER: "/teacher",
    Role.GUARDIAN: "/guardian",
    Role.ADMIN: "/admin/audit",
}
AUDIT_PAGE_SIZE = 50


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no ``//``) is followed after sign-in."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


@router.get("/signin")
def signin_page(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    user = optional_user(request)
    if user is not None:
        return RedirectResponse(_safe_next(next) or HOME_BY_ROLE[user.role], status_code=303)
    return render(request, "auth/signin.html", {"next": _safe_next(next) or "", "error": None})


@router.post("/signin", dependencies=[CsrfProtected])
def signin(
    request: Request,
    session: DbSession,
    now: Now,
    username: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    school: Annotated[str, Form(max_length=64)] = "",
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Check the password; on success start a fresh session and go to the role's home."""
    address = request.client.host if request.client else None
    try:
        user = auth_services.authenticate(
            session,
            username=username,
            password=password,
            client_address=address,
            school_id=school or None,
            now=now,
        )
    except auth_services.SignInLocked as locked:
        minutes = max(1, int(locked.retry_after.total_seconds() // 60) + 1)
        error = f"Too many failed sign-ins. Please wait about {minutes} minutes and try again."
        context = {"next": _safe_next(next) or "", "error": error, "username": username}
        return render(request, "auth/signin.html", context, status_code=429)
    except auth_services.SignInFailed:
        context = {
            "next": _safe_next(next) or "",
            "error": "That username and password do not match.",
            "username": username,
        }
        return render(request, "auth/signin.html", context, status_code=401)
    sign_in_session(request, session, user, now)
    return RedirectResponse(_safe_next(next) or HOME_BY_ROLE[user.role], status_code=303)


@router.post("/signout", dependencies=[CsrfProtected])
def signout(request: Request, session: DbSession, now: Now) -> Response:
    """End the session, on the server too (a copied cookie signs nobody in afterwards)."""
    sign_out_session(request, session, now)
    return RedirectResponse("/", status_code=303)


def _privacy_subjects(session: DbSession, user: User) -> list[User]:
    """Whose privacy page this user manages: themselves (a learner) or their children."""
    if user.role is Role.LEARNER:
        return [user]
    if user.role is Role.GUARDIAN:
        ids = visible_learner_ids(session, actor=user)
        return auth_services.users_by_ids(session, user_ids=ids)
    return []


@router.get("/privacy")
def privacy_page(request: Request, user: CurrentUser, session: DbSession) -> Response:
    """Download my data; ask for erasure."""
    subjects = _privacy_subjects(session, user)
    return render(request, "auth/privacy.html", {"subjects": subjects, "erased": False})


@router.get("/privacy/export/{learner_id}")
def privacy_export(learner_id: str, user: CurrentUser, session: DbSession, now: Now) -> Response:
    """The learner's data as a zip."""
    data = privacy.export_learner(session, actor=user, learner_id=learner_id, now=now)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="zoped-{quote(learner_id)}.zip"'},
    )


@router.post("/privacy/erase", dependencies=[CsrfProtected])
def privacy_erase(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    now: Now,
    learner_id: Annotated[str, Form(max_length=64)],
    confirm: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    """Erase a learner after they typed the username to confirm."""
    target = next((s for s in _privacy_subjects(session, user) if s.id == learner_id), None)
    # An admin reaches the learners of their own school only: another school's learner is
    # "no such learner", as one that does not exist (no telling which).
    if target is None and may_access(
        session, actor=user, learner_id=learner_id, action=Action.ERASE
    ):
        target = next(iter(auth_services.users_by_ids(session, user_ids=[learner_id])), None)
    if target is None:
        raise NotFound("no such learner")
    if confirm.strip() != (target.username or target.id):
        raise InvalidInput(
            "Type the username exactly to confirm the erasure.",
            [Problem("confirm", "does not match")],
        )
    privacy.erase_learner(session, actor=user, learner_id=learner_id, now=now)
    if user.id == learner_id:
        sign_out_session(request, session, now)
    return render(request, "auth/erased.html", {})


@router.get("/privacy/access-log")
def access_log(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    learner: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Who looked at my (or my child's) data."""
    subjects = _privacy_subjects(session, user)
    learner_id = learner or (subjects[0].id if subjects else user.id)
    entries = who_looked_at(session, actor=user, learner_id=learner_id)
    context = {"entries": entries, "subjects": subjects, "learner_id": learner_id}
    return render(request, "auth/access_log.html", context)


@router.get("/admin/audit")
def admin_audit(
    request: Request,
    user: AdminUser,
    session: DbSession,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The school's audit log, newest first, a page at a time."""
    found = list_audit(
        session, actor=user, offset=(page - 1) * AUDIT_PAGE_SIZE, limit=AUDIT_PAGE_SIZE
    )
    pages = max(1, -(-found.total // AUDIT_PAGE_SIZE))
    return render(request, "auth/audit.html", {"audit": found, "page": page, "pages": pages})
