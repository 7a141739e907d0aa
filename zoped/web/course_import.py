"""Pages: import a course file into the school (teachers and admins).

The file is checked whole first (every problem listed, nothing written when one is found).
A new course, or a re-import that only adds content, is written at once. A re-import that would
remove or change content shows the preview first: what would be added, changed and removed,
with how many of the school's learners have evidence on each. The teacher confirms by sending
the same file again with the preview's digest (nothing is kept on the server between the two
requests, so any app process can answer either); a different file is previewed afresh.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from zoped.domain.course import Course
from zoped.errors import Conflict, InvalidInput, Problem
from zoped.interop.course_file import load_course_file
from zoped.services import courses as course_services
from zoped.web.deps import CsrfProtected, DbSession, Now, TeacherUser, render

router = APIRouter()
MAX_COURSE_BYTES = 5_000_000
TEMPLATE = "teacher/import.html"


def _context(**values: object) -> dict[str, object]:
    found: dict[str, object] = {
        "problems": [],
        "summary": None,
        "preview": None,
        "digest": "",
        "filename": "",
        "other_file": False,
    }
    found.update(values)
    return found


@router.get("/teacher/courses/import")
def import_page(request: Request, user: TeacherUser, db: DbSession) -> Response:
    """The course import form, with the school's courses."""
    courses = course_services.school_courses(db, school_id=user.school_id)
    return render(request, TEMPLATE, _context(courses=courses))


def _load(data: bytes, name: str) -> tuple[Course | None, list[Problem]]:
    """The course in an uploaded file, or every problem with it."""
    if len(data) > MAX_COURSE_BYTES:
        return None, [Problem("", "the file is larger than 5 MB")]
    suffix = ".json" if name.endswith(".json") else ".yaml"
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        try:
            return load_course_file(path), []
        except InvalidInput as error:
            return None, error.problems or [Problem("", error.message)]


@router.post("/teacher/courses/import", dependencies=[CsrfProtected])
def import_course(
    request: Request,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    course_file: Annotated[UploadFile, File()],
    confirm_digest: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Check a course file and import it, or show what a re-import would change and ask to
    confirm it (see the module's docstring)."""
    data = course_file.file.read(MAX_COURSE_BYTES + 1)  # spooled by Starlette: no network wait
    name = Path(course_file.filename or "course.yaml").name
    digest = hashlib.sha256(data).hexdigest()
    course, problems = _load(data, name)
    courses = course_services.school_courses(db, school_id=user.school_id)
    if course is None:
        return render(
            request,
            TEMPLATE,
            _context(problems=problems, filename=name, courses=courses),
            status_code=422,
        )
    preview = course_services.preview_course_import(db, actor=user, course=course)
    if preview.clashes:
        problems = [
            Problem("", f"ids used by another course of this school: {c}") for c in preview.clashes
        ]
        context = _context(problems=problems, filename=name, courses=courses)
        return render(request, TEMPLATE, context, status_code=409)
    confirmed = bool(confirm_digest) and confirm_digest == digest
    if preview.needs_confirmation and not confirmed:
        context = _context(
            preview=preview,
            digest=digest,
            filename=name,
            other_file=bool(confirm_digest),
            courses=courses,
        )
        return render(request, TEMPLATE, context)
    try:
        summary = course_services.import_course(
            db, actor=user, course=course, now=now, confirm=preview.needs_confirmation
        )
    except InvalidInput as error:
        problems = error.problems or [Problem("", error.message)]
        context = _context(problems=problems, filename=name, courses=courses)
        return render(request, TEMPLATE, context, status_code=422)
    except Conflict as error:  # changed since the preview (another import meanwhile)
        problems = [Problem("", str(error))]
        context = _context(problems=problems, filename=name, courses=courses)
        return render(request, TEMPLATE, context, status_code=409)
    courses = course_services.school_courses(db, school_id=user.school_id)
    context = _context(summary=summary, preview=preview, filename=name, courses=courses)
    return render(request, TEMPLATE, context)
