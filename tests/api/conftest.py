"""A seeded demo database shared by the API and page tests of one session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from zoped.services import demo
from zoped.services.system import Database, open_database

DEMO_NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    database = open_database(f"sqlite:///{path}")
    with database.session() as session:
        demo.seed_demo_school(session, seed=7, now=DEMO_NOW)
    yield database
    database.dispose()
