"""A learner's pathway, as the services serve it: load what the fold needs, check who asks.

:func:`learner_state` is the one answer to "where is this learner?" for every role: it checks
and audits the access, loads the course, its fitted models (:mod:`zoped.services.models`), the
learner's evidence and finished placement checks, and folds them
(:func:`zoped.engine.fold.compute_states`). The "what next" menu built on this state lives in
:mod:`zoped.services.menus`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceEvent
from zoped.domain.people import User
from zoped.engine.fold import Placement, Replay, continue_replay, fold_version, step
from zoped.engine.learner_view import LearnerState, read_states
from zoped.errors import InvalidInput, NotFound, Problem
from zoped.services import transaction
from zoped.services.courses import courses_of_learner, get_course, pick_course
from zoped.services.models import PlatformModels, platform_models
from zoped.services.policy import Action, require_learners_access
from zoped.store.course_repository import CourseRepository
from zoped.store.evidence_log import count_events_after, event_counts, list_events_for_learners
from zoped.store.learning_repositories import FoldRepository, PlacementRepository, StoredFold
from zoped.store.repositories import PeopleRepository


def learner_course(session: Session, learner_id: str, course_id: str | None = None) -> Course:
    """The learner's course ``course_id`` (its key, or its code), or the first of the courses of
    their classes when it is None. Callers check access to the learner first.

    Raises:
        NotFound: the learner's classes follow no course, or not ``course_id``.
    """
    found = pick_course(courses_of_learner(session, learner_id=learner_id), course_id)
    return get_course(session, course_id=found.key)


def learner_course_with(
    session: Session,
    learner_id: str,
    *,
    competency_id: str | None = None,
    item_id: str | None = None,
    activity_id: str | None = None,
) -> Course:
    """The learner's course that holds this competency, item or activity (the content ids of a
    school's courses do not overlap). Callers check access to the learner first.

    Raises:
        NotFound: none of the learner's courses has it.
    """
    for info in courses_of_learner(session, learner_id=learner_id):
        course = get_course(session, course_id=info.key)
        if competency_id is not None and competency_id in course.framework:
            return course
        if item_id is not None and item_id in {i.id for i in course.items}:
            return course
        if activity_id is not None and activity_id in {a.id for a in course.activities}:
            return course
    what = (
        f"competency {competency_id!r}"
        if competency_id is not None
        else f"item {item_id!r}"
        if item_id is not None
        else f"activity {activity_id!r}"
    )
    raise NotFound(f"no {what} in your courses")


def _course_for(session: Session, learners: dict[str, User], course_id: str | None) -> Course:
    """The course to fold ``learners`` on: for one learner, theirs (``course_id`` or their
    first); for several, ``course_id``, which must be a course of their school.

    Raises:
        NotFound: no such course for them.
        InvalidInput: several learners and no course.
    """
    if len(learners) == 1:
        return learner_course(session, next(iter(learners)), course_id)
    if course_id is None:
        raise InvalidInput("which course?", [Problem("course_id", "name the course")])
    info = CourseRepository(session).info(course_id)
    if info is None or any(u.school_id != info.school_id for u in learners.values()):
        raise NotFound(f"no course {course_id!r}")
    return get_course(session, course_id=course_id)


@dataclass(frozen=True)
class ReplayInputs:
    """Everything a replay from scratch needs from the store, for one or several learners."""

    course: Course
    models: PlatformModels
    events: dict[str, list[EvidenceEvent]]
    placements: dict[str, list[Placement]]


def _until(now: datetime) -> datetime:
    return now + timedelta(microseconds=1)  # events at ``now`` are included


def load_replay_inputs(
    session: Session, learner_ids: Sequence[str], course_id: str, now: datetime
) -> ReplayInputs:
    """The course and its models, and the learners' whole logs (up to ``now`` included) and
    placements: what a fold from scratch needs (a refit's comparison). Requests use
    :func:`fold_learners`, which reads only what came after the stored folds."""
    course = get_course(session, course_id=course_id)
    models = platform_models(session, course=course)
    events = list_events_for_learners(session, learner_ids, until=_until(now))
    placements = PlacementRepository(session).finished_for_learners(learner_ids, course.id)
    return ReplayInputs(course, models, events, placements)


@dataclass(frozen=True)
class Folded:
    """Learners' folds at ``now`` (row ``r`` is ``fold.learner_ids[r]``), with what each folded.

    Attributes:
        course: the course.
        fold: the folds.
        marks: per row, the stored-fold record of what that row folded.
        version: the fold version (:func:`zoped.engine.fold.fold_version`).
    """

    course: Course
    fold: Replay
    marks: list[StoredFold]
    version: str


def _usable(
    fold: StoredFold | None, version: str, placements: Sequence[Placement], until: datetime
) -> bool:
    """Whether a stored fold can be continued as far as its version, the placements and the
    time asked for go (the events are checked by counting them): nothing new is older than its
    last event, and that event is not later than the time asked for."""
    if fold is None or fold.version != version or fold.n_placements > len(placements):
        return False
    last = fold.last_event[0] if fold.last_event else None
    if last is not None and last >= until:
        return False  # a read of an earlier moment than the fold's: fold from scratch
    # A placement at the very moment of the last folded answer would have been folded before it.
    return last is None or all(at > last for at, _, _ in placements[fold.n_placements :])


def fold_learners(
    session: Session,
    learner_ids: Sequence[str],
    *,
    course: Course,
    now: datetime,
    store: bool = True,
) -> Folded:
    """The learners' folds on ``course`` at ``now``: each stored fold continued by the events
    after it, or a fold from scratch when there is none or it cannot be continued.

    What is read does not grow with a learner's history: the stored fold, the learner's event
    count (kept as events are added), and the events after the fold's last one when the count
    says there are some. A late event makes the sum come out wrong: that learner is folded
    again from the newest checkpoint before it (:data:`CHECKPOINT_EVERY`), or from scratch.
    The caller owns the transaction; the changed folds are stored in it (and checkpointed)
    unless ``store`` is False.
    """
    models = platform_models(session, course=course)
    version = fold_version(course, models)
    ids = list(dict.fromkeys(learner_ids))
    until = _until(now)
    stored = FoldRepository(session).get_many(ids, course.id)
    placements = PlacementRepository(session).finished_for_learners(ids, course.id)
    usable = {
        lid: fold for lid, fold in stored.items() if _usable(fold, version, placements[lid], until)
    }
    # A stored fold that folded as many events as the learner has is up to date (events are
    # only appended, and counted as they are); otherwise read what came after it.
    counts = event_counts(session, ids)
    behind = [lid for lid in ids if lid not in usable or usable[lid].n_events != counts[lid]]
    after = {
        lid: fold.last_event
        for lid, fold in usable.items()
        if lid in behind and fold.last_event is not None
    }
    # Read to the end of the log: an event dated after ``now`` is counted but not folded yet.
    later = list_events_for_learners(session, behind, after=after)
    # An event dated before a placement check the stored fold has already folded would be
    # folded after it: fold that learner from scratch.
    for lid in [lid for lid in behind if lid in usable and usable[lid].n_placements]:
        placed_at = placements[lid][usable[lid].n_placements - 1][0]
        if any(e.occurred_at < placed_at for e in later.get(lid, ())):
            del usable[lid]
            after.pop(lid, None)
            later.update(list_events_for_learners(session, [lid]))
    # A late event leaves the count off: fold that learner again from the newest checkpoint
    # before it (or from scratch).
    stale = [lid for lid in after if usable[lid].n_events + len(later[lid]) != counts[lid]]
    for lid in stale:
        start = _checkpoint_before_late_events(
            session, lid, course.id, version, counts[lid], placements[lid], until
        )
        if start is None or start.last_event is None:
            del usable[lid]
            later.update(list_events_for_learners(session, [lid]))
        else:
            usable[lid] = start
            later.update(list_events_for_learners(session, [lid], after={lid: start.last_event}))
    newer = {lid: [e for e in later.get(lid, ()) if e.occurred_at < until] for lid in ids}
    docs = [usable[lid].state if lid in usable else None for lid in ids]
    rep = Replay.from_docs(course, models, ids, docs)
    newer_placements = {
        lid: placements[lid][usable[lid].n_placements :] if lid in usable else placements[lid]
        for lid in ids
    }
    continue_replay(rep, course, newer, placements=newer_placements)
    marks: list[StoredFold] = []
    for row, lid in enumerate(ids):
        old = usable.get(lid)
        events = newer[lid]
        if old is not None and not events and not newer_placements[lid]:
            marks.append(old)  # nothing new: the stored fold stands
            continue
        n_before = old.n_events if old is not None else 0
        last = (events[-1].occurred_at, events[-1].id) if events else None
        if last is None and old is not None:
            last = old.last_event
        mark = StoredFold(
            version, n_before + len(events), last, len(placements[lid]), rep.to_doc(row)
        )
        marks.append(mark)
        if store:
            _store_fold(session, lid, course.id, mark, now=now)
    return Folded(course, rep, marks, version)


#: A stored fold is also kept as a checkpoint every this many events, and the newest
#: :data:`CHECKPOINTS_KEPT` are kept: a late event up to about 2,000 events back is folded from
#: one of them; an older one, from scratch.
CHECKPOINT_EVERY = 500
CHECKPOINTS_KEPT = 4


def _store_fold(
    session: Session, learner_id: str, course_id: str, fold: StoredFold, *, now: datetime
) -> None:
    repo = FoldRepository(session)
    repo.put(learner_id, course_id, fold, at=now)
    if fold.last_event is None or fold.n_events < CHECKPOINT_EVERY:
        return
    newest = repo.newest_checkpoints([learner_id], course_id, fold.version).get(learner_id, 0)
    if fold.n_events - newest >= CHECKPOINT_EVERY:
        repo.add_checkpoint(learner_id, course_id, fold, keep=CHECKPOINTS_KEPT)


def _checkpoint_before_late_events(
    session: Session,
    learner_id: str,
    course_id: str,
    version: str,
    n_events: int,
    placements: Sequence[Placement],
    until: datetime,
) -> StoredFold | None:
    """The newest checkpoint of the learner's fold that every event it folded still precedes
    in the log (the events after it and those it folded add up to ``n_events``), or None."""
    for checkpoint in FoldRepository(session).checkpoints(learner_id, course_id, version):
        if checkpoint.last_event is None or not _usable(checkpoint, version, placements, until):
            continue
        if (
            checkpoint.n_placements
            and placements[checkpoint.n_placements - 1][0] > checkpoint.last_event[0]
        ):
            continue  # it folded a placement after its last event: a late event may precede it
        after = count_events_after(session, learner_id, checkpoint.last_event)
        if checkpoint.n_events + after == n_events:
            return checkpoint
    return None


def fold_answer(
    session: Session, folded: Folded, event: EvidenceEvent, *, now: datetime
) -> Replay | None:
    """Continue a one-learner fold by the learner's newest event and store it, in the caller's
    transaction (the one that inserted the event). None when the event is not the newest: the
    caller folds again (:func:`fold_learners` then sees the late event and rebuilds)."""
    mark = folded.marks[0]
    if mark.last_event is not None and mark.last_event >= (event.occurred_at, event.id):
        return None
    later, _ = step(folded.fold, folded.course, event)
    stored = StoredFold(
        folded.version,
        mark.n_events + 1,
        (event.occurred_at, event.id),
        mark.n_placements,
        later.to_doc(0),
    )
    _store_fold(session, event.learner_id, folded.course.id, stored, now=now)
    return later


def learner_states(
    session: Session,
    *,
    actor: User,
    learner_ids: Sequence[str],
    now: datetime,
    course_id: str | None = None,
) -> dict[str, LearnerState]:
    """Several learners' states on a course (a class page): learner id -> state, in the order
    of ``learner_ids``, from their stored folds (:func:`fold_learners`).

    Each learner is checked and audited as by :func:`learner_state` (one ``read`` entry per
    learner), before anything of theirs is read. Duplicate ids are read once. The course is
    ``course_id`` (a course of the learners' school); for one learner it may be left out (their
    first course) and must be one of theirs.

    Raises:
        NotFound: a learner is out of the actor's reach, or no such course for them.
        PermissionDenied: the actor may not read a learner's data.
        InvalidInput: several learners and no course.
    """
    ids = list(dict.fromkeys(learner_ids))
    if not ids:
        return {}
    with transaction(session):
        learners = require_learners_access(
            session, actor=actor, learner_ids=ids, action=Action.READ, now=now
        )
        course = _course_for(session, learners, course_id)
        folded = fold_learners(session, ids, course=course, now=now)
    return read_states(folded.fold, course, now=now)


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
        course_id: one of the learner's courses, by key or code (default: the first course of
            their classes).

    Raises:
        NotFound: the learner is out of the actor's reach, their classes follow no course, or
            not ``course_id``.
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
        course_id: the course (default: each course of each learner's classes).
        batch: learners per transaction.
        progress: called with (folds done, folds in all) after each batch.

    Returns:
        How many learners were folded (on one course or more).

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
        work: dict[str, list[str]] = {}
        if course_id is not None:
            work[get_course(session, course_id=course_id).id] = ids
        else:
            for lid in ids:
                for info in courses_of_learner(session, learner_id=lid):
                    work.setdefault(info.key, []).append(lid)
    total = sum(len(lids) for lids in work.values())
    done = 0
    size = max(1, batch)
    for key, lids in work.items():
        for start in range(0, len(lids), size):
            chunk = lids[start : start + size]
            with transaction(session):
                course = get_course(session, course_id=key)
                FoldRepository(session).forget(chunk, course.id)
                fold_learners(session, chunk, course=course, now=now)
            done += len(chunk)
            if progress is not None:
                progress(done, total)
    return len({lid for lids in work.values() for lid in lids})
