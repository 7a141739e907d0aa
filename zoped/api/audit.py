"""The JSON API of the audit log: ``GET /api/v1/audit`` (an admin, with a ``read:audit`` token or
a signed-in session), with the filters and paging of the admin's audit page."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from zoped.api.deps import AppSettings, CurrentCaller, DbSession
from zoped.api.routes import ERRORS
from zoped.errors import InvalidInput, Problem
from zoped.services import audit
from zoped.services.tokens import Scope

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["api"])

FilterText = Annotated[str | None, Query(max_length=64)]


class AuditEntryPublic(BaseModel):
    """One entry of the audit log."""

    id: int
    at: datetime
    actor_id: str | None
    actor_name: str | None
    actor_role: str | None
    action: str
    subject_type: str
    subject_id: str | None
    subject_name: str | None
    details: dict[str, Any]


class AuditPagePublic(BaseModel):
    """A page of the school's audit log, newest first."""

    items: list[AuditEntryPublic]
    total: int = Field(description="Entries matching the filter, in all.")
    limit: int
    offset: int


@router.get("/audit", response_model=AuditPagePublic)
def read_audit_log(
    caller: CurrentCaller,
    session: DbSession,
    settings: AppSettings,
    who: FilterText = None,
    learner: FilterText = None,
    action: FilterText = None,
    since: Annotated[str | None, Query(alias="from", max_length=64)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPagePublic:
    """The audit log of the caller's school (admins only), newest first, a page at a time
    (limit ≤ page_size_max). ``who`` and ``learner`` take a username or an id; ``from`` and
    ``to`` are days in UTC, both included."""
    caller.require(Scope.READ_AUDIT)
    if limit > settings.page_size_max:
        raise InvalidInput(
            "page too large", [Problem("limit", f"at most {settings.page_size_max}")]
        )
    filters = audit.read_audit_filter(
        actor=who, learner=learner, action=action, since=since, until=until
    )
    page = audit.list_audit(session, actor=caller.user, filters=filters, offset=offset, limit=limit)
    return AuditPagePublic(
        items=[
            AuditEntryPublic(
                id=e.id,
                at=e.at,
                actor_id=e.actor_id,
                actor_name=e.actor_name,
                actor_role=e.actor_role,
                action=e.action,
                subject_type=e.subject_type,
                subject_id=e.subject_id,
                subject_name=e.subject_name,
                details=e.details,
            )
            for e in page.entries
        ],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )
