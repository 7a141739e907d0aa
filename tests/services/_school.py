"""A seeded demo school for the teacher and guardian service tests, seeded once per process."""

from __future__ import annotations

import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

from tests.conftest import DEMO_NOW
from zoped.domain.people import User
from zoped.services import demo
from zoped.services.system import Database, open_database
from zoped.store.repositories import PeopleRepository


@lru_cache(maxsize=1)
def _template() -> Path:
    path = Path(tempfile.mkdtemp(prefix="zoped-teacher-")) / "demo.db"
    database = open_database(f"sqlite:///{path}")
    with database.session() as session:
        demo.seed_demo_school(session, seed=7, now=DEMO_NOW)
    database.dispose()
    return path


def fresh_demo_db(directory: Path) -> Database:
    """A private copy of the seeded demo school (tests may write to it)."""
    path = directory / "demo.db"
    shutil.copy(_template(), path)
    return open_database(f"sqlite:///{path}")


def user(database: Database, user_id: str) -> User:
    with database.session() as session:
        return PeopleRepository(session).get_user(user_id)
