"""A learner's pathway, as the services serve it: load what the fold needs, check who asks.

:func:`learner_state` is the one answer to "where is this learner?" for every role: it checks
and audits the access, loads the course, its fitted models (:mod:`zoped.services.models`), the
learner's evidence and finished placement checks, and folds them
(:func:`zoped.engine.fold.compute_states`). The "what next" menu built on this state lives in
:mod:`zoped.services.menus`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceEvent
from zoped.domain.people import User
from zoped.engine.fold import LearnerState, Placement, compute_states
from zoped.errors import NotFound
from zoped.services import transaction
from zoped.services.courses import get_course, list_course_ids
from zoped.services.models import PlatformModels, platform_models
from zoped.services.policy import Action, require_learner_access
from zoped.store.learning_repositories import PlacementRepository
from zoped.store.repositories import list_events_for_learners


def default_course_id(session: Session) -> str:
    """The course a learner's pages show: the first stored course.

    Raises:
        NotFound: when no course is stored.
    """
    ids = list_course_ids(session)
    if not ids:
        raise NotFound("no course is stored yet")
    return ids[0]


@dataclass(frozen=True)
class ReplayInputs:
    """What a replay needs from the store, for one or several learners."""

    course: Course
    models: PlatformModels
    events: dict[str, list[EvidenceEvent]]
    placements: dict[str, list[Placement]]


def load_replay_inputs(
    session: Session, learner_ids: Sequence[str], course_id: str | None, now: datetime
) -> ReplayInputs:
    """The course and its models once, and the learners' events and placements in one query
    each (events up to ``now`` included)."""
    course = get_course(session, course_id=course_id or default_course_id(session))
    models = platform_models(session, course=course)
    events = list_events_for_learners(session, learner_ids, until=now + timedelta(microseconds=1))
    placements = PlacementRepository(session).finished_for_learners(learner_ids, course.id)
    return ReplayInputs(course, models, events, placements)


@dataclass(frozen=True)
class LearnersReplay:
    """Several learners' states and the events they were replayed from (oldest first)."""

    states: dict[str, LearnerState]
    events: dict[str, list[EvidenceEvent]]


def replay_learners(
    session: Session,
    *,
    actor: User,
    learner_ids: Sequence[str],
    now: datetime,
    course_id: str | None = None,
) -> LearnersReplay:
    """Several learners' states on a course (a class page), replayed together from their
    evidence, with that evidence (events up to ``now`` included).

    Each learner is checked and audited as by :func:`learner_state` (one ``read`` entry per
    learner), before anything of theirs is read. Duplicate ids are read once.

    Raises:
        NotFound: a learner is out of the actor's reach, or no such course.
        PermissionDenied: the actor may not read a learner's data.
    """
    ids = list(dict.fromkeys(learner_ids))
    with transaction(session):
        for learner_id in ids:
            require_learner_access(
                session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
            )
        loaded = load_replay_inputs(session, ids, course_id, now)
    states, _ = compute_states(
        loaded.course, loaded.models, loaded.events, now=now, placements=loaded.placements
    )
    return LearnersReplay(states, loaded.events)


def learner_states(
    session: Session,
    *,
    actor: User,
    learner_ids: Sequence[str],
    now: datetime,
    course_id: str | None = None,
) -> dict[str, LearnerState]:
    """Several learners' states on a course: learner id -> state, in the order of
    ``learner_ids`` (see :func:`replay_learners`).

    Raises:
        NotFound: a learner is out of the actor's reach, or no such course.
        PermissionDenied: the actor may not read a learner's data.
    """
    return replay_learners(
        session, actor=actor, learner_ids=learner_ids, now=now, course_id=course_id
    ).states


def learner_state(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    now: datetime,
    course_id: str | None = None,
) -> LearnerState:
    """The learner's state on a course, replayed from their evidence: :func:`learner_states`
    of one.

    Args:
        session: the session; the access is audited and committed.
        actor: who asks (the learner, a linked guardian, their teacher, an admin).
        learner_id: whose state.
        now: the time the state is computed for (recall fades with it).
        course_id: the course (default: the first stored course).

    Raises:
        NotFound: the learner is out of the actor's reach, or no such course.
        PermissionDenied: the actor may not read this learner's data.
    """
    states = learner_states(
        session, actor=actor, learner_ids=[learner_id], now=now, course_id=course_id
    )
    return states[learner_id]
