"""Learners' evidence folded into their state on a course: the one fold every page, the API,
the class dashboard and the simulator's benchmarks rest on.

:func:`replay` folds learners' answers (and rubric scores, and finished placement checks) in
time order through the course's knowledge-tracing and memory models into mastery levels
(:mod:`zoped.engine.mastery`). A fold can be continued (:func:`continue_replay`), copied and
stored (:meth:`Replay.to_doc`); :mod:`zoped.engine.learner_view` reads what a learner sees
from it. Pure: no database, no clock; the services load the inputs and pass ``now``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from zoped.domain.course import Course
from zoped.domain.evidence import ANSWER_KINDS, EvidenceEvent, EvidenceKind
from zoped.engine._bkt_kernels import p_correct
from zoped.engine.base import Interaction
from zoped.engine.bkt import BKT
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import (
    MasteryConfig,
    MasteryLevel,
    MasteryTracker,
    count_levels,
    rubric_answers,
)
from zoped.engine.memo import per_course
from zoped.engine.memory import MemoryModel, MemoryState
from zoped.engine.memory_curves import (
    CURVE_CODE,
    SECONDS_PER_DAY,
    interval_days,
    recall_cells,
)
from zoped.engine.overrides import (
    MasteryEvent,
    mastery_event_doc,
    mastery_event_from_doc,
    mastery_events,
)
from zoped.engine.trail import (
    ActivityTrail,
    Answers,
    add_answer,
    answers_doc,
    answers_from_doc,
)
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


@per_course
def learning_graph(course: Course) -> CompetencyGraph:
    """The graph the policies run on: the course's competencies that are not groupings.

    A grouping competency (one with children, such as "Fraction foundations") is shown as a
    heading; its children carry the evidence and the prerequisites.
    """
    fw = course.framework
    leaves = [c for c in fw.competencies if not fw.children(c.id)]
    return CompetencyGraph.from_competencies(leaves)


@dataclass(frozen=True)
class ProgressPoint:
    """How many competencies were at least proficient, and mastered, at the end of a day."""

    day: date
    proficient: int
    mastered: int


# --- replay ---------------------------------------------------------------------------------

FloatMatrix = np.ndarray[Any, np.dtype[np.float64]]
BoolMatrix = np.ndarray[Any, np.dtype[np.bool_]]


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
    judgements: list[list[MasteryEvent]]
    activities: list[ActivityTrail]
    recent_answers: list[dict[int, Answers]]

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
            judgements=[list(row) for row in self.judgements],
            activities=[copy.deepcopy(trail) for trail in self.activities],
            recent_answers=[dict(row) for row in self.recent_answers],
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
            "judgements": [mastery_event_doc(m) for m in self.judgements[row]],
            "activities": self.activities[row].to_doc(),
            "recent_answers": {
                str(code): answers_doc(latest) for code, latest in self.recent_answers[row].items()
            },
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
        rows = [row for row, doc in enumerate(docs) if doc is not None]
        present = [doc for doc in docs if doc is not None]
        if not present:
            return rep
        # The arrays of every learner at once; the rest learner by learner.
        try:
            known = np.array([doc["known"] for doc in present], dtype=np.float64)
        except (TypeError, ValueError):
            known = np.empty(0)
        if known.shape != (len(rows), rep.graph.n):
            raise InvalidInput("a stored fold of another course", [Problem("known", "size")])
        rep.known[rows] = known
        rep.tracker.set_rows(rows, [doc["tracker"] for doc in present])
        for row, doc in zip(rows, present, strict=True):
            bkt = rep.bkt_states[row]
            bkt.p_known.update({int(k): float(v) for k, v in doc["bkt"]["p_known"].items()})
            bkt.p_unknown.update({int(k): float(v) for k, v in doc["bkt"]["p_unknown"].items()})
            rep.memory_states[row] = MemoryState.from_dict(doc["memory"])
            rep.last_at[row] = [
                None if at is None else datetime.fromisoformat(at) for at in doc["last_at"]
            ]
            rep.history[row] = [
                ProgressPoint(date.fromisoformat(day), int(p), int(m))
                for day, p, m in doc["history"]
            ]
            rep.n_events[row] = int(doc["n_events"])
            rep.judgements[row] = [mastery_event_from_doc(m) for m in doc["judgements"]]
            rep.activities[row] = ActivityTrail.from_doc(doc["activities"])
            rep.recent_answers[row] = {
                int(code): answers_from_doc(latest)
                for code, latest in doc["recent_answers"].items()
            }
        return rep

    def p_known(self) -> FloatMatrix:
        """P(known) per learner x graph code."""
        return self.known.copy()

    def p_correct(self) -> FloatMatrix:
        """Predicted P(correct) on a typical next item of each competency, per learner."""
        theta = self.models.bkt.params
        codes = np.asarray(self.bkt_codes)
        p = self.known
        out: FloatMatrix = p_correct(p, 1.0 - p, theta.guess[codes], theta.slip[codes])
        return out

    def recall_row(self, row: int, now_s: float, codes: Sequence[int] | None = None) -> FloatMatrix:
        """One learner's predicted recall per graph code at ``now_s`` (1 where never practised;
        with ``codes``, 1 for every other code too)."""
        out = np.ones(self.graph.n)
        memory = self.models.memory
        state = self.memory_states[row]
        for code in state.skills if codes is None else codes:
            if code in state.skills:
                out[code] = memory.retrievability(state, code, now_s)
        return out

    def retrievability(self, now_s: float) -> FloatMatrix:
        """Predicted recall per learner x graph code at ``now_s`` (1 where never practised)."""
        stability, last_review, seen = self._memory_cells()
        curve = CURVE_CODE[self.models.memory.curve]
        recall = recall_cells(stability, last_review, seen, now_s, curve)
        out: FloatMatrix = np.where(seen, recall, 1.0)
        return out

    def review_due_s(self, target_retention: float) -> FloatMatrix:
        """When recall falls to ``target_retention``, per learner x graph code, in epoch
        seconds (NaN where never practised), as :meth:`MemoryModel.next_review_s` says."""
        stability, last_review, seen = self._memory_cells()
        days = interval_days(stability, target_retention, self.models.memory.curve)
        out: FloatMatrix = np.where(seen, last_review + days * SECONDS_PER_DAY, np.nan)
        return out

    def _memory_cells(self) -> tuple[FloatMatrix, FloatMatrix, BoolMatrix]:
        """The memory states as (stability in days, last review, seen) per learner x code:
        one numpy pass for a class instead of a call per cell."""
        shape = (len(self.learner_ids), self.graph.n)
        stability, last_review = np.ones(shape), np.zeros(shape)
        seen = np.zeros(shape, dtype=np.bool_)
        cells = [
            (row, code, mem.stability_days, mem.last_review_s)
            for row, state in enumerate(self.memory_states)
            for code, mem in state.skills.items()
        ]
        if cells:
            rows, codes, days, at = zip(*cells, strict=True)
            stability[rows, codes] = days
            last_review[rows, codes] = at
            seen[rows, codes] = True
        return stability, last_review, seen


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
    rubric: bool = False


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
        rubric = payload.kind is EvidenceKind.RUBRIC_SCORE
        outcomes = rubric_answers(float(payload.score)) if rubric else (bool(payload.correct),)
        for correct in outcomes:
            steps.append(_Step(at.timestamp(), pending, codes, correct, at, rubric=rubric))
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
FOLD_RULES = 4


def fold_version(course: Course, models: LearnerModels) -> str:
    """What a stored fold depends on besides the evidence: the fold's rules, the model
    parameters and the course (competencies, prerequisites, items' competencies)."""
    return _fold_version(course, models.version)


@per_course
def _fold_version(course: Course, models_version: str) -> str:
    fw = course.framework
    content = {
        "rules": FOLD_RULES,
        "mastery": str(MASTERY),
        "models": models_version,
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
        judgements=[[] for _ in learner_ids],
        activities=[ActivityTrail() for _ in learner_ids],
        recent_answers=[{} for _ in learner_ids],
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
    for r, lid in enumerate(rep.learner_ids):
        mine = events.get(lid, ())
        rep.judgements[r] += mastery_events(mine, graph, rep.judgements[r])
        rep.activities[r].add(mine)
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
                # Before the answer, on what it answers: is it a review?
                recall[r] = rep.recall_row(r, step.at_s, step.codes)
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
                add_progress_point(rep.history[r], ProgressPoint(day, *progress_counts(levels[r])))


@dataclass(frozen=True)
class Change:
    """How one competency the event bore on moved with it (levels as the evidence gives them,
    before overrides).

    Attributes:
        competency_id: the competency.
        level_before: its level just before the event.
        level_after: its level with the event.
        p_known_before: P(known) just before.
        p_known_after: P(known) with the event.
    """

    competency_id: str
    level_before: MasteryLevel
    level_after: MasteryLevel
    p_known_before: float
    p_known_after: float


def step(rep: Replay, course: Course, event: EvidenceEvent) -> tuple[Replay, list[Change]]:
    """Fold one event, later than everything ``rep`` folded, into a copy of ``rep``: the new
    fold and what moved on the competencies the event bears on. ``rep`` is not changed.

    :func:`continue_replay` over a learner's events gives the same fold as stepping through
    them one at a time (a property test checks it); it does so for many learners at once.
    """
    later = rep.copy()
    continue_replay(later, course, {event.learner_id: [event]})
    row = rep.learner_ids.index(event.learner_id)
    at_s = event.occurred_at.timestamp()
    index = {cid: k for k, cid in enumerate(rep.graph.ids)}
    codes = _event_codes(event, course, index)
    before = rep.tracker.levels(rep.retrievability(at_s))
    after = later.tracker.levels(later.retrievability(at_s))
    changes = [
        Change(
            rep.graph.ids[code],
            MasteryLevel(int(before[row, code])),
            MasteryLevel(int(after[row, code])),
            float(rep.known[row, code]),
            float(later.known[row, code]),
        )
        for code in codes
    ]
    return later, changes


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
        if not step.rubric:
            latest = rep.recent_answers[row]
            latest[c] = add_answer(latest.get(c, ()), math.floor(step.at_s), step.correct)
    rep.n_events[row] += 1


def progress_counts(levels: np.ndarray[Any, np.dtype[np.int64]]) -> tuple[int, int]:
    """(at least proficient, mastered) among one learner's levels, as every page counts."""
    counts = count_levels(levels)
    return counts.at_least_proficient, counts.mastered


#: Progress history is kept daily for this many days back, then weekly, then monthly before
#: two years: a chart's worth of points, however long the learner has been learning.
DAILY_DAYS, WEEKLY_DAYS = 90, 730


def _period(day: date, latest: date) -> tuple[int, ...]:
    """The bucket a past day's point is kept in: the day, its ISO week, or its month."""
    age = (latest - day).days
    if age <= DAILY_DAYS:
        return (day.toordinal(),)
    if age <= WEEKLY_DAYS:
        return day.isocalendar()[:2]
    return (day.year, day.month, 0)


def add_progress_point(history: list[ProgressPoint], point: ProgressPoint) -> None:
    """Add the point of a day (replacing that day's earlier point), then keep only the last
    point of each week, or month, among the old ones (:data:`DAILY_DAYS`, :data:`WEEKLY_DAYS`).
    """
    if history and history[-1].day == point.day:
        history[-1] = point
        return
    history.append(point)
    kept: dict[tuple[int, ...], ProgressPoint] = {}
    for past in history:
        kept[_period(past.day, point.day)] = past  # a later point of the bucket wins
    if len(kept) < len(history):
        history[:] = list(kept.values())
