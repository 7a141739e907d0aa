"""The platform's learner models: fitted from the event log, stored, and loaded per course.

:func:`fit_platform_models` replays every stored answer of a course into an
:class:`~zoped.engine.base.InteractionLog` (skills = the course's competencies, time = when each
answer occurred), fits BKT per competency and the memory model's global parameters, and stores
both as JSON in ``model_parameters``. :func:`platform_models` loads them, or, for a course never
fitted (a fresh install, a new course), builds defaults from the authors' item difficulties, so
the pages work from the first answer.

Fitting is deterministic (fixed seeds), so refitting on the same log gives the same parameters.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from zoped.domain.course import Course
from zoped.domain.evidence import ANSWER_KINDS
from zoped.engine.base import InteractionLog
from zoped.engine.bkt import BKT, BKTParams
from zoped.engine.memo import per_course
from zoped.engine.memory import MemoryModel, MemoryParameters
from zoped.errors import DidNotConverge, InvalidInput
from zoped.services import transaction
from zoped.services.courses import all_course_ids, get_course
from zoped.store import jsondocs
from zoped.store.repositories import append_audit
from zoped.store.tables import courses, evidence_events, model_parameters, users

BKT_MODEL = "bkt"
MEMORY_MODEL = "memory"
#: Below this many answers a fit says more about noise than about the course: keep defaults.
MIN_ANSWERS_TO_FIT = 1000
#: ... and from this many learners: one learner's log cannot tell a prior from learning.
MIN_LEARNERS_TO_FIT = 10
DEFAULT_LEARN = 0.15
DEFAULT_GUESS = 0.2
DEFAULT_SLIP = 0.1


@dataclass(frozen=True)
class PlatformModels:
    """The learner models a course's pages use.

    Attributes:
        course_id: the course.
        bkt: BKT with one skill per competency of the course (skill ids = competency ids).
        memory: the memory model (timestamps in seconds).
        fitted: False when these are defaults from item difficulty.
        n_answers: answers the fit saw (0 for defaults).
    """

    course_id: str
    bkt: BKT
    memory: MemoryModel
    fitted: bool
    n_answers: int = 0

    @functools.cached_property
    def version(self) -> str:
        """A short fingerprint of the parameters: states computed with the same version agree."""
        memory = self.memory.parameters
        content = {
            "bkt": self.bkt.params.to_dict(),
            "memory": asdict(memory) if memory is not None else None,
        }
        text = json.dumps(content, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class FitSummary:
    """What one course's fit did."""

    course_id: str
    n_answers: int
    fitted: bool
    note: str = ""


@per_course
def default_bkt_params(course: Course) -> BKTParams:
    """BKT parameters from the authors' item difficulty: harder items, a lower prior.

    prior = 0.5 - 0.4 x (mean difficulty of the competency's items), in [0.1, 0.5];
    competencies without rated items get the 0.5-difficulty prior (0.3).
    """
    priors = []
    for cid in course.framework.ids:
        rated = [i.difficulty for i in course.items_for(cid) if i.difficulty is not None]
        mean = float(np.mean(rated)) if rated else 0.5
        priors.append(float(np.clip(0.5 - 0.4 * mean, 0.1, 0.5)))
    n = len(priors)
    params = BKTParams.from_values(
        prior=priors,
        learn=[DEFAULT_LEARN] * n,
        guess=[DEFAULT_GUESS] * n,
        slip=[DEFAULT_SLIP] * n,
    )
    for name in ("prior", "learn", "guess", "slip", "forget"):
        getattr(params, name).setflags(write=False)  # kept per course: shared, never changed
    return params


def _answer_log(session: Session, course: Course) -> InteractionLog:
    """Every answer of the course's school's learners on its items, as an interaction log
    sorted by learner and time (another school's course may use the same item ids)."""
    item_skills = {i.id: i.competencies for i in course.items}
    school = select(courses.c.school_id).where(courses.c.id == course.id).scalar_subquery()
    learners_of_school = select(users.c.id).where(users.c.school_id == school)
    skill_ids = list(course.framework.ids)
    skill_code = {cid: k for k, cid in enumerate(skill_ids)}
    stmt = (
        select(
            evidence_events.c.learner_id,
            evidence_events.c.item_id,
            evidence_events.c.competency_ids,
            evidence_events.c.correct,
            evidence_events.c.occurred_at,
        )
        .where(
            evidence_events.c.kind.in_([str(k) for k in ANSWER_KINDS]),
            evidence_events.c.item_id.in_(list(item_skills)),
            evidence_events.c.learner_id.in_(learners_of_school),
        )
        .order_by(evidence_events.c.learner_id, evidence_events.c.occurred_at)
    )
    learners: dict[str, int] = {}
    learner, item, ptr, idx, correct, times = [], [], [0], [], [], []
    item_code = {iid: k for k, iid in enumerate(item_skills)}
    for row in session.execute(stmt):
        named = jsondocs.load_ids(row.competency_ids) or item_skills[row.item_id]
        codes = sorted({skill_code[c] for c in named if c in skill_code})
        if not codes:
            continue
        learner.append(learners.setdefault(row.learner_id, len(learners)))
        item.append(item_code[row.item_id])
        idx.extend(codes)
        ptr.append(len(idx))
        correct.append(1 if row.correct else 0)
        times.append(row.occurred_at.timestamp())
    return InteractionLog(
        learner=np.asarray(learner, dtype=np.int64),
        item=np.asarray(item, dtype=np.int64),
        skill_ptr=np.asarray(ptr, dtype=np.int64),
        skill_idx=np.asarray(idx, dtype=np.int64),
        correct=np.asarray(correct, dtype=np.int8),
        order=np.asarray(times, dtype=np.float64),
        learner_ids=np.asarray(list(learners), dtype=object),
        skill_ids=np.asarray(skill_ids, dtype=object),
        item_ids=np.asarray(list(item_skills), dtype=object),
        timestamp_s=np.asarray(times, dtype=np.float64),
    )


def _store(
    session: Session, course_id: str, model: str, doc: dict[str, Any], at: datetime, n: int
) -> None:
    session.execute(
        delete(model_parameters).where(
            model_parameters.c.course_id == course_id, model_parameters.c.model == model
        )
    )
    session.execute(
        insert(model_parameters),
        [
            {
                "course_id": course_id,
                "model": model,
                "parameters": jsondocs.dump("model_params", doc),
                "fitted_at": at,
                "n_answers": n,
            }
        ],
    )


@dataclass(frozen=True)
class CandidateFit:
    """Models fitted on a course's stored answers, not yet stored.

    Attributes:
        models: the fitted models, or None when there were too few answers to fit.
        n_answers: answers the fit saw.
        learner_ids: the learners whose answers it saw.
        note: why nothing was fitted, when nothing was.
    """

    models: PlatformModels | None
    n_answers: int
    learner_ids: tuple[str, ...]
    note: str = ""


def fit_candidate_models(session: Session, *, course: Course) -> CandidateFit:
    """Fit BKT and the memory model on the course's stored answers, without storing them."""
    log = _answer_log(session, course)
    n = len(log)
    learner_ids = tuple(str(x) for x in log.learner_ids)
    if n < MIN_ANSWERS_TO_FIT or log.n_learners < MIN_LEARNERS_TO_FIT:
        note = f"only {n} answers from {log.n_learners} learners: defaults kept"
        return CandidateFit(None, n, learner_ids, note)
    bkt = BKT(n_restarts=3, max_iter=60, seed=0).fit(log)
    memory = MemoryModel(MemoryParameters(), max_iter=60)
    try:
        memory.fit(log)
    except DidNotConverge:
        memory = MemoryModel(MemoryParameters())
    ids = np.asarray(course.framework.ids, dtype=object)
    models = PlatformModels(course.id, BKT.from_params(bkt.params, ids), memory, True, n)
    return CandidateFit(models, n, learner_ids)


def store_models(session: Session, *, models: PlatformModels, now: datetime) -> None:
    """Store a course's fitted models (replacing the previous ones) and audit the change."""
    with transaction(session):
        skill_ids = [str(x) for x in models.bkt.skill_ids]
        bkt_doc = {"skill_ids": skill_ids, **models.bkt.params.to_dict()}
        # A memory model built with parameters always has them; defaults only guard the type.
        memory_params = models.memory.parameters or MemoryParameters()
        memory_doc: dict[str, Any] = {"parameters": asdict(memory_params)}
        n = models.n_answers
        _store(session, models.course_id, BKT_MODEL, bkt_doc, now, n)
        _store(session, models.course_id, MEMORY_MODEL, memory_doc, now, n)
        append_audit(
            session,
            at=now,
            actor_id=None,
            action="models.fit",
            subject_type="course",
            subject_id=models.course_id,
            details={"answers": n},
        )


def fit_course_models(session: Session, *, course_id: str, now: datetime) -> FitSummary:
    """Fit and store one course's BKT and memory parameters from its stored answers.

    Raises:
        NotFound: no such course.
    """
    course = get_course(session, course_id=course_id)
    candidate = fit_candidate_models(session, course=course)
    if candidate.models is None:
        return FitSummary(course_id, candidate.n_answers, False, candidate.note)
    store_models(session, models=candidate.models, now=now)
    return FitSummary(course_id, candidate.n_answers, True)


def fit_platform_models(session: Session, *, now: datetime) -> list[FitSummary]:
    """Fit and store the models of every course of every school (the demo seeding calls this
    once)."""
    return [fit_course_models(session, course_id=c, now=now) for c in all_course_ids(session)]


def platform_models(session: Session, *, course: Course) -> PlatformModels:
    """The stored models of a course, or defaults from item difficulty when never fitted.

    Competencies added to the course after the fit get the default parameters.
    """
    rows = {
        r.model: r
        for r in session.execute(
            select(model_parameters).where(model_parameters.c.course_id == course.id)
        )
    }
    ids = list(course.framework.ids)
    defaults = default_bkt_params(course)
    fitted = BKT_MODEL in rows and MEMORY_MODEL in rows
    params = defaults
    memory_params = MemoryParameters()
    n_answers = 0
    if fitted:
        doc = jsondocs.load("model_params", rows[BKT_MODEL].parameters)
        by_id = {cid: k for k, cid in enumerate(doc["skill_ids"])}
        matrix = defaults.as_matrix()
        stored = np.column_stack(
            [doc[name] for name in ("prior", "learn", "guess", "slip", "forget")]
        )
        for k, cid in enumerate(ids):
            if cid in by_id:
                matrix[k] = stored[by_id[cid]]
        try:
            params = BKTParams.from_matrix(matrix)
            mem_doc = jsondocs.load("model_params", rows[MEMORY_MODEL].parameters)
            memory_params = MemoryParameters.from_dict(mem_doc["parameters"])
            n_answers = int(rows[BKT_MODEL].n_answers)
        except (InvalidInput, KeyError):
            params, memory_params, fitted = defaults, MemoryParameters(), False
    bkt = BKT.from_params(params, np.asarray(ids, dtype=object))
    return PlatformModels(course.id, bkt, MemoryModel(memory_params), fitted, n_answers)


__all__ = [
    "FitSummary",
    "PlatformModels",
    "default_bkt_params",
    "fit_course_models",
    "fit_platform_models",
    "platform_models",
]
