"""Pages: sign in and out (privacy: zoped.web.privacy; the audit log: zoped.web.admin_audit)."""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from zoped.domain.people import Role, User
from zoped.errors import InvalidInput
from zoped.services import accounts
from zoped.services import auth as auth_services
from zoped.web.deps import (
    CsrfProtected,
    CurrentUser,
    DbSession,
    Now,
    SubmittedForm,
    optional_user,
    render,
    sign_in_session,
    sign_out_session,
)
from zoped.web.forms import field_problems

router = APIRouter()

HOME_BY_ROLE = {
    Role.LEARNER: "/learner",
    Role.TEACHER: "/teacher",
    Role.GUARDIAN: "/guardian",
    Role.ADMIN: "/admin",
}


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site (no scheme, no host, no ``//``) is followed after sign-in."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return None


def _signin_form(
    request: Request,
    session: DbSession,
    *,
    next: str | None,
    error: str | None = None,
    username: str = "",
    school: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "next": _safe_next(next) or "",
        "error": error,
        "username": username,
        "school": school,
        "schools": auth_services.school_choices(session),
    }
    return render(request, "auth/signin.html", context, status_code=status_code)


def _after_sign_in(user: User, next: str | None) -> RedirectResponse:
    if user.must_change_password:
        return RedirectResponse("/account/password", status_code=303)
    return RedirectResponse(_safe_next(next) or HOME_BY_ROLE[user.role], status_code=303)


@router.get("/signin")
def signin_page(request: Request, session: DbSession, next: str | None = None) -> Response:
    """The sign-in form (first run: the setup page)."""
    user = optional_user(request)
    if user is not None:
        return _after_sign_in(user, next)
    if auth_services.needs_setup(session):
        return RedirectResponse("/setup", status_code=303)
    return _signin_form(request, session, next=next)


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
        return _signin_form(
            request,
            session,
            next=next,
            error=_wait_message(locked),
            username=username,
            school=school,
            status_code=429,
        )
    except auth_services.AccountDeactivated:
        error = "This account is switched off. Please ask your school's admin."
        return _signin_form(
            request,
            session,
            next=next,
            error=error,
            username=username,
            school=school,
            status_code=403,
        )
    except auth_services.SignInFailed:
        return _signin_form(
            request,
            session,
            next=next,
            error="That username and password do not match.",
            username=username,
            school=school,
            status_code=401,
        )
    sign_in_session(request, session, user, now)
    return _after_sign_in(user, next)


def _wait_message(locked: auth_services.SignInLocked) -> str:
    minutes = max(1, int(locked.retry_after.total_seconds() // 60) + 1)
    return f"Too many failed tries. Please wait about {minutes} minutes and try again."


@router.get("/signin/reset")
def reset_page(request: Request, session: DbSession) -> Response:
    """Set a new password with the one-time code an admin handed over."""
    context = {"schools": auth_services.school_choices(session), "problems": {}, "form": {}}
    return render(request, "auth/reset.html", context)


@router.post("/signin/reset", dependencies=[CsrfProtected])
def reset(
    request: Request,
    session: DbSession,
    now: Now,
    username: Annotated[str, Form(max_length=320)] = "",
    code: Annotated[str, Form(max_length=64)] = "",
    new_password: Annotated[str, Form(max_length=2048)] = "",
    repeat_password: Annotated[str, Form(max_length=2048)] = "",
    school: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Check the code, set the password and sign in."""
    address = request.client.host if request.client else None
    form = {"username": username, "school": school}
    context: dict[str, object] = {"schools": auth_services.school_choices(session), "form": form}
    if new_password != repeat_password:
        context["problems"] = {"repeat_password": "The two passwords are not the same."}
        return render(request, "auth/reset.html", context, status_code=422)
    try:
        user = auth_services.redeem_reset_code(
            session,
            username=username,
            code=code,
            new_password=new_password,
            client_address=address,
            school_id=school or None,
            now=now,
        )
    except InvalidInput as error:
        context["problems"] = field_problems(error)
        return render(request, "auth/reset.html", context, status_code=422)
    except auth_services.SignInLocked as locked:
        context["problems"] = {"code": _wait_message(locked)}
        return render(request, "auth/reset.html", context, status_code=429)
    except auth_services.SignInFailed as failed:
        context["problems"] = {"code": str(failed).capitalize() + "."}
        return render(request, "auth/reset.html", context, status_code=401)
    sign_in_session(request, session, user, now)
    return RedirectResponse(HOME_BY_ROLE[user.role], status_code=303)


@router.get("/account/password")
def password_page(request: Request, user: CurrentUser) -> Response:
    """Change my password (required after an admin set it)."""
    return render(
        request, "auth/password.html", {"problems": {}, "required": user.must_change_password}
    )


@router.post("/account/password", dependencies=[CsrfProtected])
def password_change(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    now: Now,
    current_password: Annotated[str, Form(max_length=2048)] = "",
    new_password: Annotated[str, Form(max_length=2048)] = "",
    repeat_password: Annotated[str, Form(max_length=2048)] = "",
) -> Response:
    """Check the current password, set the new one, and sign in afresh."""
    context: dict[str, object] = {"required": user.must_change_password}
    if new_password != repeat_password:
        context["problems"] = {"repeat_password": "The two passwords are not the same."}
        return render(request, "auth/password.html", context, status_code=422)
    try:
        auth_services.change_password(
            session,
            user=user,
            current_password=current_password,
            new_password=new_password,
            now=now,
        )
    except InvalidInput as error:
        context["problems"] = field_problems(error)
        return render(request, "auth/password.html", context, status_code=422)
    except auth_services.SignInFailed:
        context["problems"] = {"current_password": "That is not your current password."}
        return render(request, "auth/password.html", context, status_code=401)
    changed = dataclasses.replace(user, must_change_password=False)
    sign_in_session(request, session, changed, now)
    return RedirectResponse(HOME_BY_ROLE[user.role] + "?password=changed", status_code=303)


@router.get("/setup")
def setup_page(request: Request, session: DbSession) -> Response:
    """First run: set up the school and its first admin (only while there is no school)."""
    if not auth_services.needs_setup(session):
        return RedirectResponse("/signin", status_code=303)
    return render(request, "auth/setup.html", {"problems": {}, "form": {}})


@router.post("/setup", dependencies=[CsrfProtected])
def setup(
    request: Request,
    session: DbSession,
    now: Now,
    form: SubmittedForm,
) -> Response:
    """Create the school and its admin, given the setup code from the server's log."""
    fields = ("setup_code", "school_id", "school_name", "admin_name", "admin_username")
    typed = {name: str(form.get(name, ""))[:300] for name in fields}
    password = str(form.get("password", ""))[:2048]
    context: dict[str, object] = {"form": typed}
    expected = auth_services.setup_code(request.app.state.settings.secret_key)
    if not auth_services.csrf_matches(
        auth_services.reset_code_digest(expected),
        auth_services.reset_code_digest(typed["setup_code"]),
    ):
        context["problems"] = {"setup_code": "That is not this server's setup code (see its log)."}
        return render(request, "auth/setup.html", context, status_code=403)
    if password != str(form.get("repeat_password", "")):
        context["problems"] = {"repeat_password": "The two passwords are not the same."}
        return render(request, "auth/setup.html", context, status_code=422)
    try:
        admin = accounts.set_up_school(
            session,
            school_id=typed["school_id"],
            school_name=typed["school_name"],
            admin_username=typed["admin_username"],
            admin_name=typed["admin_name"],
            password=password,
            now=now,
        )
    except InvalidInput as error:
        context["problems"] = field_problems(error)
        return render(request, "auth/setup.html", context, status_code=422)
    sign_in_session(request, session, admin, now)
    return RedirectResponse("/admin?welcome=1", status_code=303)


@router.post("/signout", dependencies=[CsrfProtected])
def signout(request: Request, session: DbSession, now: Now) -> Response:
    """End the session, on the server too (a copied cookie signs nobody in afterwards)."""
    sign_out_session(request, session, now)
    return RedirectResponse("/", status_code=303)
