"""One learner's page for their teacher (the drill-down: timeline, state, overrides,
assignments) and for a guardian (roadmap and recent progress).

Each checks and audits the access before it reads anything of the learner's; the state comes
from :func:`zoped.services.pathways.learner_state`, as on the learner's own pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from zoped.domain.course import CourseInfo
from zoped.domain.evidence import ANSWER_KINDS, EvidenceEvent
from zoped.domain.people import User
from zoped.engine.learner_view import LearnerState
from zoped.services.assignments import AssignmentProgress, progress_for_learner
from zoped.services.courses import courses_of_learner, get_course
from zoped.services.evidence import list_evidence
from zoped.services.overrides import OverrideSummary, list_overrides
from zoped.services.pathways import learner_state
from zoped.services.policy import (
    Action,
    require_learner_access,
    visible_class_ids,
    visible_learner_ids,
)
from zoped.services.rubrics import ProjectRubric, list_rubrics
from zoped.store.evidence_log import event_counts, latest_events
from zoped.store.repositories import PeopleRepository


@dataclass(frozen=True)
class ActivityChoice:
    """An activity a teacher can assign."""

    id: str
    title: str
    competency_ids: tuple[str, ...]


@dataclass(frozen=True)
class LearnerDrilldown:
    """What the teacher's page on one learner shows (besides the plan and the shared log)."""

    learner: User
    state: LearnerState
    timeline: tuple[EvidenceEvent, ...]
    n_events: int
    overrides: tuple[OverrideSummary, ...]
    assignments: tuple[AssignmentProgress, ...]
    rubrics: tuple[ProjectRubric, ...]
    activities: tuple[ActivityChoice, ...]
    class_ids: tuple[str, ...]
    titles: Mapping[str, str]
    names: Mapping[str, str]
    courses: tuple[CourseInfo, ...] = ()


def learner_drilldown(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    now: datetime,
    timeline_limit: int = 60,
    course_id: str | None = None,
) -> LearnerDrilldown:
    """A learner's timeline of evidence, state on one of their courses (``course_id``, or the
    first of their classes'), overrides and assignments, for their teacher.

    Raises:
        NotFound: the learner is outside the actor's reach (checked before anything is read),
            or follows no course (or not ``course_id``).
        PermissionDenied: the actor may not read the learner's data.
    """
    at = now
    learner = require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.READ, now=at
    )
    state = learner_state(session, actor=actor, learner_id=learner_id, now=at, course_id=course_id)
    course = get_course(session, course_id=state.course_id)
    until = at + timedelta(microseconds=1)
    timeline = latest_events(session, learner_id, until=until, limit=timeline_limit)
    n_events = event_counts(session, [learner_id])[learner_id]
    levels = {c.competency_id: c.level for c in state.competencies}
    overrides = list_overrides(session, learner_id=learner_id)
    repo = PeopleRepository(session)
    names = {o.actor_id: repo.get_user(o.actor_id).display_name for o in overrides}
    class_ids = tuple(
        cid
        for cid in visible_class_ids(session, actor=actor)
        if learner_id in repo.learners_in_class(cid)
    )
    return LearnerDrilldown(
        learner=learner,
        state=state,
        timeline=tuple(reversed(timeline)),
        n_events=n_events,
        overrides=tuple(reversed(overrides)),
        assignments=tuple(
            progress_for_learner(session, learner_id=learner_id, now=at, levels=levels)
        ),
        rubrics=tuple(list_rubrics(session, learner_id=learner_id)),
        activities=tuple(
            ActivityChoice(a.id, a.title, tuple(a.competencies)) for a in course.activities
        ),
        class_ids=class_ids,
        titles={c.id: c.title for c in course.framework},
        names=names,
        courses=tuple(courses_of_learner(session, learner_id=learner_id)),
    )


@dataclass(frozen=True)
class Child:
    """A learner a guardian is linked to."""

    id: str
    name: str


def guardian_children(session: Session, *, actor: User) -> list[Child]:
    """The learners the actor may see (for a guardian: their linked children), by name."""
    repo = PeopleRepository(session)
    children = [
        Child(lid, repo.get_user(lid).display_name)
        for lid in visible_learner_ids(session, actor=actor)
    ]
    return sorted(children, key=lambda c: (c.name, c.id))


@dataclass(frozen=True)
class RecentProgress:
    """What changed for a learner over the last days, in counts."""

    days: int
    answers: int
    right: int
    proficient_then: int
    proficient_now: int
    mastered_then: int
    mastered_now: int


def recent_progress(
    state: LearnerState, events: Sequence[EvidenceEvent], *, now: datetime, days: int = 7
) -> RecentProgress:
    """Answers in the last ``days`` and how the counts of proficient and mastered moved."""
    start = now - timedelta(days=days)
    recent = [e for e in events if e.kind in ANSWER_KINDS and start <= e.occurred_at <= now]
    before = [p for p in state.history if p.day <= start.date()]
    then = before[-1] if before else None
    last = state.history[-1] if state.history else None
    return RecentProgress(
        days=days,
        answers=len(recent),
        right=sum(1 for e in recent if e.correct),
        proficient_then=then.proficient if then else 0,
        proficient_now=last.proficient if last else 0,
        mastered_then=then.mastered if then else 0,
        mastered_now=last.mastered if last else 0,
    )


@dataclass(frozen=True)
class CourseProgress:
    """A child's roadmap and recent progress on one course."""

    state: LearnerState
    progress: RecentProgress


@dataclass(frozen=True)
class ChildView:
    """A guardian's view of one child: the roadmap and recent progress on each course of the
    child's classes (goals and comments come from the plan).

    Attributes:
        learner: the child.
        courses: one per course, in the order of the child's classes (empty: no course yet).
    """

    learner: User
    courses: tuple[CourseProgress, ...]


def child_view(session: Session, *, actor: User, learner_id: str, now: datetime) -> ChildView:
    """The child's roadmap and recent progress on each of their courses, for a linked guardian
    (or anyone in reach).

    Raises:
        NotFound: the learner is not the actor's child (nor otherwise in reach).
    """
    at = now
    learner = require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.READ, now=at
    )
    events = list_evidence(
        session,
        learner_id=learner_id,
        since=at - timedelta(days=8),
        until=at + timedelta(seconds=1),
        kinds=ANSWER_KINDS,
    )
    found = []
    for info in courses_of_learner(session, learner_id=learner_id):
        state = learner_state(
            session, actor=actor, learner_id=learner_id, now=at, course_id=info.key
        )
        own = [e for e in events if _on_course(e, state)]
        found.append(CourseProgress(state, recent_progress(state, own, now=at)))
    return ChildView(learner, tuple(found))


def _on_course(event: EvidenceEvent, state: LearnerState) -> bool:
    """Whether an event names a competency of the course of ``state``."""
    ids = {c.competency_id for c in state.competencies}
    return any(cid in ids for cid in event.competency_ids)
