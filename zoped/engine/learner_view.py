"""What a reader sees of a fold at ``now``: every competency's level, chances and review date.

:func:`read_states` reads a fold (:mod:`zoped.engine.fold`) at ``now`` (recall fades with it),
with teacher overrides (undone by a later event that ``supersedes`` them), accepted prior
learning and self-assessments (shown, never decisive) applied by
:func:`zoped.engine.overrides.apply_overrides`. The learner's, the guardian's and the teacher's
pages, and the JSON API, all show this. Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np

from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceEvent
from zoped.engine.fold import (
    MASTERY,
    LearnerModels,
    Placement,
    ProgressPoint,
    Replay,
    add_progress_point,
    progress_counts,
    replay,
)
from zoped.engine.mastery import LevelCounts, MasteryLevel, at_least_proficient, count_levels
from zoped.engine.overrides import (
    apply_overrides,
)
from zoped.errors import NotFound


@dataclass(frozen=True, slots=True)
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
        recent: the latest answers on it (epoch second, right), oldest first, at most
            :data:`zoped.engine.trail.RECENT_ANSWERS` (see :attr:`recent_answers`).
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
    recent: tuple[tuple[int, bool], ...] = ()

    @property
    def level_label(self) -> str:
        """The level in plain words."""
        return self.level.label

    @property
    def recent_answers(self) -> tuple[tuple[datetime, bool], ...]:
        """The latest answers on it (when, right), oldest first."""
        return tuple((_at(at_s), right) for at_s, right in self.recent)


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
        own_events: events the learner recorded themselves (not a teacher for them).
        last_own_at: when the latest of those occurred (None: none yet).
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
    own_events: int = 0
    last_own_at: datetime | None = None

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


def _at(at_s: float) -> datetime:
    return datetime.fromtimestamp(at_s, tz=UTC)


def _when(at_s: float | None) -> datetime | None:
    return None if at_s is None else _at(at_s)


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
    return read_states(rep, course, now=now), rep


def read_states(rep: Replay, course: Course, *, now: datetime) -> dict[str, LearnerState]:
    """What the learners of a fold look like at ``now`` (reads ``rep``, changes nothing): the
    overrides, accepted claims and self-assessments the fold gathered are applied over the
    levels it derived."""
    models = rep.models
    graph = rep.graph
    now_s = now.timestamp()
    recall = rep.retrievability(now_s)
    derived = rep.tracker.levels(recall)
    # Python lists, read cell by cell below (indexing a numpy array per cell costs more than
    # the rest of the loop on a class page).
    recall_rows = recall.tolist()
    due_rows = np.minimum(rep.review_due_s(MASTERY.review_retrievability), 4e9).tolist()
    p_known_rows = rep.p_known().tolist()
    p_correct_rows = rep.p_correct().tolist()
    attempts_rows = rep.tracker.attempts.tolist()
    n_correct_rows = rep.tracker.n_correct.tolist()
    fw = course.framework
    comps = [fw.get(cid) for cid in graph.ids]
    practisable = [bool(course.items_for(cid)) for cid in graph.ids]
    groups = [(c.id, c.title) for c in fw.competencies if fw.children(c.id)]
    out: dict[str, LearnerState] = {}
    for row, learner_id in enumerate(rep.learner_ids):
        statuses = apply_overrides(graph, derived[row], rep.judgements[row])
        levels = np.array([int(s.level) for s in statuses], dtype=np.int64)
        unlocked = graph.unlocked(at_least_proficient(levels))
        skills = rep.memory_states[row].skills
        recall_row, due_row = recall_rows[row], due_rows[row]
        last_at, recent = rep.last_at[row], rep.recent_answers[row]
        states: list[CompetencyState] = []
        for code, comp in enumerate(comps):
            seen = code in skills
            status = statuses[code]
            states.append(
                CompetencyState(
                    competency_id=comp.id,
                    title=comp.title,
                    group_id=comp.parent,
                    p_known=p_known_rows[row][code],
                    level=status.level,
                    derived_level=status.derived_level,
                    last_practised=last_at[code],
                    evidence_count=attempts_rows[row][code],
                    n_correct=n_correct_rows[row][code],
                    unlocked=bool(unlocked[code]),
                    retrievability=recall_row[code] if seen else None,
                    review_due_at=_at(due_row[code]) if seen else None,
                    practisable=practisable[code],
                    notes=status.notes,
                    self_assessed=status.self_assessed,
                    prerequisites=comp.prerequisites,
                    p_correct=p_correct_rows[row][code],
                    recent=recent.get(code, ()),
                )
            )
        history = list(rep.history[row])
        add_progress_point(history, ProgressPoint(now.date(), *progress_counts(levels)))
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
            own_events=rep.activities[row].own_events,
            last_own_at=_when(rep.activities[row].last_own_at_s),
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
