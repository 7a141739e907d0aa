"""Pages: the teacher's classes, class dashboard and learner drill-down, and their forms.

Every route parses, calls a service and renders; the services check the policy (a teacher only
reaches learners of their own classes) before they read or write anything. Forms POST with the
session's CSRF token and answer with a redirect (post/redirect/get), so a reload never resends.
"""

from __future__ import annotations

import re
import uuid
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from zoped.domain.assignments import parse_due
from zoped.domain.plans import PlanGoal
from zoped.engine.mastery import MasteryLevel
from zoped.errors import Conflict, InvalidInput, NotFound, Problem
from zoped.services import (
    accounts,
    claims,
    erasure,
    learner_pages,
    learning_log,
    overrides,
    plans,
    rubrics,
)
from zoped.services import activities as activity_services
from zoped.services import assignments as assignment_services
from zoped.services import classes as class_services
from zoped.services import courses as course_services
from zoped.services import today as today_services
from zoped.web import svg
from zoped.web.deps import CsrfProtected, DbSession, Now, SubmittedForm, TeacherUser, render
from zoped.web.forms import RefusedForm
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
    return _class_page(request, user, db, now, class_id, filters=filters)


def _class_page(
    request: Request,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    class_id: str,
    *,
    filters: class_services.DashboardFilters | None = None,
    refused: RefusedForm | None = None,
) -> Response:
    """The class page; after a refused assignment, that group's form shows why (status 422)."""
    dashboard = class_services.class_dashboard(
        db,
        actor=user,
        class_id=class_id,
        now=now,
        filters=filters or class_services.DashboardFilters(),
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
            "refused": refused or RefusedForm.none(),
        },
        status_code=422 if refused else 200,
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
    return _learner_page(request, user, db, now, learner_id, course=course or None)


def _learner_page(
    request: Request,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    learner_id: str,
    *,
    course: str | None = None,
    refused: RefusedForm | None = None,
) -> Response:
    """The learner's page; after a refused form, that form (``refused``) shows its problems
    beside its fields and keeps what was typed, with status 422."""
    detail = learner_pages.learner_drilldown(
        db, actor=user, learner_id=learner_id, now=now, course_id=course
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
            "done": "" if refused else request.query_params.get("done", ""),
            "refused": refused or RefusedForm.none(),
        },
        status_code=422 if refused else 200,
    )


def _learner_path(learner_id: str) -> str:
    return f"/teacher/learners/{learner_id}"


@router.post("/teacher/learners/{learner_id}/claims/{claim_id}", dependencies=[CsrfProtected])
def claim_decide(
    request: Request,
    learner_id: str,
    claim_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    decision: Annotated[Literal["accept", "reject"], Form()],
    note: Annotated[str, Form()] = "",
) -> Response:
    try:
        claims.decide_claim(
            db,
            actor=user,
            learner_id=learner_id,
            claim_id=claim_id,
            accept=decision == "accept",
            note=note,
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        refused = RefusedForm.of(f"claim:{claim_id}", error, {"note": note})
        return _learner_page(request, user, db, now, learner_id, refused=refused)
    return _back(_learner_path(learner_id), done="claim")


@router.post("/teacher/learners/{learner_id}/overrides", dependencies=[CsrfProtected])
def override(
    request: Request,
    learner_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    competency_id: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Override a level with a reason."""
    try:
        chosen = _level(level)
        if chosen is None:
            raise InvalidInput("invalid override", [Problem("level", "choose a level")])
        overrides.override_mastery(
            db,
            actor=user,
            learner_id=learner_id,
            competency_id=competency_id,
            level=chosen,
            reason=reason,
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        typed = {"competency_id": competency_id, "level": level, "reason": reason}
        refused = RefusedForm.of("override", error, typed)
        return _learner_page(request, user, db, now, learner_id, refused=refused)
    return _back(_learner_path(learner_id), done="override")


@router.post(
    "/teacher/learners/{learner_id}/overrides/{override_id}/undo", dependencies=[CsrfProtected]
)
def undo(
    request: Request,
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
    try:
        overrides.undo_override(
            db, actor=user, learner_id=learner_id, override_id=event_id, reason=reason, now=now
        )
    except (InvalidInput, Conflict) as error:
        refused = RefusedForm.of(f"undo:{override_id}", error, {"reason": reason})
        return _learner_page(request, user, db, now, learner_id, refused=refused)
    return _back(_learner_path(learner_id), done="undo")


@router.post("/teacher/learners/{learner_id}/rubric", dependencies=[CsrfProtected])
def score_rubric(
    request: Request,
    learner_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    form: SubmittedForm,
) -> Response:
    """Score a project against its rubric: one level per criterion (``level.<criterion>``)."""
    rubric_id = str(form.get("rubric_id", ""))
    note = str(form.get("note", ""))
    chosen: dict[str, int | str] = {}
    for key, value in form.multi_items():
        if key.startswith("level.") and isinstance(value, str) and value != "":
            # A level is its number or its name; "²" is a digit but not a number.
            chosen[key.removeprefix("level.")] = int(value) if value.isdecimal() else value
    try:
        rubrics.score_project(
            db,
            actor=user,
            learner_id=learner_id,
            rubric_id=rubric_id,
            chosen_levels=chosen,
            note=note,
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        typed = {"note": note} | {f"level.{k}": str(v) for k, v in chosen.items()}
        refused = RefusedForm.of(f"rubric:{rubric_id}", error, typed)
        return _learner_page(request, user, db, now, learner_id, refused=refused)
    return _back(_learner_path(learner_id), done="rubric")


#: The pages an assignment form comes from, which show it again if it is refused.
_ASSIGN_BACK = re.compile(r"^/teacher/(classes|learners)/([^/?#]+)$")


@router.post("/teacher/assignments", dependencies=[CsrfProtected])
def make_assignment(
    request: Request,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    activity_id: Annotated[str, Form()] = "",
    learner_ids: Annotated[list[str] | None, Form()] = None,
    class_id: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
    due_at: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/teacher",
) -> Response:
    """Assign an activity to one learner or a small group, with a note and a due date; a
    refused one shows its page again with the problems beside the fields."""
    chosen = learner_ids or []
    try:
        assignment_services.assign(
            db,
            actor=user,
            learner_ids=chosen,
            activity_id=activity_id,
            class_id=class_id or None,
            due_at=parse_due(
                due_at,
                now=now,
                zone=accounts.school_zone(db, school_id=user.school_id),
            ),
            note=note,
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        # The class page has one form per group: the refused one is the group's learners.
        form = "assign:" + " ".join(sorted(chosen))
        typed = {"activity_id": activity_id, "note": note, "due_at": due_at}
        refused = RefusedForm.of(form, error, typed)
        page = _ASSIGN_BACK.match(back)
        if page is None:
            raise
        if page[1] == "learners":
            return _learner_page(request, user, db, now, page[2], refused=refused)
        return _class_page(request, user, db, now, page[2], refused=refused)
    target = back if back.startswith("/teacher") else "/teacher"
    return _back(target, done="assigned")


@router.post("/teacher/learners/{learner_id}/plan", dependencies=[CsrfProtected])
def save_plan(
    request: Request,
    learner_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    form: SubmittedForm,
) -> Response:
    """Co-edit the plan: goals (one row each), strategies (one per line), mastery evidence."""
    descriptions = [str(v) for v in form.getlist("goal_description")]
    dates = [str(v) for v in form.getlist("goal_date")]
    competencies = [str(v) for v in form.getlist("goal_competencies")]
    typed = {
        name: str(form.get(name, "")) for name in ("strategies", "mastery_evidence", "base_version")
    }
    typed |= {f"goal_description.{i}": d for i, d in enumerate(descriptions)}
    typed |= {f"goal_date.{i}": d for i, d in enumerate(dates)}
    base = typed["base_version"]
    try:
        goals: list[PlanGoal] = []
        for index, description in enumerate(descriptions):
            if not description.strip():
                continue
            ids = competencies[index].split() if index < len(competencies) else []
            when = dates[index] if index < len(dates) else ""
            goals.append(plans.parse_goal(description, ids, when, len(goals)))
        strategies = [s.strip() for s in typed["strategies"].splitlines() if s.strip()]
        plans.save_plan(
            db,
            actor=user,
            learner_id=learner_id,
            base_version=int(base) if base.isdecimal() and len(base) < 10 else 0,
            goals=goals,
            strategies=strategies,
            resources=[],
            mastery_evidence=typed["mastery_evidence"],
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        refused = RefusedForm.of("plan", error, typed)
        return _learner_page(request, user, db, now, learner_id, refused=refused)
    return _back(_learner_path(learner_id), done="plan")


@router.post("/teacher/learners/{learner_id}/comments", dependencies=[CsrfProtected])
def comment(
    request: Request,
    learner_id: str,
    user: TeacherUser,
    db: DbSession,
    now: Now,
    body: Annotated[str, Form()] = "",
) -> Response:
    """Comment on the learner's plan."""
    try:
        plans.add_comment(db, actor=user, learner_id=learner_id, body=body, now=now)
    except (InvalidInput, Conflict) as error:
        refused = RefusedForm.of("comment", error, {"body": body})
        return _learner_page(request, user, db, now, learner_id, refused=refused)
    return _back(_learner_path(learner_id), done="comment")
