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
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoped.domain.people import Role, School, User
from zoped.errors import Conflict, NotFound, PermissionDenied, Problem
from zoped.interop.oneroster import (
    Org,
    RosterBundle,
    parse_bundle,
    reference_problems,
    refused,
)
from zoped.services.oneroster_apply import (
    ACTIVE,
    GUARDIAN_LINKS,
    Run,
    apply_bundle,
    new_record_id,
)
from zoped.store.repositories import PeopleRepository, append_audit
from zoped.store.roster_repository import ImportEntry, RosterRepository

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
        run = Run(
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
        apply_bundle(run)
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
    new_id = new_record_id(rosters, "school", org.sourced_id, org.name, "", org.sourced_id, set())
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
