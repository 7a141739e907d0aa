"""Pages: an activity as its learner sees it (mark it done, hand in a project, read the
teacher's scores), and the download of a project's file.

Each route parses the form, calls :mod:`zoped.services.activities` and renders; a form with a
problem is shown again with what was typed and the problem next to its field (422).
"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData, UploadFile

from zoped.domain.submissions import (
    ALLOWED_KINDS,
    MAX_FILE_BYTES,
    MAX_FILE_IN_WORDS,
    MAX_LINK,
    MAX_PROJECT_TEXT,
    MAX_REFLECTION,
    ProjectSubmission,
    SubmittedFile,
    read_file,
)
from zoped.errors import Conflict, InvalidInput, NotFound, Problem
from zoped.services import activities
from zoped.web.deps import (
    CsrfProtected,
    DbSession,
    LearnerUser,
    Now,
    SubmittedForm,
    TeacherUser,
    render,
)
from zoped.web.forms import field_problems

router = APIRouter()

#: What the page says after a form went through (``?done=``).
DONE_MESSAGES = {
    "done": "Marked as done. Well done!",
    "submitted": "Your work is handed in. Your teacher will score it.",
}


#: A project form sent twice with different words (its event id is the page's).
RESENT = "This form was already sent with other words: reload the page and try again."


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _event_id(form: FormData) -> uuid.UUID:
    try:
        return uuid.UUID(_text(form, "event_id"))
    except ValueError:
        raise InvalidInput(
            "the form is not as the page sent it", [Problem("event_id", "the page's own id")]
        ) from None


def _page(
    request: Request,
    db: DbSession,
    user: LearnerUser,
    now: Now,
    activity_id: str,
    *,
    typed: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    event_id: uuid.UUID | None = None,
    status_code: int = 200,
) -> Response:
    view = activities.activity_page(
        db, actor=user, learner_id=user.id, activity_id=activity_id, now=now
    )
    context: dict[str, Any] = {
        "view": view,
        "activity": view.activity,
        "typed": typed or {},
        "problems": problems or {},
        "event_id": event_id or uuid.uuid4(),
        "done": DONE_MESSAGES.get(request.query_params.get("done", ""), ""),
        "limits": {
            "reflection": MAX_REFLECTION,
            "text": MAX_PROJECT_TEXT,
            "link": MAX_LINK,
            "file_size": MAX_FILE_IN_WORDS,
            "file_types": ALLOWED_KINDS,
        },
    }
    return render(request, "learner/activity.html", context, status_code=status_code)


@router.get("/learner/activity/{activity_id}")
def activity(
    request: Request, user: LearnerUser, db: DbSession, now: Now, activity_id: str
) -> Response:
    """The activity: its text, the competencies it teaches (by title), "mark as done" or the
    project form, and the teacher's scores."""
    return _page(request, db, user, now, activity_id)


@router.post("/learner/activity/{activity_id}/done", dependencies=[CsrfProtected])
def mark_done(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    form: SubmittedForm,
    activity_id: str,
) -> Response:
    """Mark the activity done, with an optional reflection."""
    reflection = _text(form, "reflection")
    event_id = _event_id(form)
    try:
        activities.mark_done(
            db,
            actor=user,
            learner_id=user.id,
            activity_id=activity_id,
            reflection=reflection,
            event_id=event_id,
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        return _page(
            request,
            db,
            user,
            now,
            activity_id,
            typed={"reflection": reflection},
            problems=field_problems(error, conflict_message=RESENT),
            event_id=event_id,
            status_code=422,
        )
    return RedirectResponse(f"/learner/activity/{quote(activity_id)}?done=done", status_code=303)


def _uploaded(form: FormData) -> SubmittedFile | None:
    """The file field's file, checked; None when no file was chosen."""
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not (upload.filename or upload.size):
        return None
    try:
        data = upload.file.read(MAX_FILE_BYTES + 1)  # spooled by Starlette: no network wait
    finally:
        upload.file.close()
    if not data and not upload.filename:
        return None
    return read_file(upload.filename or "work", data)


@router.post("/learner/activity/{activity_id}/submit", dependencies=[CsrfProtected])
def submit(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    form: SubmittedForm,
    activity_id: str,
) -> Response:
    """Hand in project work: a text and/or a link, and at most one small file."""
    typed = {"text": _text(form, "text"), "link": _text(form, "link")}
    event_id = _event_id(form)
    try:
        work = ProjectSubmission(typed["text"], typed["link"], _uploaded(form))
        activities.submit_project(
            db,
            actor=user,
            learner_id=user.id,
            activity_id=activity_id,
            work=work,
            event_id=event_id,
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        return _page(
            request,
            db,
            user,
            now,
            activity_id,
            typed=typed,
            problems=field_problems(error, conflict_message=RESENT),
            event_id=event_id,
            status_code=422,
        )
    return RedirectResponse(
        f"/learner/activity/{quote(activity_id)}?done=submitted", status_code=303
    )


def _download(file: SubmittedFile) -> Response:
    """The file as an attachment, of the type its content showed, never run by the browser."""
    ascii_name = file.name.encode("ascii", "replace").decode().replace("?", "_")
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file.name)}"
    media_type = f"{file.media_type}; charset=utf-8" if file.media_type == "text/plain" else None
    return Response(
        file.data,
        media_type=media_type or file.media_type,
        headers={
            "Content-Disposition": disposition,
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def _file_event(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("no such file") from None


@router.get("/learner/files/{event_id}")
def own_file(user: LearnerUser, db: DbSession, now: Now, event_id: str) -> Response:
    """A file the learner handed in."""
    found = activities.submission_file(
        db, actor=user, learner_id=user.id, event_id=_file_event(event_id), now=now
    )
    return _download(found)


@router.get("/teacher/learners/{learner_id}/files/{event_id}")
def learner_file(
    user: TeacherUser, db: DbSession, now: Now, learner_id: str, event_id: str
) -> Response:
    """A file one of the teacher's learners handed in (the policy decides who may read it)."""
    found = activities.submission_file(
        db, actor=user, learner_id=learner_id, event_id=_file_event(event_id), now=now
    )
    return _download(found)
