"""The seeded demo school: nothing in it is dated after the moment it was seeded."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from tests.conftest import DEMO_NOW
from tests.services._school import fresh_demo_db
from zoped.domain.grading import grade
from zoped.services.demo import _content_course
from zoped.services.demo_history import Archetype, simulate_history
from zoped.store.tables import metadata
from zoped.store.types import UtcDateTime

# Columns that hold a moment still to come, by their meaning.
FUTURE_BY_DESIGN = {"expires_at", "due_at"}


def test_no_seeded_row_is_dated_after_the_seeding_time(tmp_path) -> None:
    database = fresh_demo_db(tmp_path)
    checked = 0
    with database.session() as session:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, UtcDateTime) or column.name in FUTURE_BY_DESIGN:
                    continue
                latest = session.scalar(select(func.max(column)))
                if latest is not None:
                    checked += 1
                    assert latest <= DEMO_NOW, f"{table.name}.{column.name} is dated {latest}"
    database.dispose()
    assert checked >= 5, "the seeded school has too few dated rows to judge"


def test_demo_answers_carry_the_answer_given_and_it_agrees_with_the_verdict() -> None:
    course = _content_course("demo_course.yaml")
    events = [
        e
        for archetype in Archetype
        for e in simulate_history(course, "x", archetype, rng=random.Random(7), now=DEMO_NOW)
    ]
    given = [e for e in events if "response" in e.payload]
    assert len(given) > 0.9 * len(events), "almost every demo answer says what was answered"
    assert {e.correct for e in given} == {True, False}
    for event in given:
        assert event.item_id is not None
        item = course.item(event.item_id)
        assert grade(item, event.payload["response"]).correct is event.correct, event
