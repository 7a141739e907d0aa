"""The audit log as a use case: record each access of learner data and read the log back.

The log is append-only (:func:`zoped.store.repositories.append_audit` has no update or delete).
Admins read their school's log; a learner, or a guardian linked to them, reads who looked at
the learner's data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from zoped.domain.people import GuardianLink, Role, User
from zoped.errors import NotFound, PermissionDenied
from zoped.store import jsondocs
from zoped.store.repositories import PeopleRepository, append_audits
from zoped.store.tables import audit_log, users

# A session that recorded an access carries this flag, so the web layer commits the entry even
# when the request itself only read.
AUDIT_PENDING = "zoped_audit_pending"


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log, with the actor's name resolved where they still exist."""

    id: int
    at: datetime
    actor_id: str | None
    actor_name: str | None
    actor_role: str | None
    action: str
    subject_type: str
    subject_id: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditPage:
    """A page of audit entries, newest first."""

    entries: list[AuditEntry]
    total: int
    offset: int
    limit: int


def record_access(
    session: Session,
    *,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: str | None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one access to the audit log in the caller's transaction.

    The session is flagged so that the web layer commits the entry after a read-only request.
    """
    record_accesses(
        session,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subjects={subject_id: details or {}},
        now=now,
    )


def record_accesses(
    session: Session,
    *,
    actor: User | None,
    action: str,
    subject_type: str,
    subjects: Mapping[str | None, Mapping[str, Any]],
    now: datetime,
) -> None:
    """Append one access per subject (subject id -> details) in one statement, as
    :func:`record_access` does for one."""
    append_audits(
        session,
        at=now,
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_type=subject_type,
        subjects=dict(subjects),
    )
    session.info[AUDIT_PENDING] = True


def _entries(session: Session, stmt: Any) -> list[AuditEntry]:
    rows = session.execute(
        stmt.add_columns(users.c.display_name, users.c.role).outerjoin(
            users, users.c.id == audit_log.c.actor_id
        )
    ).mappings()
    return [
        AuditEntry(
            id=row["id"],
            at=row["at"],
            actor_id=row["actor_id"],
            actor_name=row["display_name"],
            actor_role=row["role"],
            action=row["action"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            details=jsondocs.load("audit_details", row["details"]),
        )
        for row in rows
    ]


def list_audit(
    session: Session,
    *,
    actor: User,
    offset: int = 0,
    limit: int = 50,
    subject_id: str | None = None,
) -> AuditPage:
    """The audit log of the admin's school, newest first: entries whose actor or subject is
    one of the school's users.

    Raises:
        PermissionDenied: the actor is not an admin.
    """
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("only an admin reads the audit log")
    school_users = select(users.c.id).where(users.c.school_id == actor.school_id)
    where = [or_(audit_log.c.actor_id.in_(school_users), audit_log.c.subject_id.in_(school_users))]
    if subject_id is not None:
        where.append(audit_log.c.subject_id == subject_id)
    total = session.scalar(select(func.count()).select_from(audit_log).where(*where)) or 0
    stmt = (
        select(audit_log)
        .where(*where)
        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        .offset(max(offset, 0))
        .limit(max(limit, 1))
    )
    return AuditPage(_entries(session, stmt), total, max(offset, 0), max(limit, 1))


def entries_about(session: Session, *, learner_id: str) -> list[AuditEntry]:
    """Every audit entry whose subject is this learner, newest first (no check: callers check)."""
    stmt = (
        select(audit_log)
        .where(audit_log.c.subject_id == learner_id)
        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    )
    return _entries(session, stmt)


def who_looked_at(session: Session, *, actor: User, learner_id: str) -> list[AuditEntry]:
    """Who accessed this learner's data, newest first: for the learner, a linked guardian or an
    admin of the learner's school.

    Raises:
        NotFound: the learner is not one the actor may ask about.
    """
    repo = PeopleRepository(session)
    try:
        learner = repo.get_user(learner_id)
    except NotFound:
        raise NotFound("no such learner") from None
    allowed = (
        learner.role is Role.LEARNER
        and learner.school_id == actor.school_id
        and (
            actor.id == learner.id
            or actor.role is Role.ADMIN
            or (
                actor.role is Role.GUARDIAN
                and repo.has_guardian_link(GuardianLink(actor.id, learner.id))
            )
        )
    )
    if not allowed:
        raise NotFound("no such learner")
    return entries_about(session, learner_id=learner_id)
