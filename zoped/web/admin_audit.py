"""Pages: the school's audit log for its admins, filtered and paged, and its CSV export.

``GET /admin/audit`` shows the log a page at a time; ``GET /admin/audit.csv`` streams every
matching entry. Both read the same filter from the query string: ``who`` (a username or id),
``learner`` (a username or id), ``action`` and the days ``from`` and ``to`` (``YYYY-MM-DD``,
days of the school's time zone, both included). A filter that cannot be read is shown on the
page with what is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from zoped.domain.people import User
from zoped.errors import InvalidInput
from zoped.services import audit
from zoped.web.deps import AdminUser, DbSession, Now, database, render

router = APIRouter()

AUDIT_PAGE_SIZE = 50
FilterText = Annotated[str | None, Query(max_length=200)]


def _form(
    who: str | None, learner: str | None, action: str | None, since: str | None, until: str | None
) -> dict[str, str]:
    """The filter as typed, to show back in the form."""
    typed = {"who": who, "learner": learner, "action": action, "from": since, "to": until}
    return {name: value or "" for name, value in typed.items()}


def _page(
    request: Request,
    session: DbSession,
    user: User,
    *,
    filters: audit.AuditFilter,
    form: dict[str, str],
    page: int,
    error: InvalidInput | None = None,
) -> Response:
    found = None
    if error is None:
        offset = (page - 1) * AUDIT_PAGE_SIZE
        found = audit.list_audit(
            session, actor=user, filters=filters, offset=offset, limit=AUDIT_PAGE_SIZE
        )
    pages = max(1, -(-found.total // AUDIT_PAGE_SIZE)) if found else 1
    context = {
        "audit": found,
        "page": page,
        "pages": pages,
        "form": form,
        "actions": audit.audit_actions(session, actor=user),
        "query": urlencode(filters.params()),
        "problems": error.problems if error else [],
    }
    return render(request, "admin/audit.html", context, status_code=422 if error else 200)


@router.get("/admin/audit")
def admin_audit(
    request: Request,
    user: AdminUser,
    session: DbSession,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    who: FilterText = None,
    learner: FilterText = None,
    action: FilterText = None,
    since: Annotated[str | None, Query(alias="from", max_length=200)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=200)] = None,
) -> Response:
    """The school's audit log, newest first, a page at a time, filtered."""
    form = _form(who, learner, action, since, until)
    try:
        filters = audit.read_audit_filter(
            actor=who, learner=learner, action=action, since=since, until=until
        )
    except InvalidInput as error:
        return _page(
            request, session, user, filters=audit.AuditFilter(), form=form, page=1, error=error
        )
    return _page(request, session, user, filters=filters, form=form, page=page)


@router.get("/admin/audit.csv")
def admin_audit_csv(
    request: Request,
    user: AdminUser,
    session: DbSession,
    now: Now,
    who: FilterText = None,
    learner: FilterText = None,
    action: FilterText = None,
    since: Annotated[str | None, Query(alias="from", max_length=200)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=200)] = None,
) -> Response:
    """Every entry the filter matches, as CSV, streamed a batch of rows at a time."""
    form = _form(who, learner, action, since, until)
    try:
        filters = audit.read_audit_filter(
            actor=who, learner=learner, action=action, since=since, until=until
        )
    except InvalidInput as error:
        return _page(
            request, session, user, filters=audit.AuditFilter(), form=form, page=1, error=error
        )
    audit.record_audit_export(session, actor=user, filters=filters, now=now)
    db = database(request)

    def lines() -> Iterator[str]:
        # Its own session: the stream outlives the request's (Starlette iterates it in a thread).
        with db.session() as reader:
            yield from audit.audit_csv(reader, actor=user, filters=filters)

    stamp = now.strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="zoped-audit-{stamp}.csv"'},
    )
