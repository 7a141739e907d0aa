"""Store fixtures: every test runs on a SQLite file and on PostgreSQL, each with a clean schema.

On PostgreSQL each test gets its own schema (selected with ``search_path`` in the URL), so
tests running in parallel workers never see each other's rows and a test can commit freely.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from zoped.store.db import make_engine, normalise_url, session_factory
from zoped.store.tables import metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zoped.db'}"
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(normalise_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a database holding the full schema (created from the table metadata,
    which a migration test proves equal to the migrations' result)."""
    engine = make_engine(db_url)
    metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the test database; the code under test commits or rolls back."""
    with session_factory(engine)() as session:
        yield session


@pytest.fixture
def roster(session: Session) -> Session:
    """The session, with school-1 holding learner-1, learner-2, teacher-1 and admin-1."""
    from tests import factories as f
    from zoped.domain import Role
    from zoped.services.roster import create_school, create_user

    create_school(session, school=f.school(), now=f.T0)
    for role, uid in [
        (Role.LEARNER, "learner-1"),
        (Role.LEARNER, "learner-2"),
        (Role.TEACHER, "teacher-1"),
        (Role.ADMIN, "admin-1"),
        (Role.GUARDIAN, "guardian-1"),
    ]:
        create_user(session, user=f.user(role, id=uid), now=f.T0)
    return session
