"""Pages: an admin imports a OneRoster 1.2 CSV bundle (a zip) into their school.

The bundle is checked whole first; a broken one is listed problem by problem (file, line,
column) and nothing is written. "Check only" runs the whole import and writes nothing, so the
counts shown are those a real import would have. The latest imports come from the audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, Response, UploadFile

from zoped.errors import Conflict, InvalidInput, Problem
from zoped.services.oneroster import (
    KIND_LABELS,
    OUTCOMES,
    RosterImportSummary,
    import_oneroster,
    recent_roster_imports,
)
from zoped.web.deps import AdminUser, CsrfProtected, DbSession, Now, render

router = APIRouter()
TEMPLATE = "admin/roster.html"
#: The largest bundle the page reads (the app's request guard lets this path take more than
#: ZOPED_MAX_REQUEST_BYTES; the command line takes bundles up to the reader's own limits).
MAX_BUNDLE_UPLOAD_BYTES = 20_000_000


def _page(
    request: Request,
    db: DbSession,
    user: AdminUser,
    *,
    summary: RosterImportSummary | None = None,
    problems: list[Problem] | None = None,
    filename: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "summary": summary,
        "problems": problems or [],
        "filename": filename,
        "imports": recent_roster_imports(db, actor=user),
        "labels": KIND_LABELS,
        "outcomes": OUTCOMES,
    }
    return render(request, TEMPLATE, context, status_code=status_code)


@router.get("/admin/roster")
def roster_page(request: Request, user: AdminUser, db: DbSession) -> Response:
    """The upload form and the school's latest roster imports."""
    return _page(request, db, user)


@router.post("/admin/roster", dependencies=[CsrfProtected])
def import_roster(
    request: Request,
    user: AdminUser,
    db: DbSession,
    now: Now,
    bundle: Annotated[UploadFile, File()],
    dry_run: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Import (or only check) an uploaded bundle into the admin's school."""
    data = bundle.file.read(MAX_BUNDLE_UPLOAD_BYTES + 1)  # spooled by Starlette: no network wait
    name = Path(bundle.filename or "bundle.zip").name
    if len(data) > MAX_BUNDLE_UPLOAD_BYTES:
        problem = Problem(name, f"is larger than {MAX_BUNDLE_UPLOAD_BYTES // 1_000_000} MB")
        return _page(request, db, user, problems=[problem], filename=name, status_code=422)
    try:
        summary = import_oneroster(
            db, actor=user, bundle_source=data, dry_run=dry_run == "1", now=now
        )
    except InvalidInput as error:
        problems = error.problems or [Problem("", error.message)]
        return _page(request, db, user, problems=problems, filename=name, status_code=422)
    except Conflict as error:
        return _page(
            request, db, user, problems=[Problem("", str(error))], filename=name, status_code=409
        )
    return _page(request, db, user, summary=summary, filename=name)
