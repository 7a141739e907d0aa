"""The JSON API of school administration under ``/api/v1/admin``: people (one by one and from
CSV), switching accounts off and on, reset codes, classes with their teachers and learners,
guardian links and API tokens. For an admin's signed-in session, or an admin's token with the
``admin:roster`` scope; everything goes through :mod:`zoped.services.accounts` (and roster,
tokens), which authorize within the admin's school and audit.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response
from pydantic import BaseModel, Field

from zoped.api.deps import CurrentCaller, DbSession, Now
from zoped.api.routes import ERRORS
from zoped.api.schemas import ID_FIELD
from zoped.domain.people import Enrollment, GuardianLink, Role, SchoolClass, User
from zoped.errors import PermissionDenied
from zoped.services import accounts, roster, tokens, users_csv
from zoped.services.tokens import Scope

router = APIRouter(prefix="/api/v1/admin", responses=ERRORS, tags=["admin"])

#: Largest users CSV accepted, in characters.
MAX_CSV_CHARS = 5_000_000


def _admin(caller: CurrentCaller) -> User:
    """The calling admin. Raises: PermissionDenied (not an admin, or the token lacks the scope)."""
    if caller.user.role is not Role.ADMIN:
        raise PermissionDenied("school administration is for admins")
    caller.require(Scope.ADMIN_ROSTER)
    return caller.user


class UserAdminPublic(BaseModel):
    """A person as their school's admin sees them."""

    id: str
    username: str | None
    display_name: str
    role: Role
    email: str | None
    active: bool
    must_change_password: bool


def _public(user: User) -> UserAdminPublic:
    return UserAdminPublic(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        email=user.email,
        active=user.active,
        must_change_password=user.must_change_password,
    )


class UserCreate(BaseModel):
    """A new person."""

    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(min_length=1, max_length=300)
    role: Role
    email: str | None = Field(None, max_length=320)
    password: str | None = Field(
        None, max_length=1024, description="A first password, to be changed at first sign-in."
    )


class UserChange(BaseModel):
    """What to change about a person (fields left out stay as they are)."""

    display_name: str | None = Field(None, min_length=1, max_length=300)
    email: str | None = Field(None, max_length=320)
    active: bool | None = None


class ResetCodePublic(BaseModel):
    """A one-time code to hand over; shown once."""

    code: str
    expires_at: datetime


class ImportSummaryPublic(BaseModel):
    """What a users CSV import did (or, for a dry run, would do)."""

    created: list[str]
    updated: list[str]
    unchanged: list[str]
    enrollments: int
    guardian_links: int
    dry_run: bool


class ClassPublic(BaseModel):
    """A class with its teachers' and learners' ids."""

    id: str
    name: str
    teacher_ids: list[str]
    learner_ids: list[str]


class ClassCreate(BaseModel):
    """A new class."""

    id: str = ID_FIELD
    name: str = Field(min_length=1, max_length=300)
    teacher_ids: list[Annotated[str, ID_FIELD]] = Field(default_factory=list, max_length=50)


class TokenPublic(BaseModel):
    """An API token (never its secret)."""

    key_id: str
    user_id: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


@router.get("/users", response_model=list[UserAdminPublic])
def list_users(
    caller: CurrentCaller, session: DbSession, role: Role | None = None
) -> list[UserAdminPublic]:
    """The school's people (optionally of one role), by name."""
    admin = _admin(caller)
    return [_public(u) for u in accounts.list_school_users(session, actor=admin, role=role)]


@router.post("/users", response_model=UserAdminPublic, status_code=201)
def create_user(
    caller: CurrentCaller, session: DbSession, now: Now, body: UserCreate
) -> UserAdminPublic:
    """Add one person (422 with located problems; 409 when the username or email is taken)."""
    admin = _admin(caller)
    user = accounts.add_user(
        session,
        actor=admin,
        school_id=admin.school_id,
        username=body.username,
        display_name=body.display_name,
        role=body.role,
        email=body.email,
        password=body.password,
        now=now,
    )
    return _public(user)


@router.post("/users/import", response_model=ImportSummaryPublic)
def import_users(
    caller: CurrentCaller,
    session: DbSession,
    now: Now,
    csv_text: Annotated[str, Body(media_type="text/csv", max_length=MAX_CSV_CHARS)],
    dry_run: bool = False,
) -> ImportSummaryPublic:
    """Create or update people from a users CSV file (the body): all or nothing."""
    admin = _admin(caller)
    summary = users_csv.import_users_csv(
        session, actor=admin, school_id=admin.school_id, text=csv_text, dry_run=dry_run, now=now
    )
    return ImportSummaryPublic(
        created=list(summary.created),
        updated=list(summary.updated),
        unchanged=list(summary.unchanged),
        enrollments=summary.enrollments,
        guardian_links=summary.guardian_links,
        dry_run=summary.dry_run,
    )


@router.get("/users/{user_id}", response_model=UserAdminPublic)
def get_user(caller: CurrentCaller, session: DbSession, user_id: str) -> UserAdminPublic:
    """One person of the school."""
    return _public(accounts.get_school_user(session, actor=_admin(caller), user_id=user_id))


@router.patch("/users/{user_id}", response_model=UserAdminPublic)
def change_user(
    caller: CurrentCaller, session: DbSession, now: Now, user_id: str, body: UserChange
) -> UserAdminPublic:
    """Change a person's name or email, or switch their account off or on."""
    admin = _admin(caller)
    user = accounts.get_school_user(session, actor=admin, user_id=user_id)
    if body.display_name is not None or "email" in body.model_fields_set:
        user = accounts.edit_user(
            session,
            actor=admin,
            user_id=user_id,
            display_name=body.display_name or user.display_name,
            email=body.email if "email" in body.model_fields_set else user.email,
            now=now,
        )
    if body.active is not None and body.active != user.active:
        user = accounts.set_user_active(
            session, actor=admin, user_id=user_id, active=body.active, now=now
        )
    return _public(user)


@router.post("/users/{user_id}/reset-code", response_model=ResetCodePublic, status_code=201)
def reset_code(
    caller: CurrentCaller, session: DbSession, now: Now, user_id: str
) -> ResetCodePublic:
    """A one-time code with which the person sets a new password at ``/signin/reset``."""
    issued = accounts.issue_reset_code(session, actor=_admin(caller), user_id=user_id, now=now)
    return ResetCodePublic(code=issued.code, expires_at=issued.expires_at)


def _class_public(session: DbSession, admin: User, school_class: SchoolClass) -> ClassPublic:
    learners = accounts.learners_of_class(session, actor=admin, class_id=school_class.id)
    return ClassPublic(
        id=school_class.id,
        name=school_class.name,
        teacher_ids=list(school_class.teacher_ids),
        learner_ids=learners,
    )


@router.get("/classes", response_model=list[ClassPublic])
def list_classes(caller: CurrentCaller, session: DbSession) -> list[ClassPublic]:
    """The school's classes, by name."""
    admin = _admin(caller)
    return [
        _class_public(session, admin, c) for c in accounts.list_school_classes(session, actor=admin)
    ]


@router.post("/classes", response_model=ClassPublic, status_code=201)
def create_class(
    caller: CurrentCaller, session: DbSession, now: Now, body: ClassCreate
) -> ClassPublic:
    """Create a class with its teachers."""
    admin = _admin(caller)
    school_class = SchoolClass(
        id=body.id, school_id=admin.school_id, name=body.name, teacher_ids=tuple(body.teacher_ids)
    )
    roster.create_class(session, actor=admin, school_class=school_class, now=now)
    return _class_public(session, admin, school_class)


@router.put("/classes/{class_id}/learners/{learner_id}", status_code=204)
def enroll(
    caller: CurrentCaller, session: DbSession, now: Now, class_id: str, learner_id: str
) -> Response:
    """Put a learner in a class (doing it twice is harmless)."""
    admin = _admin(caller)
    accounts.get_school_class(session, actor=admin, class_id=class_id)
    accounts.get_school_user(session, actor=admin, user_id=learner_id)  # another school's: 404
    enrollment = Enrollment(class_id=class_id, learner_id=learner_id)
    roster.enroll_learner(session, actor=admin, enrollment=enrollment, now=now)
    return Response(status_code=204)


@router.delete("/classes/{class_id}/learners/{learner_id}", status_code=204)
def unenroll(
    caller: CurrentCaller, session: DbSession, now: Now, class_id: str, learner_id: str
) -> Response:
    """Take a learner out of a class (their evidence stays)."""
    enrollment = Enrollment(class_id=class_id, learner_id=learner_id)
    accounts.unenroll_learner(session, actor=_admin(caller), enrollment=enrollment, now=now)
    return Response(status_code=204)


@router.put("/guardians/{guardian_id}/learners/{learner_id}", status_code=204)
def link(
    caller: CurrentCaller, session: DbSession, now: Now, guardian_id: str, learner_id: str
) -> Response:
    """Let a guardian see a learner's roadmap (doing it twice is harmless)."""
    admin = _admin(caller)
    accounts.get_school_user(session, actor=admin, user_id=guardian_id)
    accounts.get_school_user(session, actor=admin, user_id=learner_id)
    guardian_link = GuardianLink(guardian_id=guardian_id, learner_id=learner_id)
    roster.link_guardian(session, actor=admin, link=guardian_link, now=now)
    return Response(status_code=204)


@router.delete("/guardians/{guardian_id}/learners/{learner_id}", status_code=204)
def unlink(
    caller: CurrentCaller, session: DbSession, now: Now, guardian_id: str, learner_id: str
) -> Response:
    """End a guardian link."""
    guardian_link = GuardianLink(guardian_id=guardian_id, learner_id=learner_id)
    accounts.unlink_guardian(session, actor=_admin(caller), link=guardian_link, now=now)
    return Response(status_code=204)


class TokenCreate(BaseModel):
    """A new API token acting as a person of the school."""

    name: str = Field(min_length=1, max_length=300, description="Who or what uses it.")
    scopes: list[Annotated[str, Field(max_length=64)]] = Field(min_length=1, max_length=10)
    days: int = Field(90, ge=1, le=366)


class IssuedTokenPublic(BaseModel):
    """A token just created: the only time its secret is shown."""

    key_id: str
    user_id: str
    value: str = Field(description="Send as 'Authorization: Bearer VALUE'.")
    scopes: list[str]
    expires_at: datetime | None


@router.post("/users/{user_id}/tokens", response_model=IssuedTokenPublic, status_code=201)
def create_token(
    caller: CurrentCaller, session: DbSession, now: Now, user_id: str, body: TokenCreate
) -> IssuedTokenPublic:
    """Create an API token acting as this person; its secret is in this answer only."""
    issued = accounts.issue_token(
        session,
        actor=_admin(caller),
        user_id=user_id,
        name=body.name,
        scopes=body.scopes,
        days=body.days,
        now=now,
    )
    return IssuedTokenPublic(
        key_id=issued.key_id,
        user_id=issued.user_id,
        value=issued.value,
        scopes=list(issued.scopes),
        expires_at=issued.expires_at,
    )


@router.get("/tokens", response_model=list[TokenPublic])
def list_tokens(caller: CurrentCaller, session: DbSession) -> list[TokenPublic]:
    """The API tokens of the school's people, newest first."""
    found = tokens.list_tokens(session, actor=_admin(caller))
    return [
        TokenPublic(
            key_id=t.key_id,
            user_id=t.user_id,
            name=t.name,
            scopes=list(t.scopes),
            created_at=t.created_at,
            expires_at=t.expires_at,
            revoked_at=t.revoked_at,
        )
        for t in found
    ]


@router.delete("/tokens/{key_id}", status_code=204)
def revoke(
    caller: CurrentCaller, session: DbSession, now: Now, key_id: Annotated[str, Path(max_length=64)]
) -> Response:
    """Revoke a token at once."""
    tokens.revoke_token(session, key_id=key_id, actor=_admin(caller), now=now)
    return Response(status_code=204)
