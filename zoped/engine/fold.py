"""A learner's state on a course, folded from their evidence: the one definition every page,
the API and the class dashboard read.

:func:`replay` folds learners' answers (and rubric scores, and finished placement checks) in
time order through the course's knowledge-tracing and memory models into mastery levels
(:mod:`zoped.engine.mastery`); :func:`compute_states` turns the fold into what a reader sees at
``now`` (recall fades with it), with teacher overrides (undone by a later event that
``supersedes`` them), accepted prior learning and self-assessments (shown, never decisive)
applied by :func:`zoped.engine.mastery.apply_overrides`. Pure: no database, no clock; the
services load the inputs and pass ``now``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from zoped.domain.course import Course
from zoped.domain.evidence import ANSWER_KINDS, EvidenceEvent, EvidenceKind
from zoped.engine.base import Interaction
from zoped.engine.bkt import BKT
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import (
    LevelCounts,
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
    count_levels,
    rubric_answers,
)
from zoped.engine.memory import MemoryModel, MemoryState
from zoped.errors import InvalidInput, NotFound, Problem

#: A finished placement check: when it finished, the placed level and P(known) per competency.
Placement = tuple[datetime, dict[str, int], dict[str, float]]


class LearnerModels(Protocol):
    """The fitted models a course's states are folded through."""

    @property
    def bkt(self) -> BKT: ...

    @property
    def memory(self) -> MemoryModel: ...

    @property
    def fitted(self) -> bool: ...

    @property
    def version(self) -> str: ...


MASTERY = MasteryConfig()


def learning_graph(course: Course) -> CompetencyGraph:
    """The graph the policies run on: the course's competencies that are not groupings.

    A grouping competency (one with children, such as "Fraction foundations") is shown as a
    heading; its children carry the evidence and the prerequisites.
    """
    fw = course.framework
    leaves = [c for c in fw.competencies if not fw.children(c.id)]
    return CompetencyGraph.from_competencies(leaves)


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
        p_correct: the model's chance of a right answer on a typical next item.
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
    p_correct: float = 0.0

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
        parameter_version: the fingerprint of the model parameters it was computed with.
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
    parameter_version: str = ""

    def get(self, competency_id: str) -> CompetencyState:
        """The state of one competency. Raises: NotFound."""
        for c in self.competencies:
            if c.competency_id == competency_id:
                return c
        raise NotFound(f"no competency {competency_id!r} in course {self.course_id!r}")

    @property
    def counts(self) -> LevelCounts:
        """How many competencies are at each level (the count every page shows)."""
        return count_levels([int(c.level) for c in self.competencies])

    @property
    def reviews_due(self) -> list[CompetencyState]:
        """Competencies whose review is due, the most forgotten first."""
        due = [c for c in self.competencies if c.level is MasteryLevel.REVIEW_DUE]
        return sorted(due, key=lambda c: c.retrievability or 0.0)


# --- replay ---------------------------------------------------------------------------------

FloatMatrix = np.ndarray[Any, np.dtype[np.float64]]


@dataclass
class Replay:
    """The learner models folded over several learners' events (internal to the services).

    Row ``r`` of every matrix is the learner ``learner_ids[r]``; columns are graph codes.
    """

    graph: CompetencyGraph
    models: LearnerModels
    learner_ids: list[str]
    bkt_codes: list[int]
    bkt_states: list[Any]
    memory_states: list[Any]
    tracker: MasteryTracker
    known: FloatMatrix
    last_at: list[list[datetime | None]]
    history: list[list[ProgressPoint]]
    n_events: list[int]

    def copy(self) -> Replay:
        """An independent copy of the folded state, to fold more into without changing this
        one (the course's graph and models are shared)."""
        return Replay(
            graph=self.graph,
            models=self.models,
            learner_ids=list(self.learner_ids),
            bkt_codes=self.bkt_codes,
            bkt_states=copy.deepcopy(self.bkt_states),
            memory_states=copy.deepcopy(self.memory_states),
            tracker=self.tracker.copy(),
            known=self.known.copy(),
            last_at=[list(row) for row in self.last_at],
            history=[list(row) for row in self.history],
            n_events=list(self.n_events),
        )

    def to_doc(self, row: int) -> dict[str, Any]:
        """One learner's fold as a JSON document, to store and continue later
        (:meth:`from_docs`)."""
        bkt = self.bkt_states[row]
        return {
            "learner_id": self.learner_ids[row],
            "bkt": {
                "p_known": {str(k): v for k, v in bkt.p_known.items()},
                "p_unknown": {str(k): v for k, v in bkt.p_unknown.items()},
            },
            "memory": self.memory_states[row].to_dict(),
            "tracker": self.tracker.row_doc(row),
            "known": self.known[row].tolist(),
            "last_at": [None if at is None else at.isoformat() for at in self.last_at[row]],
            "history": [[p.day.isoformat(), p.proficient, p.mastered] for p in self.history[row]],
            "n_events": self.n_events[row],
        }

    @classmethod
    def from_docs(
        cls,
        course: Course,
        models: LearnerModels,
        learner_ids: Sequence[str],
        docs: Sequence[Mapping[str, Any] | None],
    ) -> Replay:
        """The fold of :meth:`to_doc` documents, one per learner of ``learner_ids`` (None: a
        learner with nothing folded yet), ready to continue.

        Raises:
            InvalidInput: a document does not fit this course (wrong number of competencies).
            KeyError: a document lacks a part (it was not written by :meth:`to_doc`).
        """
        rep = start_replay(course, models, learner_ids)
        for row, doc in enumerate(docs):
            if doc is None:
                continue
            known = np.asarray(doc["known"], dtype=np.float64)
            if known.shape != (rep.graph.n,):
                raise InvalidInput("a stored fold of another course", [Problem("known", "size")])
            bkt = rep.bkt_states[row]
            bkt.p_known.update({int(k): float(v) for k, v in doc["bkt"]["p_known"].items()})
            bkt.p_unknown.update({int(k): float(v) for k, v in doc["bkt"]["p_unknown"].items()})
            rep.memory_states[row] = MemoryState.from_dict(doc["memory"])
            rep.tracker.set_row(row, doc["tracker"])
            rep.known[row] = known
            rep.last_at[row] = [
                None if at is None else datetime.fromisoformat(at) for at in doc["last_at"]
            ]
            rep.history[row] = [
                ProgressPoint(date.fromisoformat(day), int(p), int(m))
                for day, p, m in doc["history"]
            ]
            rep.n_events[row] = int(doc["n_events"])
        return rep

    def p_known(self) -> FloatMatrix:
        """P(known) per learner x graph code."""
        return self.known.copy()

    def p_correct(self) -> FloatMatrix:
        """Predicted P(correct) on a typical next item of each competency, per learner."""
        theta = self.models.bkt.params
        codes = np.asarray(self.bkt_codes)
        p = self.known
        out: FloatMatrix = p * (1.0 - theta.slip[codes]) + (1.0 - p) * (theta.guess[codes])
        return out

    def recall_row(self, row: int, now_s: float) -> FloatMatrix:
        """One learner's predicted recall per graph code at ``now_s`` (1 where never practised)."""
        out = np.ones(self.graph.n)
        memory = self.models.memory
        state = self.memory_states[row]
        for code in state.skills:
            out[code] = memory.retrievability(state, code, now_s)
        return out

    def retrievability(self, now_s: float) -> FloatMatrix:
        """Predicted recall per learner x graph code at ``now_s`` (1 where never practised)."""
        return np.stack([self.recall_row(r, now_s) for r in range(len(self.learner_ids))])


@dataclass
class _Step:
    """One learner's next move in the replay: placements, then an answer or the end of a day.

    Every step ends with a refresh of the learner's levels, as when the answers were given.
    """

    at_s: float
    places: list[tuple[float, Placement]]
    codes: list[int] = field(default_factory=list)
    correct: bool = False
    at: datetime | None = None
    day: date | None = None


def _event_codes(event: EvidenceEvent, course: Course, index: Mapping[str, int]) -> list[int]:
    named: Sequence[str] = event.competency_ids
    if not named and event.item_id:
        try:
            named = course.item(event.item_id).competencies
        except NotFound:
            named = ()
    return sorted({index[c] for c in named if c in index})


def _steps(
    course: Course,
    graph: CompetencyGraph,
    events: Sequence[EvidenceEvent],
    placements: Sequence[Placement],
) -> list[_Step]:
    """A learner's answers and finished placements in time order, closed at the end of each
    day with evidence; placements ride on the step that follows them."""
    timeline: list[tuple[datetime, int, Any]] = [
        (e.occurred_at, 1, e)
        for e in events
        if e.kind in ANSWER_KINDS or (e.kind is EvidenceKind.RUBRIC_SCORE and e.score is not None)
    ]
    timeline += [(p[0], 0, p) for p in placements]
    timeline.sort(key=lambda t: (t[0], t[1]))
    index = {cid: k for k, cid in enumerate(graph.ids)}
    steps: list[_Step] = []
    pending: list[tuple[float, Placement]] = []
    day: date | None = None

    def close(d: date) -> _Step:
        end = datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(days=1)
        return _Step(end.timestamp() - 1, pending, day=d)

    for at, kind, payload in timeline:
        if day is not None and at.date() != day:
            steps.append(close(day))
            pending = []
        day = at.date()
        if kind == 0:
            pending.append((at.timestamp(), payload))
            continue
        codes = _event_codes(payload, course, index)
        if not codes:
            continue
        if payload.kind is EvidenceKind.RUBRIC_SCORE:
            outcomes = rubric_answers(float(payload.score))
        else:
            outcomes = (bool(payload.correct),)
        for correct in outcomes:
            steps.append(_Step(at.timestamp(), pending, codes, correct, at))
            pending = []
    if day is not None:
        steps.append(close(day))
    return steps


def replay(
    course: Course,
    models: LearnerModels,
    events: Mapping[str, Sequence[EvidenceEvent]],
    *,
    placements: Mapping[str, Sequence[Placement]] | None = None,
) -> Replay:
    """Fold each learner's answers (and finished placements) in time order through the learner
    models, all learners together.

    A placement is evidence at the moment it finished: its placed levels go to the mastery
    tracker (:meth:`MasteryTracker.place`) and its P(known) raises (never lowers) the model's.
    Each answer decides the levels of its competencies (:meth:`MasteryTracker.record`, with
    the recall just before it, so an answer on a faded mastery is a review); at the end of each
    day with evidence the levels are read and a progress point is taken.

    The learners advance in lockstep: step ``t`` takes every learner's ``t``-th move in one
    :meth:`MasteryTracker.record`.
    """
    rep = start_replay(course, models, list(events))
    continue_replay(rep, course, events, placements=placements)
    return rep


#: Bump when what the fold does with the same evidence changes: stored folds are then rebuilt.
FOLD_RULES = 1


def fold_version(course: Course, models: LearnerModels) -> str:
    """What a stored fold depends on besides the evidence: the fold's rules, the model
    parameters and the course (competencies, prerequisites, items' competencies)."""
    fw = course.framework
    content = {
        "rules": FOLD_RULES,
        "mastery": str(MASTERY),
        "models": models.version,
        "graph": [[c.id, c.parent, list(c.prerequisites)] for c in fw.competencies],
        "items": [[i.id, list(i.competencies)] for i in course.items],
    }
    text = json.dumps(content, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def start_replay(course: Course, models: LearnerModels, learner_ids: Sequence[str]) -> Replay:
    """The fold of no evidence yet for ``learner_ids``: every competency at its prior."""
    graph = learning_graph(course)
    bkt = models.bkt
    skill_index = {str(s): k for k, s in enumerate(bkt.skill_ids.tolist())}
    bkt_codes = [skill_index[cid] for cid in graph.ids]
    learner_ids = list(learner_ids)
    n = len(learner_ids)
    priors = bkt.online_prior()[bkt_codes]
    return Replay(
        graph=graph,
        models=models,
        learner_ids=learner_ids,
        bkt_codes=bkt_codes,
        bkt_states=[bkt.new_state() for _ in learner_ids],
        memory_states=[models.memory.new_state() for _ in learner_ids],
        tracker=MasteryTracker(n, graph.n, MASTERY, graph=graph),
        known=np.tile(priors, (n, 1)),
        last_at=[[None] * graph.n for _ in learner_ids],
        history=[[] for _ in learner_ids],
        n_events=[0] * n,
    )


def continue_replay(
    rep: Replay,
    course: Course,
    events: Mapping[str, Sequence[EvidenceEvent]],
    *,
    placements: Mapping[str, Sequence[Placement]] | None = None,
) -> None:
    """Fold more evidence into ``rep`` (in place): each learner's ``events`` and
    ``placements``, all later than what ``rep`` has folded.

    Folding a history in two parts gives the same state as folding it at once (a property
    test checks it): a day's progress point taken at the end of the first part is replaced
    when the second part goes on in that day, and reading levels changes nothing.
    """
    graph = rep.graph
    n = len(rep.learner_ids)
    placed_by = placements or {}
    steps = [
        _steps(course, graph, events.get(lid, ()), placed_by.get(lid, ()))
        for lid in rep.learner_ids
    ]
    recall = np.ones((n, graph.n))
    now_s = np.zeros((n, 1))
    for t in range(max((len(s) for s in steps), default=0)):
        rows = [r for r in range(n) if t < len(steps[r])]
        answered: list[int] = []
        for r in rows:
            step = steps[r][t]
            for at_s, placement in step.places:
                _place(rep, r, placement, at_s)
            now_s[r, 0] = step.at_s
            if step.day is None:
                recall[r] = rep.recall_row(r, step.at_s)  # before the answer: is it a review?
                _answer(rep, r, step)
                answered.append(r)
        if answered:
            mask = np.zeros((len(answered), graph.n), dtype=np.bool_)
            for i, r in enumerate(answered):
                mask[i, steps[r][t].codes] = True
            rep.tracker.record(
                np.asarray(answered),
                mask,
                np.array([steps[r][t].correct for r in answered]),
                now_s[answered, 0],
                rep.known[answered],
                recall[answered],
            )
        closing = [r for r in rows if steps[r][t].day is not None]
        if closing:
            for r in closing:
                recall[r] = rep.recall_row(r, float(now_s[r, 0]))
            levels = rep.tracker.levels(recall)
            for r in closing:
                day = steps[r][t].day
                assert day is not None
                _add_point(rep.history[r], ProgressPoint(day, *_counts(levels[r])))


def _place(rep: Replay, row: int, placement: Placement, at_s: float) -> None:
    _, levels, p_known = placement
    graph = rep.graph
    placed = np.array([levels.get(cid, 0) for cid in graph.ids], dtype=np.int64)
    rep.tracker.place(row, placed, at_s)
    state = rep.bkt_states[row]
    for code, cid in enumerate(graph.ids):
        if cid in p_known:
            b = rep.bkt_codes[code]
            current = state.p_known.get(b, float(rep.models.bkt.params.prior[b]))
            state.p_known[b] = max(current, p_known[cid])
            rep.known[row, code] = state.p_known[b]


def _answer(rep: Replay, row: int, step: _Step) -> None:
    codes = step.codes
    bkt_skills = tuple(rep.bkt_codes[c] for c in codes)
    state = rep.models.bkt.update(
        rep.bkt_states[row], Interaction(skills=bkt_skills, correct=step.correct)
    )
    rep.models.memory.update(
        rep.memory_states[row],
        Interaction(skills=tuple(codes), correct=step.correct, timestamp_s=step.at_s),
    )
    for c, b in zip(codes, bkt_skills, strict=True):
        rep.known[row, c] = state.p_known[b]
        rep.last_at[row][c] = step.at
    rep.n_events[row] += 1


def _counts(levels: np.ndarray[Any, np.dtype[np.int64]]) -> tuple[int, int]:
    """(at least proficient, mastered) among one learner's levels, as every page counts."""
    counts = count_levels(levels)
    return counts.at_least_proficient, counts.mastered


def _add_point(history: list[ProgressPoint], point: ProgressPoint) -> None:
    if history and history[-1].day == point.day:
        history[-1] = point
    else:
        history.append(point)


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
            if e.actor_id is None or e.actor_id == e.learner_id:
                continue  # the learner's own word is a claim, not evidence (services.claims)
            for cid in e.competency_ids:
                if cid in graph.ids:
                    out.append(
                        PriorLearningClaim(
                            f"{e.id}:{cid}",
                            cid,
                            _level_of(e) if "level" in e.payload else MasteryLevel.PROFICIENT,
                            e.note or "prior learning",
                            accepted_by=e.actor_id,
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


def compute_states(
    course: Course,
    models: LearnerModels,
    events: Mapping[str, Sequence[EvidenceEvent]],
    *,
    now: datetime,
    placements: Mapping[str, Sequence[Placement]] | None = None,
) -> tuple[dict[str, LearnerState], Replay]:
    """Several learners' states from their events (pure: no database), replayed together.

    Args:
        course: the course.
        models: its learner models.
        events: learner id -> the learner's events, oldest first.
        now: the time the states are computed for.
        placements: learner id -> their finished placement checks.
    """
    rep = replay(course, models, events, placements=placements)
    return read_states(rep, course, events, now=now), rep


def read_states(
    rep: Replay,
    course: Course,
    events: Mapping[str, Sequence[EvidenceEvent]],
    *,
    now: datetime,
) -> dict[str, LearnerState]:
    """What the learners of a fold look like at ``now`` (reads ``rep``, changes nothing).

    ``events`` are every folded learner's events: their overrides, claims and self-assessments
    are applied here, over the levels the fold derived.
    """
    models = rep.models
    graph = rep.graph
    now_s = now.timestamp()
    recall = rep.retrievability(now_s)
    derived = rep.tracker.levels(recall)
    p_known = rep.p_known()
    p_correct = rep.p_correct()
    fw = course.framework
    comps = [fw.get(cid) for cid in graph.ids]
    practisable = [bool(course.items_for(cid)) for cid in graph.ids]
    groups = [(c.id, c.title) for c in fw.competencies if fw.children(c.id)]
    out: dict[str, LearnerState] = {}
    for row, learner_id in enumerate(rep.learner_ids):
        statuses = apply_overrides(graph, derived[row], mastery_events(events[learner_id], graph))
        levels = np.array([int(s.level) for s in statuses], dtype=np.int64)
        unlocked = graph.unlocked(at_least_proficient(levels))
        memory_state = rep.memory_states[row]
        states: list[CompetencyState] = []
        for code, comp in enumerate(comps):
            seen = code in memory_state.skills
            due_at = None
            if seen:
                due_s = models.memory.next_review_s(
                    memory_state, code, MASTERY.review_retrievability
                )
                due_at = datetime.fromtimestamp(min(due_s, 4e9), tz=UTC)
            status = statuses[code]
            states.append(
                CompetencyState(
                    competency_id=comp.id,
                    title=comp.title,
                    group_id=comp.parent,
                    p_known=float(p_known[row, code]),
                    level=status.level,
                    derived_level=status.derived_level,
                    last_practised=rep.last_at[row][code],
                    evidence_count=int(rep.tracker.attempts[row, code]),
                    n_correct=int(rep.tracker.n_correct[row, code]),
                    unlocked=bool(unlocked[code]),
                    retrievability=float(recall[row, code]) if seen else None,
                    review_due_at=due_at,
                    practisable=practisable[code],
                    notes=status.notes,
                    self_assessed=status.self_assessed,
                    prerequisites=comp.prerequisites,
                    p_correct=float(p_correct[row, code]),
                )
            )
        history = list(rep.history[row])
        _add_point(history, ProgressPoint(now.date(), *_counts(levels)))
        out[learner_id] = LearnerState(
            learner_id=learner_id,
            course_id=course.id,
            course_title=course.title,
            computed_at=now,
            competencies=states,
            groups=groups,
            history=history,
            n_events=rep.n_events[row],
            models_fitted=models.fitted,
            parameter_version=models.version,
        )
    return out


def compute_state(
    course: Course,
    models: LearnerModels,
    events: Sequence[EvidenceEvent],
    *,
    learner_id: str,
    now: datetime,
    placements: Sequence[Placement] = (),
) -> tuple[LearnerState, Replay]:
    """One learner's state from their events (pure: no database): :func:`compute_states` of
    one; the replay's row 0 is theirs."""
    states, rep = compute_states(
        course, models, {learner_id: events}, now=now, placements={learner_id: placements}
    )
    return states[learner_id], rep
