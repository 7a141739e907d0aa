"""The store fixtures (each test on a SQLite file and on PostgreSQL) for the CASE tests."""

from tests.store.conftest import db_url, engine, roster, session

__all__ = ["db_url", "engine", "roster", "session"]
