"""Pages: running a school (overview, people, classes, API tokens). Admins only; every change
goes through :mod:`zoped.services.accounts` (or roster, tokens), which authorize and audit.

Forms keep what was typed and show each problem next to its field; a change ends in a redirect
that says what was done (``?done=...``), so reloading never repeats it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from zoped.domain.people import Enrollment, GuardianLink, Role, SchoolClass
from zoped.errors import Conflict, InvalidInput, NotFound, Problem
from zoped.services import accounts, roster, tokens, users_csv
from zoped.web.deps import AdminUser, CsrfProtected, DbSession, Now, SubmittedForm, render
from zoped.web.forms import field_problems

router = APIRouter(prefix="/admin")

MAX_USERS_CSV_BYTES = 5_000_000
DONE = {
    "user": "The user was added.",
    "edit": "Saved.",
    "deactivate": "The account is switched off. Their data is kept.",
    "reactivate": "The account is switched on again.",
    "class": "The class was created.",
    "teachers": "The class's name and teachers are saved.",
    "enroll": "The learner joined the class.",
    "unenroll": "The learner left the class. Their evidence is kept.",
    "link": "The guardian is linked.",
    "unlink": "The guardian link ended.",
    "revoke": "The token no longer works.",
    "school": "The school's name is saved.",
    "time_zone": "The school's time zone is saved.",
}


@router.post("", dependencies=[CsrfProtected])
def rename_school(
    request: Request, user: AdminUser, db: DbSession, now: Now, form: SubmittedForm
) -> Response:
    """Rename the school."""
    try:
        accounts.rename_school(
            db, actor=user, school_id=user.school_id, name=_text(form, "name", 400), now=now
        )
    except InvalidInput as error:
        return _overview_page(request, user, db, problems=field_problems(error), status_code=422)
    return _back("/admin", done="school")


@router.post("/time-zone", dependencies=[CsrfProtected])
def set_time_zone(
    request: Request, user: AdminUser, db: DbSession, now: Now, form: SubmittedForm
) -> Response:
    """Set the school's time zone; an unknown one is refused beside the field (422)."""
    typed = _text(form, "time_zone", 100)
    try:
        accounts.set_school_time_zone(
            db, actor=user, school_id=user.school_id, time_zone=typed, now=now
        )
    except InvalidInput as error:
        return _overview_page(
            request,
            user,
            db,
            problems=field_problems(error),
            typed={"time_zone": typed},
            status_code=422,
        )
    return _back("/admin", done="time_zone")


def _back(path: str, **params: str) -> RedirectResponse:
    return RedirectResponse(f"{path}?{urlencode(params)}" if params else path, status_code=303)


def _text(form: object, name: str, limit: int = 300) -> str:
    value = form.get(name, "") if hasattr(form, "get") else ""  # FormData or a dict
    return value.strip()[:limit] if isinstance(value, str) else ""


def _role(raw: str) -> Role | None:
    try:
        return Role(raw)
    except ValueError:
        return None


@router.get("")
def overview(request: Request, user: AdminUser, db: DbSession) -> Response:
    """The school at a glance: its people by role and its classes; rename it."""
    return _overview_page(request, user, db)


def _overview_page(
    request: Request,
    user: AdminUser,
    db: DbSession,
    problems: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    people = accounts.list_school_users(db, actor=user)
    counts = {role: sum(1 for p in people if p.role is role) for role in Role}
    inactive = sum(1 for p in people if not p.active)
    classes = accounts.list_school_classes(db, actor=user)
    school = accounts.get_school(db, school_id=user.school_id)
    context = {
        "school": school,
        "counts": counts,
        "inactive": inactive,
        "classes": classes,
        "problems": problems or {},
        "typed": typed or {},
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "admin/overview.html", context, status_code=status_code)


def _users_page(
    request: Request,
    db: DbSession,
    user: AdminUser,
    *,
    role: str = "",
    q: str = "",
    form: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    import_problems: list[Problem] | None = None,
    summary: users_csv.UsersImportSummary | None = None,
    status_code: int = 200,
) -> Response:
    people = accounts.list_school_users(db, actor=user)
    wanted = _role(role)
    if wanted is not None:
        people = [p for p in people if p.role is wanted]
    if q:
        needle = q.lower()
        people = [
            p for p in people if needle in p.display_name.lower() or needle in (p.username or "")
        ]
    context = {
        "people": people,
        "role": role,
        "q": q,
        "roles": list(Role),
        "form": form or {},
        "problems": problems or {},
        "import_problems": import_problems or [],
        "summary": summary,
        "done": DONE.get(request.query_params.get("done", "")),
        "columns": users_csv.USER_CSV_COLUMNS,
    }
    return render(request, "admin/users.html", context, status_code=status_code)


@router.get("/users")
def users_page(
    request: Request,
    user: AdminUser,
    db: DbSession,
    role: Annotated[str, Query(max_length=16)] = "",
    q: Annotated[str, Query(max_length=100)] = "",
) -> Response:
    """The school's people, filtered by role or name; add one, or many from CSV."""
    return _users_page(request, db, user, role=role, q=q)


@router.post("/users", dependencies=[CsrfProtected])
def add_user(
    request: Request, user: AdminUser, db: DbSession, now: Now, form: SubmittedForm
) -> Response:
    """Add one user; a first password, if given, must be changed at their first sign-in."""
    typed = {name: _text(form, name) for name in ("username", "display_name", "role", "email")}
    password = _text(form, "password", 2048)
    role = _role(typed["role"])
    if role is None:
        problems = {"role": "Choose a role."}
        return _users_page(request, db, user, form=typed, problems=problems, status_code=422)
    try:
        created = accounts.add_user(
            db,
            actor=user,
            school_id=user.school_id,
            username=typed["username"],
            display_name=typed["display_name"],
            role=role,
            email=typed["email"] or None,
            password=password or None,
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        problems = field_problems(error)
        return _users_page(request, db, user, form=typed, problems=problems, status_code=422)
    return _back(f"/admin/users/{created.id}", done="user")


@router.post("/users/import", dependencies=[CsrfProtected])
def import_users(
    request: Request,
    user: AdminUser,
    db: DbSession,
    now: Now,
    users_file: Annotated[UploadFile, File()],
    dry_run: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Create or update users from a CSV file: all or nothing, every problem located."""
    data = users_file.file.read(MAX_USERS_CSV_BYTES + 1)  # spooled by Starlette: no network wait
    problems: list[Problem] = []
    summary = None
    if len(data) > MAX_USERS_CSV_BYTES:
        problems = [Problem("file", "the file is larger than 5 MB")]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            problems = [Problem("file", "the file is not UTF-8 text: save it as CSV UTF-8")]
        else:
            try:
                summary = users_csv.import_users_csv(
                    db,
                    actor=user,
                    school_id=user.school_id,
                    text=text,
                    dry_run=dry_run == "1",
                    now=now,
                )
            except InvalidInput as error:
                problems = error.problems or [Problem("file", error.message)]
    return _users_page(
        request,
        db,
        user,
        import_problems=problems,
        summary=summary,
        status_code=422 if problems else 200,
    )


def _person_page(
    request: Request,
    db: DbSession,
    user: AdminUser,
    user_id: str,
    *,
    problems: dict[str, str] | None = None,
    reset: accounts.ResetCode | None = None,
    issued: tokens.IssuedToken | None = None,
    status_code: int = 200,
) -> Response:
    person = accounts.get_school_user(db, actor=user, user_id=user_id)
    people = accounts.list_school_users(db, actor=user)
    by_id = {p.id: p for p in people}
    links = accounts.guardian_links_of(db, actor=user, user_id=person.id)
    context = {
        "person": person,
        "problems": problems or {},
        "reset": reset,
        "issued": issued,
        "done": DONE.get(request.query_params.get("done", "")),
        "linked": [by_id[i] for i in links if i in by_id],
        "candidates": [
            p
            for p in people
            if p.id not in links
            and (
                (person.role is Role.LEARNER and p.role is Role.GUARDIAN)
                or (person.role is Role.GUARDIAN and p.role is Role.LEARNER)
            )
        ],
        "classes": accounts.classes_of_user(db, actor=user, user_id=person.id),
        "scopes": sorted(tokens.ALL_SCOPES),
    }
    return render(request, "admin/person.html", context, status_code=status_code)


@router.get("/users/{user_id}")
def person_page(request: Request, user: AdminUser, db: DbSession, user_id: str) -> Response:
    """One person: edit, switch off or on, hand over a reset code, link guardians, tokens."""
    return _person_page(request, db, user, user_id)


@router.post("/users/{user_id}", dependencies=[CsrfProtected])
def edit_user(
    request: Request, user: AdminUser, db: DbSession, now: Now, user_id: str, form: SubmittedForm
) -> Response:
    """Save a person's name and email."""
    try:
        accounts.edit_user(
            db,
            actor=user,
            user_id=user_id,
            display_name=_text(form, "display_name"),
            email=_text(form, "email", 320) or None,
            now=now,
        )
    except (InvalidInput, Conflict) as error:
        return _person_page(
            request, db, user, user_id, problems=field_problems(error), status_code=422
        )
    return _back(f"/admin/users/{user_id}", done="edit")


@router.post("/users/{user_id}/active", dependencies=[CsrfProtected])
def set_active(
    request: Request, user: AdminUser, db: DbSession, now: Now, user_id: str, form: SubmittedForm
) -> Response:
    """Switch an account off (``active=0``) or on."""
    active = _text(form, "active") == "1"
    try:
        accounts.set_user_active(db, actor=user, user_id=user_id, active=active, now=now)
    except InvalidInput as error:
        return _person_page(
            request, db, user, user_id, problems=field_problems(error), status_code=422
        )
    return _back(f"/admin/users/{user_id}", done="reactivate" if active else "deactivate")


@router.post("/users/{user_id}/reset", dependencies=[CsrfProtected])
def reset_code(
    request: Request, user: AdminUser, db: DbSession, now: Now, user_id: str
) -> Response:
    """Issue a one-time reset code, shown on this page only (it is not stored in clear)."""
    try:
        issued = accounts.issue_reset_code(db, actor=user, user_id=user_id, now=now)
    except InvalidInput as error:
        return _person_page(
            request, db, user, user_id, problems=field_problems(error), status_code=422
        )
    return _person_page(request, db, user, user_id, reset=issued)


@router.post("/users/{user_id}/guardians", dependencies=[CsrfProtected])
def guardian_link(
    request: Request, user: AdminUser, db: DbSession, now: Now, user_id: str, form: SubmittedForm
) -> Response:
    """Link or unlink a guardian and a learner (from either one's page)."""
    person = accounts.get_school_user(db, actor=user, user_id=user_id)
    other = _text(form, "other_id", 64)
    pair = (other, person.id) if person.role is Role.LEARNER else (person.id, other)
    link = GuardianLink(guardian_id=pair[0], learner_id=pair[1])
    try:
        if _text(form, "unlink") == "1":
            accounts.unlink_guardian(db, actor=user, link=link, now=now)
            return _back(f"/admin/users/{user_id}", done="unlink")
        accounts.get_school_user(db, actor=user, user_id=other)
        roster.link_guardian(db, actor=user, link=link, now=now)
    except (InvalidInput, NotFound) as error:
        message = error.message if isinstance(error, InvalidInput) else str(error)
        problems = {"other_id": message}
        return _person_page(request, db, user, user_id, problems=problems, status_code=422)
    return _back(f"/admin/users/{user_id}", done="link")


@router.post("/users/{user_id}/tokens", dependencies=[CsrfProtected])
def create_token(
    request: Request, user: AdminUser, db: DbSession, now: Now, user_id: str, form: SubmittedForm
) -> Response:
    """Create an API token acting as this person; its secret is shown once, here."""
    raw_days = _text(form, "days", 6) or "90"
    try:
        issued = accounts.issue_token(
            db,
            actor=user,
            user_id=user_id,
            name=_text(form, "name"),
            scopes=[str(s)[:64] for s in form.getlist("scopes")][:10],
            days=int(raw_days) if raw_days.isdigit() else -1,
            now=now,
        )
    except InvalidInput as error:
        return _person_page(
            request, db, user, user_id, problems=field_problems(error), status_code=422
        )
    return _person_page(request, db, user, user_id, issued=issued)


@router.get("/tokens")
def tokens_page(request: Request, user: AdminUser, db: DbSession) -> Response:
    """Every API token of the school's people (never their secrets), newest first."""
    people = {p.id: p for p in accounts.list_school_users(db, actor=user)}
    found = tokens.list_tokens(db, actor=user)
    context = {
        "tokens": found,
        "people": people,
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "admin/tokens.html", context)


@router.post("/tokens/{key_id}/revoke", dependencies=[CsrfProtected])
def revoke_token(user: AdminUser, db: DbSession, now: Now, key_id: str) -> Response:
    """Revoke a token at once."""
    tokens.revoke_token(db, key_id=key_id[:64], actor=user, now=now)
    return _back("/admin/tokens", done="revoke")


def _classes_page(
    request: Request,
    db: DbSession,
    user: AdminUser,
    *,
    form: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "classes": accounts.list_school_classes(db, actor=user),
        "teachers": accounts.list_school_users(db, actor=user, role=Role.TEACHER),
        "form": form or {},
        "problems": problems or {},
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "admin/classes.html", context, status_code=status_code)


@router.get("/classes")
def classes_page(request: Request, user: AdminUser, db: DbSession) -> Response:
    """The school's classes; create one."""
    return _classes_page(request, db, user)


@router.post("/classes", dependencies=[CsrfProtected])
def create_class(
    request: Request, user: AdminUser, db: DbSession, now: Now, form: SubmittedForm
) -> Response:
    """Create a class with a teacher."""
    typed = {name: _text(form, name, 64) for name in ("class_id", "name", "teacher_id")}
    typed["name"] = _text(form, "name")
    try:
        school_class = SchoolClass(
            id=typed["class_id"],
            school_id=user.school_id,
            name=typed["name"],
            teacher_ids=(typed["teacher_id"],) if typed["teacher_id"] else (),
        )
        roster.create_class(db, actor=user, school_class=school_class, now=now)
    except (InvalidInput, Conflict) as error:
        problems = field_problems(error)
        if "" in problems and isinstance(error, Conflict):
            problems["class_id"] = problems.pop("")
        return _classes_page(request, db, user, form=typed, problems=problems, status_code=422)
    return _back(f"/admin/classes/{school_class.id}", done="class")


def _class_page(
    request: Request,
    db: DbSession,
    user: AdminUser,
    class_id: str,
    *,
    problems: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    school_class = accounts.get_school_class(db, actor=user, class_id=class_id)
    people = accounts.list_school_users(db, actor=user)
    members = set(accounts.learners_of_class(db, actor=user, class_id=class_id))
    context = {
        "school_class": school_class,
        "teachers": [p for p in people if p.role is Role.TEACHER],
        "learners": [p for p in people if p.id in members],
        "others": [p for p in people if p.role is Role.LEARNER and p.id not in members],
        "names": {p.id: p.display_name for p in people},
        "problems": problems or {},
        "done": DONE.get(request.query_params.get("done", "")),
    }
    return render(request, "admin/class.html", context, status_code=status_code)


@router.get("/classes/{class_id}")
def class_page(request: Request, user: AdminUser, db: DbSession, class_id: str) -> Response:
    """One class: its name and teachers, its learners."""
    return _class_page(request, db, user, class_id)


@router.post("/classes/{class_id}", dependencies=[CsrfProtected])
def edit_class(
    request: Request, user: AdminUser, db: DbSession, now: Now, class_id: str, form: SubmittedForm
) -> Response:
    """Rename the class and set its teachers."""
    teacher_ids = [str(t)[:64] for t in form.getlist("teacher_ids")][:50]
    try:
        accounts.edit_class(
            db,
            actor=user,
            class_id=class_id,
            name=_text(form, "name"),
            teacher_ids=teacher_ids,
            now=now,
        )
    except InvalidInput as error:
        return _class_page(
            request, db, user, class_id, problems=field_problems(error), status_code=422
        )
    return _back(f"/admin/classes/{class_id}", done="teachers")


@router.post("/classes/{class_id}/learners", dependencies=[CsrfProtected])
def class_learners(
    request: Request, user: AdminUser, db: DbSession, now: Now, class_id: str, form: SubmittedForm
) -> Response:
    """Add a learner to the class, or take one out (``remove=1``)."""
    enrollment = Enrollment(class_id=class_id, learner_id=_text(form, "learner_id", 64))
    try:
        if _text(form, "remove") == "1":
            accounts.unenroll_learner(db, actor=user, enrollment=enrollment, now=now)
            return _back(f"/admin/classes/{class_id}", done="unenroll")
        accounts.get_school_user(db, actor=user, user_id=enrollment.learner_id)
        roster.enroll_learner(db, actor=user, enrollment=enrollment, now=now)
    except (InvalidInput, NotFound) as error:
        message = error.message if isinstance(error, InvalidInput) else str(error)
        return _class_page(
            request, db, user, class_id, problems={"learner_id": message}, status_code=422
        )
    return _back(f"/admin/classes/{class_id}", done="enroll")
