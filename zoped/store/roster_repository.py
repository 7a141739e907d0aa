"""What roster imports remember: one ``roster_records`` row per record a bundle gave, by
(school, kind, sourcedId), with the zoped id it became; and the lookups an import needs.

Like every repository this never commits; :mod:`zoped.services.oneroster` owns the transaction.
The users, classes, enrollments and guardian links themselves are written through
:class:`zoped.store.repositories.PeopleRepository`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from zoped.store import jsondocs
from zoped.store.tables import (
    audit_log,
    classes,
    enrollments,
    guardian_links,
    roster_records,
    schools,
    users,
)

DOC = "roster_record"


@dataclass(frozen=True)
class StoredRecord:
    """What an import last stored about one record.

    Attributes:
        kind: ``"org"``, ``"academicSession"``, ``"course"``, ``"class"``, ``"user"``,
            ``"role"`` or ``"enrollment"``.
        sourced_id: the record's id in the sending system.
        local_id: the zoped id it became (a school, user or class), or None.
        status: ``"active"`` or ``"tobedeleted"``, as the bundle last said (or as a bulk file
            that no longer listed it implied).
        date_last_modified: the sending system's last change, when it gave one.
        data: the values kept about it (see :mod:`zoped.interop.oneroster`).
    """

    kind: str
    sourced_id: str
    local_id: str | None
    status: str
    date_last_modified: datetime | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportEntry:
    """One roster import from the audit log."""

    at: datetime
    actor_id: str | None
    actor_name: str | None
    details: dict[str, Any]


class RosterRepository:
    """Roster records of a school, and the lookups a roster import makes."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def records(self, school_id: str) -> dict[str, dict[str, StoredRecord]]:
        """Every stored record of a school, by kind and then sourcedId."""
        found: dict[str, dict[str, StoredRecord]] = defaultdict(dict)
        rows = self.session.execute(
            select(roster_records).where(roster_records.c.school_id == school_id)
        ).mappings()
        for row in rows:
            found[row["kind"]][row["sourced_id"]] = StoredRecord(
                kind=row["kind"],
                sourced_id=row["sourced_id"],
                local_id=row["local_id"],
                status=row["status"],
                date_last_modified=row["date_last_modified"],
                data=jsondocs.load(DOC, row["data"]),
            )
        return dict(found)

    def save(
        self,
        school_id: str,
        records: Iterable[StoredRecord],
        *,
        existing: Collection[tuple[str, str]],
        at: datetime,
    ) -> None:
        """Insert the records whose (kind, sourcedId) is not in ``existing``; update the others."""
        new: list[dict[str, Any]] = []
        for record in records:
            values = {
                "local_id": record.local_id,
                "status": record.status,
                "date_last_modified": record.date_last_modified,
                "data": jsondocs.dump(DOC, record.data),
                "imported_at": at,
            }
            if (record.kind, record.sourced_id) in existing:
                self.session.execute(
                    update(roster_records)
                    .where(
                        roster_records.c.school_id == school_id,
                        roster_records.c.kind == record.kind,
                        roster_records.c.sourced_id == record.sourced_id,
                    )
                    .values(**values)
                )
            else:
                new.append(
                    {
                        "school_id": school_id,
                        "kind": record.kind,
                        "sourced_id": record.sourced_id,
                        **values,
                    }
                )
        if new:
            self.session.execute(insert(roster_records), new)

    def schools_of_org(self, sourced_id: str) -> list[str]:
        """The schools an import made of the org with this sourcedId (at most one, normally)."""
        stmt = select(roster_records.c.school_id).where(
            roster_records.c.kind == "org",
            roster_records.c.sourced_id == sourced_id,
            roster_records.c.local_id == roster_records.c.school_id,
        )
        return sorted(set(self.session.scalars(stmt)))

    def schools_with(self, kind: str, sourced_ids: Collection[str]) -> set[str]:
        """The schools holding a record of ``kind`` with one of these sourcedIds."""
        wanted = list(set(sourced_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            stmt = select(roster_records.c.school_id).where(
                roster_records.c.kind == kind,
                roster_records.c.sourced_id.in_(wanted[start : start + 500]),
            )
            found |= set(self.session.scalars(stmt))
        return found

    def school_exists(self, school_id: str) -> bool:
        return (
            self.session.scalar(select(schools.c.id).where(schools.c.id == school_id)) is not None
        )

    def taken_ids(self, table_name: str, ids: Collection[str]) -> set[str]:
        """Which of ``ids`` a school, user or class already has (ids are global keys)."""
        table: Table = {"school": schools, "user": users, "class": classes}[table_name]
        wanted = list(set(ids))
        taken: set[str] = set()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            taken |= set(self.session.scalars(select(table.c.id).where(table.c.id.in_(chunk))))
        return taken

    def password_hashes(self, user_ids: Collection[str]) -> dict[str, str | None]:
        """The stored password hash of each of these users."""
        ids = list(user_ids)
        found: dict[str, str | None] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stmt = select(users.c.id, users.c.password_hash).where(users.c.id.in_(chunk))
            found.update({row.id: row.password_hash for row in self.session.execute(stmt)})
        return found

    def members(self, class_ids: Collection[str]) -> dict[str, set[str]]:
        """The learners enrolled in each of these classes."""
        found: dict[str, set[str]] = {cid: set() for cid in class_ids}
        ids = list(class_ids)
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            stmt = select(enrollments.c.class_id, enrollments.c.learner_id).where(
                enrollments.c.class_id.in_(chunk)
            )
            for class_id, learner_id in self.session.execute(stmt):
                found[class_id].add(learner_id)
        return found

    def guardian_links_among(self, user_ids: Collection[str]) -> set[tuple[str, str]]:
        """The (guardian, learner) links whose two users are both among ``user_ids``."""
        ids = set(user_ids)
        found: set[tuple[str, str]] = set()
        wanted = list(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            stmt = select(guardian_links.c.guardian_id, guardian_links.c.learner_id).where(
                guardian_links.c.learner_id.in_(chunk)
            )
            found |= {(g, learner) for g, learner in self.session.execute(stmt) if g in ids}
        return found

    def recent_imports(self, school_id: str, *, limit: int = 5) -> list[ImportEntry]:
        """The school's latest roster imports (``roster.import`` audit entries), newest first."""
        stmt = (
            select(audit_log.c.at, audit_log.c.actor_id, audit_log.c.details, users.c.display_name)
            .outerjoin(users, users.c.id == audit_log.c.actor_id)
            .where(
                audit_log.c.action == "roster.import",
                audit_log.c.subject_type == "school",
                audit_log.c.subject_id == school_id,
            )
            .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
            .limit(limit)
        )
        return [
            ImportEntry(
                at=row.at,
                actor_id=row.actor_id,
                actor_name=row.display_name,
                details=jsondocs.load("audit_details", row.details),
            )
            for row in self.session.execute(stmt)
        ]
