"""The placement check: a resumable adaptive diagnostic (:mod:`zoped.engine.placement`).

Its answers are ``placement_answer`` events and its state (the answers so far, then the
result) lives in ``placement_sessions``, so a learner can stop and come back. A finished check
is evidence at the moment it finished: the learner's fold takes its placed levels.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from zoped.domain.content import Item
from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceKind
from zoped.domain.grading import Response
from zoped.domain.people import User
from zoped.engine.fold import learning_graph
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import MasteryLevel
from zoped.engine.placement import PlacementConfig, PlacementSession
from zoped.errors import NotFound
from zoped.services import transaction
from zoped.services.pathways import learner_course
from zoped.services.policy import Action, require_learner_access
from zoped.services.practice import submit_answer
from zoped.store import jsondocs
from zoped.store.learning_repositories import PlacementRepository
from zoped.store.tables import placement_sessions

#: Items answered this recently (by count) are not offered again while others remain.
PLACEMENT = PlacementConfig(max_questions=12, confidence=0.85, max_states=3000)


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
        titles: each competency's title by id (what the learner reads: never the id).
    """

    session_id: uuid.UUID
    status: str
    answered: int
    max_questions: int
    item: Item | None
    event_id: uuid.UUID
    levels: dict[str, MasteryLevel]
    titles: dict[str, str] = field(default_factory=dict)


def _load_session(
    session: Session, learner_id: str, course_id: str, *, status: str | None = "active"
) -> dict[str, Any] | None:
    return PlacementRepository(session).latest(learner_id, course_id, status=status)


def _active_check(
    session: Session,
    actor: User,
    learner_id: str,
    session_id: uuid.UUID,
    course_id: str | None,
    now: datetime,
) -> tuple[Course, CompetencyGraph, list[Item], PlacementSession, dict[str, Any]]:
    """Check the actor may write for the learner (audited) and load the active check
    ``session_id``: its course, graph, items, engine template and stored row.

    Raises:
        NotFound: no such active check (or course).
        PermissionDenied: the actor may not act for this learner.
    """
    require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
    )
    if course_id is None:  # the check's own course (the learner may have switched since)
        course_id = session.scalar(
            select(placement_sessions.c.course_id).where(
                placement_sessions.c.id == session_id,
                placement_sessions.c.learner_id == learner_id,
            )
        )
        if course_id is None:
            raise NotFound("no active placement check: start one")
    course = learner_course(session, learner_id, course_id)
    graph, items, template = _placement_items(course)
    row = _load_session(session, learner_id, course.id)
    if row is None or row["id"] != session_id:
        raise NotFound("no active placement check: start one")
    return course, graph, items, template, row


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


def _view(
    row: dict[str, Any], items: list[Item], template: PlacementSession, graph: CompetencyGraph
) -> PlacementView:
    """The check as the learner sees it; ``graph`` (the course's, with titles) names what it
    placed."""
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
        titles=dict(zip(graph.ids, graph.titles, strict=True)),
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
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
        course = learner_course(session, learner_id, course_id)
        graph, items, template = _placement_items(course)
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
    return _view(row, items, template, graph)


def latest_placement(
    session: Session, *, actor: User, learner_id: str, now: datetime, course_id: str | None = None
) -> PlacementView | None:
    """The learner's most recent placement check (active or finished), or None."""
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        course = learner_course(session, learner_id, course_id)
        graph, items, template = _placement_items(course)
        row = _load_session(session, learner_id, course.id, status=None)
    return None if row is None else _view(row, items, template, graph)


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
        course, graph, items, template, _row = _active_check(
            session, actor, learner_id, session_id, course_id, now
        )
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
    return _view(row, items, template, graph)


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
        _course, graph, items, template, row = _active_check(
            session, actor, learner_id, session_id, course_id, now
        )
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
    return _view(row, items, template, graph)
