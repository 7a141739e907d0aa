"""CASE frameworks in and out: import a checked CFPackage into a school as a course (or update
the course it became before), and export a course's framework as a CFPackage.

A CASE framework becomes a course of the school that imports it: the CFDocument's title is the
course's title, every CFItem a competency (``isChildOf`` the hierarchy, ``precedes`` the
prerequisites) and the other associations links kept beside them. The course remembers the
CFDocument's identifier (table ``case_frameworks``), so importing the same framework again
updates that course in place: an item keeps its competency id, and so the evidence learners
hold on it. The activities, items and rubrics the course has besides its framework stay.
A re-import that changes or removes competencies is applied only when confirmed (as for course
files); one that changes nothing writes nothing and says so. See docs/case.md.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from zoped.domain.course import Course
from zoped.domain.framework import Competency, Framework, is_slug
from zoped.domain.people import User
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from zoped.interop.case import MAX_CODE, ZOPED_ID, CasePackage, Quirk, schema_problems
from zoped.interop.case_map import CaseFramework, CaseLink, links_of, map_framework, slugify
from zoped.interop.case_write import write_package
from zoped.services import transaction
from zoped.services.courses import COURSE_EDITORS, ImportPreview, _preview, _school_for
from zoped.store.case_repository import CaseRepository
from zoped.store.course_repository import CourseRepository
from zoped.store.repositories import append_audit


@dataclass(frozen=True)
class CaseImportPlan:
    """What importing a package would do; nothing is written.

    Attributes:
        framework: the package mapped onto competencies (with its links and notes).
        course: the course it would store (an existing course keeps its other content).
        preview: what changes in the school's course (added, changed, removed content).
        unchanged: True when the course and its CASE record would stay exactly as they are.
    """

    framework: CaseFramework
    course: Course
    preview: ImportPreview
    unchanged: bool

    @property
    def quirks(self) -> tuple[Quirk, ...]:
        """The tolerated quirks and mapping notes, in package order."""
        return self.framework.notes


@dataclass(frozen=True)
class CaseImportSummary:
    """What an import did.

    Attributes:
        course_id: the course's code in its school.
        key: its stored key.
        school_id: the school.
        version: the CASE version read.
        created: a new course (else the school's course from this framework was updated).
        unchanged: nothing was written: the course already is this framework.
        competencies: how many competencies the course has.
        links: how many associations are kept as links.
        added / changed / removed: competencies the import added, changed and removed.
        quirks: the tolerated quirks and mapping notes.
    """

    course_id: str
    key: str
    school_id: str
    version: str
    created: bool
    unchanged: bool
    competencies: int
    links: int
    added: int
    changed: int
    removed: int
    quirks: tuple[Quirk, ...] = ()


def _code_for(framework: CaseFramework, code: str | None) -> str:
    if code is not None:
        if not is_slug(code):
            raise InvalidInput(
                "which course code?",
                [
                    Problem(
                        "code",
                        f"{code!r} is not a valid id (lower-case letters, digits, '.', '_', '-')",
                    )
                ],
            )
        return code
    exported = (framework.record["document"].get("extensions") or {}).get(ZOPED_ID)
    if isinstance(exported, str) and is_slug(exported) and len(exported) <= MAX_CODE:
        return exported  # a course zoped exported keeps its code
    return slugify(framework.title, 60) or f"case-{framework.document_id[:8]}"


def _plan(
    session: Session, package: CasePackage, school: str, code: str | None
) -> tuple[CaseImportPlan, str | None]:
    cases = CaseRepository(session)
    repo = CourseRepository(session)
    stored = cases.of_document(school, package.document["identifier"])
    known: dict[str, str] = {}
    existing: Course | None = None
    if stored is not None:
        known = dict(stored.record.get("slugs") or {})
        existing = repo.get(stored.course_key)
    framework = map_framework(
        package,
        known=known,
        taken=cases.competency_ids_elsewhere(school, stored.course_key if stored else None),
    )
    built = Framework.build(framework.competencies)
    if existing is not None and stored is not None:
        info = repo.info(stored.course_key)
        assert info is not None
        if code is not None and code != info.code:
            raise Conflict(
                f"this framework is course {info.code!r} of the school already; import it again "
                "without --code (or with that code)"
            )
        try:
            course = dataclasses.replace(
                existing, id=info.code, title=framework.title, framework=built
            )
        except InvalidInput as error:
            raise InvalidInput(
                f"the course {info.code!r} refers to competencies this framework no longer has",
                error.problems,
            ) from None
    else:
        course_code = _code_for(framework, code)
        if repo.find(school, course_code) is not None:
            raise Conflict(
                f"the school has a course {course_code!r} that was not imported from this CASE "
                "framework: choose another code with --code"
            )
        course = Course(
            id=course_code,
            title=framework.title,
            description=framework.description,
            language=framework.language,
            framework=built,
        )
    preview = _preview(session, course, school)
    if preview.clashes:
        raise Conflict(
            "competency ids of this framework belong to another course of the school: "
            + ", ".join(preview.clashes)
        )
    unchanged = (
        stored is not None
        and not (preview.added or preview.changed or preview.removed)
        and existing is not None
        and existing.title == course.title
        and stored.record == _jsonable(framework.record)
        and stored.version == package.version
    )
    return CaseImportPlan(framework, course, preview, unchanged), (
        stored.course_key if stored else None
    )


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the database gives it back (JSON keeps no tuples)."""
    loaded: dict[str, Any] = json.loads(json.dumps(record))
    return loaded


def preview_case_import(
    session: Session,
    *,
    actor: User | None = None,
    package: CasePackage,
    school_id: str | None = None,
    code: str | None = None,
) -> CaseImportPlan:
    """What importing ``package`` into the school would do; writes nothing.

    Raises:
        PermissionDenied: the actor is not a teacher or an admin (of that school).
        InvalidInput: the package does not make a valid framework (cycles...), or the course's
            activities refer to competencies it drops; located problems.
        Conflict: the code belongs to a course of another origin, or an id to another course.
    """
    with transaction(session):
        school = _school_for(session, actor, school_id)
        plan, _ = _plan(session, package, school, code)
        return plan


def import_case(
    session: Session,
    *,
    actor: User | None = None,
    package: CasePackage,
    now: datetime,
    school_id: str | None = None,
    code: str | None = None,
    confirm: bool = False,
) -> CaseImportSummary:
    """Import a checked CASE package into a school, all or nothing.

    Args:
        session: the session; this function commits or rolls back.
        actor: a teacher or an admin (into their own school); None for the system (the CLI).
        package: a package :func:`zoped.interop.case.read_package` accepted.
        now: the import time.
        school_id: the school, for the system.
        code: the new course's code (default: a slug of the framework's title); a re-import
            keeps the course's code.
        confirm: apply a re-import that changes or removes competencies.

    Returns:
        What was done; ``unchanged`` when the course already is this framework (then nothing
        is written, not even to the audit log).

    Raises:
        PermissionDenied, InvalidInput, Conflict: as :func:`preview_case_import`; Conflict
            also for a re-import that changes or removes competencies without ``confirm``.
    """
    with transaction(session):
        school = _school_for(session, actor, school_id)
        plan, stored_key = _plan(session, package, school, code)
        preview = plan.preview
        summary = CaseImportSummary(
            course_id=plan.course.id,
            key=preview.key,
            school_id=school,
            version=package.version,
            created=stored_key is None,
            unchanged=plan.unchanged,
            competencies=len(plan.course.framework),
            links=len(plan.framework.links),
            added=preview.count("added", "competencies"),
            changed=preview.count("changed", "competencies"),
            removed=preview.count("removed", "competencies"),
            quirks=plan.quirks,
        )
        if plan.unchanged:
            return summary
        if preview.needs_confirmation and not confirm:
            raise Conflict(
                f"re-importing CASE framework {plan.framework.document_id} would remove "
                f"{len(preview.removed)} and change {len(preview.changed)} competencies: "
                "look at the preview, then confirm"
            )
        CourseRepository(session).save(
            plan.course,
            key=preview.key,
            school_id=school,
            imported_at=now,
            imported_by=actor.id if actor else None,
        )
        CaseRepository(session).save(
            course_key=preview.key,
            school_id=school,
            document_id=plan.framework.document_id,
            version=package.version,
            record=plan.framework.record,
            imported_at=now,
        )
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor else None,
            action="course.case_import" if summary.created else "course.case_reimport",
            subject_type="course",
            subject_id=preview.key,
            details={
                "school": school,
                "code": plan.course.id,
                "case_document": plan.framework.document_id,
                "case_version": package.version,
                "competencies": summary.competencies,
                "links": summary.links,
                "added": summary.added,
                "changed": summary.changed,
                "removed": [c.id for c in preview.removed if c.kind == "competencies"],
                "quirks": len(plan.quirks),
            },
        )
    return summary


def export_case(
    session: Session,
    *,
    actor: User | None = None,
    course_key: str,
    version: str = "1.1",
) -> tuple[dict[str, Any], list[str]]:
    """A course's framework as a CFPackage of ``version`` ("1.0" or "1.1").

    A course imported from CASE is written with the identifiers and fields it was read with; any
    other course gets identifiers minted from its key (the same at every export). The package is
    checked against the official schema before it is returned.

    Returns:
        The package and one line per link the version cannot hold (left out).

    Raises:
        NotFound: no such course (or, for an actor, none in their school).
        PermissionDenied: the actor is not a teacher or an admin.
        InvalidInput: an unknown version.
    """
    with transaction(session):
        repo = CourseRepository(session)
        info = repo.info(course_key)
        if info is None or (actor is not None and actor.school_id != info.school_id):
            raise NotFound(f"no course {course_key!r}")
        if actor is not None and actor.role not in COURSE_EDITORS:
            raise PermissionDenied("only teachers and admins export courses")
        course = repo.get(course_key)
        cases = CaseRepository(session)
        stored = cases.of_course(course_key)
        changed_at = cases.imported_at(course_key)
        assert changed_at is not None
        package, left_out = write_package(
            code=info.code,
            key=course_key,
            title=course.title,
            description=course.description,
            language=course.language,
            competencies=course.framework.competencies,
            changed_at=changed_at,
            record=stored.record if stored else None,
            version=version,
        )
    problems = schema_problems(package, version)
    if problems:  # a bug: what zoped writes must validate
        raise InvalidInput(f"the CASE {version} export of {course_key!r} is not valid", problems)
    return package, left_out


@dataclass(frozen=True)
class FrameworkView:
    """A course's framework as the teacher's framework page shows it.

    Attributes:
        key: the course's stored key; code and title likewise.
        competencies: (depth in the hierarchy, competency), parents before their children.
        identifiers: the CASE identifier of each competency imported from CASE, by id.
        links: the CASE links of each competency, by id.
        case_version: the CASE version the framework was imported from (None: not from CASE).
    """

    key: str
    code: str
    title: str
    competencies: tuple[tuple[int, Competency], ...]
    identifiers: dict[str, str]
    links: dict[str, list[CaseLink]]
    case_version: str | None


def framework_view(session: Session, *, actor: User, course_key: str) -> FrameworkView:
    """The course's competencies in hierarchy order, with their CASE identifiers and links.

    Raises:
        NotFound: no such course in the actor's school.
        PermissionDenied: the actor is not a teacher or an admin.
    """
    with transaction(session):
        repo = CourseRepository(session)
        info = repo.info(course_key)
        if info is None or actor.school_id != info.school_id:
            raise NotFound(f"no course {course_key!r}")
        if actor.role not in COURSE_EDITORS:
            raise PermissionDenied("only teachers and admins see a course's framework")
        framework = repo.get(course_key).framework
        stored = CaseRepository(session).of_course(course_key)
    ordered: list[tuple[int, Competency]] = []
    stack = [(0, cid) for cid in reversed(framework.roots())]
    while stack:
        depth, cid = stack.pop()
        ordered.append((depth, framework.get(cid)))
        stack += [(depth + 1, child) for child in reversed(framework.children(cid))]
    identifiers: dict[str, str] = {}
    links: dict[str, list[CaseLink]] = {}
    if stored is not None:
        slugs: dict[str, str] = stored.record.get("slugs") or {}
        identifiers = {slug: ident for ident, slug in slugs.items() if slug in framework}
        for link in links_of(stored.record, set(framework.ids)):
            if link.competency is not None:
                links.setdefault(link.competency, []).append(link)
    return FrameworkView(
        key=course_key,
        code=info.code,
        title=info.title,
        competencies=tuple(ordered),
        identifiers=identifiers,
        links=links,
        case_version=stored.version if stored else None,
    )


def course_links(session: Session, *, course_key: str) -> dict[str, list[CaseLink]]:
    """The CASE links of a course's competencies, by competency id (for the teacher's view);
    empty when the course was not imported from CASE."""
    stored = CaseRepository(session).of_course(course_key)
    if stored is None:
        return {}
    course = CourseRepository(session).get(course_key)
    found: dict[str, list[CaseLink]] = {}
    for link in links_of(stored.record, set(course.framework.ids)):
        if link.competency is not None:
            found.setdefault(link.competency, []).append(link)
    return found
