"""The class dashboard: alerts carry their evidence and are never raised on false grounds."""

from __future__ import annotations

import dataclasses
import math
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import DEMO_NOW
from tests.services._school import fresh_demo_db, user
from zoped.domain.evidence import EvidenceEvent, EvidenceKind
from zoped.engine.class_alerts import (
    AlertConfig,
    AlertKind,
    CompetencyView,
    OwnEvidence,
    find_alerts,
    next_competency,
)
from zoped.engine.mastery import MasteryLevel as L
from zoped.engine.trail import RECENT_ANSWERS
from zoped.errors import NotFound
from zoped.services.classes import DashboardFilters, class_dashboard, teacher_classes
from zoped.services.evidence import list_evidence

NOW = DEMO_NOW
TITLES = {"c": "Unit fractions", "d": "Order fractions"}
NEW_YORK = ZoneInfo("America/New_York")


def answers(
    pattern: str, *, competency: str = "c", start_days_ago: float = 3.0
) -> list[EvidenceEvent]:
    """Answer events, one per character of ``pattern`` (1 right, 0 wrong), ten minutes apart."""
    start = NOW - timedelta(days=start_days_ago)
    return [
        EvidenceEvent(
            id=uuid.uuid4(),
            learner_id="ana",
            kind=EvidenceKind.ANSWER,
            occurred_at=start + timedelta(minutes=10 * i),
            recorded_at=start + timedelta(minutes=10 * i),
            item_id="q1",
            competency_ids=(competency,),
            correct=mark == "1",
        )
        for i, mark in enumerate(pattern)
    ]


def alerts(events, state, **kw):
    """The alerts of a learner whose fold gathered ``events`` (answers go to the competency
    views' latest answers, as the fold keeps them)."""
    mine = [e for e in events if e.actor_id in (None, "ana")]
    own = OwnEvidence(len(mine), max((e.occurred_at for e in mine), default=None))
    views = {
        cid: dataclasses.replace(
            view,
            recent=tuple(
                (math.floor(e.occurred_at.timestamp()), bool(e.correct))
                for e in events
                if e.kind is EvidenceKind.ANSWER and cid in e.competency_ids
            )[-RECENT_ANSWERS:],
        )
        for cid, view in state.items()
    }
    return find_alerts(
        learner_id="ana", own=own, state=views, titles=TITLES, now=NOW, zone=UTC, **kw
    )


def of_kind(found, kind):
    return [a for a in found if a.kind == kind]


def test_stuck_alert_carries_its_evidence():
    found = of_kind(alerts(answers("0100010000"), {"c": CompetencyView(L.FAMILIAR, 0.4)}), "stuck")
    assert len(found) == 1
    alert = found[0]
    assert (alert.competency_id, alert.attempts, alert.right, alert.window) == ("c", 10, 1, 8)
    assert alert.since == NOW - timedelta(days=3)
    text = " ".join(alert.evidence)
    assert "10 answers on Unit fractions" in text
    assert "1 of the last 8 right" in text
    assert "level still familiar" in text


@pytest.mark.parametrize(
    ("pattern", "level", "why"),
    [
        ("1" * 20, L.ATTEMPTED, "answered everything right (even with a low level)"),
        ("1" * 20, L.MASTERED, "answered everything right"),
        ("0000011111", L.FAMILIAR, "the latest answers are mostly right: progress"),
        ("0000000000", L.PROFICIENT, "already proficient"),
        ("0000000", L.ATTEMPTED, "too few answers to judge"),
    ],
)
def test_no_stuck_alert_on_false_grounds(pattern, level, why):
    found = alerts(answers(pattern), {"c": CompetencyView(level, 0.3)})
    assert of_kind(found, AlertKind.STUCK) == [], why


def test_old_struggles_do_not_raise_stuck():
    events = answers("0" * 12, start_days_ago=40)
    found = alerts(events, {"c": CompetencyView(L.ATTEMPTED, 0.1)})
    assert of_kind(found, AlertKind.STUCK) == []


def test_inactive_alert_says_when_the_learner_was_last_seen():
    # Last seen on Friday 20 November at 17:10, judged on Monday 30 November at 17:00: ten
    # days of the calendar, though not quite ten times 24 hours.
    found = of_kind(alerts(answers("11", start_days_ago=10), {}), AlertKind.INACTIVE)
    assert len(found) == 1
    assert found[0].days == 10
    assert found[0].evidence[0] == "last evidence on Fri 20 Nov 2026 (10 days ago)"
    assert "2 pieces of evidence" in found[0].evidence[1]


def test_inactive_days_are_days_of_the_school_calendar():
    """Last seen at 23:30 on Monday 23 November in New York (04:30 UTC on Tuesday), judged at
    08:00 the next Monday there: 7 days of New York's calendar, 6 of UTC's."""
    own = OwnEvidence(3, datetime(2026, 11, 24, 4, 30, tzinfo=UTC))
    now = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    new_york = find_alerts(
        learner_id="ana", own=own, state={}, titles=TITLES, now=now, zone=NEW_YORK
    )
    assert [a.summary for a in new_york] == ["Inactive for 7 days"]
    assert new_york[0].evidence[0] == "last evidence on Mon 23 Nov 2026 (7 days ago)"
    assert find_alerts(learner_id="ana", own=own, state={}, titles=TITLES, now=now, zone=UTC) == []


def test_recent_learner_is_not_inactive_and_teacher_events_are_not_activity():
    assert of_kind(alerts(answers("1", start_days_ago=2), {}), AlertKind.INACTIVE) == []
    old = answers("1", start_days_ago=30)
    teacher = EvidenceEvent(
        id=uuid.uuid4(),
        learner_id="ana",
        kind=EvidenceKind.TEACHER_OVERRIDE,
        occurred_at=NOW - timedelta(hours=1),
        recorded_at=NOW - timedelta(hours=1),
        competency_ids=("c",),
        score=1.0,
        actor_id="rivera",
        note="shown in class",
    )
    found = of_kind(alerts([*old, teacher], {}), AlertKind.INACTIVE)
    assert [a.days for a in found] == [30]


def test_a_learner_with_no_evidence_has_not_started():
    found = of_kind(alerts([], {}), AlertKind.INACTIVE)
    assert [a.summary for a in found] == ["Has not started"]


def test_review_alert_only_when_long_overdue():
    events = answers("1111", start_days_ago=1)
    state = {
        "c": CompetencyView(L.REVIEW_DUE, 0.9, review_due_at=NOW - timedelta(days=10)),
        "d": CompetencyView(L.REVIEW_DUE, 0.9, review_due_at=NOW - timedelta(days=2)),
    }
    found = of_kind(alerts(events, state), AlertKind.REVIEWS)
    assert len(found) == 1
    assert found[0].competency_ids == ("c",)
    assert "Unit fractions: review due since" in found[0].evidence[0]
    mastered = {"c": CompetencyView(L.MASTERED, 0.99)}
    assert of_kind(alerts(events, mastered), AlertKind.REVIEWS) == []
    assert of_kind(alerts(events, state, config=AlertConfig(review_overdue_days=1)), "reviews")


def test_next_competency_is_the_first_unlocked_not_mastered():
    state = {
        "a": CompetencyView(L.MASTERED),
        "b": CompetencyView(L.REVIEW_DUE),
        "c": CompetencyView(L.FAMILIAR, unlocked=False),
        "d": CompetencyView(L.ATTEMPTED),
    }
    assert next_competency(["a", "b", "c", "d"], state) == "d"
    assert next_competency(["a", "b"], state) is None


# --- the dashboard over the demo school ---------------------------------------------------


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    database = fresh_demo_db(tmp_path_factory.mktemp("classes"))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def dashboard(school):
    with school.session() as session:
        return class_dashboard(session, actor=user(school, "rivera"), class_id="class-5a", now=NOW)


def test_teacher_sees_only_their_classes(school):
    with school.session() as session:
        mine = teacher_classes(session, actor=user(school, "okafor"))
        assert [c.id for c in mine] == ["class-6b", "class-7c"]
        with pytest.raises(NotFound):
            class_dashboard(session, actor=user(school, "okafor"), class_id="class-5a", now=NOW)
        with pytest.raises(NotFound):
            class_dashboard(session, actor=user(school, "amara"), class_id="class-5a", now=NOW)


def test_dashboard_heatmap_has_every_learner_and_competency(dashboard):
    assert len(dashboard.rows) == 20
    assert "Amara A." in [r.name for r in dashboard.rows]
    assert all(len(r.cells) == len(dashboard.columns) for r in dashboard.rows)
    assert len(dashboard.columns) > 30


def test_every_demo_alert_is_backed_by_the_log(school, dashboard):
    assert of_kind(dashboard.alerts, AlertKind.STUCK), "the demo class has someone stuck"
    assert of_kind(dashboard.alerts, AlertKind.INACTIVE), "the demo class has an inactive learner"
    with school.session() as session:
        for alert in of_kind(dashboard.alerts, AlertKind.STUCK):
            assert alert.evidence
            events = list_evidence(session, learner_id=alert.learner_id, until=NOW)
            on_it = [e for e in events if alert.competency_id in e.competency_ids]
            latest = on_it[-alert.window :]
            assert sum(bool(e.correct) for e in latest) == alert.right
            assert alert.right / alert.window <= 0.5
            assert not all(e.correct for e in on_it)


def test_groups_share_a_next_competency_and_tutors_have_mastered_it(dashboard):
    assert dashboard.groups
    for group in dashboard.groups:
        assert 2 <= len(group.learner_ids) <= 5
    levels = {r.learner_id: {c.competency_id: c.level for c in r.cells} for r in dashboard.rows}
    for match in dashboard.tutors:
        assert levels[match.tutor_id][match.competency] is L.MASTERED


def test_filters_narrow_the_heatmap(school):
    with school.session() as session:
        rivera = user(school, "rivera")
        by_strand = class_dashboard(
            session,
            actor=rivera,
            class_id="class-5a",
            now=NOW,
            filters=DashboardFilters(strand="ratio"),
        )
        assert by_strand.columns
        assert {c.strand_id for c in by_strand.columns} == {"ratio"}
        one = class_dashboard(
            session,
            actor=rivera,
            class_id="class-5a",
            now=NOW,
            filters=DashboardFilters(competency="found.unit-fractions", level=L.MASTERED),
        )
        assert [c.id for c in one.columns] == ["found.unit-fractions"]
        assert all(r.cells[0].level is L.MASTERED for r in one.rows)
