"""Mappers for records without a service yet (plans, comments, log), and versioned JSON."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain import LearningPlan, LogEntry, PlanComment, PlanGoal
from zoped.errors import Conflict
from zoped.store import jsondocs, mappers
from zoped.store.tables import learning_plans, log_entries, plan_comments


def test_plan_comment_and_log_entry_round_trip(roster: Session) -> None:
    plan = LearningPlan(
        id="plan-1",
        learner_id="learner-1",
        goals=(
            PlanGoal("g1", "Add fractions", ("frac.add",), date(2026, 12, 1)),
            PlanGoal("g2", "Enjoy maths", achieved=True),
        ),
        strategies=("15 minutes a day",),
        resources=("act.strips",),
        mastery_evidence="A recipe project.",
        version=3,
        updated_at=f.T0,
        updated_by="teacher-1",
    )
    comment = PlanComment("c1", "plan-1", "teacher-1", "Nice goals.", f.T0, plan_version=3)
    entry = LogEntry(
        "log-1",
        "learner-1",
        "Halves were easy.",
        f.T0 + timedelta(hours=1),
        competency_ids=("frac.unit",),
        activity_id="act.strips",
        shared=True,
    )
    roster.execute(learning_plans.insert(), [mappers.plan_row(plan)])
    roster.execute(plan_comments.insert(), [mappers.comment_row(comment)])
    roster.execute(log_entries.insert(), [mappers.log_entry_row(entry)])
    roster.commit()
    roster.expunge_all()
    row = roster.execute(select(learning_plans)).mappings().one()
    assert mappers.plan_from_row(row) == plan
    row = roster.execute(select(plan_comments)).mappings().one()
    assert mappers.comment_from_row(row) == comment
    row = roster.execute(select(log_entries)).mappings().one()
    assert mappers.log_entry_from_row(row) == entry


def test_every_json_document_carries_its_schema_version() -> None:
    row = mappers.item_row(f.course().items[0], course_id="c", position=0)
    assert row["content"][jsondocs.VERSION_KEY] == jsondocs.CURRENT["item"]
    event = mappers.event_row(f.event())
    assert event["payload"][jsondocs.VERSION_KEY] == 1
    assert event["competency_ids"] == {"_v": 1, "ids": ["frac.unit"]}


def test_old_documents_are_upgraded_step_by_step(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(jsondocs.CURRENT, "id_list", 3)
    monkeypatch.setitem(
        jsondocs.UPGRADERS,
        "id_list",
        {
            1: lambda d: {"ids": d["ids"], "renamed": True},
            2: lambda d: {"ids": [i.upper() for i in d["ids"]], "renamed": d["renamed"]},
        },
    )
    assert jsondocs.load("id_list", {"_v": 1, "ids": ["a"]}) == {"ids": ["A"], "renamed": True}
    assert jsondocs.load("id_list", {"_v": 3, "ids": ["b"]}) == {"ids": ["b"]}


def test_a_document_from_a_newer_zoped_is_refused() -> None:
    with pytest.raises(Conflict, match="newer"):
        jsondocs.load("item", {"_v": 99, "stem": "?"})
