"""The JSON API routers, mounted under /api/v1.

Each route parses, calls a service, maps the result to a schema; the authorization policy
(:mod:`zoped.services.policy`) decides, and errors become the one JSON shape
(:mod:`zoped.api.errors`).
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from zoped.api.deps import AppSettings, CurrentCaller, DbSession, Now
from zoped.api.schemas import (
    CompetencyStatePublic,
    ErasureRequestPublic,
    ErrorBody,
    EvidenceCreate,
    EvidencePublic,
    EvidenceRecorded,
    LearnerPage,
    LearnerPublic,
    LearnerStatePublic,
    LevelCountsPublic,
    MenuOptionPublic,
    MenuPublic,
    MePublic,
)
from zoped.domain.erasure import ErasureRequest
from zoped.domain.evidence import EvidenceEvent, EvidenceSource
from zoped.errors import InvalidInput, Problem
from zoped.interop.xapi import statement_to_event
from zoped.services import auth as auth_services
from zoped.services import erasure, menus, pathways, privacy
from zoped.services.audit import record_access
from zoped.services.evidence import (
    RecordStatus,
    list_evidence,
    record_evidence,
    record_evidence_batch,
)
from zoped.services.policy import (
    Action,
    require_evidence_authority,
    require_learner_access,
    visible_learner_ids,
)
from zoped.services.tokens import Scope

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        401: "Not authenticated.",
        403: "Not allowed.",
        404: "Not found (or not visible to the caller).",
        413: "Request body too large.",
        422: "Invalid input.",
    }.items()
}

router = APIRouter(prefix="/api/v1", responses=ERRORS, tags=["api"])

LearnerId = Annotated[str, Path(min_length=1, max_length=64)]


def _evidence_public(event: EvidenceEvent) -> EvidencePublic:
    return EvidencePublic(
        id=event.id,
        learner_id=event.learner_id,
        kind=str(event.kind),
        occurred_at=event.occurred_at,
        recorded_at=event.recorded_at,
        source=str(event.source),
        item_id=event.item_id,
        activity_id=event.activity_id,
        competency_ids=list(event.competency_ids),
        correct=event.correct,
        score=event.score,
        duration_s=event.duration_s,
        hints_used=event.hints_used,
    )


@router.get("/me", response_model=MePublic)
def me(caller: CurrentCaller) -> MePublic:
    """The caller and, for a token, its scopes."""
    user = caller.user
    scopes = sorted(caller.scopes) if caller.scopes is not None else None
    return MePublic(
        id=user.id,
        school_id=user.school_id,
        role=str(user.role),
        display_name=user.display_name,
        scopes=scopes,
    )


@router.get("/learners", response_model=LearnerPage)
def list_learners(
    caller: CurrentCaller,
    session: DbSession,
    now: Now,
    settings: AppSettings,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> LearnerPage:
    """The learners the caller may see, by id, a page at a time (limit ≤ page_size_max)."""
    caller.require(Scope.READ_LEARNERS)
    if limit > settings.page_size_max:
        raise InvalidInput(
            "page too large", [Problem("limit", f"at most {settings.page_size_max}")]
        )
    ids = visible_learner_ids(session, actor=caller.user)
    page = ids[offset : offset + limit]
    record_access(
        session,
        actor=caller.user,
        action="list",
        subject_type="learner_list",
        subject_id=None,
        details={"count": len(page), "offset": offset},
        now=now,
    )
    learners = auth_services.users_by_ids(session, user_ids=page)
    return LearnerPage(
        items=[
            LearnerPublic(id=u.id, school_id=u.school_id, display_name=u.display_name)
            for u in learners
        ],
        total=len(ids),
        limit=limit,
        offset=offset,
    )


@router.get("/learners/{learner_id}", response_model=LearnerPublic)
def get_learner(
    learner_id: LearnerId, caller: CurrentCaller, session: DbSession, now: Now
) -> LearnerPublic:
    """One learner the caller may see."""
    caller.require(Scope.READ_LEARNERS)
    learner = require_learner_access(
        session, actor=caller.user, learner_id=learner_id, action=Action.READ, now=now
    )
    return LearnerPublic(
        id=learner.id, school_id=learner.school_id, display_name=learner.display_name
    )


@router.get("/learners/{learner_id}/evidence", response_model=list[EvidencePublic])
def get_learner_evidence(
    learner_id: LearnerId,
    caller: CurrentCaller,
    session: DbSession,
    now: Now,
    settings: AppSettings,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> list[EvidencePublic]:
    """A learner's evidence, earliest first (limit ≤ page_size_max)."""
    caller.require(Scope.READ_LEARNERS)
    if limit > settings.page_size_max:
        raise InvalidInput(
            "page too large", [Problem("limit", f"at most {settings.page_size_max}")]
        )
    require_learner_access(
        session, actor=caller.user, learner_id=learner_id, action=Action.READ, now=now
    )
    events = list_evidence(session, learner_id=learner_id, limit=limit)
    return [_evidence_public(e) for e in events]


CourseId = Annotated[str | None, Query(min_length=1, max_length=64)]


@router.get("/learners/{learner_id}/state", response_model=LearnerStatePublic)
def get_learner_state(
    learner_id: LearnerId,
    caller: CurrentCaller,
    session: DbSession,
    now: Now,
    course: CourseId = None,
) -> LearnerStatePublic:
    """The learner's state on one of their courses (``course``: its key or code; default: the
    first course of their classes): levels, chances, review dates and the parameter version;
    the same state their pages show."""
    caller.require(Scope.READ_LEARNERS)
    state = pathways.learner_state(
        session, actor=caller.user, learner_id=learner_id, now=now, course_id=course
    )
    return LearnerStatePublic(
        learner_id=state.learner_id,
        course_id=state.course_id,
        course_title=state.course_title,
        computed_at=state.computed_at,
        parameter_version=state.parameter_version,
        models_fitted=state.models_fitted,
        n_events=state.n_events,
        counts=LevelCountsPublic(**dataclasses.asdict(state.counts)),
        competencies=[
            CompetencyStatePublic(
                competency_id=c.competency_id,
                title=c.title,
                group_id=c.group_id,
                level=c.level.label,
                derived_level=c.derived_level.label,
                p_known=c.p_known,
                p_correct=c.p_correct,
                evidence_count=c.evidence_count,
                n_correct=c.n_correct,
                unlocked=c.unlocked,
                practisable=c.practisable,
                last_practised=c.last_practised,
                retrievability=c.retrievability,
                review_due_at=c.review_due_at,
                notes=list(c.notes),
            )
            for c in state.competencies
        ],
    )


@router.get("/learners/{learner_id}/menu", response_model=MenuPublic)
def get_learner_menu(
    learner_id: LearnerId,
    caller: CurrentCaller,
    session: DbSession,
    now: Now,
    course: CourseId = None,
    seed: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
    k: Annotated[int, Query(ge=1, le=10)] = 4,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> MenuPublic:
    """The learner's menu of next steps with their reasons, as their home page shows it (the
    decision is logged; the next ``page`` asks for other options, ``seed`` breaks ties)."""
    caller.require(Scope.READ_LEARNERS)
    menu = menus.recommend_for(
        session,
        actor=caller.user,
        learner_id=learner_id,
        k=k,
        seed=seed,
        page=page,
        now=now,
        course_id=course,
    )
    return MenuPublic(
        decision_id=menu.decision_id,
        seed=menu.seed,
        page=menu.page,
        options=[
            MenuOptionPublic(
                activity_id=o.activity_id,
                title=o.title,
                modality=o.modality,
                competencies=list(o.competencies),
                reason=o.reason,
                p_success=o.p_success,
            )
            for o in menu.options
        ],
        empty_reason=menu.empty_reason,
    )


@router.post(
    "/evidence",
    response_model=EvidenceRecorded,
    status_code=201,
    responses={
        200: {"model": EvidenceRecorded, "description": "Already recorded (a retry)."},
        409: {"model": ErrorBody, "description": "The id was used for other content."},
    },
)
def post_evidence(
    body: EvidenceCreate,
    caller: CurrentCaller,
    session: DbSession,
    now: Now,
    response: Response,
) -> EvidenceRecorded:
    """Record a piece of evidence, idempotently by its id: 201 recorded, 200 duplicate."""
    caller.require(Scope.WRITE_EVIDENCE)
    require_evidence_authority(
        session, actor=caller.user, learner_id=body.learner_id, kind=body.kind, now=now
    )
    event = EvidenceEvent(
        id=body.id,
        learner_id=body.learner_id,
        kind=body.kind,
        occurred_at=body.occurred_at,
        recorded_at=now,
        source=EvidenceSource.API,
        item_id=body.item_id,
        activity_id=body.activity_id,
        competency_ids=tuple(body.competency_ids),
        correct=body.correct,
        score=body.score,
        duration_s=body.duration_s,
        hints_used=body.hints_used,
        actor_id=None if caller.user.id == body.learner_id else caller.user.id,
        note=body.note,
        payload=body.payload,
        supersedes=body.supersedes,
    )
    result = record_evidence(session, event=event)
    if result.status is RecordStatus.DUPLICATE:
        response.status_code = 200
    return EvidenceRecorded(status=str(result.status), event=_evidence_public(result.event))


@router.post(
    "/xapi/statements",
    response_model=list[uuid.UUID],
    responses={
        409: {"model": ErrorBody, "description": "A statement id was used for other content."}
    },
)
def post_xapi_statements(
    body: dict[str, Any] | list[dict[str, Any]],
    caller: CurrentCaller,
    session: DbSession,
    now: Now,
) -> list[uuid.UUID]:
    """Record xAPI statements from a client tool as evidence; returns their ids.

    Every statement is read and every learner checked before anything is written, and the
    batch is recorded all or nothing (a statement id used for other content refuses it all,
    409); a statement resent with the same id is recorded once.
    """
    caller.require(Scope.WRITE_EVIDENCE)
    statements = body if isinstance(body, list) else [body]
    if len(statements) > 500:
        raise InvalidInput("too many statements", [Problem("body", "send at most 500 at once")])
    events, problems = [], []
    for index, statement in enumerate(statements):
        try:
            events.append(statement_to_event(statement, recorded_at=now, location=f"[{index}]"))
        except InvalidInput as error:
            problems.extend(error.problems)
    if problems:
        raise InvalidInput("invalid xAPI statements", problems)
    for learner_id, kind in sorted({(e.learner_id, e.kind) for e in events}):
        require_evidence_authority(
            session, actor=caller.user, learner_id=learner_id, kind=kind, now=now
        )
    record_evidence_batch(session, events=events)  # all or nothing
    return [e.id for e in events]


@router.get(
    "/learners/{learner_id}/export",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}, "description": "A zip of the data."}},
)
def export(learner_id: LearnerId, caller: CurrentCaller, session: DbSession, now: Now) -> Response:
    """Everything zoped holds about the learner, as a zip (JSON and xAPI statements)."""
    caller.require(Scope.EXPORT_LEARNERS)
    data = privacy.export_learner(session, actor=caller.user, learner_id=learner_id, now=now)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="zoped-{uuid.uuid4().hex[:8]}.zip"'},
    )


def _erasure_public(request: ErasureRequest) -> ErasureRequestPublic:
    return ErasureRequestPublic(
        id=request.id,
        learner_id=request.learner_id,
        status=str(request.status),
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        due_at=request.due_at,
        closed_at=request.closed_at,
    )


@router.post("/learners/{learner_id}/erase", response_model=ErasureRequestPublic, status_code=202)
def erase(
    learner_id: LearnerId,
    caller: CurrentCaller,
    session: DbSession,
    now: Now,
    settings: AppSettings,
) -> ErasureRequestPublic:
    """Ask for the learner's erasure (the learner, a guardian or an admin): it is carried out
    when the grace period (``erasure_grace_days``) is over, unless it is cancelled before.
    Asking while a request is pending returns that request."""
    caller.require(Scope.ERASE_LEARNERS)
    request = erasure.request_erasure(
        session,
        actor=caller.user,
        learner_id=learner_id,
        now=now,
        grace_days=settings.erasure_grace_days,
    )
    return _erasure_public(request)


@router.delete(
    "/learners/{learner_id}/erase",
    response_model=ErasureRequestPublic,
    responses={409: {"model": ErrorBody, "description": "No erasure request is pending."}},
)
def cancel_erase(
    learner_id: LearnerId, caller: CurrentCaller, session: DbSession, now: Now
) -> ErasureRequestPublic:
    """Cancel the learner's pending erasure request (the learner, a guardian, a teacher of
    theirs or an admin)."""
    caller.require(Scope.ERASE_LEARNERS)
    request = erasure.cancel_erasure(session, actor=caller.user, learner_id=learner_id, now=now)
    return _erasure_public(request)
