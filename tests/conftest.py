"""Shared test fixtures.

Services and data that a test needs but the machine lacks make the test skip with a reason,
except in CI (``ZOPED_REQUIRE_SERVICES=1``), where their absence fails the run.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile("ci" if os.environ.get("ZOPED_REQUIRE_SERVICES") == "1" else "dev")

REPO = Path(__file__).resolve().parents[1]

# Apps built by tests run in the test environment, the one that may sign with the public default
# key (zoped.settings.require_real_secret); a test of the other environments says so.
os.environ.setdefault("ZOPED_ENVIRONMENT", "test")

# The moment the tests' demo schools are seeded and their app clocks start (zoped.clock): a fixed
# date, so that no test depends on the day it runs.
DEMO_NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


# `make pytest-later` runs the time-sensitive tests with the system date moved this many days
# ahead (time-machine moves every clock Python reads, and the moved clock keeps running): a test
# that only passes near the day it was written fails there.
SHIFT_DAYS = int(os.environ.get("ZOPED_TEST_SHIFT_DAYS", "0"))
_travel: time_machine.travel | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _travel
    if SHIFT_DAYS:
        _travel = time_machine.travel(datetime.now(UTC) + timedelta(days=SHIFT_DAYS), tick=True)
        _travel.start()


def pytest_unconfigure(config: pytest.Config) -> None:
    if _travel is not None:
        _travel.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    if SHIFT_DAYS:
        return f"system date moved {SHIFT_DAYS} days ahead: {datetime.now(UTC):%Y-%m-%d}"
    return None


def services_required() -> bool:
    return os.environ.get("ZOPED_REQUIRE_SERVICES") == "1"


def missing(reason: str) -> None:
    """Skip for a missing service or dataset, or fail when CI requires every service."""
    if services_required():
        pytest.fail(f"required by ZOPED_REQUIRE_SERVICES=1 but missing: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The public learner datasets (``ZOPED_DATA_DIR``, default ``../shared/data``)."""
    path = Path(os.environ.get("ZOPED_DATA_DIR", REPO.parent / "shared" / "data"))
    if not (path / "README.md").is_file():
        missing(f"the shared learner datasets are not at {path} (set ZOPED_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """A PostgreSQL server for the store tests (``TEST_POSTGRES_URL``)."""
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        missing("TEST_POSTGRES_URL is not set: no PostgreSQL server to test against")
    assert url is not None
    return url
