"""A seeded demo database shared by the API and page tests of one session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import DEMO_NOW
from zoped.services import demo
from zoped.services.system import Database, open_database


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    database = open_database(f"sqlite:///{path}")
    with database.session() as session:
        demo.seed_demo_school(session, seed=7, now=DEMO_NOW)
    yield database
    database.dispose()
