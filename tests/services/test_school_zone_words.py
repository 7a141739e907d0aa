"""The days named in the engine's sentences (the class alerts' evidence, the menu's reasons) are
days of the school's time zone: Monday evening in New York is Monday there, though it is
already Tuesday in UTC. Pinned clocks only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests.services.conftest import SCHOOL, SmallSchool
from zoped.domain.evidence import EvidenceEvent, EvidenceKind
from zoped.engine.class_alerts import AlertKind
from zoped.services import accounts, menus
from zoped.services.classes import class_dashboard
from zoped.services.evidence import record_evidence_batch
from zoped.services.today import class_today

# 21:00 on Monday 23 November 2026 in New York (EST, UTC-5) is 02:00 UTC on Tuesday the 24th.
MONDAY_EVENING_NY = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
# Noon on Thursday 26 November in New York: the clock every call below runs at.
NOW = datetime(2026, 11, 26, 17, 0, tzinfo=UTC)
EQUAL_PARTS = "found.equal-parts"
UNIT_FRACTIONS = "found.unit-fractions"


def _answers(
    competency: str, marks: str, *, first: datetime, step: timedelta = timedelta(minutes=1)
) -> list[EvidenceEvent]:
    """Amy's answers on ``competency``, one per mark (1 right, 0 wrong), ``step`` apart."""
    return [
        EvidenceEvent(
            id=uuid.uuid4(),
            learner_id="amy",
            kind=EvidenceKind.ANSWER,
            occurred_at=first + i * step,
            recorded_at=first + i * step,
            item_id=f"q.{competency}.00{1 + i % 5}",
            competency_ids=(competency,),
            correct=mark == "1",
        )
        for i, mark in enumerate(marks)
    ]


def _in_zone(school: SmallSchool, zone: str, events: list[EvidenceEvent]) -> None:
    with school.db.session() as s:
        accounts.set_school_time_zone(s, actor=None, school_id=SCHOOL, time_zone=zone, now=NOW)
        record_evidence_batch(s, events=events)


def _reasons(school: SmallSchool) -> str:
    with school.db.session() as s:
        menu = menus.recommend_for(s, actor=school.learner, learner_id="amy", k=50, seed=1, now=NOW)
    return "\n".join(o.reason for o in menu.options)


@pytest.mark.parametrize(
    ("zone", "day", "last"),
    [
        ("America/New_York", "Mon 23 Nov 2026", "Mon 23 Nov 2026"),
        ("UTC", "Tue 24 Nov 2026", "Tue 24 Nov 2026"),
    ],
)
def test_a_stuck_alert_names_the_days_of_the_school(
    school: SmallSchool, zone: str, day: str, last: str
) -> None:
    """Ten wrong answers from 21:00 on Monday in New York, ten minutes apart (the last at
    22:30 there, 03:30 UTC on Tuesday): the dashboard and "today" both say Monday."""
    events = _answers(EQUAL_PARTS, "0" * 10, first=MONDAY_EVENING_NY, step=timedelta(minutes=10))
    _in_zone(school, zone, events)
    expected = f"10 answers on Equal parts of a whole since {day}, the last on {last}"
    with school.db.session() as s:
        dashboard = class_dashboard(s, actor=school.teacher, class_id="c1", now=NOW)
        today = class_today(s, actor=school.teacher, class_id="c1", now=NOW)
    for alerts in (dashboard.alerts, today.stuck):
        stuck = [a for a in alerts if a.kind is AlertKind.STUCK and a.learner_id == "amy"]
        assert [a.evidence[0] for a in stuck] == [expected]
        assert stuck[0].since == MONDAY_EVENING_NY  # the instant itself stays UTC


@pytest.mark.parametrize(("zone", "day"), [("America/New_York", "Monday"), ("UTC", "Tuesday")])
def test_the_menu_names_the_day_a_prerequisite_was_reached_in_the_school_zone(
    school: SmallSchool, zone: str, day: str
) -> None:
    """Equal parts reached proficient at 21:00 on Monday in New York: the menu says Monday."""
    _in_zone(school, zone, _answers(EQUAL_PARTS, "111111", first=MONDAY_EVENING_NY))
    assert f"you reached proficient on Equal parts of a whole on {day}." in _reasons(school)


@pytest.mark.parametrize(
    ("zone", "day"), [("America/New_York", "23 November"), ("UTC", "24 November")]
)
def test_a_recheck_reason_names_the_day_of_the_school_zone(
    school: SmallSchool, zone: str, day: str
) -> None:
    """Equal parts proficient on Monday afternoon, then four misses on Unit fractions, the
    last at 21:00 on Monday in New York: the re-check's window ends on 23 November there."""
    afternoon = MONDAY_EVENING_NY - timedelta(hours=6)
    misses = _answers(UNIT_FRACTIONS, "0000", first=MONDAY_EVENING_NY - timedelta(minutes=3))
    _in_zone(school, zone, [*_answers(EQUAL_PARTS, "111111", first=afternoon), *misses])
    assert (
        f"Let's make sure of Equal parts of a whole first: of 4 answers on Unit fractions up "
        f"to {day}, you missed 4." in _reasons(school)
    )
