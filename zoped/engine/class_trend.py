"""A class's progress over time, from its learners' stored progress histories.

Each learner's fold keeps a progress history (:class:`zoped.engine.fold.ProgressPoint`: how many
competencies were at least proficient, and mastered, at the end of a day; thinned to weekly and
monthly points as they age). The class trend adds those up per week: at the end of each week,
each learner counts with their latest point on or before that day (zero before their first), so
the trend needs no replay. Pure: no database, no clock.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from zoped.engine.fold import ProgressPoint

#: How many weeks back the class trend goes at most (the current week included).
TREND_WEEKS = 12


@dataclass(frozen=True)
class ClassTrendPoint:
    """The class at the end of a week (or on ``day`` for the current week, so far).

    Attributes:
        day: the last day counted: a Sunday, or the day asked for in the current week.
        proficient: (learner, competency) pairs at least proficient, over the class.
        mastered: (learner, competency) pairs mastered, over the class.
        learners_proficient: learners with at least one competency at least proficient.
        learners_mastered: learners with at least one competency mastered.
    """

    day: date
    proficient: int
    mastered: int
    learners_proficient: int
    learners_mastered: int


def _latest_on(history: Sequence[ProgressPoint], days: list[date], day: date) -> ProgressPoint:
    """The learner's latest point on or before ``day`` (all zero before their first)."""
    k = bisect_right(days, day)
    return history[k - 1] if k else ProgressPoint(day, 0, 0)


def weekly_class_trend(
    histories: Sequence[Sequence[ProgressPoint]], *, today: date, weeks: int = TREND_WEEKS
) -> list[ClassTrendPoint]:
    """The class's progress at the end of each week, oldest first, the last one ``today``.

    Starts at the week of the earliest point of any learner, at most ``weeks`` weeks back.

    Args:
        histories: each learner's progress history, in day order.
        today: the last day counted (the current week ends there).
        weeks: at most this many points.

    Returns:
        One point per week; one point (today) for a class with no history.
    """
    this_sunday = today + timedelta(days=6 - today.weekday())
    first = min((h[0].day for h in histories if h), default=today)
    n_weeks = max(1, min(weeks, (this_sunday - first).days // 7 + 1))
    ends = [min(this_sunday - timedelta(weeks=n_weeks - 1 - k), today) for k in range(n_weeks)]
    keyed = [(list(h), [p.day for p in h]) for h in histories]
    out = []
    for end in ends:
        points = [_latest_on(h, days, end) for h, days in keyed]
        out.append(
            ClassTrendPoint(
                day=end,
                proficient=sum(p.proficient for p in points),
                mastered=sum(p.mastered for p in points),
                learners_proficient=sum(1 for p in points if p.proficient),
                learners_mastered=sum(1 for p in points if p.mastered),
            )
        )
    return out
