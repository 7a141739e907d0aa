"""Pages: a course's pictures at ``/media/NAME``, for the learners, teachers and admins of its
school (others get 404), with their own content type and ``nosniff``."""

from __future__ import annotations

from fastapi import APIRouter, Response

from zoped.domain.media import MEDIA_ROUTE
from zoped.services import media as media_services
from zoped.web.deps import CurrentUser, DbSession

router = APIRouter()


@router.get(MEDIA_ROUTE + "{name}")
def course_picture(name: str, user: CurrentUser, db: DbSession) -> Response:
    """One picture, by its name (``SHA256.EXT``); the name is its content, so it may be kept."""
    picture = media_services.course_picture(db, actor=user, name=name)
    return Response(
        picture.content,
        media_type=picture.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; sandbox",
            "Cache-Control": "private, max-age=86400",
        },
    )
