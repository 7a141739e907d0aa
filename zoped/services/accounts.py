"""Running a school's accounts: the admin's use cases beside :mod:`zoped.services.roster`.

Users are created one by one or in bulk from a CSV file, edited, deactivated and reactivated,
and given one-time password-reset codes; classes get their teachers and learners; guardians are
linked and unlinked. The actor is an admin of the school, or None for the system (the command
line run by the operator). Every change is audited; a bulk import is all or nothing.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoped.domain.people import Enrollment, GuardianLink, Role, School, SchoolClass, User
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import transaction
from zoped.services.auth import (
    RESET_CODE_LIFETIME,
    hash_password,
    needs_setup,
    new_reset_code,
    password_problems,
    reset_code_digest,
)
from zoped.services.tokens import IssuedToken, create_token
from zoped.store import auth_repository
from zoped.store.repositories import PeopleRepository, append_audit
from zoped.store.tables import ID, users

#: The columns of a users CSV file; the first three are required.
USER_CSV_COLUMNS = (
    "username",
    "display_name",
    "role",
    "email",
    "password",
    "classes",
    "guardian_of",
)
_REQUIRED_COLUMNS = ("username", "display_name", "role")
MAX_CSV_ROWS = 20_000
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")


def _require_admin(actor: User | None, school_id: str) -> None:
    if actor is not None and (actor.role is not Role.ADMIN or actor.school_id != school_id):
        raise PermissionDenied("only an admin of this school may do this")


def _school_user(repo: PeopleRepository, actor: User | None, user_id: str) -> User:
    """A user the actor administers; another school's user is NotFound (nothing leaks)."""
    try:
        user = repo.get_user(user_id)
    except NotFound:
        raise NotFound(f"no user {user_id!r}") from None
    if actor is not None and actor.school_id != user.school_id:
        raise NotFound(f"no user {user_id!r}")
    _require_admin(actor, user.school_id)
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
    _require_admin(actor, school_id)
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
    _require_admin(actor, school_id)
    problems = _username_problems(username, "username")
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


def _username_problems(username: str, location: str) -> list[Problem]:
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
    _require_admin(actor, school_class.school_id)
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


@dataclass(frozen=True)
class UsersImportSummary:
    """What a users CSV import did (or, for a dry run, would do)."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    enrollments: int
    guardian_links: int
    dry_run: bool


@dataclass(frozen=True)
class _UserRow:
    line: int
    username: str
    display_name: str
    role: Role
    email: str | None
    password: str | None
    classes: tuple[str, ...]
    guardian_of: tuple[str, ...]


def _parse_users_csv(text: str) -> tuple[list[_UserRow], list[Problem]]:
    """The rows of a users CSV file and every problem in it, each located by line and column."""
    problems: list[Problem] = []
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [(name or "").strip().lower() for name in (reader.fieldnames or [])]
    reader.fieldnames = header
    missing = [name for name in _REQUIRED_COLUMNS if name not in header]
    if missing:
        return [], [Problem("line 1", f"missing column(s): {', '.join(missing)}")]
    unknown = [name for name in header if name not in USER_CSV_COLUMNS]
    if unknown:
        expected = ", ".join(USER_CSV_COLUMNS)
        problems.append(
            Problem("line 1", f"unknown column(s) {', '.join(unknown)}; expected {expected}")
        )
    rows: list[_UserRow] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_CSV_ROWS:
            problems.append(Problem(f"line {number}", f"at most {MAX_CSV_ROWS} users per file"))
            break
        if None in raw:
            problems.append(Problem(f"line {number}", "more values than columns"))
            continue
        cell = {key: (value or "").strip() for key, value in raw.items()}
        if not any(cell.values()):
            continue  # a blank line
        where = f"line {number}"
        username = cell.get("username", "")
        problems += _username_problems(username, f"{where} column username")
        if username.lower() in seen:
            problems.append(
                Problem(
                    f"{where} column username",
                    f"{username!r} is also on line {seen[username.lower()]}",
                )
            )
        seen[username.lower()] = number
        if not cell.get("display_name"):
            problems.append(Problem(f"{where} column display_name", "must not be empty"))
        try:
            role = Role(cell.get("role", "").lower())
        except ValueError:
            roles = ", ".join(r.value for r in Role)
            problems.append(
                Problem(f"{where} column role", f"{cell.get('role')!r} is not one of {roles}")
            )
            continue
        email = cell.get("email") or None
        if email is not None and "@" not in email:
            problems.append(Problem(f"{where} column email", f"{email!r} is not an email address"))
        password = cell.get("password") or None
        if password:
            problems += password_problems(
                password, username=username, location=f"{where} column password"
            )
        guardian_of = _split(cell.get("guardian_of", ""))
        if guardian_of and role is not Role.GUARDIAN:
            problems.append(Problem(f"{where} column guardian_of", "only a guardian has children"))
        classes = _split(cell.get("classes", ""))
        if classes and role not in (Role.LEARNER, Role.TEACHER):
            problems.append(
                Problem(f"{where} column classes", "only learners and teachers join classes")
            )
        rows.append(
            _UserRow(
                number,
                username,
                cell.get("display_name", ""),
                role,
                email,
                password,
                classes,
                guardian_of,
            )
        )
    return rows, problems


def _split(cell: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in re.split(r"[;|]", cell) if part.strip())


def import_users_csv(
    session: Session,
    *,
    actor: User | None,
    school_id: str,
    text: str,
    dry_run: bool = False,
    now: datetime,
) -> UsersImportSummary:
    """Create or update a school's users from CSV (columns :data:`USER_CSV_COLUMNS`), enroll
    them in the classes named and link guardians to the learners named (by username). A user
    already there (same username) is updated; the role of an existing user never changes. All or
    nothing: every problem is reported, located by line and column, and nothing is written.

    Raises:
        PermissionDenied: not an admin of the school.
        InvalidInput: every problem in the file.
    """
    _require_admin(actor, school_id)
    repo = PeopleRepository(session)
    repo.get_school(school_id)
    rows, problems = _parse_users_csv(text)
    existing = {u.username.lower(): u for u in repo.list_users(school_id) if u.username}
    class_ids = {c.id for c in repo.list_classes(school_id)}
    in_file = {row.username.lower(): row for row in rows}
    for row in rows:
        where = f"line {row.line}"
        known = existing.get(row.username.lower())
        if known is not None and known.role is not row.role:
            problems.append(
                Problem(f"{where} column role", f"{row.username!r} is already a {known.role}")
            )
        for class_id in row.classes:
            if class_id not in class_ids:
                problems.append(Problem(f"{where} column classes", f"no class {class_id!r} here"))
        for child in row.guardian_of:
            other = in_file.get(child.lower()) or existing.get(child.lower())
            if other is None or other.role is not Role.LEARNER:
                problems.append(
                    Problem(f"{where} column guardian_of", f"{child!r} is not a learner here")
                )
    if problems:
        raise InvalidInput("the users file has problems; nothing was imported", problems)
    created: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    enrolled = linked = 0
    try:
        enrolled, linked = _write_users(
            session, actor, school_id, rows, existing, created, updated, unchanged, dry_run, now
        )
    except _DryRunDone as done:
        enrolled, linked = done.counts
    return UsersImportSummary(
        created=tuple(created),
        updated=tuple(updated),
        unchanged=tuple(unchanged),
        enrollments=enrolled,
        guardian_links=linked,
        dry_run=dry_run,
    )


class _DryRunDone(Exception):
    """Raised at the end of a dry run's writes, so that the transaction rolls them back."""

    def __init__(self, counts: tuple[int, int]) -> None:
        super().__init__("dry run")
        self.counts = counts


def _write_users(
    session: Session,
    actor: User | None,
    school_id: str,
    rows: list[_UserRow],
    existing: dict[str, User],
    created: list[str],
    updated: list[str],
    unchanged: list[str],
    dry_run: bool,
    now: datetime,
) -> tuple[int, int]:
    """Write a validated users file (the lists collect what happened to whom)."""
    repo = PeopleRepository(session)
    enrolled = linked = 0
    with transaction(session):
        ids: dict[str, str] = {}
        for row in rows:
            known = existing.get(row.username.lower())
            if known is None:
                user = User(
                    id=new_user_id(session, school_id, row.username),
                    school_id=school_id,
                    role=row.role,
                    display_name=row.display_name,
                    email=row.email,
                    username=row.username,
                    must_change_password=bool(row.password),
                )
                password_hash = hash_password(row.password) if row.password else None
                repo.add_user(user, at=now, password_hash=password_hash)
                session.flush()
                created.append(row.username)
                ids[row.username.lower()] = user.id
                continue
            ids[row.username.lower()] = known.id
            changed = dataclasses.replace(known, display_name=row.display_name, email=row.email)
            if row.password:
                auth_repository.set_password(
                    session,
                    user_id=known.id,
                    password_hash=hash_password(row.password),
                    must_change=True,
                )
            if changed != known or row.password:
                repo.update_user(changed)
                updated.append(row.username)
            else:
                unchanged.append(row.username)
        for row in rows:
            user_id = ids[row.username.lower()]
            for class_id in row.classes:
                if row.role is Role.LEARNER:
                    enrollment = Enrollment(class_id=class_id, learner_id=user_id)
                    if not repo.is_enrolled(enrollment):
                        repo.add_enrollment(enrollment, at=now)
                        enrolled += 1
                else:
                    school_class = repo.get_class(class_id)
                    if user_id not in school_class.teacher_ids:
                        teachers = (*school_class.teacher_ids, user_id)
                        repo.update_class(dataclasses.replace(school_class, teacher_ids=teachers))
                        enrolled += 1
            for child in row.guardian_of:
                link = GuardianLink(
                    guardian_id=user_id,
                    learner_id=ids.get(child.lower()) or existing[child.lower()].id,
                )
                if not repo.has_guardian_link(link):
                    repo.add_guardian_link(link, at=now)
                    linked += 1
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor else None,
            action="users.import",
            subject_type="school",
            subject_id=school_id,
            details={"created": len(created), "updated": len(updated), "dry_run": dry_run},
        )
        if dry_run:
            raise _DryRunDone((enrolled, linked))
    return enrolled, linked


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
    problems += _username_problems(admin_username, "admin_username")
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


def rename_school(
    session: Session, *, actor: User | None, school_id: str, name: str, now: datetime
) -> School:
    """Change the school's name (as its pages and sign-in show it).

    Raises:
        PermissionDenied: not an admin of the school.
        InvalidInput: an empty or too long name.
    """
    _require_admin(actor, school_id)
    cleaned = name.strip()
    if not cleaned or len(cleaned) > 300:
        raise InvalidInput("invalid name", [Problem("name", "1 to 300 characters")])
    repo = PeopleRepository(session)
    with transaction(session):
        repo.get_school(school_id)
        repo.rename_school(school_id, cleaned)
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor else None,
            action="school.rename",
            subject_type="school",
            subject_id=school_id,
        )
    return School(id=school_id, name=cleaned)


def get_school_user(session: Session, *, actor: User, user_id: str) -> User:
    """A user of the admin's school. Raises: NotFound (also for another school's user)."""
    return _school_user(PeopleRepository(session), actor, user_id)


def list_school_users(session: Session, *, actor: User, role: Role | None = None) -> list[User]:
    """The admin's school's users (optionally of one role), by name."""
    _require_admin(actor, actor.school_id)
    return PeopleRepository(session).list_users(actor.school_id, role=role)


def list_school_classes(session: Session, *, actor: User) -> list[SchoolClass]:
    """The admin's school's classes, by name."""
    _require_admin(actor, actor.school_id)
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
