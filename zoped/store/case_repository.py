"""What courses imported from CASE packages keep beside their competencies (table
``case_frameworks``): one row per course, found by the CFDocument's identifier within a school.

Repositories never commit: the calling service owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from zoped.store.tables import case_frameworks, competencies, courses


@dataclass(frozen=True)
class StoredCaseFramework:
    """A course's CASE record.

    Attributes:
        course_key: the course's stored key.
        school_id: its school.
        document_id: the CFDocument's identifier.
        version: the CASE version last imported.
        record: the document, items, associations and slugs (see zoped.interop.case).
        imported_at: when it was last imported.
    """

    course_key: str
    school_id: str
    document_id: str
    version: str
    record: dict[str, Any]
    imported_at: datetime


def _stored(row: Any) -> StoredCaseFramework:
    return StoredCaseFramework(
        course_key=row.course_id,
        school_id=row.school_id,
        document_id=row.document_id,
        version=row.case_version,
        record=dict(row.record),
        imported_at=row.imported_at,
    )


class CaseRepository:
    """Reads and writes ``case_frameworks``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def of_document(self, school_id: str, document_id: str) -> StoredCaseFramework | None:
        """The school's course imported from this CFDocument, or None."""
        stmt = select(case_frameworks).where(
            case_frameworks.c.school_id == school_id,
            case_frameworks.c.document_id == document_id,
        )
        row = self.session.execute(stmt).first()
        return None if row is None else _stored(row)

    def of_course(self, course_key: str) -> StoredCaseFramework | None:
        """The course's CASE record, or None when it was not imported from CASE."""
        stmt = select(case_frameworks).where(case_frameworks.c.course_id == course_key)
        row = self.session.execute(stmt).first()
        return None if row is None else _stored(row)

    def save(
        self,
        *,
        course_key: str,
        school_id: str,
        document_id: str,
        version: str,
        record: dict[str, Any],
        imported_at: datetime,
    ) -> None:
        """Store the course's CASE record, replacing the one it had."""
        self.session.execute(
            delete(case_frameworks).where(case_frameworks.c.course_id == course_key)
        )
        self.session.execute(
            insert(case_frameworks).values(
                course_id=course_key,
                school_id=school_id,
                document_id=document_id,
                case_version=version,
                record=record,
                imported_at=imported_at,
            )
        )
        self.session.flush()

    def competency_ids_elsewhere(self, school_id: str, course_key: str | None) -> set[str]:
        """Competency ids the school's other courses use (a new competency avoids them)."""
        stmt = (
            select(competencies.c.id)
            .join(courses, courses.c.id == competencies.c.course_id)
            .where(courses.c.school_id == school_id)
        )
        if course_key is not None:
            stmt = stmt.where(courses.c.id != course_key)
        return set(self.session.scalars(stmt))

    def imported_at(self, course_key: str) -> datetime | None:
        """When the course was last imported (any format), or None: no such course."""
        return self.session.scalar(select(courses.c.imported_at).where(courses.c.id == course_key))
