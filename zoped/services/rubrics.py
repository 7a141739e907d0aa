"""A teacher scores a learner's project against its rubric.

The domain's :func:`~zoped.domain.content.score` turns the chosen level of each criterion into a
score in [0, 1] per competency; each becomes one ``rubric_score`` event, so a project is evidence
for every competency its criteria name (never averaged into one number).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from zoped.domain.content import Rubric, score
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.people import Role, User
from zoped.errors import InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import transaction
from zoped.services.courses import courses_of_learner, get_course
from zoped.services.policy import Action, require_learner_access
from zoped.store.evidence_log import EvidenceRepository
from zoped.store.repositories import append_audit

#: The longest comment a teacher leaves with a project's scores, in characters.
MAX_COMMENT = 2_000


@dataclass(frozen=True)
class ProjectRubric:
    """A rubric with the project activity it scores (if one names it) and its course."""

    course_id: str
    rubric: Rubric
    activity_id: str | None
    activity_title: str | None


def list_rubrics(session: Session, *, learner_id: str) -> list[ProjectRubric]:
    """Every rubric of the courses of the learner's classes, with the project activity that
    uses it (callers check access to the learner)."""
    out: list[ProjectRubric] = []
    for course_id in [c.key for c in courses_of_learner(session, learner_id=learner_id)]:
        course = get_course(session, course_id=course_id)
        for rubric in course.rubrics:
            activity = next((a for a in course.activities if a.rubric_id == rubric.id), None)
            out.append(
                ProjectRubric(
                    course_id=course_id,
                    rubric=rubric,
                    activity_id=activity.id if activity else None,
                    activity_title=activity.title if activity else None,
                )
            )
    return out


def find_rubric(session: Session, rubric_id: str, *, learner_id: str) -> ProjectRubric:
    """The rubric with this id among the learner's courses. Raises: NotFound."""
    for found in list_rubrics(session, learner_id=learner_id):
        if found.rubric.id == rubric_id:
            return found
    raise NotFound(f"no rubric {rubric_id!r}")


def score_project(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    rubric_id: str,
    chosen_levels: Mapping[str, int | str],
    note: str = "",
    now: datetime,
) -> list[EvidenceEvent]:
    """Record a project's rubric scores as one ``rubric_score`` event per competency.

    Args:
        session: the session; this function commits or rolls back (all events or none).
        actor: the teacher scoring.
        learner_id: whose project.
        rubric_id: the rubric used.
        chosen_levels: criterion id -> chosen level (index from 0, or title); criteria left
            out are not scored.
        note: a comment for the learner.
        now: when.

    Returns:
        The recorded events, one per competency, in the rubric's order.

    Raises:
        NotFound: the learner is outside the actor's reach, or no such rubric.
        PermissionDenied: the actor is not a teacher.
        InvalidInput: nothing chosen, an unknown criterion or level, or a comment longer than
            :data:`MAX_COMMENT` (nothing is written).
    """
    if len(note.strip()) > MAX_COMMENT:
        message = f"The comment is {len(note.strip()):,} characters long: at most {MAX_COMMENT:,}."
        raise InvalidInput("the comment is too long", [Problem("note", message)])
    require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
    )
    if actor.role not in (Role.TEACHER, Role.ADMIN):
        raise PermissionDenied("only a learner's teachers score projects")
    found = find_rubric(session, rubric_id, learner_id=learner_id)
    scores = score(found.rubric, chosen_levels)
    at = now
    project = uuid.uuid4()
    events = [
        EvidenceEvent(
            id=uuid.uuid4(),
            learner_id=learner_id,
            kind=EvidenceKind.RUBRIC_SCORE,
            occurred_at=at,
            recorded_at=at,
            source=EvidenceSource.WEB,
            activity_id=found.activity_id,
            competency_ids=(competency_id,),
            score=value,
            actor_id=actor.id,
            note=note.strip(),
            payload={
                "rubric_id": rubric_id,
                "levels": dict(chosen_levels),
                "project": str(project),
            },
        )
        for competency_id, value in scores.items()
    ]
    repo = EvidenceRepository(session)
    with transaction(session):
        for event in events:
            repo.add(event)
        append_audit(
            session,
            at=at,
            actor_id=actor.id,
            action="rubric.score",
            subject_type="learner",
            subject_id=learner_id,
            details={"rubric_id": rubric_id, "competencies": sorted(scores)},
        )
    return events
