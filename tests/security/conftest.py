"""Fixtures for the security tests: one seeded demo school, copied where a test mutates it."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_NOW
from zoped.app import create_app
from zoped.clock import PinnedClock
from zoped.services import demo
from zoped.services.system import Database, open_database
from zoped.settings import Settings

SECRET = "test-secret-key-that-is-long-enough-0123456789"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def seeded_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("security") / "seeded.db"
    database = open_database(f"sqlite:///{path}")
    with database.session() as session:
        demo.seed_demo_school(session, seed=7, now=DEMO_NOW)
    database.dispose()
    return path


def copy_database(source: Path, target: Path) -> Database:
    """A fresh copy of a seeded SQLite database (the backup API copies WAL content too)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return open_database(f"sqlite:///{target}")


@pytest.fixture(scope="session")
def shared_db(seeded_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    """A demo database the read-only tests share (they may add audit rows)."""
    database = copy_database(seeded_path, tmp_path_factory.mktemp("shared") / "demo.db")
    yield database
    database.dispose()


@pytest.fixture
def fresh_db(seeded_path: Path, tmp_path: Path) -> Iterator[Database]:
    """A demo database of the test's own, to mutate."""
    database = copy_database(seeded_path, tmp_path / "demo.db")
    yield database
    database.dispose()


def make_client(
    database: Database, *, clock: PinnedClock | None = None, **settings: object
) -> TestClient:
    """A client of the app on ``database`` whose clock starts at DEMO_NOW (or ``clock``)."""
    values: dict[str, object] = {"environment": "test", "secret_key": SECRET}
    values.update(settings)
    config = Settings(database_url=database.url, **values)  # type: ignore[arg-type]
    app = create_app(config, database=database, clock=clock or PinnedClock(DEMO_NOW))
    return TestClient(app, follow_redirects=False)


def csrf_of(client: TestClient, path: str = "/signin") -> str:
    found = CSRF_RE.search(client.get(path).text)
    assert found is not None, f"no CSRF token on {path}"
    return found.group(1)


def sign_in(client: TestClient, username: str, password: str = demo.DEMO_PASSWORD) -> str:
    """Sign ``client`` in; return the session's CSRF token."""
    token = csrf_of(client)
    response = client.post(
        "/signin", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return csrf_of(client, "/")
