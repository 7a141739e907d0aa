"""Practice: the learner answers items, one at a time.

:func:`next_item` picks, for one competency, an item in the desirable-difficulty band
that the learner has not seen recently; :func:`submit_answer` grades with the domain's
:func:`~zoped.domain.grading.grade`, records an ``answer`` event idempotently (the event id comes
from the form, so a double submit is one event) and reports the mastery change. The placement
check is in :mod:`zoped.services.placement`.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoped.domain.content import Activity, Item
from zoped.domain.course import Course
from zoped.domain.evidence import ANSWER_KINDS, EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.grading import Response, grade
from zoped.domain.people import User
from zoped.engine.learner_view import LearnerState, compute_state, read_states
from zoped.engine.mastery import MasteryLevel
from zoped.engine.recommend import RecommenderConfig, item_success
from zoped.errors import Conflict, InvalidInput, NotFound, Problem
from zoped.services import transaction
from zoped.services.evidence import list_evidence, record_evidence
from zoped.services.models import platform_models
from zoped.services.pathways import (
    fold_answer,
    fold_learners,
    learner_course,
    learner_course_with,
    load_replay_inputs,
)
from zoped.services.policy import Action, require_learner_access
from zoped.store.evidence_log import EvidenceRepository, latest_events
from zoped.store.learning_repositories import PlacementRepository

#: Items among the learner's last answers on a competency are not offered again while others
#: remain.
RECENT_ITEMS = 8
#: How far back "least recently seen" looks: this many answers per item of the competency.
SEEN_WINDOW = 4
BAND = RecommenderConfig()


def _check(session: Session, actor: User, learner_id: str, action: Action, now: datetime) -> None:
    require_learner_access(session, actor=actor, learner_id=learner_id, action=action, now=now)


def _state(session: Session, course: Course, learner_id: str, now: datetime) -> LearnerState:
    folded = fold_learners(session, [learner_id], course=course, now=now)
    return read_states(folded.fold, course, now=now)[learner_id]


def _whole_log_states(
    session: Session, course: Course, event: EvidenceEvent
) -> tuple[LearnerState, LearnerState]:
    """The learner's state without ``event`` and with it, at its time, each folded from the
    whole log: for an event that is not the learner's newest (a resubmission of an old one)."""
    lid, now = event.learner_id, event.occurred_at
    loaded = load_replay_inputs(session, [lid], course.id, now)
    events = loaded.events[lid]
    placements = loaded.placements[lid]
    states = [
        compute_state(
            course, loaded.models, chosen, learner_id=lid, now=now, placements=placements
        )[0]
        for chosen in ([e for e in events if e.id != event.id], events)
    ]
    return states[0], states[1]


@dataclass(frozen=True)
class PracticeItem:
    """The item to show next, and why it was chosen."""

    item: Item
    competency_id: str
    competency_title: str
    predicted_success: float
    event_id: uuid.UUID


def next_item(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    competency_id: str,
    now: datetime,
    course_id: str | None = None,
) -> PracticeItem:
    """The next practice item on a competency: closest to the desirable-difficulty band.

    Items among the learner's last :data:`RECENT_ITEMS` answers on the competency (at most
    all but one of its items) are skipped while others remain; among equals, the least
    recently seen comes first.

    Raises:
        NotFound: out of reach, unknown competency, or no items on it.
        PermissionDenied: the actor may not act for this learner.
    """
    with transaction(session):
        _check(session, actor, learner_id, Action.WRITE, now)
        if course_id is None:
            course = learner_course_with(session, learner_id, competency_id=competency_id)
        else:
            course = learner_course(session, learner_id, course_id)
        if competency_id not in course.framework:
            raise NotFound(f"no competency {competency_id!r}")
        items = course.items_for(competency_id)
        if not items:
            raise NotFound(f"no practice items on {competency_id!r}")
        state = _state(session, course, learner_id, now)
        latest = latest_events(
            session,
            learner_id,
            item_ids=[i.id for i in items],
            kinds=ANSWER_KINDS,
            limit=SEEN_WINDOW * len(items),
        )
        answers = [str(e.item_id) for e in latest]
    # Never one of the last len(items) - 1 shown while another remains, so that a competency
    # with fewer items than RECENT_ITEMS goes round all of them before one comes back.
    window = min(RECENT_ITEMS, len(items) - 1)
    recent = set(answers[-window:]) if window > 0 else set()
    comp = state.get(competency_id)
    p_correct = comp.p_correct
    middle = (BAND.band_low + BAND.band_high) / 2
    fresh = [i for i in items if i.id not in recent] or list(items)
    # Least-recently seen first among equals, then the file order.
    seen_at = {iid: pos for pos, iid in enumerate(answers)}
    best = min(
        fresh,
        key=lambda i: (
            abs(item_success(float(p_correct), i.difficulty) - middle),
            seen_at.get(i.id, -1),
        ),
    )
    return PracticeItem(
        item=best,
        competency_id=competency_id,
        competency_title=comp.title,
        predicted_success=item_success(float(p_correct), best.difficulty),
        event_id=uuid.uuid4(),
    )


@dataclass(frozen=True)
class MasteryChange:
    """How one competency moved with an answer (or over a session)."""

    competency_id: str
    title: str
    level_before: MasteryLevel
    level_after: MasteryLevel
    p_known_before: float
    p_known_after: float

    @property
    def moved(self) -> bool:
        """Whether the level changed."""
        return self.level_before is not self.level_after


@dataclass(frozen=True)
class AnswerOutcome:
    """What the learner sees after answering.

    Attributes:
        event_id: the answer event.
        duplicate: True when this was a resubmission (nothing new was recorded).
        correct: whether the answer was right.
        score: partial credit in [0, 1].
        feedback: the verdict and any option feedback.
        explanation: the item's worked explanation.
        changes: the mastery change of each competency of the item.
    """

    event_id: uuid.UUID
    duplicate: bool
    correct: bool
    score: float
    feedback: str
    explanation: str
    changes: list[MasteryChange]


def _changes(before: LearnerState, after: LearnerState, ids: Sequence[str]) -> list[MasteryChange]:
    out = []
    for cid in ids:
        try:
            b, a = before.get(cid), after.get(cid)
        except NotFound:
            continue
        out.append(MasteryChange(cid, a.title, b.level, a.level, b.p_known, a.p_known))
    return out


def submit_answer(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    item_id: str,
    response: Response,
    event_id: uuid.UUID,
    hints_used: int = 0,
    duration_s: float | None = None,
    now: datetime,
    course_id: str | None = None,
    kind: EvidenceKind = EvidenceKind.ANSWER,
    payload: dict[str, Any] | None = None,
) -> AnswerOutcome:
    """Grade a response, record it once (by ``event_id``), and say what changed.

    Raises:
        InvalidInput: a malformed response (nothing is recorded), or bad hints/duration.
        NotFound: out of reach, or no such item.
        PermissionDenied: the actor may not act for this learner.
        Conflict: ``event_id`` was used for a different answer.
    """
    problems = []
    if hints_used < 0:
        problems.append(Problem("hints_used", "must be >= 0"))
    if duration_s is not None and not (math.isfinite(duration_s) and duration_s >= 0):
        problems.append(Problem("duration_s", "must be a number of seconds >= 0"))
    if problems:
        raise InvalidInput("invalid answer", problems)
    with transaction(session):
        _check(session, actor, learner_id, Action.WRITE, now)
        if course_id is None:
            course = learner_course_with(session, learner_id, item_id=item_id)
        else:
            course = learner_course(session, learner_id, course_id)
        item = course.item(item_id)
    result = grade(item, response)
    with transaction(session):
        earlier = EvidenceRepository(session).get(event_id)
    if earlier is not None:
        # A double submit (a second click, a retry) arrives later with the same event id: it is
        # the same answer, so the first one stands and nothing new is recorded.
        first = earlier[0]
        if first.learner_id != learner_id or first.item_id != item.id:
            raise Conflict(f"event {event_id} was used for another answer")
        return _outcome(session, course, item, first, duplicate=True)
    raw: object = response if isinstance(response, str | int | float) else list(response)
    event = EvidenceEvent(
        id=event_id,
        learner_id=learner_id,
        kind=kind,
        occurred_at=now,
        recorded_at=now,
        source=EvidenceSource.WEB,
        item_id=item.id,
        competency_ids=item.competencies,
        correct=result.correct,
        score=result.score,
        duration_s=duration_s,
        hints_used=hints_used,
        actor_id=None if actor.id == learner_id else actor.id,
        payload={"response": raw, **(payload or {})},
    )
    try:
        # One transaction: the answer goes into the log and into the learner's stored fold.
        with transaction(session):
            folded = fold_learners(session, [learner_id], course=course, now=now, store=False)
            EvidenceRepository(session).add(event)
            later = fold_answer(session, folded, event, now=now)
            if later is None:  # an event already in the log is later than this one
                later = fold_learners(session, [learner_id], course=course, now=now).fold
            before = read_states(folded.fold, course, now=now)[learner_id]
            after = read_states(later, course, now=now)[learner_id]
    except IntegrityError:
        # The same event id was stored by a concurrent submission since we looked: judge
        # against it (the same answer, or a Conflict).
        recorded = record_evidence(session, event=event)
        return _outcome(session, course, item, recorded.event, duplicate=True)
    return _outcome(session, course, item, event, duplicate=False, states=(before, after))


def _outcome(
    session: Session,
    course: Course,
    item: Item,
    event: EvidenceEvent,
    *,
    duplicate: bool,
    states: tuple[LearnerState, LearnerState] | None = None,
) -> AnswerOutcome:
    if states is None:
        with transaction(session):
            states = _whole_log_states(session, course, event)
    before, after = states
    response = event.payload.get("response")
    if isinstance(response, list):
        response = [str(v) for v in response]
    try:
        feedback = grade(item, response).feedback if response is not None else ""
    except InvalidInput:
        feedback = ""
    return AnswerOutcome(
        event_id=event.id,
        duplicate=duplicate,
        correct=bool(event.correct),
        score=float(event.score if event.score is not None else float(bool(event.correct))),
        feedback=feedback,
        explanation=item.explanation,
        changes=_changes(before, after, item.competencies),
    )


def session_summary(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    since: datetime,
    now: datetime,
    course_id: str | None = None,
) -> list[MasteryChange]:
    """What changed since ``since`` on every competency practised since then.

    Raises:
        NotFound / PermissionDenied: as for reading the learner's data.
    """
    with transaction(session):
        _check(session, actor, learner_id, Action.READ, now)
        course = learner_course(session, learner_id, course_id)
        events = list_evidence(session, learner_id=learner_id, since=since, kinds=ANSWER_KINDS)
        practised: list[str] = []
        for e in events:
            for cid in e.competency_ids:
                if cid not in practised:
                    practised.append(cid)
        models = platform_models(session, course=course)
        all_events = list_evidence(session, learner_id=learner_id)
        placements = PlacementRepository(session).finished(learner_id, course.id)
    before, _ = compute_state(
        course,
        models,
        [e for e in all_events if e.occurred_at < since],
        learner_id=learner_id,
        now=since,
        placements=[p for p in placements if p[0] < since],
    )
    after, _ = compute_state(
        course, models, all_events, learner_id=learner_id, now=now, placements=placements
    )
    return _changes(before, after, practised)


def get_item(session: Session, *, learner_id: str, item_id: str) -> tuple[Item, str]:
    """An item of one of the learner's courses (content, not learner data) and the title of its
    first competency.

    Raises:
        NotFound: none of the learner's courses has this item.
    """
    course = learner_course_with(session, learner_id, item_id=item_id)
    item = course.item(item_id)
    return item, course.framework.get(item.competencies[0]).title


def get_activity(session: Session, *, learner_id: str, activity_id: str) -> Activity:
    """An activity of one of the learner's courses (content). Raises: NotFound."""
    return learner_course_with(session, learner_id, activity_id=activity_id).activity(activity_id)
