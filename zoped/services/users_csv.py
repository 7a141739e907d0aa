"""Users in bulk from a CSV file: every problem located by line and column, all or nothing,
with a dry run (an admin's page, the JSON API and ``zoped users import`` share it)."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from zoped.domain.people import Enrollment, GuardianLink, Role, User
from zoped.errors import InvalidInput, Problem
from zoped.services import transaction
from zoped.services.accounts import new_user_id, username_problems
from zoped.services.auth import hash_password, password_problems
from zoped.services.policy import require_school_admin
from zoped.store import auth_repository
from zoped.store.repositories import PeopleRepository, append_audit

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
        problems += username_problems(username, f"{where} column username")
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
    require_school_admin(actor, school_id)
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
