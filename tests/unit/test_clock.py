"""The one clock: a pinned clock starts where it is told and only moves forward."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from zoped.clock import PinnedClock, SystemClock
from zoped.web.deps import Now

START = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)


def test_a_pinned_clock_starts_at_its_moment_and_runs_on() -> None:
    clock = PinnedClock(START)
    first, second = clock.now(), clock.now()
    assert START <= first <= second < START + timedelta(minutes=1)
    clock.advance(timedelta(days=2))
    assert clock.now() >= START + timedelta(days=2)
    assert clock.now().tzinfo == UTC


def test_a_pinned_clock_needs_a_zone_and_never_goes_back() -> None:
    with pytest.raises(ValueError, match="timezone"):
        PinnedClock(datetime(2026, 1, 1))  # noqa: DTZ001 (naive on purpose)
    clock = PinnedClock(datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2))))
    assert clock.now().tzinfo == UTC
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))


def test_the_system_clock_is_aware() -> None:
    assert SystemClock().now().tzinfo == UTC


def test_a_request_reads_the_app_clock_once() -> None:
    reads: list[datetime] = []

    class CountingClock:
        def now(self) -> datetime:
            reads.append(START + timedelta(seconds=len(reads)))
            return reads[-1]

    app = FastAPI()
    app.state.clock = CountingClock()

    @app.get("/twice")
    def twice(first: Now, second: Now) -> dict[str, str]:
        return {"first": first.isoformat(), "second": second.isoformat()}

    body = TestClient(app).get("/twice").json()
    assert body["first"] == body["second"] == START.isoformat()
    assert len(reads) == 1
