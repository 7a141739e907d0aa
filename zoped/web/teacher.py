"""Pages: the teacher's classes, class dashboard and learner drill-down, and their forms.

Every route parses, calls a service and renders; the services check the policy (a teacher only
reaches learners of their own classes) before they read or write anything. Forms POST with the
session's CSRF token and answer with a redirect (post/redirect/get), so a reload never resends.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from zoped.domain.plans import PlanGoal
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, NotFound, Problem
from zoped.services import activities as activity_services
from zoped.services import assignments as assignment_services
from zoped.services import claims, erasure, learner_pages, learning_log, overrides, plans, rubrics
from zoped.services import classes as class_services
from zoped.services import courses as course_services
from zoped.services import today as today_services
from zoped.web import svg
from zoped.web.deps import CsrfProtected, DbSession, Now, SubmittedForm, TeacherUser, render
from zoped.web.svg import progress_svg

router = APIRouter()
LEVELS = list(MasteryLevel)
SETTABLE = [level for level in MasteryLevel if level is not MasteryLevel.REVIEW_DUE]
#: Evidence rows a learner's page shows before "show more".
EVIDENCE_SHOWN = 20


def _back(path: str, **params: str) -> RedirectResponse:
    query = f"?{urlencode(params)}" if params else ""
    return RedirectResponse(path + query, status_code=303)


def _level(raw: str | None) -> MasteryLevel | None:
    if not raw:
        return None
    try:
        return MasteryLevel[raw.upper().replace(" ", "_")]
    except KeyError:
        return None


@router.get("/teacher")
def classes_page(request: Request, user: TeacherUser, db: DbSession) -> Response:
    """The teacher's classes."""
    found = class_services.teacher_classes(db, actor=user)
    return render(request, "teacher/classes.html", {"classes": found})


@router.get("/teacher/classes/{class_id}")
def class_page(
    request: Request,
    class_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    course: str | None = None,
    strand: str | None = None,
    competency: str | None = None,
    level: str | None = None,
) -> Response:
    """The class dashboard: heatmap, alerts with evidence, groups and peer tutors."""
    filters = class_services.DashboardFilters(
        course_id=course or None,
        strand=strand or None,
        competency=competency or None,
        level=_level(level),
    )
    dashboard = class_services.class_dashboard(
        db, actor=user, class_id=class_id, now=now, filters=filters
    )
    work = assignment_services.class_assignments(db, actor=user, class_id=class_id, now=now)
    return render(
        request,
        "teacher/class.html",
        {
            "d": dashboard,
            "levels": LEVELS,
            "activities": _activities(db, dashboard.course_id),
            "assignments": work,
            "trend_chart": svg.class_trend_svg(dashboard.trend, dashboard.trend_total),
        },
    )


@router.get("/teacher/today")
def today_page(request: Request, user: TeacherUser, db: DbSession, now: Now) -> Response:
    """Today, per class: who is stuck, who is ready to move on, reviews due, work due."""
    found = today_services.teacher_today(db, actor=user, now=now)
    return render(
        request,
        "teacher/today.html",
        {"classes": found, "days_ahead": today_services.DAYS_AHEAD, "now": now},
    )


def _activities(db: DbSession, course_id: str | None) -> list[tuple[str, str, tuple[str, ...]]]:
    """(id, title, competencies) of the activities of the course shown, for the assign forms."""
    if course_id is None:
        return []
    course = course_services.get_course(db, course_id=course_id)
    return [(a.id, a.title, tuple(a.competencies)) for a in course.activities]


@router.get("/teacher/learners/{learner_id}")
def learner_page(
    request: Request,
    learner_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    course: str | None = None,
) -> Response:
    """A learner's drill-down: timeline, state (on ``course``, one of theirs; default the
    first), plan, shared log, overrides, rubric, assign."""
    detail = learner_pages.learner_drilldown(
        db, actor=user, learner_id=learner_id, now=now, course_id=course or None
    )
    plan = plans.get_plan(db, actor=user, learner_id=learner_id, now=now)
    shared = learning_log.list_entries(db, actor=user, learner_id=learner_id, now=now)
    return render(
        request,
        "teacher/learner.html",
        {
            "x": detail,
            "progress": progress_svg(detail.state.history, len(detail.state.competencies)),
            "shown": EVIDENCE_SHOWN,
            "plan": plan,
            "log": shared,
            "claims": claims.list_claims(db, actor=user, learner_id=learner_id, now=now),
            "submissions": activity_services.project_submissions(
                db, actor=user, learner_id=learner_id, now=now
            ),
            "titles": claims.claimable(db, learner_id=learner_id),
            "erasure": erasure.pending_erasures(db, actor=user, learner_ids=[learner_id]),
            "settable": SETTABLE,
            "levels": LEVELS,
            "done": request.query_params.get("done", ""),
        },
    )


def _learner_path(learner_id: str) -> str:
    return f"/teacher/learners/{learner_id}"


@router.post("/teacher/learners/{learner_id}/claims/{claim_id}", dependencies=[CsrfProtected])
def claim_decide(
    learner_id: str,
    claim_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    decision: Annotated[Literal["accept", "reject"], Form()],
    note: Annotated[str, Form(max_length=claims.MAX_TEXT)] = "",
) -> Response:
    claims.decide_claim(
        db,
        actor=user,
        learner_id=learner_id,
        claim_id=claim_id,
        accept=decision == "accept",
        note=note,
        now=now,
    )
    return _back(_learner_path(learner_id), done="claim")


@router.post("/teacher/learners/{learner_id}/overrides", dependencies=[CsrfProtected])
def override(
    learner_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    competency_id: Annotated[str, Form()],
    level: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Override a level with a reason."""
    chosen = _level(level)
    if chosen is None:
        raise InvalidInput("invalid override", [Problem("level", f"no level {level!r}")])
    overrides.override_mastery(
        db,
        actor=user,
        learner_id=learner_id,
        competency_id=competency_id,
        level=chosen,
        reason=reason,
        now=now,
    )
    return _back(_learner_path(learner_id), done="override")


@router.post(
    "/teacher/learners/{learner_id}/overrides/{override_id}/undo", dependencies=[CsrfProtected]
)
def undo(
    learner_id: str,
    override_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Undo an override (a later event supersedes it)."""
    try:
        event_id = uuid.UUID(override_id)
    except ValueError:
        raise NotFound(f"no override {override_id!r}") from None
    overrides.undo_override(
        db, actor=user, learner_id=learner_id, override_id=event_id, reason=reason, now=now
    )
    return _back(_learner_path(learner_id), done="undo")


@router.post("/teacher/learners/{learner_id}/rubric", dependencies=[CsrfProtected])
def score_rubric(
    learner_id: str, user: TeacherUser, db: DbSession, now: Now, form: SubmittedForm
) -> Response:
    """Score a project against its rubric: one level per criterion (``level.<criterion>``)."""
    rubric_id = str(form.get("rubric_id", ""))
    chosen: dict[str, int | str] = {}
    for key, value in form.multi_items():
        if key.startswith("level.") and isinstance(value, str) and value != "":
            # A level is its number or its name; "²" is a digit but not a number.
            chosen[key.removeprefix("level.")] = int(value) if value.isdecimal() else value
    rubrics.score_project(
        db,
        actor=user,
        learner_id=learner_id,
        rubric_id=rubric_id,
        chosen_levels=chosen,
        note=str(form.get("note", "")),
        now=now,
    )
    return _back(_learner_path(learner_id), done="rubric")


@router.post("/teacher/assignments", dependencies=[CsrfProtected])
def make_assignment(
    user: TeacherUser,
    db: DbSession,
    now: Now,
    activity_id: Annotated[str, Form()],
    learner_ids: Annotated[list[str], Form()],
    class_id: Annotated[str, Form()] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
    due: Annotated[str, Form(max_length=32)] = "",
    back: Annotated[str, Form()] = "/teacher",
) -> Response:
    """Assign an activity to one learner or a small group, with a note and a due date."""
    assignment_services.assign(
        db,
        actor=user,
        learner_ids=learner_ids,
        activity_id=activity_id,
        class_id=class_id or None,
        due_at=assignment_services.parse_due(due, now=now),
        note=note,
        now=now,
    )
    target = back if back.startswith("/teacher") else "/teacher"
    return _back(target, done="assigned")


@router.post("/teacher/learners/{learner_id}/plan", dependencies=[CsrfProtected])
def save_plan(
    learner_id: str, user: TeacherUser, db: DbSession, now: Now, form: SubmittedForm
) -> Response:
    """Co-edit the plan: goals (one row each), strategies (one per line), mastery evidence."""
    descriptions = [str(v) for v in form.getlist("goal_description")]
    dates = [str(v) for v in form.getlist("goal_date")]
    competencies = [str(v) for v in form.getlist("goal_competencies")]
    goals: list[PlanGoal] = []
    for index, description in enumerate(descriptions):
        if not description.strip():
            continue
        ids = competencies[index].split() if index < len(competencies) else []
        when = dates[index] if index < len(dates) else ""
        goals.append(plans.parse_goal(description, ids, when, len(goals)))
    strategies = [s.strip() for s in str(form.get("strategies", "")).splitlines() if s.strip()]
    base = str(form.get("base_version", "1"))
    plans.save_plan(
        db,
        actor=user,
        learner_id=learner_id,
        base_version=int(base) if base.isdigit() else 0,
        goals=goals,
        strategies=strategies,
        resources=[],
        mastery_evidence=str(form.get("mastery_evidence", "")),
        now=now,
    )
    return _back(_learner_path(learner_id), done="plan")


@router.post("/teacher/learners/{learner_id}/comments", dependencies=[CsrfProtected])
def comment(
    learner_id: str, user: TeacherUser, db: DbSession, now: Now, body: Annotated[str, Form()] = ""
) -> Response:
    """Comment on the learner's plan."""
    plans.add_comment(db, actor=user, learner_id=learner_id, body=body, now=now)
    return _back(_learner_path(learner_id), done="comment")
