"""Pages: the privacy page of a learner (or of a guardian's children): download the data, see
who looked, ask for erasure and call it off; the cancel button that teachers and admins use
too.

Erasure is a request (:mod:`zoped.services.erasure`): it is carried out when the grace period
(``erasure_grace_days``) is over, and until then everyone concerned sees it and may cancel it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse

from zoped.domain.people import Role, User
from zoped.services import auth as auth_services
from zoped.services import erasure, privacy
from zoped.services.audit import who_looked_at
from zoped.services.policy import visible_learner_ids
from zoped.web.deps import CsrfProtected, CurrentUser, DbSession, Now, render

router = APIRouter()

#: Where each role's erasure forms come back to when the form names no page.
BACK_BY_ROLE = {Role.ADMIN: "/admin/privacy", Role.TEACHER: "/teacher"}


def grace_days(request: Request) -> int:
    """The app's erasure grace period, in days (the ``erasure_grace_days`` setting)."""
    days: int = request.app.state.settings.erasure_grace_days
    return days


def _back(user: User, target: str, done: str) -> RedirectResponse:
    """Back to ``target`` (a path on this site only) or the role's privacy page, saying what
    was done."""
    safe = target.startswith("/") and not target.startswith(("//", "/\\"))
    path = target if safe else BACK_BY_ROLE.get(user.role, "/privacy")
    path, _, fragment = path.partition("#")
    joiner = "&" if "?" in path else "?"
    return RedirectResponse(
        f"{path}{joiner}done={done}" + (f"#{fragment}" if fragment else ""), status_code=303
    )


def _subjects(session: DbSession, user: User) -> list[User]:
    """Whose privacy page this user manages: themselves (a learner) or their children."""
    if user.role is Role.LEARNER:
        return [user]
    if user.role is Role.GUARDIAN:
        ids = visible_learner_ids(session, actor=user)
        return auth_services.users_by_ids(session, user_ids=ids)
    return []


@router.get("/privacy")
def privacy_page(request: Request, user: CurrentUser, session: DbSession) -> Response:
    """Download the data, see who looked, ask for erasure or call it off."""
    subjects = _subjects(session, user)
    pending = erasure.pending_erasures(session, actor=user, learner_ids=[s.id for s in subjects])
    context = {
        "subjects": subjects,
        "pending": {n.request.learner_id: n for n in pending},
        "grace_days": grace_days(request),
        "done": request.query_params.get("done", ""),
    }
    return render(request, "auth/privacy.html", context)


@router.get("/privacy/export/{learner_id}")
def privacy_export(learner_id: str, user: CurrentUser, session: DbSession, now: Now) -> Response:
    """The learner's data as a zip (what the one downloading may see)."""
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
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Ask for a learner's erasure (the learner, a guardian or an admin, who typed the
    learner's username to confirm); it happens when the grace period is over."""
    erasure.request_erasure(
        session,
        actor=user,
        learner_id=learner_id,
        now=now,
        grace_days=grace_days(request),
        confirm=confirm,
    )
    return _back(user, next, "requested")


@router.post("/privacy/cancel", dependencies=[CsrfProtected])
def privacy_cancel(
    user: CurrentUser,
    session: DbSession,
    now: Now,
    learner_id: Annotated[str, Form(max_length=64)],
    next: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Call off a learner's pending erasure (the learner, a guardian, a teacher of theirs or
    an admin)."""
    erasure.cancel_erasure(session, actor=user, learner_id=learner_id, now=now)
    return _back(user, next, "cancelled")


@router.get("/privacy/access-log")
def access_log(
    request: Request,
    user: CurrentUser,
    session: DbSession,
    learner: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """Who looked at my (or my child's) data."""
    subjects = _subjects(session, user)
    learner_id = learner or (subjects[0].id if subjects else user.id)
    entries = who_looked_at(session, actor=user, learner_id=learner_id)
    context = {"entries": entries, "subjects": subjects, "learner_id": learner_id}
    return render(request, "auth/access_log.html", context)
