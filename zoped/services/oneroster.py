"""Importing a OneRoster 1.2 CSV bundle into a school: all or nothing, idempotent by sourcedId.

The bundle is read and checked whole first (:mod:`zoped.interop.oneroster`); then, in one
transaction, every record is mapped to zoped (``docs/oneroster.md`` gives the mapping):

* the org of type school is the zoped school (created for the system, the admin's own school
  for an admin); other orgs, academic sessions and roster courses are only remembered;
* users become learners, teachers, guardians or admins by their roles; ``enabledUser=false``
  or ``status=tobedeleted`` deactivates them (their data stays);
* classes become zoped classes, taught by the users enrolled as teachers; enrollments of
  students enroll learners; ``agentSourcedIds`` link guardians to learners.

Every record is remembered in ``roster_records`` with the zoped id it became, so importing the
same bundle again changes nothing and a changed record is updated in place. A bulk file is the
whole truth for its kind: a record an earlier import stored that the file no longer lists is
treated as ``tobedeleted``. A delta file changes only the records it lists. A class, its
members and its teachers, and the guardian links between roster users, follow the roster:
what the roster no longer says is removed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoped.domain.people import Enrollment, GuardianLink, Role, School, SchoolClass, User
from zoped.errors import Conflict, NotFound, PermissionDenied, Problem
from zoped.interop.oneroster import (
    FileMode,
    Org,
    RosterBundle,
    RosterRecord,
    RosterUser,
    parse_bundle,
    reference_problems,
    refused,
)
from zoped.services.auth import hash_password
from zoped.store.auth_repository import set_password_hash
from zoped.store.repositories import PeopleRepository, append_audit
from zoped.store.roster_repository import ImportEntry, RosterRepository, StoredRecord

#: How OneRoster roles become zoped roles; any other role is reported and not imported.
ROLE_MAP: dict[str, Role] = {
    "student": Role.LEARNER,
    "teacher": Role.TEACHER,
    "parent": Role.GUARDIAN,
    "guardian": Role.GUARDIAN,
    "relative": Role.GUARDIAN,
    "administrator": Role.ADMIN,
    "districtAdministrator": Role.ADMIN,
    "siteAdministrator": Role.ADMIN,
    "systemAdministrator": Role.ADMIN,
}
#: The kinds counted in a summary, in the order they are shown.
KINDS = ("org", "academicSession", "course", "user", "role", "class", "enrollment")
GUARDIAN_LINKS = "guardianLink"
#: How each kind is named to people (the CLI's table, the admin page).
KIND_LABELS = {
    "org": "orgs",
    "academicSession": "academic sessions",
    "course": "courses",
    "user": "users",
    "role": "roles",
    "class": "classes",
    "enrollment": "enrollments",
    "guardianLink": "guardian links",
}
#: The outcomes a summary counts, in the order they are shown.
OUTCOMES = ("created", "updated", "unchanged", "deactivated", "removed", "skipped")
ACTIVE = "active"
TO_BE_DELETED = "tobedeleted"
_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,47}$")
_verifier = PasswordHasher()


@dataclass(frozen=True)
class KindCounts:
    """What an import did to the records of one kind.

    ``deactivated`` counts users made inactive; ``removed`` counts records the bundle deleted
    (or a bulk file no longer listed); ``skipped`` counts records zoped has no place for (a role
    such as ``aide``, an enrollment as ``proctor``), each reported in the warnings.
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    removed: int = 0
    skipped: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deactivated or self.removed)


@dataclass(frozen=True)
class RosterImportSummary:
    """What an import did (or, for a dry run, would do)."""

    school_id: str
    school_created: bool
    dry_run: bool
    oneroster_version: str
    modes: Mapping[str, str]
    counts: Mapping[str, KindCounts]
    warnings: tuple[Problem, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether anything was (or would be) written besides the record of the import."""
        return self.school_created or any(c.changed for c in self.counts.values())

    def details(self) -> dict[str, Any]:
        """The summary as the audit entry's details."""
        return {
            "dry_run": self.dry_run,
            "school_created": self.school_created,
            "oneroster_version": self.oneroster_version,
            "modes": dict(self.modes),
            "counts": {k: dataclasses.asdict(c) for k, c in self.counts.items()},
            "warnings": len(self.warnings),
        }


@dataclass
class _View:
    """A record as it stands once the bundle is applied to what was stored."""

    kind: str
    sourced_id: str
    status: str
    data: dict[str, Any]
    local_id: str | None
    record: RosterRecord | None = None
    stored: StoredRecord | None = None

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def source(self) -> str:
        return self.record.source if self.record else f"{self.kind} {self.sourced_id!r}"

    @property
    def changed(self) -> bool:
        if self.stored is None:
            return True
        kept = {k: v for k, v in self.stored.data.items() if k != "passwordHash"}
        return self.stored.status != self.status or kept != self._plain_data()

    def _plain_data(self) -> dict[str, Any]:
        return {k: v for k, v in self.data.items() if k != "passwordHash"}


@dataclass
class _Run:
    """One import in progress."""

    session: Session
    school_id: str
    school_org: str | None
    bundle: RosterBundle
    stored: dict[str, dict[str, StoredRecord]]
    dry_run: bool
    now: datetime
    people: PeopleRepository
    rosters: RosterRepository
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    views: dict[str, dict[str, _View]] = field(default_factory=dict)
    allocated: set[str] = field(default_factory=set)

    def problem(self, location: str, message: str) -> None:
        self.problems.append(Problem(location, message))

    def warn(self, location: str, message: str) -> None:
        self.warnings.append(Problem(location, message))

    def merged(self, kind: str) -> dict[str, _View]:
        """Stored records of ``kind`` with the bundle's applied (bulk: unlisted ones deleted)."""
        stored = self.stored.get(kind, {})
        views = {
            sid: _View(kind, sid, s.status, dict(s.data), s.local_id, None, s)
            for sid, s in stored.items()
        }
        mode = self.bundle.modes.get(kind)
        if mode is None:
            return views
        listed = self.bundle.records(kind)
        if mode is FileMode.BULK:
            names = {r.sourced_id for r in listed}
            for sid, view in views.items():
                if sid not in names:
                    view.status = TO_BE_DELETED
        for record in listed:
            before = stored.get(record.sourced_id)
            views[record.sourced_id] = _View(
                kind,
                record.sourced_id,
                record.status.value,
                dict(record.data),
                before.local_id if before else None,
                record,
                before,
            )
        return views

    def count(self, kind: str, view: _View) -> None:
        """Count a record the bundle lists (or a bulk file dropped) as created, updated,
        unchanged or removed."""
        if view.record is None and (view.stored is None or view.stored.status == view.status):
            return  # neither listed nor dropped: not part of this import
        if view.stored is None:
            outcome = "created" if view.active else "unchanged"
        elif view.stored.status == ACTIVE and not view.active:
            outcome = "removed"
        elif view.changed:
            outcome = "updated"
        else:
            outcome = "unchanged"
        self.counts[kind][outcome] += 1


# --- the use case -------------------------------------------------------------------------


def import_oneroster(
    session: Session,
    *,
    actor: User | None,
    bundle_source: Path | bytes,
    school_id: str | None = None,
    dry_run: bool = False,
    now: datetime,
) -> RosterImportSummary:
    """Import a OneRoster bundle into a school, all or nothing.

    Args:
        session: the session; this service commits (or, for a dry run, rolls back).
        actor: an admin (who imports into their own school), or None for the system.
        bundle_source: a folder, a zip file, or the bytes of a zip.
        school_id: the zoped school to import into. For an admin, their own school (the
            default); for the system, None makes (or finds, from an earlier import) the school
            of the bundle's org of type school.
        dry_run: check everything and count what would change, but write nothing.
        now: the time of the import.

    Returns:
        The counts of created, updated, unchanged, deactivated and removed records per kind,
        and the warnings (what was ignored or skipped).

    Raises:
        PermissionDenied: for an actor who is not an admin, or an admin naming another school.
        NotFound: for a ``school_id`` that does not exist.
        InvalidInput: listing every problem of the bundle, located by file, line and column;
            nothing is written.
        Conflict: when a write clashes with a concurrent change (nothing is written).
    """
    if actor is not None:
        if actor.role is not Role.ADMIN:
            raise PermissionDenied("only an admin imports rosters")
        if school_id is not None and school_id != actor.school_id:
            raise PermissionDenied("an admin imports rosters into their own school only")
        school_id = actor.school_id
    reading = parse_bundle(bundle_source)
    bundle = reading.bundle
    problems = list(reading.problems)
    if problems and not bundle.modes:
        raise refused(problems)  # the archive or its manifest could not be read
    rosters = RosterRepository(session)
    people = PeopleRepository(session)
    try:
        school_id, school_org, create, school_problems = _resolve_school(
            rosters, bundle, school_id, for_admin=actor is not None
        )
        if "org" not in reading.unreadable:
            problems += school_problems  # else orgs.csv's own problems say what is wrong
        stored = rosters.records(school_id) if not create else {}
        known = {
            kind: {sid for sid, r in records.items() if r.status == ACTIVE}
            for kind, records in stored.items()
        }
        problems += reference_problems(
            bundle, known=known, listed=reading.listed, unreadable=reading.unreadable
        )
        if problems:
            raise refused(problems)
        run = _Run(
            session=session,
            school_id=school_id,
            school_org=school_org,
            bundle=bundle,
            stored=stored,
            dry_run=dry_run,
            now=now,
            people=people,
            rosters=rosters,
            warnings=list(bundle.warnings),
        )
        if create:
            org = next(o for o in bundle.school_orgs() if o.sourced_id == school_org)
            people.add_school(School(id=school_id, name=org.name), at=now)
        _apply(run)
        if run.problems:
            raise refused(run.problems)
        session.flush()
        summary = RosterImportSummary(
            school_id=school_id,
            school_created=create,
            dry_run=dry_run,
            oneroster_version=bundle.oneroster_version,
            modes={kind: str(mode) for kind, mode in bundle.modes.items()},
            counts={
                kind: KindCounts(**run.counts[kind])
                for kind in (*KINDS, GUARDIAN_LINKS)
                if kind in run.counts
            },
            warnings=tuple(run.warnings),
        )
        if dry_run:
            session.rollback()
            return summary
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor is not None else None,
            action="roster.import",
            subject_type="school",
            subject_id=school_id,
            details=summary.details(),
        )
        session.commit()
        return summary
    except IntegrityError as error:
        session.rollback()
        raise Conflict(
            "the roster clashes with a change made at the same time; nothing was imported "
            "(try again)"
        ) from error
    except BaseException:
        session.rollback()
        raise


def recent_roster_imports(session: Session, *, actor: User, limit: int = 5) -> list[ImportEntry]:
    """The latest roster imports of the admin's school, newest first.

    Raises:
        PermissionDenied: for anyone but an admin.
    """
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("only an admin sees the roster imports")
    return RosterRepository(session).recent_imports(actor.school_id, limit=limit)


# --- the school ---------------------------------------------------------------------------


def _resolve_school(
    rosters: RosterRepository, bundle: RosterBundle, school_id: str | None, *, for_admin: bool
) -> tuple[str, str | None, bool, list[Problem]]:
    """The zoped school, the bundle's school org, whether to create the school, and problems."""
    problems: list[Problem] = []
    orgs = bundle.school_orgs()
    if len(orgs) > 1:
        names = ", ".join(repr(o.sourced_id) for o in orgs)
        problems.append(
            Problem(
                f"{orgs[1].source} column type",
                f"the bundle holds {len(orgs)} schools ({names}); zoped imports one school "
                "per bundle",
            )
        )
    org: Org | None = orgs[0] if orgs else None
    if school_id is not None:
        if not rosters.school_exists(school_id):
            raise NotFound(f"no school {school_id!r}")
        if org is not None:
            elsewhere = [s for s in rosters.schools_of_org(org.sourced_id) if s != school_id]
            if elsewhere:
                problems.append(
                    Problem(
                        f"{org.source} column sourcedId",
                        f"the org {org.sourced_id!r} was imported as another school "
                        f"({elsewhere[0]!r})"
                        + ("; an admin imports only into their own school" if for_admin else ""),
                    )
                )
            own = _school_org_of(rosters, school_id)
            if own is not None and org.sourced_id != own:
                problems.append(
                    Problem(
                        f"{org.source} column sourcedId",
                        f"this school was rostered from the org {own!r}; the bundle's school "
                        f"is {org.sourced_id!r}",
                    )
                )
            return school_id, org.sourced_id, False, problems
        return school_id, _school_org_of(rosters, school_id), False, problems
    if org is None:
        # A delta without orgs.csv: the school whose earlier imports hold the records it
        # names (its classes' school, its users...), when that is one school.
        schools = rosters.schools_with("org", _named_orgs(bundle))
        for kind in bundle.modes:
            schools |= rosters.schools_with(kind, [r.sourced_id for r in bundle.records(kind)])
        found = sorted(schools)
        if len(found) == 1:
            return found[0], _school_org_of(rosters, found[0]), False, problems
        problems.append(
            Problem(
                "orgs.csv",
                "the bundle has no org of type school, and names no school an earlier import "
                "made: say which school to import into",
            )
        )
        return "", None, False, problems
    found = rosters.schools_of_org(org.sourced_id)
    if found:
        return found[0], org.sourced_id, False, problems
    new_id = _new_id(rosters, "school", org.sourced_id, org.name, "", org.sourced_id, set())
    return new_id, org.sourced_id, True, problems


def _school_org_of(rosters: RosterRepository, school_id: str) -> str | None:
    """The sourcedId of the org an earlier import made this school of, if any."""
    stored = rosters.records(school_id).get("org", {})
    own = sorted(s.sourced_id for s in stored.values() if s.local_id == school_id)
    return own[0] if own else None


def _named_orgs(bundle: RosterBundle) -> set[str]:
    """The org sourcedIds the bundle's records name (a class's school, a role's org...)."""
    named: set[str] = set()
    for kind in ("course", "class", "role", "enrollment", "user"):
        for record in bundle.records(kind):
            for key in ("orgSourcedId", "schoolSourcedId", "primaryOrgSourcedId"):
                value = record.data.get(key)
                if isinstance(value, str):
                    named.add(value)
    return named


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")


def _new_id(
    rosters: RosterRepository,
    table: str,
    preferred: str,
    fallback: str,
    school_id: str,
    sourced_id: str,
    allocated: set[str],
) -> str:
    """A new, readable id for a school, user or class that no other row (in any school) has:
    ``preferred`` when it is a safe id, else a slug of it or of ``fallback``, with a short hash
    of (school, kind, sourcedId) added when the plain one is taken."""
    base = preferred.lower() if _SAFE_ID.match(preferred.lower()) else _slug(preferred)
    base = base or _slug(fallback) or table
    digest = hashlib.sha256(f"{school_id}/{table}/{sourced_id}".encode()).hexdigest()
    candidates = [base, f"{base}-{digest[:8]}", *(f"{base}-{digest[:8]}-{n}" for n in range(2, 9))]
    taken = rosters.taken_ids(table, candidates) | allocated
    for candidate in candidates:
        if candidate not in taken:
            allocated.add(candidate)
            return candidate
    raise Conflict(f"no free id for {table} {sourced_id!r}")  # pragma: no cover - 9 collisions


# --- applying the bundle ------------------------------------------------------------------


def _apply(run: _Run) -> None:
    for kind in ("org", "academicSession", "course"):
        views = run.merged(kind)
        run.views[kind] = views
        for view in views.values():
            if kind == "org" and view.sourced_id == run.school_org:
                view.local_id = run.school_id
                name = str(view.data.get("name") or "").strip()
                if view.stored is not None and view.changed and name:
                    run.people.rename_school(run.school_id, name)  # the roster names the school
            run.count(kind, view)
    roles = _apply_roles(run)
    _apply_users(run, roles)
    _apply_classes(run)
    _apply_enrollments(run)
    _apply_guardian_links(run)
    _save_records(run)


def _apply_roles(run: _Run) -> dict[str, list[str]]:
    """Each user's active roles (OneRoster names), primary ones first."""
    views = run.merged("role")
    run.views["role"] = views
    ranked: dict[str, list[tuple[bool, str, str]]] = defaultdict(list)
    for view in views.values():
        run.count("role", view)
        if not view.active:
            continue
        user = view.data.get("userSourcedId", "")
        primary = view.data.get("roleType") == "primary"
        ranked[user].append((not primary, view.sourced_id, str(view.data.get("role", ""))))
    return {user: [role for *_, role in sorted(items)] for user, items in ranked.items()}


def _zoped_role(run: _Run, view: _View, roles: list[str]) -> Role | None:
    mapped = [ROLE_MAP[r] for r in roles if r in ROLE_MAP]
    if not mapped:
        return None
    chosen = mapped[0]
    others = sorted({str(r) for r in mapped if r is not chosen})
    if others and view.record is not None:
        run.warn(
            view.source,
            f"also has the role(s) {', '.join(others)}; a zoped account has one role: {chosen}",
        )
    return chosen


def _password_matches(stored_hash: object, password: str) -> bool:
    if not isinstance(stored_hash, str):
        return False
    try:
        return _verifier.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _apply_users(run: _Run, roles: dict[str, list[str]]) -> None:
    views = run.merged("user")
    run.views["user"] = views
    existing = {u.id: u for u in run.people.list_users(run.school_id)}
    taken = {
        "username": {u.username: u.id for u in existing.values() if u.username},
        "email": {u.email.casefold(): u.id for u in existing.values() if u.email},
    }
    for view in views.values():
        record = view.record if isinstance(view.record, RosterUser) else None
        if view.record is None and (view.stored is None or view.stored.status == view.status):
            continue  # neither listed nor dropped by a bulk file: left as it is
        current = existing.get(view.local_id) if view.local_id else None
        if view.local_id and current is None:
            if record is not None:
                run.warn(view.source, "this user was removed from zoped; not created again")
            continue
        if current is None and not view.active:
            run.count("user", view)  # deleted before zoped ever had it
            continue
        role = _zoped_role(run, view, roles.get(view.sourced_id, []))
        if current is None and role is None:
            if roles.get(view.sourced_id):
                names = ", ".join(roles[view.sourced_id])
                run.warn(view.source, f"not imported: zoped has no role for {names} (roles.csv)")
                run.counts["user"]["skipped"] += 1
            else:
                run.problem(view.source, "the user has no role (roles.csv gives none)")
            continue
        if current is not None and role is not None and role is not current.role:
            run.problem(
                view.source,
                f"is a {current.role} in zoped and would become a {role}; an import does not "
                "change roles (an admin can make a new account)",
            )
            continue
        username = str(view.data.get("username", ""))
        email = str(view.data["email"]) if view.data.get("email") else None
        clash = False
        for column, value in (("username", username), ("email", email)):
            key = value.casefold() if column == "email" and value else value
            owner = taken[column].get(key) if key else None
            if owner is not None and owner != view.local_id:
                run.problem(
                    f"{view.source} column {column}",
                    f"{value!r} is already used by another account of this school",
                )
                clash = True
        if clash:
            continue
        given = view.data.get("preferredGivenName") or view.data.get("givenName", "")
        family = view.data.get("preferredFamilyName") or view.data.get("familyName", "")
        display = f"{given} {family}".strip()
        active = view.active and bool(view.data.get("enabledUser", True))
        if current is None:
            assert role is not None
            user = User(
                id=_new_id(
                    run.rosters,
                    "user",
                    username,
                    display,
                    run.school_id,
                    view.sourced_id,
                    run.allocated,
                ),
                school_id=run.school_id,
                role=role,
                display_name=display,
                email=email,
                username=username,
                active=active,
            )
            run.people.add_user(user, at=run.now, password_hash=_new_password(run, view, record))
            view.local_id = user.id
            run.counts["user"]["created"] += 1
        else:
            wanted = dataclasses.replace(
                current, display_name=display, username=username, email=email, active=active
            )
            if wanted != current:
                run.people.update_user(wanted)
            password_changed = _update_password(run, view, record, current.id)
            if current.active and not wanted.active:
                outcome = "deactivated"
            elif wanted != current or password_changed or view.changed:
                outcome = "updated"
            else:
                outcome = "unchanged"
            run.counts["user"][outcome] += 1
        taken["username"][username] = view.local_id or ""
        if email:
            taken["email"][email.casefold()] = view.local_id or ""


def _new_password(run: _Run, view: _View, record: RosterUser | None) -> str | None:
    """The hash for a new account's password from the bundle (remembered, to tell a changed
    password in a later bundle from the same one)."""
    if record is None or not record.password or run.dry_run:
        return None
    hashed = hash_password(record.password)
    view.data["passwordHash"] = hashed
    return hashed


def _update_password(run: _Run, view: _View, record: RosterUser | None, user_id: str) -> bool:
    """Set the account's password when the bundle's differs from the one it last gave (a user
    who changed their own password keeps it while the roster's stays the same)."""
    previous = view.stored.data.get("passwordHash") if view.stored else None
    if previous is not None:
        view.data["passwordHash"] = previous
    if record is None or not record.password:
        return False
    if _password_matches(previous, record.password):
        return False
    if not run.dry_run:
        hashed = hash_password(record.password)
        set_password_hash(run.session, user_id=user_id, password_hash=hashed)
        view.data["passwordHash"] = hashed
    return True


def _apply_classes(run: _Run) -> None:
    views = run.merged("class")
    run.views["class"] = views
    for view in views.values():
        school = view.data.get("schoolSourcedId")
        if view.record is not None and view.active and run.school_org and school != run.school_org:
            run.problem(
                f"{view.source} column schoolSourcedId",
                f"the class is in the org {school!r}, not in the school imported "
                f"({run.school_org!r})",
            )
            continue
        title = str(view.data.get("title", ""))
        if view.local_id is None and view.active:
            # Titles repeat (every year has its "Math 5 A"): a short hash keeps ids apart.
            digest = hashlib.sha256(f"{run.school_id}/class/{view.sourced_id}".encode())
            preferred = f"{_slug(title)[:30] or 'class'}-{digest.hexdigest()[:6]}"
            class_id = _new_id(
                run.rosters,
                "class",
                preferred,
                title,
                run.school_id,
                view.sourced_id,
                run.allocated,
            )
            run.people.add_class(SchoolClass(class_id, run.school_id, title), at=run.now)
            view.local_id = class_id
        elif view.local_id is not None and view.active:
            current = run.people.get_class(view.local_id)
            if current.name != title:
                run.people.update_class(dataclasses.replace(current, name=title))
        run.count("class", view)


def _apply_enrollments(run: _Run) -> None:
    """Enrollments of students fill the classes; enrollments of teachers teach them."""
    views = run.merged("enrollment")
    run.views["enrollment"] = views
    users = run.views["user"]
    classes = run.views["class"]
    accounts = run.people.get_users(v.local_id for v in users.values() if v.local_id)
    members: dict[str, set[str]] = defaultdict(set)
    teachers: dict[str, list[tuple[bool, str, str]]] = defaultdict(list)
    other_roles: Counter[str] = Counter()
    for view in views.values():
        if not view.active:
            run.count("enrollment", view)
            continue
        class_view = classes.get(str(view.data.get("classSourcedId")))
        user_view = users.get(str(view.data.get("userSourcedId")))
        role = str(view.data.get("role", ""))
        class_id = class_view.local_id if class_view and class_view.active else None
        account = accounts.get(user_view.local_id or "") if user_view else None
        wanted = {"student": Role.LEARNER, "teacher": Role.TEACHER}.get(role)
        skipped = wanted is None or account is None
        if wanted is None:
            other_roles[role] += 1
        elif account is not None and account.role is not wanted:
            if view.record is not None:
                article = "an" if str(account.role)[0] in "aeiou" else "a"
                run.warn(
                    f"{view.source} column role",
                    f"not imported: {view.data.get('userSourcedId')!r} is {article} "
                    f"{account.role} in zoped, and only a {wanted} is enrolled as {role}",
                )
            skipped = True
        elif account is not None and class_id is not None:
            if wanted is Role.LEARNER:
                members[class_id].add(account.id)
            else:
                primary = view.data.get("primary") is True
                teachers[class_id].append((not primary, view.sourced_id, account.id))
        if skipped and view.record is not None:
            run.counts["enrollment"]["skipped"] += 1
        else:
            run.count("enrollment", view)
    if other_roles:
        listed = ", ".join(f"{n} as {role}" for role, n in sorted(other_roles.items()))
        run.warn("enrollments.csv", f"enrollments not imported (zoped has no such role): {listed}")
    roster_classes = [v.local_id for v in classes.values() if v.local_id is not None]
    actual = run.rosters.members(roster_classes)
    for class_id in roster_classes:
        learners = members.get(class_id, set())
        for learner_id in sorted(learners - actual[class_id]):
            run.people.add_enrollment(Enrollment(class_id, learner_id), at=run.now)
        for learner_id in sorted(actual[class_id] - learners):
            run.people.remove_enrollment(Enrollment(class_id, learner_id))
        current = run.people.get_class(class_id)
        ordered = tuple(dict.fromkeys(uid for *_, uid in sorted(teachers.get(class_id, []))))
        if current.teacher_ids != ordered:
            run.people.update_class(dataclasses.replace(current, teacher_ids=ordered))


def _apply_guardian_links(run: _Run) -> None:
    """Guardian links from ``agentSourcedIds``, read both ways (a student's parents, a
    parent's students); links between two roster users follow the roster."""
    users = run.views["user"]
    local = {sid: v.local_id for sid, v in users.items() if v.local_id is not None}
    accounts = run.people.get_users(local.values())
    wanted: set[tuple[str, str]] = set()
    for view in users.values():
        me = accounts.get(view.local_id or "")
        if me is None or not view.active:
            continue
        for agent_sid in view.data.get("agentSourcedIds", []):
            agent_view = users.get(agent_sid)
            agent = accounts.get(local.get(agent_sid, ""))
            if agent is None or agent_view is None or not agent_view.active:
                continue
            if me.role is Role.LEARNER and agent.role is Role.GUARDIAN:
                wanted.add((agent.id, me.id))
            elif me.role is Role.GUARDIAN and agent.role is Role.LEARNER:
                wanted.add((me.id, agent.id))
            elif view.record is not None:
                run.warn(
                    f"{view.source} column agentSourcedIds",
                    f"{agent_sid!r} is a {agent.role} and this user a {me.role}: only a "
                    "guardian and a learner are linked; ignored",
                )
    actual = run.rosters.guardian_links_among(accounts)
    tally = run.counts[GUARDIAN_LINKS] if (wanted or actual) else None
    for guardian_id, learner_id in sorted(wanted - actual):
        run.people.add_guardian_link(GuardianLink(guardian_id, learner_id), at=run.now)
    for guardian_id, learner_id in sorted(actual - wanted):
        run.people.remove_guardian_link(GuardianLink(guardian_id, learner_id))
    if tally is not None:
        tally["created"] += len(wanted - actual)
        tally["removed"] += len(actual - wanted)
        tally["unchanged"] += len(wanted & actual)


def _save_records(run: _Run) -> None:
    """Remember every record that is new or changed (status, data, zoped id or date)."""
    existing = {(kind, sid) for kind, records in run.stored.items() for sid in records}
    out: list[StoredRecord] = []
    for kind, views in run.views.items():
        for view in views.values():
            modified = (
                view.record.date_last_modified
                if view.record is not None
                else (view.stored.date_last_modified if view.stored else None)
            )
            stored = view.stored
            if (
                stored is not None
                and stored.status == view.status
                and stored.data == view.data
                and stored.local_id == view.local_id
                and stored.date_last_modified == modified
            ):
                continue
            out.append(
                StoredRecord(
                    kind=kind,
                    sourced_id=view.sourced_id,
                    local_id=view.local_id,
                    status=view.status,
                    date_last_modified=modified,
                    data=view.data,
                )
            )
    run.rosters.save(run.school_id, out, existing=existing, at=run.now)
