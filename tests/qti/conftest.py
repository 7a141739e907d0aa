"""Fixtures for the QTI tests: the seeded demo school's (pages through the HTTP client)."""

from tests.security.conftest import fresh_db, seeded_path

__all__ = ["fresh_db", "seeded_path"]
