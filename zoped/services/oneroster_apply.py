"""Applying a checked OneRoster bundle to a school: each record's view (the bundle over what
earlier imports stored), and the writes for users, classes, enrollments and guardian links.
:mod:`zoped.services.oneroster` checks, authorizes, calls :func:`apply_bundle` and reports."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.orm import Session

from zoped.domain.people import Enrollment, GuardianLink, Role, SchoolClass, User
from zoped.errors import Conflict, Problem
from zoped.interop.oneroster import (
    FileMode,
    RosterBundle,
    RosterRecord,
    RosterUser,
)
from zoped.services.auth import hash_password
from zoped.store.auth_repository import set_password_hash
from zoped.store.repositories import PeopleRepository
from zoped.store.roster_repository import RosterRepository, StoredRecord

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
#: The guardian links a roster implies (counted as a kind of their own).
GUARDIAN_LINKS = "guardianLink"
ACTIVE = "active"
TO_BE_DELETED = "tobedeleted"
_SAFE_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,47}$")
_verifier = PasswordHasher()


@dataclass
class View:
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
class Run:
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
    views: dict[str, dict[str, View]] = field(default_factory=dict)
    allocated: set[str] = field(default_factory=set)

    def problem(self, location: str, message: str) -> None:
        self.problems.append(Problem(location, message))

    def warn(self, location: str, message: str) -> None:
        self.warnings.append(Problem(location, message))

    def merged(self, kind: str) -> dict[str, View]:
        """Stored records of ``kind`` with the bundle's applied (bulk: unlisted ones deleted)."""
        stored = self.stored.get(kind, {})
        views = {
            sid: View(kind, sid, s.status, dict(s.data), s.local_id, None, s)
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
            views[record.sourced_id] = View(
                kind,
                record.sourced_id,
                record.status.value,
                dict(record.data),
                before.local_id if before else None,
                record,
                before,
            )
        return views

    def count(self, kind: str, view: View) -> None:
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


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40].strip("-")


def new_record_id(
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


def apply_bundle(run: Run) -> None:
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


def _apply_roles(run: Run) -> dict[str, list[str]]:
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


def _zoped_role(run: Run, view: View, roles: list[str]) -> Role | None:
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


def _apply_users(run: Run, roles: dict[str, list[str]]) -> None:
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
                id=new_record_id(
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


def _new_password(run: Run, view: View, record: RosterUser | None) -> str | None:
    """The hash for a new account's password from the bundle (remembered, to tell a changed
    password in a later bundle from the same one)."""
    if record is None or not record.password or run.dry_run:
        return None
    hashed = hash_password(record.password)
    view.data["passwordHash"] = hashed
    return hashed


def _update_password(run: Run, view: View, record: RosterUser | None, user_id: str) -> bool:
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


def _apply_classes(run: Run) -> None:
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
            class_id = new_record_id(
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


def _apply_enrollments(run: Run) -> None:
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


def _apply_guardian_links(run: Run) -> None:
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


def _save_records(run: Run) -> None:
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
