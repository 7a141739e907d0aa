"""Pages: import QTI items into one of the school's courses (teachers and admins).

The same pattern as the CASE import (:mod:`zoped.web.case_import`): the file is checked whole
first (every problem listed with its file, line and element; nothing written when one is
found); new items are written at once; an import that would change items already in the course
shows which first and is confirmed by sending the same files again with the preview's digest.
See docs/qti.md.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import courses as course_services
from zoped.services import qti_import as qti_services
from zoped.web.deps import CsrfProtected, DbSession, Now, TeacherUser, render

router = APIRouter()
TEMPLATE = "teacher/qti_import.html"
PATH = "/teacher/courses/import-qti"
#: The largest request this page takes (a package and a mapping file), in bytes.
MAX_UPLOAD_BYTES = 20_000_000
#: The largest mapping file read, in bytes.
MAX_MAPPING_BYTES = 1_000_000


def _context(**values: object) -> dict[str, object]:
    found: dict[str, object] = {
        "problems": [],
        "summary": None,
        "preview": None,
        "digest": "",
        "filename": "",
        "chosen": "",
        "other_file": False,
    }
    found.update(values)
    return found


@router.get(PATH)
def qti_import_page(request: Request, user: TeacherUser, db: DbSession) -> Response:
    """The QTI import form, with the school's courses to choose from."""
    courses = course_services.school_courses(db, school_id=user.school_id)
    return render(request, TEMPLATE, _context(courses=courses))


def _saved(folder: Path, upload: UploadFile, default: str, limit: int) -> Path | None:
    """The upload written into ``folder`` under its own base name; None when it is too large."""
    data = upload.file.read(limit + 1)  # spooled by Starlette: no network wait
    if len(data) > limit:
        return None
    name = Path(upload.filename or default).name or default
    path = folder / name
    path.write_bytes(data)
    return path


@router.post(PATH, dependencies=[CsrfProtected])
def import_qti(
    request: Request,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    course: Annotated[str, Form(max_length=200)],
    qti_file: Annotated[UploadFile, File()],
    mapping_file: Annotated[UploadFile | None, File()] = None,
    confirm_digest: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Check a QTI file and import its items, or show which items it would change and ask to
    confirm (see the module's docstring)."""
    courses = course_services.school_courses(db, school_id=user.school_id)
    name = Path(qti_file.filename or "items.zip").name

    def refused(problems: list[Problem], status: int) -> Response:
        context = _context(problems=problems, filename=name, courses=courses, chosen=course)
        return render(request, TEMPLATE, context, status_code=status)

    with tempfile.TemporaryDirectory(prefix="zoped-qti-") as folder:
        source = _saved(Path(folder), qti_file, "items.zip", MAX_UPLOAD_BYTES)
        if source is None:
            return refused([Problem("", "the file is larger than 20 MB")], 413)
        mapping = None
        if mapping_file is not None and mapping_file.filename:
            (Path(folder) / "mapping").mkdir()
            mapping = _saved(
                Path(folder) / "mapping", mapping_file, "mapping.csv", MAX_MAPPING_BYTES
            )
            if mapping is None:
                return refused([Problem("mapping", "the mapping file is larger than 1 MB")], 413)
        parts = [course.encode(), source.read_bytes(), mapping.read_bytes() if mapping else b""]
        digest = hashlib.sha256(b"\0".join(parts)).hexdigest()

        def run(*, dry_run: bool = False, confirm: bool = False) -> qti_services.QtiImportSummary:
            return qti_services.import_qti(
                db,
                actor=user,
                source=source,
                course_code=course,
                mapping=mapping,
                now=now,
                dry_run=dry_run,
                confirm=confirm,
            )

        try:
            preview = run(dry_run=True)
        except InvalidInput as error:
            return refused(error.problems or [Problem("", error.message)], 422)
        except (NotFound, PermissionDenied) as error:
            return refused([Problem("course", str(error))], 422)
        confirmed = bool(confirm_digest) and confirm_digest == digest
        if preview.updated and not confirmed:
            context = _context(
                preview=preview,
                digest=digest,
                filename=name,
                other_file=bool(confirm_digest),
                courses=courses,
                chosen=course,
            )
            return render(request, TEMPLATE, context)
        try:
            summary = run(confirm=confirmed)
        except InvalidInput as error:
            return refused(error.problems or [Problem("", error.message)], 422)
        except Conflict as error:  # changed since the preview (another import meanwhile)
            return refused([Problem("", str(error))], 409)
    context = _context(summary=summary, filename=name, courses=courses, chosen=course)
    return render(request, TEMPLATE, context)
