"""Course media: the pictures a course's items show, served to the people of its school
(docs/qti.md, "Pictures"). Reading course content is not audited, so neither is this."""

from __future__ import annotations

from sqlalchemy.orm import Session

from zoped.domain.media import MEDIA_NAME, CourseMedia
from zoped.domain.people import User
from zoped.errors import NotFound
from zoped.services import transaction
from zoped.services.policy import may_read_course_content
from zoped.store.media_repository import MediaRepository


def course_picture(session: Session, *, actor: User, name: str) -> CourseMedia:
    """The picture ``name`` (``SHA256.EXT``) held by a course of the actor's school.

    Raises:
        NotFound: no such picture in the actor's school, or the actor may not read its
            courses (a guardian; anyone of another school): the same answer either way.
    """
    missing = NotFound(f"no image {name!r}")
    if not MEDIA_NAME.fullmatch(name):
        raise missing
    if not may_read_course_content(actor, actor.school_id):
        raise missing
    with transaction(session):
        found = MediaRepository(session).in_school(actor.school_id, name)
    if found is None:
        raise missing
    return found
