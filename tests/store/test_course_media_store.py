"""Course media (migration 0018): the table comes and goes on SQLite and PostgreSQL, a picture
is kept once per course, and it is found only through a course of its school."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from tests import factories as f
from zoped.domain.media import CourseMedia
from zoped.interop.course_file import parse_course
from zoped.services.courses import import_course
from zoped.services.roster import create_school
from zoped.services.system import open_database
from zoped.store.db import alembic_config, make_engine, upgrade
from zoped.store.media_repository import MediaRepository

PICTURE = CourseMedia(f"{'a' * 64}.png", "image/png", b"\x89PNG\r\n\x1a\n picture")
COURSE = {
    "format": "zoped-course",
    "version": 1,
    "course": {"id": "art", "title": "Art"},
    "competencies": [{"id": "art.colour", "title": "Colour"}],
    "activities": [],
    "items": [],
    "rubrics": [],
}


def test_the_table_comes_and_goes_with_its_migration(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            assert "course_media" in inspect(connection).get_table_names()
        with engine.begin() as connection:
            config = alembic_config(db_url)
            config.attributes["connection"] = connection
            command.downgrade(config, "0017")
        with engine.connect() as connection:
            assert "course_media" not in inspect(connection).get_table_names()
        upgrade(db_url)
        with engine.connect() as connection:
            assert "course_media" in inspect(connection).get_table_names()
    finally:
        engine.dispose()


def test_a_picture_is_kept_once_and_found_only_in_its_school(db_url: str) -> None:
    database = open_database(db_url)
    try:
        with database.session() as session:
            for school in ("hill", "vale"):
                create_school(session, school=f.school(id=school), now=f.T0)
            summary = import_course(
                session,
                course=parse_course(COURSE),
                now=f.T0,
                school_id="hill",
                media=[PICTURE, PICTURE],
            )
            repo = MediaRepository(session)
            assert repo.of_course(summary.key) == {PICTURE.name: PICTURE.content}
            assert repo.add(summary.key, [PICTURE], now=f.T0) == 0
            assert repo.in_school("hill", PICTURE.name) == PICTURE
            assert repo.in_school("vale", PICTURE.name) is None
    finally:
        database.dispose()
