"""The learning-record repositories: plans, log entries, decisions, placements, assignments;
and the one-query read of several learners' events. Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TypedDict

import pytest
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain.plans import LearningPlan, LogEntry, PlanComment, PlanGoal
from zoped.services.courses import import_course
from zoped.services.roster import create_class
from zoped.store import jsondocs
from zoped.store.evidence_log import EvidenceRepository, list_events_for_learners
from zoped.store.learning_repositories import (
    AssignmentRepository,
    DecisionRepository,
    LogEntryRepository,
    PlacementRepository,
    PlanRepository,
)


def test_a_plan_round_trips_and_refuses_a_stale_update(roster: Session) -> None:
    repo = PlanRepository(roster)
    goal = PlanGoal(id="g1", description="Unit fractions", competency_ids=("frac.unit",))
    plan = LearningPlan(
        id="plan-learner-1",
        learner_id="learner-1",
        goals=(goal,),
        version=1,
        updated_at=f.T0,
        updated_by="teacher-1",
    )
    assert repo.get_for_learner("learner-1") is None
    repo.add(plan)
    repo.add_version(plan, saved_at=f.T0, saved_by="teacher-1")
    assert repo.get_for_learner("learner-1") == plan
    assert repo.goal_competency_ids("learner-1") == {"frac.unit"}
    newer = LearningPlan(
        id=plan.id, learner_id="learner-1", version=2, updated_at=f.T0, updated_by="learner-1"
    )
    assert repo.update(newer, expected_version=1)
    assert not repo.update(newer, expected_version=1)
    repo.add_version(newer, saved_at=f.T0 + timedelta(hours=1), saved_by="learner-1")
    assert [v[0] for v in repo.versions(plan.id)] == [2, 1]
    comment = PlanComment(
        id=str(uuid.uuid4()),
        plan_id=plan.id,
        author_id="teacher-1",
        body="Good start",
        created_at=f.T0,
        plan_version=2,
    )
    repo.add_comment(comment)
    [(stored, name)] = repo.comments(plan.id)
    assert stored == comment
    assert name == "Teacher One"
    roster.commit()


def test_log_entries_are_listed_newest_first_and_shared_only_when_asked(roster: Session) -> None:
    repo = LogEntryRepository(roster)
    old = LogEntry(id="e1", learner_id="learner-1", body="first", created_at=f.T0)
    new = LogEntry(
        id="e2", learner_id="learner-1", body="second", created_at=f.T0 + timedelta(days=1)
    )
    repo.add(old)
    repo.add(new)
    assert repo.list_for_learner("learner-1") == [new, old]
    assert repo.list_for_learner("learner-1", shared_only=True) == []
    assert repo.set_shared("learner-1", "e1", True)
    assert not repo.set_shared("learner-2", "e1", True)
    assert [e.id for e in repo.list_for_learner("learner-1", shared_only=True)] == ["e1"]


def test_a_decision_is_logged_and_its_choice_recorded(roster: Session) -> None:
    repo = DecisionRepository(roster)
    decision_id = uuid.uuid4()
    repo.add(
        decision_id,
        learner_id="learner-1",
        decided_at=f.T0,
        policy="test",
        candidates={"course_id": "fractions", "chosen": ["a1"]},
    )
    assert repo.get(decision_id, "learner-1") == {"course_id": "fractions", "chosen": ["a1"]}
    assert repo.get(decision_id, "learner-2") is None
    repo.set_chosen(decision_id, "a1")
    roster.commit()


@pytest.fixture
def with_course(roster: Session) -> Session:
    import_course(roster, course=f.course(), school_id="school-1", now=f.T0)
    return roster


def test_placements_are_resumed_and_finished_ones_listed_oldest_first(
    with_course: Session,
) -> None:
    repo = PlacementRepository(with_course)
    ids = []
    for k in range(2):
        session_id = uuid.uuid4()
        ids.append(session_id)
        repo.add(
            {
                "id": session_id,
                "learner_id": "learner-1",
                "course_id": "fractions",
                "status": "active",
                "state": jsondocs.dump("placement_state", {"answers": []}),
                "started_at": f.T0 + timedelta(days=k),
                "updated_at": f.T0 + timedelta(days=k),
                "finished_at": None,
            }
        )
    latest = repo.latest("learner-1", "fractions")
    assert latest is not None
    assert latest["id"] == ids[1]
    result = {"levels": {"frac.unit": 3}, "p_known": {"frac.unit": 0.9}}
    for k in (1, 0):
        repo.save_state(
            ids[k],
            {"answers": [], "result": result},
            now=f.T0 + timedelta(days=5 - k),
            finished=True,
        )
    assert repo.latest("learner-1", "fractions") is None
    finished = repo.finished("learner-1", "fractions")
    assert [p[0] for p in finished] == [f.T0 + timedelta(days=4), f.T0 + timedelta(days=5)]
    assert finished[0][1:] == ({"frac.unit": 3}, {"frac.unit": 0.9})
    both = repo.finished_for_learners(["learner-1", "learner-2"], "fractions")
    assert both == {"learner-1": finished, "learner-2": []}


class _AssignmentFields(TypedDict):
    course_id: str
    item_id: str | None
    class_id: str | None
    due_at: datetime | None
    note: str


def test_assignments_name_one_learner_or_a_group(with_course: Session) -> None:
    create_class(with_course, school_class=f.school_class(), now=f.T0)
    repo = AssignmentRepository(with_course)
    alone, group = uuid.uuid4(), uuid.uuid4()
    common: _AssignmentFields = {
        "course_id": "fractions",
        "item_id": None,
        "class_id": "class-1",
        "due_at": None,
        "note": "",
    }
    repo.add(
        alone,
        assigned_by="teacher-1",
        learner_ids=("learner-1",),
        activity_id="act.strips",
        assigned_at=f.T0,
        **common,
    )
    repo.add(
        group,
        assigned_by="teacher-1",
        learner_ids=("learner-1", "learner-2"),
        activity_id="act.strips",
        assigned_at=f.T0 + timedelta(hours=1),
        **common,
    )
    assert [(r["id"], r["learner_ids"]) for r in repo.for_learner("learner-1")] == [
        (group, ("learner-1", "learner-2")),
        (alone, ("learner-1",)),
    ]
    assert [r["id"] for r in repo.for_learner("learner-2")] == [group]


def test_several_learners_events_come_in_one_read_as_one_by_one(roster: Session) -> None:
    repo = EvidenceRepository(roster)
    for k in range(3):
        for learner in ("learner-1", "learner-2"):
            repo.add(f.event(learner_id=learner, occurred_at=f.T0 + timedelta(minutes=10 - k)))
    until = f.T0 + timedelta(minutes=10)
    found = list_events_for_learners(roster, ["learner-1", "learner-2", "admin-1"], until=until)
    for learner in ("learner-1", "learner-2"):
        assert found[learner] == repo.list_for_learner(learner, until=until)
        assert len(found[learner]) == 2
    assert found["admin-1"] == []
    assert list_events_for_learners(roster, []) == {}
