"""Fixtures for the CASE tests: the store's (each test on a SQLite file and on PostgreSQL) and
the seeded demo school's (pages through the HTTP client)."""

from tests.security.conftest import fresh_db, seeded_path
from tests.store.conftest import db_url, engine, roster, session

__all__ = ["db_url", "engine", "fresh_db", "roster", "seeded_path", "session"]
