"""The class page's trend (from the learners' stored progress histories) and its reviews
summary (once for the class, not a badge on every learner)."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.conftest import DEMO_NOW
from tests.services._school import fresh_demo_db, user
from zoped.engine.class_alerts import AlertKind, ClassReviews, CompetencyView, summarise_reviews
from zoped.engine.class_trend import weekly_class_trend
from zoped.engine.mastery import MasteryLevel as L
from zoped.services.classes import class_dashboard
from zoped.services.pathways import learner_states
from zoped.store.repositories import PeopleRepository

NOW = DEMO_NOW


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    database = fresh_demo_db(tmp_path_factory.mktemp("class_trend"))
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def dashboard(school):
    with school.session() as session:
        return class_dashboard(session, actor=user(school, "rivera"), class_id="class-5a", now=NOW)


def test_trend_adds_up_the_learners_stored_histories_by_week(school, dashboard):
    rivera = user(school, "rivera")
    with school.session() as session:
        ids = PeopleRepository(session).learners_in_class("class-5a")
        states = learner_states(
            session, actor=rivera, learner_ids=ids, now=NOW, course_id=dashboard.course_id
        )
    expected = weekly_class_trend([states[i].history for i in ids], today=NOW.date())
    assert list(dashboard.trend) == expected
    assert len(dashboard.trend) > 2, "the demo school has weeks of history"
    assert dashboard.trend[-1].day == NOW.date()
    assert all(p.day.weekday() == 6 for p in dashboard.trend[:-1]), "weeks end on Sundays"
    first, last = dashboard.trend[0], dashboard.trend[-1]
    assert last.proficient > first.proficient
    assert 0 < last.mastered <= last.proficient <= dashboard.trend_total
    assert dashboard.trend_total == sum(len(states[i].competencies) for i in ids)


def test_the_last_week_matches_the_heatmap(dashboard):
    cells = [cell for row in dashboard.rows for cell in row.cells]
    assert len(dashboard.columns) == len(dashboard.all_columns)
    # Mastered counts those due for review too, as every page counts them.
    mastered = sum(1 for c in cells if c.level in (L.MASTERED, L.REVIEW_DUE))
    proficient = sum(1 for c in cells if c.level >= L.PROFICIENT)
    assert (dashboard.trend[-1].mastered, dashboard.trend[-1].proficient) == (
        mastered,
        proficient,
    )


def test_reviews_are_summarised_once_and_put_no_badge_on_rows(dashboard):
    cells = [cell for row in dashboard.rows for cell in row.cells]
    due = Counter(c.competency_id for c in cells if c.level is L.REVIEW_DUE)
    assert dashboard.reviews.n_reviews == sum(due.values()) > 0
    assert dashboard.reviews.n_learners == sum(
        1 for row in dashboard.rows if any(c.level is L.REVIEW_DUE for c in row.cells)
    )
    assert dashboard.reviews.most_due[0][1] == max(due.values())
    others = Counter(a.learner_id for a in dashboard.alerts if a.kind is not AlertKind.REVIEWS)
    assert any(a.kind is AlertKind.REVIEWS for a in dashboard.alerts), "detail is kept"
    for row in dashboard.rows:
        assert row.n_alerts == others[row.learner_id]


def test_summarise_reviews_ranks_by_learners_then_title():
    due, ok = CompetencyView(level=L.REVIEW_DUE), CompetencyView(level=L.MASTERED)
    states = {
        "ana": {"a": due, "b": due, "c": ok},
        "ben": {"b": due, "c": due},
        "cy": {"a": ok},
    }
    titles = {"a": "Zebra", "b": "Beta", "c": "Alpha"}
    assert summarise_reviews(states, titles, top=2) == ClassReviews(
        n_reviews=4, n_learners=2, most_due=(("b", 2), ("c", 1))
    )
    assert summarise_reviews({}, titles) == ClassReviews()
