"""A teacher assigns an activity or an item to a learner or a small group.

Assignments follow retention, not one success: an assignment stays open for a learner until
every competency it practises is mastered **and not review due**. When the memory model later
says a competency is due for review, the assignment opens again, so an exercise a learner has
since forgotten does not vanish from their list.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from zoped.domain.people import Role, User
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import transaction
from zoped.services.courses import get_course, list_course_ids
from zoped.services.policy import Action, require_class_access, require_learner_access
from zoped.store.learning_repositories import AssignmentRepository
from zoped.store.repositories import PeopleRepository, append_audit


class AssignmentStatus(StrEnum):
    """Where an assignment stands for one learner."""

    OPEN = "open"
    DONE = "done"


@dataclass(frozen=True)
class Assignment:
    """An activity or item assigned to one learner or a group of a class."""

    id: uuid.UUID
    assigned_by: str
    assigned_at: datetime
    learner_ids: tuple[str, ...]
    title: str
    competency_ids: tuple[str, ...]
    activity_id: str | None = None
    item_id: str | None = None
    class_id: str | None = None
    due_at: datetime | None = None
    note: str = ""


@dataclass(frozen=True)
class AssignmentProgress:
    """One assignment's status for one learner, with the levels that decide it."""

    assignment: Assignment
    status: AssignmentStatus
    levels: tuple[tuple[str, MasteryLevel], ...]

    @property
    def reason(self) -> str:
        """Why it is open or done, in plain words."""
        if self.status is AssignmentStatus.DONE:
            return "done: every competency it practises is mastered"
        pending = [f"{cid} is {level.label}" for cid, level in self.levels]
        return "open until mastered and remembered: " + ", ".join(pending)


def assignment_status(
    competency_ids: Sequence[str], levels: Mapping[str, MasteryLevel]
) -> AssignmentStatus:
    """Done only when every competency is mastered now; review due (forgotten) reopens it."""
    done = bool(competency_ids) and all(
        levels.get(cid, MasteryLevel.NOT_STARTED) == MasteryLevel.MASTERED for cid in competency_ids
    )
    return AssignmentStatus.DONE if done else AssignmentStatus.OPEN


ContentIndex = dict[tuple[str, str], tuple[str, tuple[str, ...], str]]


def _content_index(session: Session, course_ids: Sequence[str]) -> ContentIndex:
    """("activity" | "item", id) -> (title, competencies, course key), over the courses (the
    content ids of one school's courses do not overlap)."""
    index: ContentIndex = {}
    for course_id in course_ids:
        course = get_course(session, course_id=course_id)
        for activity in course.activities:
            index["activity", activity.id] = (
                activity.title,
                tuple(activity.competencies),
                course.id,
            )
        for item in course.items:
            index["item", item.id] = (f"Question {item.id}", tuple(item.competencies), course.id)
    return index


def _target(
    index: ContentIndex, activity_id: str | None, item_id: str | None
) -> tuple[str, tuple[str, ...], str]:
    """The title, competencies and course of the assigned activity or item. Raises: NotFound."""
    key = ("activity", activity_id) if activity_id is not None else ("item", item_id or "")
    if key not in index:
        raise NotFound(f"no {key[0]} {key[1]!r}")
    return index[key]


def assign(
    session: Session,
    *,
    actor: User,
    learner_ids: Sequence[str],
    activity_id: str | None = None,
    item_id: str | None = None,
    class_id: str | None = None,
    due_at: datetime | None = None,
    note: str = "",
    now: datetime,
) -> Assignment:
    """Assign an activity or an item to one learner, or to a small group of a class.

    Raises:
        NotFound: a learner is outside the actor's reach, or no such activity or item.
        PermissionDenied: the actor is not a teacher.
        InvalidInput: no learner, both or neither of activity and item, a group without its
            class (nothing is written).
    """
    if actor.role not in (Role.TEACHER, Role.ADMIN):
        raise PermissionDenied("only teachers assign work")
    learners = tuple(dict.fromkeys(learner_ids))
    problems: list[Problem] = []
    if not learners:
        problems.append(Problem("learner_ids", "choose at least one learner"))
    if (activity_id is None) == (item_id is None):
        problems.append(Problem("activity_id", "assign exactly one activity or one item"))
    if len(learners) > 1 and class_id is None:
        problems.append(Problem("class_id", "a group assignment names its class"))
    if problems:
        raise InvalidInput("invalid assignment", problems)
    for learner_id in learners:
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
    if class_id is not None:
        # The class must be one the actor teaches (or runs), and the learners in it.
        require_class_access(session, actor=actor, class_id=class_id, action=Action.WRITE, now=now)
        enrolled = set(PeopleRepository(session).learners_in_class(class_id))
        outside = [lid for lid in learners if lid not in enrolled]
        if outside:
            raise InvalidInput(
                "invalid assignment",
                [Problem("learner_ids", f"{outside[0]!r} is not in class {class_id!r}")],
            )
    index = _content_index(session, list_course_ids(session, school_id=actor.school_id))
    title, competency_ids, course_id = _target(index, activity_id, item_id)
    at = now
    made = Assignment(
        id=uuid.uuid4(),
        assigned_by=actor.id,
        assigned_at=at,
        learner_ids=learners,
        title=title,
        competency_ids=competency_ids,
        activity_id=activity_id,
        item_id=item_id,
        class_id=class_id,
        due_at=due_at,
        note=note.strip(),
    )
    with transaction(session):
        AssignmentRepository(session).add(
            made.id,
            assigned_by=actor.id,
            learner_ids=learners,
            course_id=course_id,
            activity_id=activity_id,
            item_id=item_id,
            class_id=class_id,
            assigned_at=at,
            due_at=due_at,
            note=made.note,
        )
        append_audit(
            session,
            at=at,
            actor_id=actor.id,
            action="assignment.create",
            subject_type="assignment",
            subject_id=str(made.id),
            details={"learners": list(learners), "activity_id": activity_id, "item_id": item_id},
        )
    return made


def assignments_for_learner(session: Session, *, learner_id: str) -> list[Assignment]:
    """Assignments naming a learner, alone or in a group, newest first.

    Callers check access first.
    """
    out: list[Assignment] = []
    rows = AssignmentRepository(session).for_learner(learner_id)
    index = _content_index(session, sorted({row["course_id"] for row in rows}))
    for row in rows:
        try:
            title, competency_ids, _ = _target(index, row["activity_id"], row["item_id"])
        except NotFound:
            continue  # the content was removed by a re-import
        out.append(
            Assignment(
                id=row["id"],
                assigned_by=row["assigned_by"],
                assigned_at=row["assigned_at"],
                learner_ids=row["learner_ids"],
                title=title,
                competency_ids=competency_ids,
                activity_id=row["activity_id"],
                item_id=row["item_id"],
                class_id=row["class_id"],
                due_at=row["due_at"],
                note=row["note"] or "",
            )
        )
    return out


def progress_for_learner(
    session: Session, *, learner_id: str, levels: Mapping[str, MasteryLevel]
) -> list[AssignmentProgress]:
    """Each of a learner's assignments with its status under the learner's current levels."""
    return [
        AssignmentProgress(
            assignment=a,
            status=assignment_status(a.competency_ids, levels),
            levels=tuple(
                (cid, levels.get(cid, MasteryLevel.NOT_STARTED)) for cid in a.competency_ids
            ),
        )
        for a in assignments_for_learner(session, learner_id=learner_id)
    ]
