"""Refitting the platform's models without surprising anyone.

A refit changes the parameters every learner's levels are derived from, so it can move levels
that learners and teachers have seen. :func:`preview_refit` re-derives every learner's levels
from the event log under the current and the refitted models and reports each difference;
:func:`apply_refit` stores the refitted models only when asked, after the preview was read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from zoped.engine.learner_view import compute_states
from zoped.engine.mastery import MasteryLevel
from zoped.services.courses import get_course
from zoped.services.models import CandidateFit, fit_candidate_models, platform_models, store_models
from zoped.services.pathways import load_replay_inputs


@dataclass(frozen=True)
class LevelChange:
    """One learner's level on one competency, before and after the refit."""

    learner_id: str
    competency_id: str
    before: MasteryLevel
    after: MasteryLevel


@dataclass(frozen=True)
class RefitPreview:
    """What a refit would change, learner by learner.

    Attributes:
        course_id: the course.
        n_answers: answers the refit saw.
        n_learners: learners whose levels were compared.
        fitted: False when there were too few answers (nothing would change).
        note: why nothing was fitted, when nothing was.
        changes: every (learner, competency) whose level would change.
        candidate: the refitted models, for :func:`apply_refit`.
    """

    course_id: str
    n_answers: int
    n_learners: int
    fitted: bool
    note: str
    changes: tuple[LevelChange, ...]
    candidate: CandidateFit

    @property
    def learners_affected(self) -> int:
        return len({c.learner_id for c in self.changes})

    @property
    def n_lost_mastery(self) -> int:
        """Changes that take a competency from mastered (or review due) to below it."""
        top = (MasteryLevel.MASTERED, MasteryLevel.REVIEW_DUE)
        return sum(1 for c in self.changes if c.before in top and c.after not in top)

    @property
    def n_lowered(self) -> int:
        return sum(1 for c in self.changes if _rank(c.after) < _rank(c.before))

    @property
    def n_raised(self) -> int:
        return sum(1 for c in self.changes if _rank(c.after) > _rank(c.before))


def _rank(level: MasteryLevel) -> int:
    # Review due is a mastered competency waiting for a check: rank it just under mastered.
    return 35 if level is MasteryLevel.REVIEW_DUE else 10 * int(level)


def preview_refit(session: Session, *, course_id: str, now: datetime) -> RefitPreview:
    """Fit new models on the course's answers and compare every learner's levels, storing nothing.

    Raises:
        NotFound: no such course.
    """
    course = get_course(session, course_id=course_id)
    candidate = fit_candidate_models(session, course=course)
    if candidate.models is None:
        return RefitPreview(course_id, candidate.n_answers, 0, False, candidate.note, (), candidate)
    inputs = load_replay_inputs(session, list(candidate.learner_ids), course_id, now)
    current = platform_models(session, course=course)
    before, _ = compute_states(
        course, current, inputs.events, now=now, placements=inputs.placements
    )
    after, _ = compute_states(
        course, candidate.models, inputs.events, now=now, placements=inputs.placements
    )
    changes = [
        LevelChange(learner_id, old.competency_id, old.level, new.level)
        for learner_id in sorted(before)
        for old, new in zip(
            before[learner_id].competencies, after[learner_id].competencies, strict=True
        )
        if old.level is not new.level
    ]
    return RefitPreview(
        course_id, candidate.n_answers, len(before), True, "", tuple(changes), candidate
    )


def apply_refit(session: Session, *, preview: RefitPreview, now: datetime) -> bool:
    """Store the models a preview fitted; False when the preview fitted nothing."""
    if preview.candidate.models is None:
        return False
    store_models(session, models=preview.candidate.models, now=now)
    return True
