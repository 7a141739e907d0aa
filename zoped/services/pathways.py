"""A learner's pathway: their state replayed from the event log, and their "what next" menu.

:func:`learner_state` is the one answer to "where is this learner?" for every role: it replays
the learner's evidence (the event log is the source of truth) through the course's BKT and
memory model (:mod:`zoped.services.models`), turns P(known) and the evidence into mastery levels
(:mod:`zoped.engine.mastery`), applies finished placement checks, and folds teacher overrides
(undone by a later event that ``supersedes`` them), accepted prior learning and
self-assessments (shown, never decisive).

:func:`recommend_for` asks :func:`zoped.engine.recommend.recommend_next` for a short menu, with
the learner's interests, preferred modalities, plan goals, due reviews and unfinished
activities, and logs the decision (candidates and scores) in ``recommendation_decisions``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from zoped.domain.course import Course
from zoped.domain.evidence import ANSWER_KINDS, EvidenceEvent, EvidenceKind
from zoped.domain.people import User
from zoped.engine.base import Interaction
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import (
    MasteryConfig,
    MasteryEvent,
    MasteryLevel,
    MasteryTracker,
    OverrideEvent,
    PriorLearningClaim,
    SelfAssessmentEvent,
    UndoEvent,
    apply_overrides,
    at_least_proficient,
)
from zoped.engine.memory import SECONDS_PER_DAY
from zoped.engine.recommend import LearnerSnapshot, MenuOption, recommend_next
from zoped.errors import InvalidInput, NotFound, Problem
from zoped.services import transaction
from zoped.services.courses import get_course, list_course_ids
from zoped.services.evidence import list_evidence
from zoped.services.models import PlatformModels, platform_models
from zoped.services.policy import Action, require_learner_access
from zoped.services.roster import get_learner_profile
from zoped.store import jsondocs
from zoped.store.tables import learning_plans, placement_sessions, recommendation_decisions

POLICY = "zoped-menu-v1"
MASTERY = MasteryConfig()


def learning_graph(course: Course) -> CompetencyGraph:
    """The graph the policies run on: the course's competencies that are not groupings.

    A grouping competency (one with children, such as "Fraction foundations") is shown as a
    heading; its children carry the evidence and the prerequisites.
    """
    fw = course.framework
    leaves = [c for c in fw.competencies if not fw.children(c.id)]
    return CompetencyGraph.from_competencies(leaves)


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
class CompetencyState:
    """One competency for one learner, worded the same for every role.

    Attributes:
        competency_id: the competency.
        title: its title.
        group_id: the grouping competency it belongs to (its parent), if any.
        p_known: the knowledge-tracing model's P(known), in [0, 1].
        level: the level shown (an override or accepted claim wins over the derived one).
        derived_level: the level the evidence alone gives.
        last_practised: when the learner last answered on it.
        evidence_count: answers on it (placement answers included).
        n_correct: of which right.
        unlocked: every direct prerequisite is at least proficient.
        retrievability: predicted recall now (None if never practised).
        review_due_at: when recall falls below the review threshold (None if never practised).
        practisable: the course has items on it.
        notes: overrides, claims and the learner's own view, in plain words.
        self_assessed: the learner's own view of their level, if given.
        prerequisites: ids of its direct prerequisites.
    """

    competency_id: str
    title: str
    group_id: str | None
    p_known: float
    level: MasteryLevel
    derived_level: MasteryLevel
    last_practised: datetime | None
    evidence_count: int
    n_correct: int
    unlocked: bool
    retrievability: float | None
    review_due_at: datetime | None
    practisable: bool
    notes: tuple[str, ...] = ()
    self_assessed: MasteryLevel | None = None
    prerequisites: tuple[str, ...] = ()

    @property
    def level_label(self) -> str:
        """The level in plain words."""
        return self.level.label


@dataclass(frozen=True)
class ProgressPoint:
    """How many competencies were at least proficient, and mastered, at the end of a day."""

    day: date
    proficient: int
    mastered: int


@dataclass(frozen=True)
class LearnerState:
    """A learner's whole picture on one course.

    Attributes:
        learner_id: whose.
        course_id: which course.
        course_title: its title.
        computed_at: the ``now`` it was computed for.
        competencies: one entry per competency (groupings excluded), in course order.
        groups: (id, title) of the grouping competencies, in course order.
        history: progress at the end of each day with evidence, then now.
        n_events: events replayed.
        models_fitted: False when the models are defaults from item difficulty.
    """

    learner_id: str
    course_id: str
    course_title: str
    computed_at: datetime
    competencies: list[CompetencyState]
    groups: list[tuple[str, str]] = field(default_factory=list)
    history: list[ProgressPoint] = field(default_factory=list)
    n_events: int = 0
    models_fitted: bool = False

    def get(self, competency_id: str) -> CompetencyState:
        """The state of one competency. Raises: NotFound."""
        for c in self.competencies:
            if c.competency_id == competency_id:
                return c
        raise NotFound(f"no competency {competency_id!r} in course {self.course_id!r}")

    def count(self, level: MasteryLevel) -> int:
        """How many competencies are at ``level``."""
        return sum(c.level is level for c in self.competencies)

    @property
    def reviews_due(self) -> list[CompetencyState]:
        """Competencies whose review is due, the most forgotten first."""
        due = [c for c in self.competencies if c.level is MasteryLevel.REVIEW_DUE]
        return sorted(due, key=lambda c: c.retrievability or 0.0)


# --- replay ---------------------------------------------------------------------------------


@dataclass
class Replay:
    """The learner models folded over a learner's events (internal to the services)."""

    graph: CompetencyGraph
    models: PlatformModels
    bkt_codes: list[int]
    bkt_state: Any
    memory_state: Any
    tracker: MasteryTracker
    last_at: list[datetime | None]
    history: list[ProgressPoint]
    n_events: int

    def p_known(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """P(known) per graph code."""
        known = self.models.bkt.p_known(self.bkt_state)
        ids = self.models.bkt.skill_ids.tolist()
        return np.array([known[str(ids[k])] for k in self.bkt_codes], dtype=np.float64)

    def p_correct(self) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Predicted P(correct) on a typical next item of each competency."""
        theta = self.models.bkt.params
        codes = np.asarray(self.bkt_codes)
        p = self.p_known()
        out: np.ndarray[Any, np.dtype[np.float64]] = (
            p * (1.0 - theta.slip[codes]) + (1.0 - p) * (theta.guess[codes])
        )
        return out

    def retrievability(self, now_s: float) -> np.ndarray[Any, np.dtype[np.float64]]:
        """Predicted recall per graph code at ``now_s`` (1 where never practised)."""
        out = np.ones(self.graph.n)
        for code in range(self.graph.n):
            if code in self.memory_state.skills:
                out[code] = self.models.memory.retrievability(self.memory_state, code, now_s)
        return out

    def refresh(self, now_s: float) -> np.ndarray[Any, np.dtype[np.int64]]:
        """Levels at ``now_s`` (updates the tracker's sticky mastery)."""
        levels = self.tracker.refresh(
            self.p_known()[None, :], self.retrievability(now_s)[None, :], now_s
        )
        return np.asarray(levels[0], dtype=np.int64)


def _event_codes(event: EvidenceEvent, course: Course, graph: CompetencyGraph) -> list[int]:
    named: Sequence[str] = event.competency_ids
    if not named and event.item_id:
        try:
            named = course.item(event.item_id).competencies
        except NotFound:
            named = ()
    index = {cid: k for k, cid in enumerate(graph.ids)}
    return sorted({index[c] for c in named if c in index})


Placement = tuple[datetime, dict[str, int], dict[str, float]]


def _placements(session: Session, learner_id: str, course_id: str) -> list[Placement]:
    """Finished placement checks: (finished at, placed levels, P(known)) by competency id."""
    stmt = select(placement_sessions).where(
        placement_sessions.c.learner_id == learner_id,
        placement_sessions.c.course_id == course_id,
        placement_sessions.c.status == "finished",
    )
    out = []
    for row in session.execute(stmt).mappings():
        state = jsondocs.load("placement_state", row["state"])
        result = state.get("result") or {}
        out.append(
            (
                row["finished_at"],
                {k: int(v) for k, v in result.get("levels", {}).items()},
                {k: float(v) for k, v in result.get("p_known", {}).items()},
            )
        )
    return sorted(out, key=lambda t: t[0])


def replay(
    course: Course,
    models: PlatformModels,
    events: Sequence[EvidenceEvent],
    *,
    placements: Sequence[Placement] = (),
) -> Replay:
    """Fold answers (and finished placements) in time order through the learner models.

    A placement is evidence at the moment it finished: its placed levels go to the mastery
    tracker (:meth:`MasteryTracker.place`) and its P(known) raises (never lowers) the model's.
    Progress points are taken at the end of each day with evidence.
    """
    graph = learning_graph(course)
    skill_index = {str(s): k for k, s in enumerate(models.bkt.skill_ids.tolist())}
    bkt_codes = [skill_index[cid] for cid in graph.ids]
    rep = Replay(
        graph=graph,
        models=models,
        bkt_codes=bkt_codes,
        bkt_state=models.bkt.new_state(),
        memory_state=models.memory.new_state(),
        tracker=MasteryTracker(1, graph.n, MASTERY),
        last_at=[None] * graph.n,
        history=[],
        n_events=0,
    )
    timeline: list[tuple[datetime, int, Any]] = [
        (e.occurred_at, 1, e) for e in events if e.kind in ANSWER_KINDS
    ]
    timeline += [(at, 0, (levels, p)) for at, levels, p in placements]
    timeline.sort(key=lambda t: (t[0], t[1]))
    day: date | None = None
    for at, kind, payload in timeline:
        at_s = at.timestamp()
        if day is not None and at.date() != day:
            _close_day(rep, day)
        day = at.date()
        if kind == 0:
            levels, p_known = payload
            placed = np.array([levels.get(cid, 0) for cid in graph.ids], dtype=np.int64)
            rep.tracker.place(0, placed, at_s)
            for code, cid in enumerate(graph.ids):
                if cid in p_known:
                    b = bkt_codes[code]
                    current = rep.bkt_state.p_known.get(b, float(models.bkt.params.prior[b]))
                    rep.bkt_state.p_known[b] = max(current, p_known[cid])
            continue
        event: EvidenceEvent = payload
        codes = _event_codes(event, course, graph)
        if not codes:
            continue
        correct = bool(event.correct)
        models.bkt.update(
            rep.bkt_state, Interaction(skills=tuple(bkt_codes[c] for c in codes), correct=correct)
        )
        models.memory.update(
            rep.memory_state, Interaction(skills=tuple(codes), correct=correct, timestamp_s=at_s)
        )
        mask = np.zeros((1, graph.n), dtype=np.bool_)
        mask[0, codes] = True
        rep.tracker.record(np.array([0]), mask, np.array([correct]), at_s)
        for c in codes:
            rep.last_at[c] = at
        rep.n_events += 1
        # Levels move with each answer: sticky mastery is decided when it is reached.
        rep.refresh(at_s)
    if day is not None:
        _close_day(rep, day)
    return rep


def _close_day(rep: Replay, day: date) -> None:
    end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    levels = rep.refresh(end.timestamp() - 1)
    point = ProgressPoint(
        day,
        int(at_least_proficient(levels).sum()),
        int((levels >= MasteryLevel.MASTERED).sum()),
    )
    if rep.history and rep.history[-1].day == day:
        rep.history[-1] = point
    else:
        rep.history.append(point)


def _level_of(event: EvidenceEvent) -> MasteryLevel:
    raw = event.payload.get("level")
    if raw is None and event.score is not None:
        raw = round(event.score * MasteryLevel.MASTERED)
    try:
        return MasteryLevel(int(raw if raw is not None else 0))
    except ValueError:
        return MasteryLevel.NOT_STARTED


def mastery_events(events: Sequence[EvidenceEvent], graph: CompetencyGraph) -> list[MasteryEvent]:
    """Overrides, undos, accepted prior learning and self-assessments, for the fold."""
    out: list[MasteryEvent] = []
    known: set[str] = set()
    for e in events:
        at_s = e.occurred_at.timestamp()
        if e.kind is EvidenceKind.TEACHER_OVERRIDE:
            if e.supersedes is not None:
                if str(e.supersedes) in known:
                    out.append(UndoEvent(str(e.id), str(e.supersedes), e.actor_id or "", at_s))
                continue
            for cid in e.competency_ids:
                if cid in graph.ids:
                    event_id = str(e.id) if len(e.competency_ids) == 1 else f"{e.id}:{cid}"
                    out.append(
                        OverrideEvent(event_id, cid, _level_of(e), e.actor_id or "", at_s, e.note)
                    )
                    known.add(event_id)
            known.add(str(e.id))
        elif e.kind is EvidenceKind.PRIOR_LEARNING:
            for cid in e.competency_ids:
                if cid in graph.ids:
                    out.append(
                        PriorLearningClaim(
                            f"{e.id}:{cid}",
                            cid,
                            _level_of(e) if "level" in e.payload else MasteryLevel.PROFICIENT,
                            e.note or "prior learning",
                            accepted_by=e.actor_id or "teacher",
                            accepted_at_s=at_s,
                        )
                    )
        elif e.kind is EvidenceKind.SELF_ASSESSMENT:
            for cid in e.competency_ids:
                if cid in graph.ids:
                    out.append(SelfAssessmentEvent(f"{e.id}:{cid}", cid, _level_of(e), at_s))
    # Undos for multi-competency overrides name the event; expand them to each competency.
    expanded: list[MasteryEvent] = []
    for m in out:
        if isinstance(m, UndoEvent):
            parts = [k for k in known if k.startswith(m.undoes + ":")]
            if parts:
                expanded += [UndoEvent(f"{m.event_id}:{p}", p, m.actor, m.at_s) for p in parts]
                continue
        expanded.append(m)
    return expanded


def compute_state(
    course: Course,
    models: PlatformModels,
    events: Sequence[EvidenceEvent],
    *,
    learner_id: str,
    now: datetime,
    placements: Sequence[Placement] = (),
) -> tuple[LearnerState, Replay]:
    """The learner's state from their events (pure: no database)."""
    rep = replay(course, models, events, placements=placements)
    graph = rep.graph
    now_s = now.timestamp()
    derived = rep.refresh(now_s)
    statuses = apply_overrides(graph, derived, mastery_events(events, graph))
    levels = np.array([int(s.level) for s in statuses], dtype=np.int64)
    unlocked = graph.unlocked(at_least_proficient(levels))
    p_known = rep.p_known()
    recall = rep.retrievability(now_s)
    fw = course.framework
    states: list[CompetencyState] = []
    for code, cid in enumerate(graph.ids):
        comp = fw.get(cid)
        seen = code in rep.memory_state.skills
        due_at = None
        if seen:
            due_s = rep.models.memory.next_review_s(
                rep.memory_state, code, MASTERY.review_retrievability
            )
            due_at = datetime.fromtimestamp(min(due_s, 4e9), tz=UTC)
        status = statuses[code]
        states.append(
            CompetencyState(
                competency_id=cid,
                title=comp.title,
                group_id=comp.parent,
                p_known=float(p_known[code]),
                level=status.level,
                derived_level=status.derived_level,
                last_practised=rep.last_at[code],
                evidence_count=int(rep.tracker.attempts[0, code]),
                n_correct=int(rep.tracker.n_correct[0, code]),
                unlocked=bool(unlocked[code]),
                retrievability=float(recall[code]) if seen else None,
                review_due_at=due_at,
                practisable=bool(course.items_for(cid)),
                notes=status.notes,
                self_assessed=status.self_assessed,
                prerequisites=comp.prerequisites,
            )
        )
    history = list(rep.history)
    final = ProgressPoint(
        now.date(),
        int(at_least_proficient(levels).sum()),
        int((levels >= MasteryLevel.MASTERED).sum()),
    )
    if history and history[-1].day == now.date():
        history[-1] = final
    else:
        history.append(final)
    groups = [(c.id, c.title) for c in fw.competencies if fw.children(c.id)]
    state = LearnerState(
        learner_id=learner_id,
        course_id=course.id,
        course_title=course.title,
        computed_at=now,
        competencies=states,
        groups=groups,
        history=history,
        n_events=rep.n_events,
        models_fitted=models.fitted,
    )
    return state, rep


def _load(
    session: Session, learner_id: str, course_id: str | None, now: datetime
) -> tuple[Course, PlatformModels, list[EvidenceEvent], list[Any]]:
    course = get_course(session, course_id=course_id or default_course_id(session))
    models = platform_models(session, course=course)
    events = list_evidence(session, learner_id=learner_id, until=now + timedelta(microseconds=1))
    return course, models, events, _placements(session, learner_id, course.id)


def learner_state(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    now: datetime,
    course_id: str | None = None,
) -> LearnerState:
    """The learner's state on a course, replayed from their evidence.

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
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        course, models, events, placements = _load(session, learner_id, course_id, now)
    state, _ = compute_state(
        course, models, events, learner_id=learner_id, now=now, placements=placements
    )
    return state


# --- the menu --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Menu:
    """A menu of next steps, each with its reason, and the id of the logged decision.

    Attributes:
        decision_id: the ``recommendation_decisions`` row (what "pick" refers to).
        options: up to k options, best first.
        seed: the seed used (ask for other options with another seed).
        empty_reason: why there are no options, when there are none.
    """

    decision_id: uuid.UUID
    options: list[MenuOption]
    seed: int
    empty_reason: str = ""


def _plan_goal_ids(session: Session, learner_id: str) -> set[str]:
    rows = session.execute(
        select(learning_plans.c.content).where(learning_plans.c.learner_id == learner_id)
    )
    goals: set[str] = set()
    for (content,) in rows:
        doc = jsondocs.load("plan", content)
        for g in doc.get("goals", []):
            if not g.get("achieved"):
                goals.update(g.get("competency_ids", []))
    return goals


def _activity_history(events: Sequence[EvidenceEvent]) -> tuple[list[str], set[str]]:
    """Recent activity ids (oldest first) and the activities started but not finished."""
    recent: list[str] = []
    started: set[str] = set()
    finished: set[str] = set()
    for e in events:
        if e.activity_id is None:
            continue
        recent.append(e.activity_id)
        if e.kind is EvidenceKind.ACTIVITY_COMPLETION:
            finished.add(e.activity_id)
        elif e.kind is EvidenceKind.ACTIVITY_PROGRESS:
            started.add(e.activity_id)
    return recent, started - finished


def recommend_for(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    k: int = 4,
    seed: int,
    now: datetime,
    course_id: str | None = None,
) -> Menu:
    """A short menu of next activities for the learner, logged with every candidate's scores.

    Raises:
        NotFound: the learner is out of reach, or no course.
        PermissionDenied: the actor may not read this learner's data.
        InvalidInput: ``k`` below 1.
    """
    if k < 1:
        raise InvalidInput("bad menu size", [Problem("k", f"must be >= 1, got {k}")])
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        course, models, events, placements = _load(session, learner_id, course_id, now)
        state, rep = compute_state(
            course, models, events, learner_id=learner_id, now=now, placements=placements
        )
        graph = rep.graph
        profile = get_learner_profile(session, learner_id=learner_id)
        goal_ids = _plan_goal_ids(session, learner_id)
        recent, unfinished = _activity_history(events)
        reached = rep.tracker.proficient_at_s[0].copy()
        snapshot = LearnerSnapshot(
            levels=np.array([int(c.level) for c in state.competencies], dtype=np.int64),
            p_known=rep.p_known(),
            p_correct=rep.p_correct(),
            retrievability=rep.retrievability(now.timestamp()),
            reached_at_s=reached,
            goals=frozenset(graph.code(g) for g in goal_ids if g in graph.ids),
            interests=frozenset(profile.interests if profile else ()),
            preferred_modalities=frozenset(
                str(m) for m in (profile.preferred_modalities if profile else ())
            ),
            recent_activities=tuple(recent),
            unfinished=frozenset(unfinished),
        )
        activities = [a for a in course.activities if all(c in graph.ids for c in a.competencies)]
        decision = recommend_next(
            graph,
            activities,
            snapshot,
            k=k,
            seed=seed,
            now_s=now.timestamp(),
            learner_id=learner_id,
        )
        decision_id = uuid.uuid4()
        session.execute(
            insert(recommendation_decisions),
            [
                {
                    "id": decision_id,
                    "learner_id": learner_id,
                    "decided_at": now,
                    "policy": POLICY,
                    "candidates": jsondocs.dump(
                        "decision", {"course_id": course.id, **decision.to_dict()}
                    ),
                    "chosen_id": None,
                }
            ],
        )
    empty = ""
    if not decision.options:
        empty = "Everything open to you is mastered. Well done: ask your teacher what is next."
    return Menu(decision_id, decision.options, seed, empty)


def choose_option(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    decision_id: uuid.UUID,
    activity_id: str,
    now: datetime,
) -> str:
    """Record which option the learner picked from a logged menu; returns the activity id.

    Raises:
        NotFound: no such decision for this learner, or the activity was not on its menu.
        PermissionDenied: the actor may not act for this learner.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
        row = (
            session.execute(
                select(recommendation_decisions).where(
                    recommendation_decisions.c.id == decision_id,
                    recommendation_decisions.c.learner_id == learner_id,
                )
            )
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"no menu {decision_id}")
        doc = jsondocs.load("decision", row["candidates"])
        if activity_id not in doc.get("chosen", []):
            raise NotFound(f"{activity_id!r} was not on that menu")
        session.execute(
            update(recommendation_decisions)
            .where(recommendation_decisions.c.id == decision_id)
            .values(chosen_id=activity_id)
        )
    return activity_id


def days_until(moment: datetime | None, now: datetime) -> float | None:
    """Days from ``now`` to ``moment`` (negative when past), for wording."""
    if moment is None:
        return None
    return (moment - now).total_seconds() / SECONDS_PER_DAY


__all__ = [
    "CompetencyState",
    "LearnerState",
    "Menu",
    "ProgressPoint",
    "choose_option",
    "compute_state",
    "days_until",
    "default_course_id",
    "learner_state",
    "learning_graph",
    "recommend_for",
]
