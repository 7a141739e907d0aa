"""The JSON API of assignments: what the learner's home ("From your teacher") and the teacher's
class page show, for other clients.

- ``GET /api/v1/learners/{id}/assignments``: a learner's assignments with their status
  (``read:learners``; the learner, their teachers, a linked guardian, an admin).
- ``GET /api/v1/classes/{id}/assignments``: a class's assignments, each learner's status
  (``read:learners``; the class's teachers, an admin).
- ``POST /api/v1/assignments``: a teacher assigns an activity or an item to a learner or a small
  group of a class (``write:assignments``).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field

from zoped.api.deps import CurrentCaller, DbSession, Now
from zoped.api.routes import ERRORS, LearnerId
from zoped.domain.assignments import MAX_NOTE, Assignment
from zoped.services import assignments as assignment_services
from zoped.services.assignments import AssignmentProgress
from zoped.services.tokens import Scope

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["api"])

ClassId = Annotated[str, Path(min_length=1, max_length=64)]


class AssignmentPublic(BaseModel):
    """An activity or item assigned to one learner or a group of a class."""

    id: uuid.UUID
    title: str = Field(description="What it is, in words.")
    activity_id: str | None
    item_id: str | None
    class_id: str | None
    learner_ids: list[str]
    competency_ids: list[str]
    assigned_by: str
    assigned_at: datetime
    due_at: datetime | None = Field(description="The end of the due day, or none.")
    note: str


class ProgressPublic(BaseModel):
    """Where one assignment stands for one learner, from their evidence since it was made."""

    learner_id: str
    status: str = Field(description="not started, started, done or overdue")
    done_at: datetime | None
    answers: int
    right: int
    completed: bool


class LearnerAssignmentPublic(BaseModel):
    """One of a learner's assignments and where it stands for them."""

    assignment: AssignmentPublic
    progress: ProgressPublic


class ClassAssignmentPublic(BaseModel):
    """One of a class's assignments and where each of its learners stands."""

    assignment: AssignmentPublic
    learners: list[ProgressPublic]


class NewAssignment(BaseModel):
    """An assignment to make: exactly one of ``activity_id`` and ``item_id``."""

    learner_ids: list[Annotated[str, Field(max_length=64)]] = Field(max_length=500)
    activity_id: str | None = Field(None, max_length=64)
    item_id: str | None = Field(None, max_length=64)
    class_id: str | None = Field(
        None, max_length=64, description="The class of a group assignment."
    )
    due_at: datetime | None = Field(None, description="When it is due (with a time zone).")
    note: str = Field("", max_length=MAX_NOTE, description="Why this, for the learners.")


def _public(a: Assignment) -> AssignmentPublic:
    return AssignmentPublic(
        id=a.id,
        title=a.title,
        activity_id=a.activity_id,
        item_id=a.item_id,
        class_id=a.class_id,
        learner_ids=list(a.learner_ids),
        competency_ids=list(a.competency_ids),
        assigned_by=a.assigned_by,
        assigned_at=a.assigned_at,
        due_at=a.due_at,
        note=a.note,
    )


def _progress(p: AssignmentProgress) -> ProgressPublic:
    return ProgressPublic(
        learner_id=p.learner_id,
        status=str(p.status),
        done_at=p.done_at,
        answers=p.answers,
        right=p.right,
        completed=p.completed,
    )


@router.get("/learners/{learner_id}/assignments", response_model=list[LearnerAssignmentPublic])
def learner_assignments(
    learner_id: LearnerId, caller: CurrentCaller, session: DbSession, now: Now
) -> list[LearnerAssignmentPublic]:
    """A learner's assignments, overdue first, then by due date, done last."""
    caller.require(Scope.READ_LEARNERS)
    found = assignment_services.learner_assignments(
        session, actor=caller.user, learner_id=learner_id, now=now
    )
    return [
        LearnerAssignmentPublic(assignment=_public(p.assignment), progress=_progress(p))
        for p in found
    ]


@router.get("/classes/{class_id}/assignments", response_model=list[ClassAssignmentPublic])
def class_assignments(
    class_id: ClassId, caller: CurrentCaller, session: DbSession, now: Now
) -> list[ClassAssignmentPublic]:
    """A class's assignments, newest first, with each of its learners' status."""
    caller.require(Scope.READ_LEARNERS)
    found = assignment_services.class_assignments(
        session, actor=caller.user, class_id=class_id, now=now
    )
    return [
        ClassAssignmentPublic(
            assignment=_public(r.assignment), learners=[_progress(p) for p in r.learners]
        )
        for r in found
    ]


@router.post("/assignments", response_model=AssignmentPublic, status_code=201)
def make_assignment(
    body: NewAssignment, caller: CurrentCaller, session: DbSession, now: Now
) -> AssignmentPublic:
    """Assign an activity or an item (a teacher, to learners of their classes). Nothing is
    written when anything is wrong (a past due date, a learner out of reach…)."""
    caller.require(Scope.WRITE_ASSIGNMENTS)
    made = assignment_services.assign(
        session,
        actor=caller.user,
        learner_ids=body.learner_ids,
        activity_id=body.activity_id,
        item_id=body.item_id,
        class_id=body.class_id,
        due_at=body.due_at,
        note=body.note,
        now=now,
    )
    return _public(made)
