"""Practice and the placement check: the learner answers items, one at a time.

Practice: :func:`next_item` picks, for one competency, an item in the desirable-difficulty band
that the learner has not seen recently; :func:`submit_answer` grades with the domain's
:func:`~zoped.domain.content.grade`, records an ``answer`` event idempotently (the event id comes
from the form, so a double submit is one event) and reports the mastery change.

Placement: a resumable adaptive diagnostic (:mod:`zoped.engine.placement`). Its answers are
``placement_answer`` events and its state (the answers so far, then the result) lives in
``placement_sessions``, so a learner can stop and come back.
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from zoped.domain.content import Activity, Item, Response, grade
from zoped.domain.course import Course
from zoped.domain.evidence import ANSWER_KINDS, EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.people import User
from zoped.engine.fold import continue_replay, learning_graph
from zoped.engine.graph import CompetencyGraph
from zoped.engine.learner_view import LearnerState, compute_state, read_states
from zoped.engine.mastery import MasteryLevel
from zoped.engine.placement import PlacementConfig, PlacementSession
from zoped.engine.recommend import RecommenderConfig
from zoped.errors import Conflict, InvalidInput, NotFound, Problem
from zoped.services import transaction
from zoped.services.courses import get_course
from zoped.services.evidence import RecordStatus, list_evidence, record_evidence
from zoped.services.models import platform_models
from zoped.services.pathways import ReplayInputs, default_course_id, fold_learners
from zoped.services.policy import Action, require_learner_access
from zoped.store import jsondocs
from zoped.store.learning_repositories import PlacementRepository
from zoped.store.repositories import EvidenceRepository

#: Items answered this recently (by count) are not offered again while others remain.
RECENT_ITEMS = 8
BAND = RecommenderConfig()
PLACEMENT = PlacementConfig(max_questions=12, confidence=0.85, max_states=3000)


def _check(session: Session, actor: User, learner_id: str, action: Action, now: datetime) -> None:
    require_learner_access(session, actor=actor, learner_id=learner_id, action=action, now=now)


def _course(session: Session, course_id: str | None) -> Course:
    return get_course(session, course_id=course_id or default_course_id(session))


def _state(
    session: Session,
    course: Course,
    learner_id: str,
    now: datetime,
    exclude: uuid.UUID | None = None,
) -> LearnerState:
    models = platform_models(session, course=course)
    events = [e for e in list_evidence(session, learner_id=learner_id) if e.id != exclude]
    placements = PlacementRepository(session).finished(learner_id, course.id)
    state, _ = compute_state(
        course, models, events, learner_id=learner_id, now=now, placements=placements
    )
    return state


def _before_and_after(
    session: Session, course: Course, event: EvidenceEvent
) -> tuple[LearnerState, LearnerState]:
    """The learner's state just before ``event`` and with it, at its time: the learner's
    stored fold of the earlier evidence, continued by the event (the same as folding it all)."""
    lid, now = event.learner_id, event.occurred_at
    models = platform_models(session, course=course)
    events = [e for e in list_evidence(session, learner_id=lid) if e.occurred_at <= now]
    earlier = [e for e in events if e.id != event.id]
    placements = PlacementRepository(session).finished(lid, course.id)
    if any((e.occurred_at, e.id.hex) > (now, event.id.hex) for e in earlier):
        # The event is not the learner's latest (a late or repeated submission): fold each.
        before = _state(session, course, lid, now, exclude=event.id)
        return before, _state(session, course, lid, now)
    inputs = ReplayInputs(course, models, {lid: earlier}, {lid: placements})
    rep = fold_learners(session, inputs, now=now)
    before = read_states(rep, course, {lid: earlier}, now=now)[lid]
    later = rep.copy()
    continue_replay(later, course, {lid: [event]})
    return before, read_states(later, course, {lid: [*earlier, event]}, now=now)[lid]


def item_success(p_correct: float, difficulty: float | None) -> float:
    """Predicted success on one item: the competency's P(correct), shifted by its difficulty.

    An item of difficulty 0.5 (or unrated) predicts the competency's P(correct); each 0.1 of
    difficulty above it lowers the log-odds by 0.4.
    """
    p = min(max(p_correct, 1e-3), 1 - 1e-3)
    logit = math.log(p / (1 - p)) - 4.0 * ((difficulty if difficulty is not None else 0.5) - 0.5)
    return 1.0 / (1.0 + math.exp(-logit))


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

    Items answered in the last :data:`RECENT_ITEMS` answers are skipped while others remain.

    Raises:
        NotFound: out of reach, unknown competency, or no items on it.
        PermissionDenied: the actor may not act for this learner.
    """
    with transaction(session):
        _check(session, actor, learner_id, Action.WRITE, now)
        course = _course(session, course_id)
        if competency_id not in course.framework:
            raise NotFound(f"no competency {competency_id!r}")
        items = course.items_for(competency_id)
        if not items:
            raise NotFound(f"no practice items on {competency_id!r}")
        state = _state(session, course, learner_id, now)
        answers = [
            e.item_id
            for e in list_evidence(session, learner_id=learner_id, kinds=ANSWER_KINDS)
            if e.item_id
        ]
    recent = set(answers[-RECENT_ITEMS:])
    comp = state.get(competency_id)
    theta = platform_models(session, course=course).bkt.params
    k = list(course.framework.ids).index(competency_id)
    p_correct = comp.p_known * (1 - theta.slip[k]) + (1 - comp.p_known) * theta.guess[k]
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
        course = _course(session, course_id)
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
    recorded = record_evidence(session, event=event)
    return _outcome(
        session,
        course,
        item,
        recorded.event,
        duplicate=recorded.status is RecordStatus.DUPLICATE,
    )


def _outcome(
    session: Session, course: Course, item: Item, event: EvidenceEvent, *, duplicate: bool
) -> AnswerOutcome:
    with transaction(session):
        before, after = _before_and_after(session, course, event)
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
        course = _course(session, course_id)
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


# --- placement ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _placement_template(
    course_key: tuple[tuple[str, tuple[str, ...]], ...],
    item_key: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[CompetencyGraph, PlacementSession]:
    """The precomputed feasible states of a course's graph, shared by every session on it.

    Keyed by the course's content (competencies with prerequisites, items with competencies),
    so a re-imported course gets a fresh template.
    """

    @dataclass(frozen=True)
    class _C:
        id: str
        prerequisites: tuple[str, ...]

    graph = CompetencyGraph.from_competencies([_C(i, p) for i, p in course_key])
    mask = np.zeros((len(item_key), graph.n), dtype=np.bool_)
    for row, (_, comps) in enumerate(item_key):
        for c in comps:
            mask[row, graph.code(c)] = True
    return graph, PlacementSession(graph, mask, PLACEMENT, seed=0)


def _placement_items(course: Course) -> tuple[CompetencyGraph, list[Item], PlacementSession]:
    graph = learning_graph(course)
    # One mid-difficulty item per competency keeps the diagnostic short and comparable.
    items: list[Item] = []
    for cid in graph.ids:
        pool = [i for i in course.items_for(cid) if i.competencies == (cid,)]
        if pool:
            items.append(min(pool, key=lambda i: abs((i.difficulty or 0.5) - 0.5)))
    fw = course.framework
    course_key = tuple((cid, fw.get(cid).prerequisites) for cid in graph.ids)
    item_key = tuple((i.id, i.competencies) for i in items)
    _, template = _placement_template(course_key, item_key)
    return graph, items, template


@dataclass(frozen=True)
class PlacementView:
    """Where a learner's placement check stands.

    Attributes:
        session_id: the placement session.
        status: "active" or "finished".
        answered: questions answered so far.
        max_questions: the most it will ask.
        item: the next question (None when finished).
        event_id: a fresh id for the next answer's event.
        levels: when finished, the placed level per competency id.
    """

    session_id: uuid.UUID
    status: str
    answered: int
    max_questions: int
    item: Item | None
    event_id: uuid.UUID
    levels: dict[str, MasteryLevel]


def _load_session(
    session: Session, learner_id: str, course_id: str, *, status: str | None = "active"
) -> dict[str, Any] | None:
    return PlacementRepository(session).latest(learner_id, course_id, status=status)


def _doc(row: dict[str, Any]) -> dict[str, Any]:
    return jsondocs.load("placement_state", dict(row["state"]))


def _engine_session(
    template: PlacementSession, items: list[Item], answers: list[list[object]]
) -> PlacementSession:
    code = {i.id: k for k, i in enumerate(items)}
    pairs = [(code[str(a)], bool(c)) for a, c in answers if str(a) in code]
    return PlacementSession(
        template.graph, template.item_skills, template.config, answers=pairs, shared=template
    )


def _view(row: dict[str, Any], items: list[Item], template: PlacementSession) -> PlacementView:
    state = _doc(row)
    answers = state.get("answers", [])
    engine = _engine_session(template, items, answers)
    levels: dict[str, MasteryLevel] = {}
    item: Item | None = None
    if row["status"] == "finished":
        levels = {k: MasteryLevel(v) for k, v in state.get("result", {}).get("levels", {}).items()}
    elif not engine.done():
        item = items[engine.next_item()]
    return PlacementView(
        session_id=row["id"],
        status=str(row["status"]),
        answered=len(answers),
        max_questions=min(PLACEMENT.max_questions, len(items)),
        item=item,
        event_id=uuid.uuid4(),
        levels=levels,
    )


def start_or_resume_placement(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    now: datetime,
    course_id: str | None = None,
) -> PlacementView:
    """The learner's active placement check, or a new one (the last finished one if any is
    not wanted is left as it is).

    Raises:
        NotFound / PermissionDenied: as for acting for the learner.
    """
    with transaction(session):
        _check(session, actor, learner_id, Action.WRITE, now)
        course = _course(session, course_id)
        _graph, items, template = _placement_items(course)
        row = _load_session(session, learner_id, course.id)
        if row is None:
            row = {
                "id": uuid.uuid4(),
                "learner_id": learner_id,
                "course_id": course.id,
                "status": "active",
                "state": jsondocs.dump("placement_state", {"answers": []}),
                "started_at": now,
                "updated_at": now,
                "finished_at": None,
            }
            PlacementRepository(session).add(row)
    return _view(row, items, template)


def latest_placement(
    session: Session, *, actor: User, learner_id: str, now: datetime, course_id: str | None = None
) -> PlacementView | None:
    """The learner's most recent placement check (active or finished), or None."""
    with transaction(session):
        _check(session, actor, learner_id, Action.READ, now)
        course = _course(session, course_id)
        _graph, items, template = _placement_items(course)
        row = _load_session(session, learner_id, course.id, status=None)
    return None if row is None else _view(row, items, template)


def answer_placement(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    session_id: uuid.UUID,
    item_id: str,
    response: Response,
    event_id: uuid.UUID,
    now: datetime,
    course_id: str | None = None,
) -> PlacementView:
    """Record one placement answer (a ``placement_answer`` event, idempotent by id).

    The check finishes by itself when the engine is confident (see :func:`finish_placement`).

    Raises:
        NotFound: no such active session, or the item is not in the check.
        InvalidInput: a malformed response.
    """
    with transaction(session):
        _check(session, actor, learner_id, Action.WRITE, now)
        course = _course(session, course_id)
        _graph, items, template = _placement_items(course)
        row = _load_session(session, learner_id, course.id)
        if row is None or row["id"] != session_id:
            raise NotFound("no active placement check: start one")
        if item_id not in {i.id for i in items}:
            raise NotFound(f"{item_id!r} is not a placement question")
    outcome = submit_answer(
        session,
        actor=actor,
        learner_id=learner_id,
        item_id=item_id,
        response=response,
        event_id=event_id,
        now=now,
        course_id=course.id,
        kind=EvidenceKind.PLACEMENT_ANSWER,
        payload={"placement_session": str(session_id)},
    )
    with transaction(session):
        row = _load_session(session, learner_id, course.id)
        assert row is not None
        state = _doc(row)
        answers = list(state.get("answers", []))
        if not any(a == item_id for a, _ in answers):
            answers.append([item_id, outcome.correct])
        row.update(
            PlacementRepository(session).save_state(
                session_id, {**state, "answers": answers}, now=now
            )
        )
        engine = _engine_session(template, items, answers)
    if engine.done():
        return finish_placement(
            session, actor=actor, learner_id=learner_id, session_id=session_id, now=now
        )
    return _view(row, items, template)


def finish_placement(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    session_id: uuid.UUID,
    now: datetime,
    course_id: str | None = None,
) -> PlacementView:
    """End the check (early if the learner wishes) and store the placed levels.

    The placed levels become evidence at ``now`` when the learner's state is replayed.

    Raises:
        NotFound: no such active session.
    """
    with transaction(session):
        _check(session, actor, learner_id, Action.WRITE, now)
        course = _course(session, course_id)
        graph, items, template = _placement_items(course)
        row = _load_session(session, learner_id, course.id)
        if row is None or row["id"] != session_id:
            raise NotFound("no active placement check")
        state = _doc(row)
        engine = _engine_session(template, items, state.get("answers", []))
        result = engine.result()
        doc = {
            **state,
            "result": {
                "levels": {cid: int(result.levels[k]) for k, cid in enumerate(graph.ids)},
                "p_known": {cid: float(result.p_known[k]) for k, cid in enumerate(graph.ids)},
                "questions": result.questions,
            },
        }
        row.update(PlacementRepository(session).save_state(session_id, doc, now=now, finished=True))
    return _view(row, items, template)


def get_item(session: Session, *, item_id: str, course_id: str | None = None) -> tuple[Item, str]:
    """A course item (content, not learner data) and the title of its first competency.

    Raises:
        NotFound: no such item.
    """
    course = _course(session, course_id)
    item = course.item(item_id)
    return item, course.framework.get(item.competencies[0]).title


def get_activity(session: Session, *, activity_id: str, course_id: str | None = None) -> Activity:
    """A course activity (content). Raises: NotFound."""
    return _course(session, course_id).activity(activity_id)
