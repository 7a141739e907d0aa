"""A learner's progress history stays a chart's worth of points, however long they learn."""

from __future__ import annotations

from datetime import date, timedelta

from zoped.engine.fold import DAILY_DAYS, ProgressPoint, add_progress_point


def test_old_days_thin_to_weeks_then_months_and_the_latest_days_stay_daily() -> None:
    history: list[ProgressPoint] = []
    first = date(2023, 1, 2)
    days = [first + timedelta(days=k) for k in range(3 * 365)]
    for n, day in enumerate(days):
        add_progress_point(history, ProgressPoint(day, n, n // 2))
    latest = days[-1]
    assert history[-1] == ProgressPoint(latest, len(days) - 1, (len(days) - 1) // 2)
    recent = [p.day for p in history if (latest - p.day).days <= DAILY_DAYS]
    assert recent == days[-(DAILY_DAYS + 1) :]
    assert len(history) < DAILY_DAYS + 2 * 53 + 13
    # Each kept old point is the last of its week: counts never go back to an earlier day's.
    assert [p.proficient for p in history] == sorted(p.proficient for p in history)
    weekly = [p for p in history if DAILY_DAYS < (latest - p.day).days <= 730]
    assert all(p.day.isoweekday() == 7 for p in weekly[1:-1])


def test_a_day_read_again_replaces_its_point() -> None:
    history = [ProgressPoint(date(2026, 1, 5), 1, 0)]
    add_progress_point(history, ProgressPoint(date(2026, 1, 5), 2, 1))
    assert history == [ProgressPoint(date(2026, 1, 5), 2, 1)]
