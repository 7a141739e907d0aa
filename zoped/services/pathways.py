"""A learner's pathway, as the services serve it: load what the fold needs, check who asks.

:func:`learner_state` is the one answer to "where is this learner?" for every role: it checks
and audits the access, loads the course, its fitted models (:mod:`zoped.services.models`), the
learner's evidence and finished placement checks, and folds them
(:func:`zoped.engine.fold.compute_states`). The "what next" menu built on this state lives in
:mod:`zoped.services.menus`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceEvent
from zoped.domain.people import User
from zoped.engine.fold import Placement, Replay, continue_replay, fold_version
from zoped.engine.learner_view import LearnerState, read_states
from zoped.errors import NotFound
from zoped.services import transaction
from zoped.services.courses import get_course, list_course_ids
from zoped.services.models import PlatformModels, platform_models
from zoped.services.policy import Action, require_learner_access
from zoped.store.learning_repositories import FoldRepository, PlacementRepository, StoredFold
from zoped.store.repositories import PeopleRepository, list_events_for_learners


def default_course_id(session: Session) -> str:
    """The course a learner's pages show: the first stored course.

    Raises:
        NotFound: when no course is stored.
    """
    ids = list_course_ids(session)
    if not ids:
        raise NotFound("no course is stored yet")
    return ids[0]


def course_or_default(session: Session, course_id: str | None) -> Course:
    """The course ``course_id``, or the one a learner's pages show when it is None.

    Raises:
        NotFound: no such course, or no course stored.
    """
    return get_course(session, course_id=course_id or default_course_id(session))


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
    course = course_or_default(session, course_id)
    models = platform_models(session, course=course)
    events = list_events_for_learners(session, learner_ids, until=now + timedelta(microseconds=1))
    placements = PlacementRepository(session).finished_for_learners(learner_ids, course.id)
    return ReplayInputs(course, models, events, placements)


def _digest(events: Sequence[EvidenceEvent]) -> str:
    return hashlib.sha256("\n".join(str(e.id) for e in events).encode()).hexdigest()


def _continuable(
    fold: StoredFold | None,
    version: str,
    events: Sequence[EvidenceEvent],
    placements: Sequence[Placement],
) -> bool:
    """Whether a stored fold can be continued by the events and placements after it: same
    version, it folded exactly the learner's first events, and nothing new is older."""
    if fold is None or fold.version != version:
        return False
    n, k = fold.n_events, fold.n_placements
    if n > len(events) or k > len(placements) or _digest(events[:n]) != fold.digest:
        return False
    last = events[n - 1].occurred_at if n else None
    # A placement at the very moment of the last folded answer would have been folded before it.
    return last is None or all(finished > last for finished, _, _ in placements[k:])


def fold_learners(session: Session, loaded: ReplayInputs, *, now: datetime) -> Replay:
    """The learners' folds: each stored fold continued by the evidence after it (or a fold
    from scratch when there is none or it cannot be continued), and stored again.

    The caller owns the transaction; the stored folds are written in it.
    """
    course, models = loaded.course, loaded.models
    version = fold_version(course, models)
    ids = list(loaded.events)
    repo = FoldRepository(session)
    stored = repo.get_many(ids, course.id)
    docs: list[dict[str, Any] | None] = []
    newer: dict[str, list[EvidenceEvent]] = {}
    newer_placements: dict[str, list[Placement]] = {}
    for lid in ids:
        events, placed = loaded.events[lid], loaded.placements.get(lid, [])
        fold = stored.get(lid)
        if fold is not None and _continuable(fold, version, events, placed):
            docs.append(fold.state)
            newer[lid] = events[fold.n_events :]
            newer_placements[lid] = placed[fold.n_placements :]
        else:
            docs.append(None)
            newer[lid], newer_placements[lid] = events, placed
    rep = Replay.from_docs(course, models, ids, docs)
    continue_replay(rep, course, newer, placements=newer_placements)
    for row, lid in enumerate(ids):
        if docs[row] is not None and not newer[lid] and not newer_placements[lid]:
            continue  # nothing new: the stored fold stands
        events, placed = loaded.events[lid], loaded.placements.get(lid, [])
        repo.put(
            lid,
            course.id,
            StoredFold(version, len(events), _digest(events), len(placed), rep.to_doc(row)),
            at=now,
        )
    return rep


def fold_states(
    session: Session, loaded: ReplayInputs, *, now: datetime
) -> tuple[dict[str, LearnerState], Replay]:
    """The learners' states at ``now`` from their stored folds (:func:`fold_learners`): the
    same as :func:`zoped.engine.fold.compute_states` over the whole log."""
    rep = fold_learners(session, loaded, now=now)
    return read_states(rep, loaded.course, loaded.events, now=now), rep


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
        states, _ = fold_states(session, loaded, now=now)
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


def refold_learners(
    session: Session,
    *,
    now: datetime,
    learner_ids: Sequence[str] | None = None,
    course_id: str | None = None,
    batch: int = 200,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Fold the learners' evidence from scratch and store the folds, ``batch`` learners per
    transaction (the system's job, as after a refit or a course import: reads would rebuild
    each stale fold anyway, on the learner's next request).

    Args:
        now: when.
        learner_ids: whose folds (default: every learner).
        course_id: the course (default: the first stored course).
        batch: learners per transaction.
        progress: called with (learners done, learners in all) after each batch.

    Returns:
        How many learners were folded.

    Raises:
        NotFound: an unknown learner or course.
    """
    with transaction(session):
        people = PeopleRepository(session)
        known = people.learner_ids()
    ids = known if learner_ids is None else list(dict.fromkeys(learner_ids))
    missing = sorted(set(ids) - set(known))
    if missing:
        raise NotFound(f"no learner {missing[0]!r}")
    for start in range(0, len(ids), max(1, batch)):
        chunk = ids[start : start + max(1, batch)]
        with transaction(session):
            loaded = load_replay_inputs(session, chunk, course_id, now)
            FoldRepository(session).forget(chunk, loaded.course.id)
            fold_learners(session, loaded, now=now)
        if progress is not None:
            progress(start + len(chunk), len(ids))
    return len(ids)
