"""Running a school's accounts: the admin's use cases beside :mod:`zoped.services.roster`.

Users are created one by one or in bulk from a CSV file, edited, deactivated and reactivated,
and given one-time password-reset codes; classes get their teachers and learners; guardians are
linked and unlinked. The actor is an admin of the school, or None for the system (the command
line run by the operator). Every change is audited; a bulk import is all or nothing.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoped.domain.people import (
    Enrollment,
    GuardianLink,
    Role,
    School,
    SchoolClass,
    User,
    time_zone_problems,
)
from zoped.errors import Conflict, InvalidInput, NotFound, Problem
from zoped.services import transaction
from zoped.services.auth import (
    RESET_CODE_LIFETIME,
    hash_password,
    needs_setup,
    new_reset_code,
    password_problems,
    reset_code_digest,
)
from zoped.services.policy import require_school_admin
from zoped.services.tokens import IssuedToken, create_token
from zoped.store import auth_repository
from zoped.store.repositories import PeopleRepository, append_audit
from zoped.store.tables import ID, users

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def _school_user(repo: PeopleRepository, actor: User | None, user_id: str) -> User:
    """A user the actor administers; another school's user is NotFound (nothing leaks)."""
    try:
        user = repo.get_user(user_id)
    except NotFound:
        raise NotFound(f"no user {user_id!r}") from None
    if actor is not None and actor.school_id != user.school_id:
        raise NotFound(f"no user {user_id!r}")
    require_school_admin(actor, user.school_id)
    return user


def _audit(
    session: Session, *, actor: User | None, action: str, user_id: str, at: datetime
) -> None:
    append_audit(
        session,
        at=at,
        actor_id=actor.id if actor else None,
        action=action,
        subject_type="user",
        subject_id=user_id,
    )


def find_user_by_username(
    session: Session, *, actor: User | None, school_id: str, username: str
) -> User:
    """The school's user with this username.

    Raises:
        NotFound: no such user in the school.
    """
    require_school_admin(actor, school_id)
    user = PeopleRepository(session).find_user(school_id, username=username.strip())
    if user is None:
        raise NotFound(f"no user {username!r} in school {school_id!r}")
    return user


def new_user_id(session: Session, school_id: str, username: str) -> str:
    """A fresh user id: the username when no school has taken it, else it prefixed by the school.

    User ids are global (one table for every school), usernames only unique within a school.
    """
    base = re.sub(r"[^a-z0-9._-]+", "-", username.lower()).strip("-") or "user"
    for candidate in (base, f"{school_id}.{base}"):
        candidate = candidate[:ID]
        if session.scalar(select(users.c.id).where(users.c.id == candidate)) is None:
            return candidate
    number = 2
    while True:
        candidate = f"{school_id}.{base}"[: ID - 6] + f"-{number}"
        if session.scalar(select(users.c.id).where(users.c.id == candidate)) is None:
            return candidate
        number += 1


def add_user(
    session: Session,
    *,
    actor: User | None,
    school_id: str,
    username: str,
    display_name: str,
    role: Role,
    email: str | None = None,
    password: str | None = None,
    now: datetime,
) -> User:
    """Create one user; a password set here must be changed at the first sign-in.

    Raises:
        PermissionDenied: not an admin of the school.
        InvalidInput: a bad username, name, email or password (each located).
        Conflict: the username or email is taken in the school.
    """
    require_school_admin(actor, school_id)
    problems = username_problems(username, "username")
    if password:
        problems += password_problems(password, username=username, location="password")
    if problems:
        raise InvalidInput("invalid user", problems)
    user = User(
        id=new_user_id(session, school_id, username),
        school_id=school_id,
        role=role,
        display_name=display_name.strip(),
        email=(email or "").strip() or None,
        username=username.strip(),
        must_change_password=bool(password),
    )
    repo = PeopleRepository(session)
    try:
        with transaction(session):
            repo.get_school(school_id)
            repo.add_user(user, at=now, password_hash=hash_password(password) if password else None)
            session.flush()
            _audit(session, actor=actor, action="user.create", user_id=user.id, at=now)
    except IntegrityError as error:
        raise Conflict(
            f"the username {username!r} or that email is already used in this school"
        ) from error
    return user


def username_problems(username: str, location: str) -> list[Problem]:
    if not _USERNAME.match(username.strip()):
        return [
            Problem(
                location,
                "a username is 1 to 64 letters, digits, dots, dashes, underscores or @, "
                "starting with a letter or digit",
            )
        ]
    return []


def edit_user(
    session: Session,
    *,
    actor: User | None,
    user_id: str,
    display_name: str,
    email: str | None,
    now: datetime,
) -> User:
    """Change a user's display name and email.

    Raises:
        NotFound: no such user in the actor's school.
        InvalidInput: an empty name or a bad email.
        Conflict: the email is taken in the school.
    """
    repo = PeopleRepository(session)
    user = _school_user(repo, actor, user_id)
    changed = dataclasses.replace(
        user, display_name=display_name.strip(), email=(email or "").strip() or None
    )
    try:
        with transaction(session):
            repo.update_user(changed)
            session.flush()
            _audit(session, actor=actor, action="user.edit", user_id=user.id, at=now)
    except IntegrityError as error:
        raise Conflict("that email is already used in this school") from error
    return changed


def set_user_active(
    session: Session, *, actor: User | None, user_id: str, active: bool, now: datetime
) -> User:
    """Deactivate (sign-ins, sessions and tokens stop working; data stays) or reactivate.

    Raises:
        NotFound: no such user in the actor's school.
        InvalidInput: an admin deactivating themselves (the school would lose its admin).
    """
    repo = PeopleRepository(session)
    user = _school_user(repo, actor, user_id)
    if actor is not None and actor.id == user.id and not active:
        raise InvalidInput(
            "cannot deactivate yourself", [Problem("user_id", "ask another admin to do it")]
        )
    changed = dataclasses.replace(user, active=active)
    with transaction(session):
        repo.update_user(changed)
        if not active:
            auth_repository.end_user_web_sessions(session, user_id=user.id, at=now)
        action = "user.reactivate" if active else "user.deactivate"
        _audit(session, actor=actor, action=action, user_id=user.id, at=now)
    return changed


@dataclass(frozen=True)
class ResetCode:
    """A one-time code just issued: shown to the admin once, never stored in clear."""

    user: User
    code: str
    expires_at: datetime


def issue_reset_code(
    session: Session, *, actor: User | None, user_id: str, now: datetime
) -> ResetCode:
    """A one-time code with which the user sets a new password (``/signin/reset``); an
    earlier code of the user stops working.

    Raises:
        NotFound: no such user in the actor's school.
        InvalidInput: the user has no username to sign in with.
    """
    repo = PeopleRepository(session)
    user = _school_user(repo, actor, user_id)
    if not user.username:
        raise InvalidInput("no username", [Problem("user_id", "give the user a username first")])
    code = new_reset_code()
    expires_at = now + RESET_CODE_LIFETIME
    with transaction(session):
        auth_repository.replace_reset_code(
            session,
            user_id=user.id,
            code_digest=reset_code_digest(code),
            created_by=actor.id if actor else None,
            at=now,
            expires_at=expires_at,
        )
        _audit(session, actor=actor, action="password.reset_issued", user_id=user.id, at=now)
    return ResetCode(user=user, code=code, expires_at=expires_at)


def _class_of_school(repo: PeopleRepository, actor: User | None, class_id: str) -> SchoolClass:
    school_class = repo.get_class(class_id)
    if actor is not None and actor.school_id != school_class.school_id:
        raise NotFound(f"no class {class_id!r}")
    require_school_admin(actor, school_class.school_id)
    return school_class


def edit_class(
    session: Session,
    *,
    actor: User | None,
    class_id: str,
    name: str,
    teacher_ids: Sequence[str],
    now: datetime,
) -> SchoolClass:
    """Rename a class and set its teachers (in order).

    Raises:
        NotFound: no such class in the actor's school.
        InvalidInput: an empty name, or a listed user who is not a teacher of the school.
    """
    repo = PeopleRepository(session)
    school_class = _class_of_school(repo, actor, class_id)
    found = repo.get_users(teacher_ids)
    problems = [
        Problem(f"teacher_ids[{i}]", f"{tid!r} is not a teacher of this school")
        for i, tid in enumerate(teacher_ids)
        if tid not in found
        or found[tid].role is not Role.TEACHER
        or found[tid].school_id != school_class.school_id
    ]
    if problems:
        raise InvalidInput("invalid class", problems)
    changed = SchoolClass(
        id=school_class.id,
        school_id=school_class.school_id,
        name=name.strip(),
        teacher_ids=tuple(dict.fromkeys(teacher_ids)),
    )
    with transaction(session):
        repo.update_class(changed)
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor else None,
            action="class.edit",
            subject_type="class",
            subject_id=class_id,
        )
    return changed


def unenroll_learner(
    session: Session, *, actor: User | None, enrollment: Enrollment, now: datetime
) -> bool:
    """Take a learner out of a class (their evidence stays); whether they were in it.

    Raises:
        NotFound: no such class in the actor's school.
    """
    repo = PeopleRepository(session)
    _class_of_school(repo, actor, enrollment.class_id)
    with transaction(session):
        removed = repo.remove_enrollment(enrollment)
        if removed:
            append_audit(
                session,
                at=now,
                actor_id=actor.id if actor else None,
                action="class.unenroll",
                subject_type="class",
                subject_id=enrollment.class_id,
                details={"learner_id": enrollment.learner_id},
            )
    return removed


def unlink_guardian(
    session: Session, *, actor: User | None, link: GuardianLink, now: datetime
) -> bool:
    """End a guardian link; whether it existed.

    Raises:
        NotFound: no such learner in the actor's school.
    """
    repo = PeopleRepository(session)
    _school_user(repo, actor, link.learner_id)
    with transaction(session):
        removed = repo.remove_guardian_link(link)
        if removed:
            _audit(session, actor=actor, action="guardian.unlink", user_id=link.learner_id, at=now)
    return removed


def set_up_school(
    session: Session,
    *,
    school_id: str,
    school_name: str,
    admin_username: str,
    admin_name: str,
    password: str,
    now: datetime,
) -> User:
    """First run: create the school and its first admin, who chose this password themselves.
    Only while the database has no school (the web layer also checks the setup code).

    Raises:
        Conflict: a school exists already.
        InvalidInput: a bad id, name, username or password (each located).
    """
    if not needs_setup(session):
        raise Conflict("this zoped is already set up; sign in as its admin")
    problems = []
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,63}", school_id.strip()):
        problems.append(
            Problem("school_id", "lowercase letters, digits and dashes, up to 64 characters")
        )
    if not school_name.strip():
        problems.append(Problem("school_name", "must not be empty"))
    if not admin_name.strip():
        problems.append(Problem("admin_name", "must not be empty"))
    problems += username_problems(admin_username, "admin_username")
    problems += password_problems(password, username=admin_username, location="password")
    if problems:
        raise InvalidInput("the school cannot be set up like this", problems)
    school = School(id=school_id.strip(), name=school_name.strip())
    admin = User(
        id=new_user_id(session, school.id, admin_username),
        school_id=school.id,
        role=Role.ADMIN,
        display_name=admin_name.strip(),
        username=admin_username.strip(),
    )
    repo = PeopleRepository(session)
    with transaction(session):
        repo.add_school(school, at=now)
        repo.add_user(admin, at=now, password_hash=hash_password(password))
        append_audit(
            session,
            at=now,
            actor_id=None,
            action="school.create",
            subject_type="school",
            subject_id=school.id,
        )
        _audit(session, actor=None, action="user.create", user_id=admin.id, at=now)
    return admin


def issue_token(
    session: Session,
    *,
    actor: User | None,
    user_id: str,
    name: str,
    scopes: Sequence[str],
    days: int,
    now: datetime,
) -> IssuedToken:
    """An API token acting as a user of the actor's school; its secret is shown once.

    Raises:
        NotFound: no such user in the actor's school.
        InvalidInput: an unknown scope, an empty name or a lifetime out of range.
    """
    user = _school_user(PeopleRepository(session), actor, user_id)
    return create_token(session, user=user, name=name, scopes=scopes, days=days, now=now)


# --- what the admin pages read (admins of the school only) ----------------------------------


def get_school(session: Session, *, school_id: str) -> School:
    """A school. Raises: NotFound."""
    return PeopleRepository(session).get_school(school_id)


def school_zone(session: Session, *, school_id: str) -> ZoneInfo:
    """The school's time zone, whose days due dates, pages and reasons name. Raises: NotFound."""
    return PeopleRepository(session).get_school(school_id).zone


def user_zone(session: Session, *, user_id: str) -> ZoneInfo:
    """The time zone of the user's school. Raises: NotFound."""
    repo = PeopleRepository(session)
    return repo.get_school(repo.get_user(user_id).school_id).zone


def rename_school(
    session: Session, *, actor: User | None, school_id: str, name: str, now: datetime
) -> School:
    """Change the school's name (as its pages and sign-in show it).

    Raises:
        PermissionDenied: not an admin of the school.
        InvalidInput: an empty or too long name.
    """
    require_school_admin(actor, school_id)
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 300:
        raise InvalidInput("invalid name", [Problem("name", "1 to 300 characters")])
    repo = PeopleRepository(session)
    with transaction(session):
        before = repo.get_school(school_id)
        repo.rename_school(school_id, cleaned)
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor else None,
            action="school.rename",
            subject_type="school",
            subject_id=school_id,
        )
    return dataclasses.replace(before, name=cleaned)


def set_school_time_zone(
    session: Session, *, actor: User | None, school_id: str, time_zone: str, now: datetime
) -> School:
    """Change the school's time zone (an IANA name such as ``America/New_York``): due dates end
    at midnight there, and its pages show times there.

    Raises:
        PermissionDenied: not an admin of the school.
        InvalidInput: not a known time zone (nothing is changed).
    """
    require_school_admin(actor, school_id)
    problems = time_zone_problems(time_zone)
    if problems:
        raise InvalidInput("invalid time zone", problems)
    cleaned = time_zone.strip()
    repo = PeopleRepository(session)
    with transaction(session):
        before = repo.get_school(school_id)
        repo.set_school_time_zone(school_id, cleaned)
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor else None,
            action="school.time_zone",
            subject_type="school",
            subject_id=school_id,
            details={"from": before.time_zone, "to": cleaned},
        )
    return dataclasses.replace(before, time_zone=cleaned)


def get_school_user(session: Session, *, actor: User, user_id: str) -> User:
    """A user of the admin's school. Raises: NotFound (also for another school's user)."""
    return _school_user(PeopleRepository(session), actor, user_id)


def list_school_users(session: Session, *, actor: User, role: Role | None = None) -> list[User]:
    """The admin's school's users (optionally of one role), by name."""
    require_school_admin(actor, actor.school_id)
    return PeopleRepository(session).list_users(actor.school_id, role=role)


def list_school_classes(session: Session, *, actor: User) -> list[SchoolClass]:
    """The admin's school's classes, by name."""
    require_school_admin(actor, actor.school_id)
    return PeopleRepository(session).list_classes(actor.school_id)


def get_school_class(session: Session, *, actor: User, class_id: str) -> SchoolClass:
    """A class of the admin's school. Raises: NotFound (also for another school's class)."""
    try:
        return _class_of_school(PeopleRepository(session), actor, class_id)
    except NotFound:
        raise NotFound(f"no class {class_id!r}") from None


def learners_of_class(session: Session, *, actor: User, class_id: str) -> list[str]:
    """Ids of a class's learners."""
    get_school_class(session, actor=actor, class_id=class_id)
    return PeopleRepository(session).learners_in_class(class_id)


def guardian_links_of(session: Session, *, actor: User, user_id: str) -> list[str]:
    """The learners a guardian is linked to, or the guardians of a learner (ids)."""
    repo = PeopleRepository(session)
    user = _school_user(repo, actor, user_id)
    if user.role is Role.GUARDIAN:
        return repo.learners_of_guardian(user.id)
    if user.role is Role.LEARNER:
        return repo.guardians_of_learner(user.id)
    return []


def classes_of_user(session: Session, *, actor: User, user_id: str) -> list[SchoolClass]:
    """The classes a learner is in or a teacher teaches."""
    repo = PeopleRepository(session)
    user = _school_user(repo, actor, user_id)
    classes = repo.list_classes(user.school_id)
    if user.role is Role.TEACHER:
        return [c for c in classes if user.id in c.teacher_ids]
    if user.role is Role.LEARNER:
        return [
            c for c in classes if repo.is_enrolled(Enrollment(class_id=c.id, learner_id=user.id))
        ]
    return []
