"""Pages: import a CASE competency framework into the school as a course (teachers and admins).

The same pattern as the course file import (:mod:`zoped.web.course_import`): the package is
checked whole first (every problem listed with its path, nothing written when one is found); a
new framework, or a re-import that only adds competencies, is written at once; a re-import that
would change or remove competencies shows what first and is confirmed by sending the same file
again with the preview's digest. The tolerated quirks are listed with the result. See
docs/case.md.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile

from zoped.errors import Conflict, InvalidInput, PermissionDenied, Problem
from zoped.interop.case import CasePackage, parse_json, read_package
from zoped.services import case_import as case_services
from zoped.services import courses as course_services
from zoped.web.deps import CsrfProtected, DbSession, Now, TeacherUser, render

router = APIRouter()
MAX_CASE_BYTES = 5_000_000
TEMPLATE = "teacher/case_import.html"
PATH = "/teacher/courses/import-case"
#: CASE association types in words, for the framework page.
LINK_WORDS = {
    "isChildOf": "also under",
    "isPeerOf": "peer of",
    "isPartOf": "part of",
    "exactMatchOf": "the same as",
    "precedes": "comes before",
    "isRelatedTo": "related to",
    "replacedBy": "replaced by",
    "exemplar": "exemplar",
    "hasSkillLevel": "skill level",
    "isTranslationOf": "translation of",
}


def _context(**values: object) -> dict[str, object]:
    found: dict[str, object] = {
        "problems": [],
        "summary": None,
        "plan": None,
        "digest": "",
        "filename": "",
        "other_file": False,
        "quirks": (),
    }
    found.update(values)
    return found


@router.get(PATH)
def case_import_page(request: Request, user: TeacherUser, db: DbSession) -> Response:
    """The CASE import form, with the school's courses."""
    courses = course_services.school_courses(db, school_id=user.school_id)
    return render(request, TEMPLATE, _context(courses=courses))


def _load(data: bytes, name: str) -> tuple[CasePackage | None, list[Problem]]:
    """The package in an uploaded file, or every problem with it."""
    if len(data) > MAX_CASE_BYTES:
        return None, [Problem("", "the file is larger than 5 MB")]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, [Problem("", "not a UTF-8 text file")]
    try:
        return read_package(parse_json(text, name), name), []
    except InvalidInput as error:
        return None, error.problems or [Problem("", error.message)]


@router.post(PATH, dependencies=[CsrfProtected])
def import_case(
    request: Request,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    case_file: Annotated[UploadFile, File()],
    confirm_digest: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Check a CASE package and import it, or show what a re-import would change and ask to
    confirm it (see the module's docstring)."""
    data = case_file.file.read(MAX_CASE_BYTES + 1)  # spooled by Starlette: no network wait
    name = Path(case_file.filename or "framework.json").name
    digest = hashlib.sha256(data).hexdigest()
    package, problems = _load(data, name)
    courses = course_services.school_courses(db, school_id=user.school_id)

    def refused(problems: list[Problem], status: int) -> Response:
        context = _context(problems=problems, filename=name, courses=courses)
        return render(request, TEMPLATE, context, status_code=status)

    if package is None:
        return refused(problems, 422)
    try:
        plan = case_services.preview_case_import(db, actor=user, package=package)
    except InvalidInput as error:
        return refused(error.problems or [Problem("", error.message)], 422)
    except (Conflict, PermissionDenied) as error:
        return refused([Problem("", str(error))], 409)
    confirmed = bool(confirm_digest) and confirm_digest == digest
    if plan.preview.needs_confirmation and not plan.unchanged and not confirmed:
        context = _context(
            plan=plan,
            digest=digest,
            filename=name,
            other_file=bool(confirm_digest),
            courses=courses,
            quirks=plan.quirks,
        )
        return render(request, TEMPLATE, context)
    try:
        summary = case_services.import_case(
            db, actor=user, package=package, now=now, confirm=plan.preview.needs_confirmation
        )
    except InvalidInput as error:
        return refused(error.problems or [Problem("", error.message)], 422)
    except Conflict as error:  # changed since the preview (another import meanwhile)
        return refused([Problem("", str(error))], 409)
    courses = course_services.school_courses(db, school_id=user.school_id)
    context = _context(
        summary=summary, plan=plan, filename=name, courses=courses, quirks=summary.quirks
    )
    return render(request, TEMPLATE, context)


@router.get("/teacher/courses/{course_key}/framework")
def framework_page(request: Request, user: TeacherUser, db: DbSession, course_key: str) -> Response:
    """The course's competencies in their hierarchy, with prerequisites, standard codes and,
    for a framework imported from CASE, each competency's CASE identifier and links."""
    view = case_services.framework_view(db, actor=user, course_key=course_key)
    context = {
        "view": view,
        "titles": {c.id: c.title for _, c in view.competencies},
        "link_targets": {identifier: cid for cid, identifier in view.identifiers.items()},
        "link_words": LINK_WORDS,
    }
    return render(request, "teacher/framework.html", context)


@router.get("/teacher/courses/{course_key}/case.json")
def case_download(
    user: TeacherUser,
    db: DbSession,
    course_key: str,
    version: Annotated[Literal["1.0", "1.1"], Query()] = "1.1",
) -> Response:
    """The course's framework as a CASE package (a download)."""
    package, _ = case_services.export_case(db, actor=user, course_key=course_key, version=version)
    body = json.dumps(package, indent=2, ensure_ascii=False) + "\n"
    name = f"{course_key}-case-{version.replace('.', 'p')}.json"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
