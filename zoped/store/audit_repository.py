"""Reading the audit log by school and filter, and pruning it by age.

Appending lives with the other writes (:func:`zoped.store.repositories.append_audits`). The log
has no school column: an entry belongs to a school when its actor is one of the school's users,
or its subject is (a user or learner, a class or the school itself). The system's entries about
the log's own upkeep (no actor, ``subject_type = "audit_log"``: a retention prune) belong to
every school.

Every filter is a condition on ``audit_log`` in SQL: a date range uses ``ix_audit_log_at``, a
learner ``ix_audit_log_subject`` (subject type, subject id). Pages are read newest first, by
offset for the page and by keyset (``at``, ``id``) for an export, so a long export never scans
what it has already read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from zoped.store import jsondocs
from zoped.store.tables import audit_log, classes, users

#: Subject types whose subject id is a user's id.
USER_SUBJECTS = ("learner", "user")
#: The subject type of entries about the log itself (a prune), shown to every school.
LOG_SUBJECT = "audit_log"


@dataclass(frozen=True)
class AuditConditions:
    """What to select from the log of one school; None leaves a field unfiltered.

    ``actor_ids`` and ``subject_ids`` are sets of ids (an empty set matches nothing).
    ``since`` is inclusive and ``before`` exclusive.
    """

    school_id: str
    actor_ids: frozenset[str] | None = None
    subject_ids: frozenset[str] | None = None
    action: str | None = None
    since: datetime | None = None
    before: datetime | None = None


@dataclass(frozen=True)
class AuditRow:
    """One stored entry, with the names of its actor and (user) subject where they exist."""

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


def _school_scope(school_id: str) -> ColumnElement[bool]:
    school_users = select(users.c.id).where(users.c.school_id == school_id)
    school_classes = select(classes.c.id).where(classes.c.school_id == school_id)
    return or_(
        audit_log.c.actor_id.in_(school_users),
        and_(audit_log.c.subject_type.in_(USER_SUBJECTS), audit_log.c.subject_id.in_(school_users)),
        and_(audit_log.c.subject_type == "class", audit_log.c.subject_id.in_(school_classes)),
        and_(audit_log.c.subject_type == "school", audit_log.c.subject_id == school_id),
        and_(audit_log.c.subject_type == LOG_SUBJECT, audit_log.c.actor_id.is_(None)),
    )


def _conditions(where: AuditConditions) -> list[ColumnElement[bool]]:
    found = [_school_scope(where.school_id)]
    if where.actor_ids is not None:
        found.append(
            audit_log.c.actor_id.in_(sorted(where.actor_ids)) if where.actor_ids else false()
        )
    if where.subject_ids is not None:
        found.append(
            and_(
                audit_log.c.subject_type.in_(USER_SUBJECTS),
                audit_log.c.subject_id.in_(sorted(where.subject_ids)),
            )
            if where.subject_ids
            else false()
        )
    if where.action is not None:
        found.append(audit_log.c.action == where.action)
    if where.since is not None:
        found.append(audit_log.c.at >= where.since)
    if where.before is not None:
        found.append(audit_log.c.at < where.before)
    return found


class AuditRepository:
    """Reads of the audit log for one school at a time, and its one delete: the retention prune."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def user_ids(self, school_id: str, name_or_id: str) -> frozenset[str]:
        """The ids that ``name_or_id`` may mean in the school: the text itself (an id, also of
        a user since erased under a pseudonym) and the id of the school's user with that
        username."""
        named = self.session.scalars(
            select(users.c.id).where(users.c.school_id == school_id, users.c.username == name_or_id)
        )
        return frozenset({name_or_id, *named})

    def count(self, where: AuditConditions) -> int:
        """How many entries match."""
        stmt = select(func.count()).select_from(audit_log).where(*_conditions(where))
        return self.session.scalar(stmt) or 0

    def page(self, where: AuditConditions, *, offset: int, limit: int) -> list[AuditRow]:
        """Matching entries, newest first, from ``offset``."""
        stmt = self._select(where).offset(offset).limit(limit)
        return self._rows(stmt)

    def after(
        self, where: AuditConditions, *, cursor: tuple[datetime, int] | None, limit: int
    ) -> list[AuditRow]:
        """Matching entries, newest first, older than ``cursor`` (the ``at`` and ``id`` of the
        last entry read; None: from the newest)."""
        stmt = self._select(where)
        if cursor is not None:
            at, entry_id = cursor
            stmt = stmt.where(
                or_(audit_log.c.at < at, and_(audit_log.c.at == at, audit_log.c.id < entry_id))
            )
        return self._rows(stmt.limit(limit))

    def actions(self) -> list[str]:
        """Every action the log holds, sorted (action names are the code's, not a school's)."""
        return sorted(self.session.scalars(select(audit_log.c.action).distinct()))

    def prune_before(self, cutoff: datetime) -> int:
        """Delete every entry older than ``cutoff`` (the retention's one delete path).

        Returns:
            How many entries were deleted.
        """
        result = self.session.execute(delete(audit_log).where(audit_log.c.at < cutoff))
        return int(getattr(result, "rowcount", 0) or 0)

    def _select(self, where: AuditConditions) -> Select[Any]:
        actor = users.alias("actor")
        subject = users.alias("subject")
        return (
            select(
                audit_log,
                actor.c.display_name.label("actor_name"),
                actor.c.role.label("actor_role"),
                subject.c.display_name.label("subject_name"),
            )
            .outerjoin(actor, actor.c.id == audit_log.c.actor_id)
            .outerjoin(
                subject,
                and_(
                    subject.c.id == audit_log.c.subject_id,
                    audit_log.c.subject_type.in_(USER_SUBJECTS),
                ),
            )
            .where(*_conditions(where))
            .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
        )

    def _rows(self, stmt: Select[Any]) -> list[AuditRow]:
        return [_row(found) for found in self.session.execute(stmt).mappings()]


def _row(found: Any) -> AuditRow:
    return AuditRow(
        id=found["id"],
        at=found["at"],
        actor_id=found["actor_id"],
        actor_name=found["actor_name"],
        actor_role=found["actor_role"],
        action=found["action"],
        subject_type=found["subject_type"],
        subject_id=found["subject_id"],
        subject_name=found["subject_name"],
        details=jsondocs.load("audit_details", found["details"]),
    )
