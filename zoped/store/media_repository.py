"""Course media rows: the pictures a course's items show (docs/qti.md, "Pictures").
Repositories flush; services commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from zoped.domain.media import CourseMedia
from zoped.store.tables import course_media, courses


class MediaRepository:
    """Reads and writes ``course_media``."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, course_key: str, media: Iterable[CourseMedia], *, now: datetime) -> int:
        """Keep the pictures the course does not hold yet (a name is its content, so one held
        is the same picture); how many were added."""
        held = set(
            self.session.scalars(
                select(course_media.c.name).where(course_media.c.course_id == course_key)
            )
        )
        rows = []
        for picture in media:
            if picture.name in held:
                continue
            held.add(picture.name)
            rows.append(
                {
                    "course_id": course_key,
                    "name": picture.name,
                    "content_type": picture.content_type,
                    "size_bytes": len(picture.content),
                    "sha256": picture.sha256,
                    "content": picture.content,
                    "stored_at": now,
                }
            )
        if rows:
            self.session.execute(insert(course_media), rows)
        return len(rows)

    def of_course(self, course_key: str) -> dict[str, bytes]:
        """The course's pictures by name."""
        rows = self.session.execute(
            select(course_media.c.name, course_media.c.content).where(
                course_media.c.course_id == course_key
            )
        )
        return {row.name: row.content for row in rows}

    def in_school(self, school_id: str, name: str) -> CourseMedia | None:
        """The picture ``name`` if a course of the school holds it."""
        row = self.session.execute(
            select(course_media.c.content_type, course_media.c.content)
            .join(courses, courses.c.id == course_media.c.course_id)
            .where(courses.c.school_id == school_id, course_media.c.name == name)
            .limit(1)
        ).first()
        return None if row is None else CourseMedia(name, row.content_type, row.content)
