"""The class trend: learners' stored progress histories added up per week, no replay."""

from __future__ import annotations

from datetime import date

from zoped.engine.class_trend import ClassTrendPoint, weekly_class_trend
from zoped.engine.fold import ProgressPoint


def test_weeks_carry_each_learners_latest_point_forward() -> None:
    amara = [ProgressPoint(date(2026, 3, 3), 1, 0), ProgressPoint(date(2026, 3, 18), 3, 1)]
    ben = [ProgressPoint(date(2026, 3, 10), 2, 2)]
    # Wednesday 18 March: weeks end on Sundays 8 and 15 March, then today.
    trend = weekly_class_trend([amara, ben], today=date(2026, 3, 18))
    assert trend == [
        ClassTrendPoint(date(2026, 3, 8), 1, 0, 1, 0),
        ClassTrendPoint(date(2026, 3, 15), 3, 2, 2, 1),
        ClassTrendPoint(date(2026, 3, 18), 5, 3, 2, 2),
    ]


def test_the_trend_goes_back_at_most_the_weeks_asked() -> None:
    old = [ProgressPoint(date(2025, 1, 5), 4, 4)]
    trend = weekly_class_trend([old], today=date(2026, 3, 18), weeks=3)
    assert [p.day for p in trend] == [date(2026, 3, 8), date(2026, 3, 15), date(2026, 3, 18)]
    assert all(p.proficient == 4 for p in trend)


def test_a_class_with_no_history_has_one_empty_point() -> None:
    assert weekly_class_trend([[], []], today=date(2026, 3, 18)) == [
        ClassTrendPoint(date(2026, 3, 18), 0, 0, 0, 0)
    ]
