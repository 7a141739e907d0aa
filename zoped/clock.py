"""The one clock: where "now" comes from.

Nothing in zoped reads the system time except :class:`SystemClock`. The app holds a clock
(``create_app(settings, clock=...)``, kept as ``app.state.clock``); each request reads it once
(:func:`request_now`) and passes that instant to the services as ``now=``. The CLI builds a
:class:`SystemClock`. Tests pin time with a :class:`PinnedClock`, so no test depends on the date
it runs on.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from starlette.requests import Request


class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class PinnedClock:
    """A clock that starts at a chosen instant and then runs at real speed.

    It runs rather than stands still so that events recorded one after another through the app
    keep their order; a test may also jump it forward with :meth:`advance` (a sign-in lock
    running out, a review falling due).
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("a pinned clock needs a timezone-aware start")
        self._start = start.astimezone(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=time.monotonic() - self._started)

    def advance(self, delta: timedelta) -> None:
        """Move the clock forward by ``delta``."""
        if delta < timedelta(0):
            raise ValueError("a clock only moves forward")
        self._start += delta


def request_now(request: Request) -> datetime:
    """The instant of one request, read once from the app's clock and kept for the request.

    Every service a request calls gets this same instant, so one request never straddles two
    moments (a token valid at its start is valid at its end).
    """
    state = request.state
    if not hasattr(state, "now"):
        clock: Clock = request.app.state.clock
        state.now = clock.now()
    now: datetime = state.now
    return now
