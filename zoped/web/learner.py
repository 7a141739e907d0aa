"""Pages: the learner's roadmap, menu, practice, placement check, plan, log and profile.

Each route parses the form, calls one service and renders; the rules live in the services.
Every page works without JavaScript (plain links and form POSTs, redirect after POST).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from zoped.domain.content import Item, ItemType, Modality
from zoped.domain.course import CourseInfo
from zoped.domain.grading import Response as ItemResponse
from zoped.domain.people import AccessibilityNeeds, LearnerProfile
from zoped.domain.plans import MAX_GOALS, PlanGoal
from zoped.engine.mastery import MasteryLevel
from zoped.errors import Conflict, InvalidInput, Problem
from zoped.services import assignments as assignment_services
from zoped.services import claims, learning_log, menus, pathways, placement, plans, practice
from zoped.services import courses as course_services
from zoped.services.courses import NO_COURSE
from zoped.services.roster import get_learner_profile, save_learner_profile
from zoped.web import svg
from zoped.web.deps import CsrfProtected, DbSession, LearnerUser, Now, SubmittedForm, render
from zoped.web.forms import RefusedForm, field_problems

router = APIRouter(prefix="/learner")


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --- the learner's course -------------------------------------------------------------------

#: Where the signed session remembers which of their courses a learner's pages show (a course
#: key). A preference, not a right: a course the learner no longer follows falls back to the
#: first.
SESSION_COURSE = "course"


def _courses(request: Request, db: DbSession, user: LearnerUser) -> tuple[list[CourseInfo], str]:
    """The learner's courses and the key of the one their pages show: the session's, when the
    learner follows it, else the first ("" when they follow none)."""
    found = course_services.courses_of_learner(db, learner_id=user.id)
    wanted = request.session.get(SESSION_COURSE, "")
    keys = [c.key for c in found]
    return found, wanted if wanted in keys else (keys[0] if keys else "")


@router.get("")
def home(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    page: Annotated[int, Query(ge=0, le=100_000)] = 0,
    course: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The roadmap and menu on one of the learner's courses: ``course`` (a key or code; the
    session remembers it for the other pages), else the one remembered, else the first.
    ``page`` is which menu of good options to show ("Show me other options" asks for the next).
    """
    courses, current = _courses(request, db, user)
    if course is not None:
        current = course_services.pick_course(courses, course).key
        request.session[SESSION_COURSE] = current
    if not current:
        return render(request, "learner/home.html", {"courses": [], "no_course": NO_COURSE})
    state = pathways.learner_state(db, actor=user, learner_id=user.id, now=now, course_id=current)
    menu = menus.recommend_for(
        db, actor=user, learner_id=user.id, seed=0, page=page, now=now, course_id=current
    )
    check = placement.latest_placement(
        db, actor=user, learner_id=user.id, now=now, course_id=current
    )
    levels = {c.competency_id: c.level for c in state.competencies}
    work = assignment_services.learner_assignments(
        db, actor=user, learner_id=user.id, now=now, levels=levels
    )
    assigned = [p for p in work if p.open_for_learner]
    return render(
        request,
        "learner/home.html",
        {
            "courses": courses,
            "current": current,
            "state": state,
            "menu": menu,
            "placement": check,
            "assigned": assigned,
            # A fresh answer id for each assigned question's link (a resubmission is no-op).
            "answer_ids": {p.assignment.id: uuid.uuid4() for p in assigned},
            "counts": state.counts,
            "levels": list(MasteryLevel),
            "colours": svg.LEVEL_COLOURS,
            "roadmap": svg.roadmap_svg(state),
            "progress": svg.progress_svg(state.history, len(state.competencies)),
            "next_page": page + 1,
        },
    )


@router.post("/menu/pick", dependencies=[CsrfProtected])
def pick(
    user: LearnerUser,
    db: DbSession,
    now: Now,
    decision_id: Annotated[uuid.UUID, Form()],
    activity_id: Annotated[str, Form()],
) -> Response:
    chosen = menus.choose_option(
        db,
        actor=user,
        learner_id=user.id,
        decision_id=decision_id,
        activity_id=activity_id,
        now=now,
    )
    return _see_other(f"/learner/activity/{chosen}")


# An activity's page, "mark as done" and project work: zoped.web.activities.


# --- practice -------------------------------------------------------------------------------


@router.get("/practice/summary")
def practice_summary(
    request: Request, user: LearnerUser, db: DbSession, now: Now, since: datetime
) -> Response:
    _, current = _courses(request, db, user)
    changes = practice.session_summary(
        db, actor=user, learner_id=user.id, since=since, now=now, course_id=current or None
    )
    return render(request, "learner/summary.html", {"changes": changes, "since": since})


@router.get("/practice/{competency_id}")
def practice_page(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    competency_id: str,
    item: str | None = None,
    event: uuid.UUID | None = None,
    hints: int = 0,
    since: datetime | None = None,
) -> Response:
    if item is not None and event is not None:
        shown, title = practice.get_item(db, learner_id=user.id, item_id=item)
        event_id = event
    else:
        chosen = practice.next_item(
            db, actor=user, learner_id=user.id, competency_id=competency_id, now=now
        )
        shown, title, event_id = chosen.item, chosen.competency_title, chosen.event_id
    return render(
        request,
        "learner/practice.html",
        {
            "competency_id": competency_id,
            "competency_title": title,
            "item": shown,
            "event_id": event_id,
            "hints": max(0, min(hints, len(shown.hints))),
            "since": (since or now).isoformat(),
            "started": now.isoformat(),
        },
    )


# Fields the pages send back as they were given: a tampered value is a clear 422, never a 500.


def _whole_number(form: FormData, name: str, *, default: int) -> int:
    raw = str(form.get(name) or default).strip()
    if not (raw.isdecimal() and len(raw) <= 9):
        raise InvalidInput("the form is not as the page sent it", [Problem(name, "a number")])
    return int(raw)


def _uuid(form: FormData, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(form.get(name) or ""))
    except ValueError:
        raise InvalidInput(
            "the form is not as the page sent it", [Problem(name, "the page's own id")]
        ) from None


def _instant(form: FormData, name: str, *, default: datetime) -> datetime:
    """An instant the page sent (when a question was shown); the request's time if absent."""
    raw = str(form.get(name) or "")
    if not raw:
        return default
    try:
        at = datetime.fromisoformat(raw)
        at.astimezone(UTC)  # a time that exists in UTC (not 0001-01-01T00:00:00+14:00)
    except (ValueError, OverflowError):
        at = None
    if at is None or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("the form is not as the page sent it", [Problem(name, "a time")])
    return at


def _response(item: Item, form: FormData) -> ItemResponse:
    if item.type is ItemType.MATCHING or item.type is ItemType.BLANKS:
        # One field per option (its match) or per blank (a choice or the text typed).
        names = (
            [f"match_{o.id}" for o in item.options]
            if item.type is ItemType.MATCHING
            else [f"blank_{b.id}" for b in item.blanks]
        )
        given = [str(form.get(name) or "").strip() for name in names]
        if not any(given):
            raise InvalidInput("no answer given", [Problem(names[0], "answer the question")])
        return given
    if item.type is ItemType.MULTIPLE_CHOICE:
        return [str(v) for v in form.getlist("response")]
    if item.type is ItemType.ORDERING:
        ranks: list[tuple[int, str]] = []
        for option in item.options:
            raw = str(form.get(f"rank_{option.id}", "")).strip()
            if not (raw.isdecimal() and len(raw) <= 3):
                raise InvalidInput(
                    "give every step a position",
                    [Problem(f"rank_{option.id}", "a whole number")],
                )
            ranks.append((int(raw), option.id))
        return [oid for _, oid in sorted(ranks)]
    value = form.get("response")
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("no answer given", [Problem("response", "answer the question")])
    return value


@router.post("/practice/{competency_id}/answer", dependencies=[CsrfProtected])
def practice_answer(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    form: SubmittedForm,
    competency_id: str,
) -> Response:
    item, title = practice.get_item(db, learner_id=user.id, item_id=str(form.get("item_id", "")))
    started = _instant(form, "started", default=now)
    outcome = practice.submit_answer(
        db,
        actor=user,
        learner_id=user.id,
        item_id=item.id,
        response=_response(item, form),
        event_id=_uuid(form, "event_id"),
        hints_used=_whole_number(form, "hints", default=0),
        duration_s=max(0.0, (now - started).total_seconds()),
        now=now,
    )
    return render(
        request,
        "learner/feedback.html",
        {
            "competency_id": competency_id,
            "competency_title": title,
            "item": item,
            "outcome": outcome,
            "since": str(form.get("since") or now.isoformat()),
        },
    )


# --- placement ------------------------------------------------------------------------------


@router.get("/placement")
def placement_page(request: Request, user: LearnerUser, db: DbSession, now: Now) -> Response:
    courses, current = _courses(request, db, user)
    view = placement.latest_placement(
        db, actor=user, learner_id=user.id, now=now, course_id=current or None
    )
    title = next((c.title for c in courses if c.key == current), "")
    return render(request, "learner/placement.html", {"view": view, "course_title": title})


@router.post("/placement/start", dependencies=[CsrfProtected])
def placement_start(request: Request, user: LearnerUser, db: DbSession, now: Now) -> Response:
    _, current = _courses(request, db, user)
    placement.start_or_resume_placement(
        db, actor=user, learner_id=user.id, now=now, course_id=current or None
    )
    return _see_other("/learner/placement")


@router.post("/placement/answer", dependencies=[CsrfProtected])
def placement_answer(user: LearnerUser, db: DbSession, now: Now, form: SubmittedForm) -> Response:
    item, _ = practice.get_item(db, learner_id=user.id, item_id=str(form.get("item_id", "")))
    placement.answer_placement(
        db,
        actor=user,
        learner_id=user.id,
        session_id=_uuid(form, "session_id"),
        item_id=item.id,
        response=_response(item, form),
        event_id=_uuid(form, "event_id"),
        now=now,
    )
    return _see_other("/learner/placement")


@router.post("/placement/finish", dependencies=[CsrfProtected])
def placement_finish(
    user: LearnerUser, db: DbSession, now: Now, session_id: Annotated[uuid.UUID, Form()]
) -> Response:
    placement.finish_placement(db, actor=user, learner_id=user.id, session_id=session_id, now=now)
    return _see_other("/learner/placement")


# --- plan -----------------------------------------------------------------------------------


@router.get("/plan")
def plan_page(request: Request, user: LearnerUser, db: DbSession, now: Now) -> Response:
    return _plan_page(request, user, db, now)


def _plan_page(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    *,
    problems: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    """The plan page; after a refused form, with the problems beside their fields and what was
    typed in the text boxes (``typed``)."""
    view = plans.get_plan(db, actor=user, learner_id=user.id, now=now)
    _, current = _courses(request, db, user)
    state = pathways.learner_state(
        db, actor=user, learner_id=user.id, now=now, course_id=current or None
    )
    context = {"view": view, "state": state, "problems": problems or {}, "typed": typed or {}}
    return render(request, "learner/plan.html", context, status_code=422 if problems else 200)


def _goal_rows(form: FormData) -> int:
    """How many goal rows the plan form sent: the page sends one per goal and one blank.

    Raises:
        InvalidInput: not a whole number from 0 to one more than a plan's goals.
    """
    raw = str(form.get("goal_count") or "0").strip()
    most = MAX_GOALS + 1
    if not (raw.isdecimal() and len(raw) <= 3 and int(raw) <= most):
        raise InvalidInput(
            "the plan form is not as the page sent it",
            [Problem("goal_count", f"must be a whole number from 0 to {most} (goal rows)")],
        )
    return int(raw)


@router.post("/plan", dependencies=[CsrfProtected])
def plan_save(
    request: Request, user: LearnerUser, db: DbSession, now: Now, form: SubmittedForm
) -> Response:
    goals: list[PlanGoal] = []
    for i in range(_goal_rows(form)):
        text = str(form.get(f"goal_{i}_description", "")).strip()
        if not text:
            continue
        goals.append(
            plans.parse_goal(
                text,
                [str(form.get(f"goal_{i}_competency", ""))],
                str(form.get(f"goal_{i}_target", "")),
                len(goals),
            )
        )
    typed = {
        name: str(form.get(name, "")) for name in ("strategies", "resources", "mastery_evidence")
    }
    try:
        plans.save_plan(
            db,
            actor=user,
            learner_id=user.id,
            base_version=_whole_number(form, "version", default=1),
            goals=goals,
            strategies=typed["strategies"].splitlines(),
            resources=typed["resources"].splitlines(),
            mastery_evidence=typed["mastery_evidence"],
            now=now,
        )
    except InvalidInput as error:  # what was typed stays, each problem beside its box
        return _plan_page(request, user, db, now, problems=field_problems(error), typed=typed)
    return _see_other("/learner/plan")


@router.post("/plan/comment", dependencies=[CsrfProtected])
def plan_comment(
    request: Request, user: LearnerUser, db: DbSession, now: Now, body: Annotated[str, Form()]
) -> Response:
    try:
        plans.add_comment(db, actor=user, learner_id=user.id, body=body, now=now)
    except InvalidInput as error:
        problems = {"comment": field_problems(error).get("body", error.message)}
        return _plan_page(request, user, db, now, problems=problems, typed={"comment": body})
    return _see_other("/learner/plan#comments")


# --- learning log ---------------------------------------------------------------------------


@router.get("/log")
def log_page(request: Request, user: LearnerUser, db: DbSession, now: Now) -> Response:
    return _log_page(request, user, db, now)


def _log_page(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    *,
    problems: dict[str, str] | None = None,
    typed: dict[str, object] | None = None,
) -> Response:
    entries = learning_log.list_entries(db, actor=user, learner_id=user.id, now=now)
    context = {"entries": entries, "problems": problems or {}, "typed": typed or {}}
    return render(request, "learner/log.html", context, status_code=422 if problems else 200)


@router.post("/log", dependencies=[CsrfProtected])
def log_add(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    body: Annotated[str, Form()],
    shared: Annotated[bool, Form()] = False,
) -> Response:
    try:
        learning_log.add_entry(
            db, actor=user, learner_id=user.id, body=body, shared=shared, now=now
        )
    except InvalidInput as error:  # the entry stays in the box, the problem beside it
        typed = {"body": body, "shared": shared}
        return _log_page(request, user, db, now, problems=field_problems(error), typed=typed)
    return _see_other("/learner/log")


@router.post("/log/{entry_id}/share", dependencies=[CsrfProtected])
def log_share(
    user: LearnerUser,
    db: DbSession,
    now: Now,
    entry_id: str,
    shared: Annotated[bool, Form()] = False,
) -> Response:
    learning_log.set_shared(
        db, actor=user, learner_id=user.id, entry_id=entry_id, shared=shared, now=now
    )
    return _see_other("/learner/log")


# --- profile --------------------------------------------------------------------------------


@router.get("/profile")
def profile_page(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    saved: bool = False,
    claimed: bool = False,
) -> Response:
    return _profile_page(request, user, db, now, saved=saved, claimed=claimed)


def _profile_page(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    *,
    saved: bool = False,
    claimed: bool = False,
    refused: RefusedForm | None = None,
) -> Response:
    """The profile page; after a refused form (``refused``: "profile" or "claim"), its problems
    beside its fields and what was typed kept, with status 422."""
    profile = get_learner_profile(db, learner_id=user.id) or LearnerProfile(
        user.id, user.display_name
    )
    return render(
        request,
        "learner/profile.html",
        {
            "profile": profile,
            "modalities": list(Modality),
            "saved": saved,
            "claimed": claimed,
            "claims": claims.list_claims(db, actor=user, learner_id=user.id, now=now),
            "claimable": claims.claimable(db, learner_id=user.id),
            "refused": refused or RefusedForm.none(),
        },
        status_code=422 if refused else 200,
    )


@router.post("/claims", dependencies=[CsrfProtected])
def claim_submit(
    request: Request,
    user: LearnerUser,
    db: DbSession,
    now: Now,
    competency_id: Annotated[str, Form()] = "",
    what: Annotated[str, Form()] = "",
    where: Annotated[str, Form()] = "",
    link: Annotated[str, Form()] = "",
) -> Response:
    try:
        claims.submit_claim(
            db,
            actor=user,
            learner_id=user.id,
            competency_ids=[competency_id] if competency_id else [],
            what=what,
            where=where,
            link=link,
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        typed = {"competency_id": competency_id, "what": what, "where": where, "link": link}
        return _profile_page(request, user, db, now, refused=RefusedForm.of("claim", error, typed))
    return _see_other("/learner/profile?claimed=true#claims-h")


@router.post("/profile", dependencies=[CsrfProtected])
def profile_save(
    request: Request, user: LearnerUser, db: DbSession, now: Now, form: SubmittedForm
) -> Response:
    current = get_learner_profile(db, learner_id=user.id) or LearnerProfile(
        user.id, user.display_name
    )
    typed_interests = str(form.get("interests", ""))
    interests = tuple(t.strip().lower() for t in typed_interests.split(",") if t.strip())
    chosen = {str(v) for v in form.getlist("modalities")}
    profile = LearnerProfile(
        learner_id=user.id,
        display_name=current.display_name,
        interests=interests,
        preferred_modalities=tuple(m for m in Modality if str(m) in chosen),
        goals=current.goals,
        strengths=current.strengths,
        needs=current.needs,
        accessibility=AccessibilityNeeds(
            extra_time="extra_time" in form,
            larger_text="larger_text" in form,
            screen_reader=current.accessibility.screen_reader,
            reduced_motion="reduced_motion" in form,
        ),
        languages=current.languages,
        prior_learning=current.prior_learning,
    )
    try:
        save_learner_profile(db, actor=user, profile=profile, now=now)
    except InvalidInput as error:
        refused = RefusedForm.of("profile", error, {"interests": typed_interests})
        return _profile_page(request, user, db, now, refused=refused)
    return _see_other("/learner/profile?saved=true")
