"""Fixtures for the xAPI LRS tests: an empty database (SQLite, and PostgreSQL where one is
given) with two schools, each with an LRS credential, and an HTTP client of the app."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client
from zoped.domain.people import School
from zoped.services import roster, tokens
from zoped.services.system import Database, open_database
from zoped.store.db import make_engine, normalise_url

VERSION = {"X-Experience-API-Version": "1.0.3"}


@dataclass(frozen=True)
class Lrs:
    """A client of the app and the headers of two schools' LRS credentials."""

    client: TestClient
    database: Database
    north: dict[str, str]
    south: dict[str, str]


def basic(issued: tokens.IssuedToken) -> dict[str, str]:
    """The headers an xAPI client sends: Basic credentials and the version."""
    pair = base64.b64encode(f"{issued.key_id}:{issued.secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}", **VERSION}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def lrs_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file, or a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'lrs.db'}"
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
def lrs(lrs_url: str) -> Iterator[Lrs]:
    """Two schools, north and south, each with an LRS credential, on a fresh database."""
    database = open_database(lrs_url)
    headers = []
    with database.session() as session:
        for school in ("north", "south"):
            roster.create_school(session, school=School(school, school.title()), now=DEMO_NOW)
            issued = tokens.create_lrs_credentials(
                session, name=f"{school} LRS", school_id=school, now=DEMO_NOW
            )
            headers.append(basic(issued))
    yield Lrs(make_client(database), database, headers[0], headers[1])
    database.dispose()
