"""QTI use cases: import QTI items into a course (``zoped import qti``) and export a course's
items as a QTI 3.0 content package (``zoped export qti``). See docs/qti.md.

An import is all or nothing: the whole file is read and checked first (:mod:`zoped.interop.qti`),
every item is tagged to competencies of the course, and the course is then written through
:func:`zoped.services.courses.import_course` in one transaction. Items are matched by their
identifier, so importing the same file again changes nothing; an import that would change items
already in the course is applied only when confirmed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy.orm import Session

from zoped.domain.course import Course, CourseInfo
from zoped.domain.people import User
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from zoped.interop.qti import QtiItem, QtiRead, read_qti
from zoped.interop.qti_metadata import read_mapping
from zoped.interop.qti_names import slug
from zoped.interop.qti_projects import QtiProject, project_of
from zoped.interop.qti_write import write_package
from zoped.services import transaction
from zoped.services.courses import COURSE_EDITORS, get_course, import_course
from zoped.store.course_repository import CourseRepository
from zoped.store.media_repository import MediaRepository
from zoped.store.repositories import append_audit


@dataclass(frozen=True)
class QtiImportSummary:
    """What a QTI import did (or, for a dry run, would do).

    Attributes:
        course_key: the stored key of the course the items went to.
        school_id: its school.
        added: ids of items new to the course.
        updated: ids of items already in the course that the file changes.
        unchanged: how many items were already in the course as the file has them.
        dry_run: True when nothing was written.
        warnings: what was read but not used (metadata naming no competency of the course,
            feedback zoped cannot place).
    """

    course_key: str
    school_id: str
    added: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: int
    dry_run: bool
    warnings: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the import writes (or would write) anything."""
        return bool(self.added or self.updated)


def _find_course(
    session: Session, actor: User | None, code: str, school_id: str | None
) -> CourseInfo:
    """The course the items go to: the actor's school's (or the named school's) course with
    this code or key; for the system with no school, the only course with that code."""
    repo = CourseRepository(session)
    if actor is not None:
        if actor.role not in COURSE_EDITORS:
            raise PermissionDenied("only teachers and admins import or export items")
        if school_id not in (None, actor.school_id):
            raise PermissionDenied("you import and export items of your own school only")
        school_id = actor.school_id
    if school_id is not None:
        found = repo.find(school_id, code)
        if found is None:
            info = repo.info(code)
            found = info if info is not None and info.school_id == school_id else None
        if found is None:
            raise NotFound(f"school {school_id!r} has no course {code!r}")
        return found
    matches = repo.with_code(code) or [i for i in [repo.info(code)] if i is not None]
    if not matches:
        raise NotFound(f"no course {code!r}")
    if len(matches) > 1:
        raise InvalidInput(
            "which school?",
            [
                Problem(
                    "school",
                    f"{len(matches)} schools have a course {code!r} "
                    f"({', '.join(m.school_id for m in matches)}): name one with --school",
                )
            ],
        )
    return matches[0]


def _tag(
    course: Course, found_all: list[QtiRead], mapping: dict[str, tuple[str, ...]], mapping_name: str
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The competencies of each item read (by identifier): the mapping file's rows for it, else
    what its metadata names (a competency id, or a standard code of the course's framework)."""
    known = {c.id: c.id for c in course.framework.competencies}
    for competency in course.framework.competencies:
        if competency.standard_code:
            known.setdefault(competency.standard_code, competency.id)
    problems: list[Problem] = []
    warnings: list[str] = []
    tags: dict[str, tuple[str, ...]] = {}
    used_rows: set[str] = set()
    for found in found_all:
        key = found.identifier if found.identifier in mapping else slug(found.identifier)
        rows = mapping.get(key)
        competencies = []
        if rows is not None:
            used_rows.add(key)
            for ref in rows:
                cid = known.get(ref) or known.get(slug(ref))
                if cid is None:
                    problems.append(
                        Problem(
                            mapping_name,
                            f"item {found.identifier} is mapped to {ref!r}, which is no "
                            f"competency of course {course.id!r}",
                        )
                    )
                else:
                    competencies.append(cid)
        else:
            for ref in found.references:
                cid = known.get(ref) or known.get(slug(ref))
                if cid is None:
                    warnings.append(
                        f"item {found.identifier}: its metadata names {ref!r}, which is no "
                        f"competency of course {course.id!r}"
                    )
                else:
                    competencies.append(cid)
            for ref in found.classifications:
                cid = known.get(ref) or known.get(slug(ref))
                if cid is not None:
                    competencies.append(cid)
            if not competencies:
                named = f" (its metadata names {', '.join(found.references)})"
                problems.append(
                    Problem(
                        f"{found.source} line {found.line}",
                        f"item {found.identifier} is tagged to no competency of course "
                        f"{course.id!r}{named if found.references else ''}: tag it in the "
                        "package's metadata or in a mapping file (--mapping)",
                    )
                )
        tags[found.identifier] = tuple(dict.fromkeys(competencies))
    # One mapping may serve a whole item bank: rows for items not in this file are noted.
    warnings += [
        f"{mapping_name}: item {identifier} is mapped but is not in the file"
        for identifier in mapping
        if identifier not in used_rows
    ]
    if problems:
        raise InvalidInput("the items are not all tagged to competencies", problems)
    return tags, warnings


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


_T = TypeVar("_T", bound=_HasId)


def _merged(old: Sequence[_T], new: Sequence[_T]) -> tuple[_T, ...]:
    """``old`` with the entries of ``new`` that share an id in their place, then the rest."""
    by_id = {n.id: n for n in new}
    known = {o.id for o in old}
    return (*(by_id.get(o.id, o) for o in old), *(n for n in new if n.id not in known))


def import_qti(
    session: Session,
    *,
    actor: User | None = None,
    source: Path,
    course_code: str,
    now: datetime,
    school_id: str | None = None,
    mapping: Path | None = None,
    confirm: bool = False,
    dry_run: bool = False,
) -> QtiImportSummary:
    """Import the items of a QTI item file or content package into a course.

    Args:
        session: the session; this function commits or rolls back.
        actor: who imports (a teacher or an admin, into their own school's course); None for
            the system (the CLI).
        source: an item XML file (QTI 3.0 or 2.1/2.2) or a content package (zip).
        course_code: the course's code (or stored key).
        now: the import time.
        school_id: the course's school (for the system; optional when one school has the code).
        mapping: a CSV file of ``item identifier, competency id`` rows (overrides metadata).
        confirm: apply an import that changes items already in the course.
        dry_run: check everything and say what would change; write nothing.

    Returns:
        What was (or would be) added and updated.

    Raises:
        InvalidInput: every problem with the file or the mapping, located by file and line.
        NotFound / PermissionDenied: no such course, or the actor may not import into it.
        Conflict: the import changes items already in the course and ``confirm`` is False.
    """
    found_all = read_qti(source)
    rows = read_mapping(mapping) if mapping is not None else {}
    with transaction(session):
        info = _find_course(session, actor, course_code, school_id)
        stored = get_course(session, course_id=info.key)
    tags, warnings = _tag(stored, found_all, rows, mapping.name if mapping else "mapping")
    warnings += [w for f in found_all for w in f.warnings]
    items = [
        dataclasses.replace(f.item, competencies=tags[f.identifier])
        for f in found_all
        if isinstance(f, QtiItem)
    ]
    projects = [project_of(f, tags[f.identifier]) for f in found_all if isinstance(f, QtiProject)]
    activities = [a for a, _ in projects]
    rubrics = [r for _, r in projects]
    # What the summary calls items: items and projects (a project with its rubric).
    before: dict[tuple[str, str], object] = {("item", i.id): i for i in stored.items}
    for activity in stored.activities:
        rubric = next((r for r in stored.rubrics if r.id == activity.rubric_id), None)
        before["project", activity.id] = (activity, rubric)
    after: dict[tuple[str, str], object] = {("item", i.id): i for i in items}
    after.update({("project", a.id): (a, r) for a, r in projects})
    added = tuple(key[1] for key in after if key not in before)
    updated = tuple(key[1] for key, value in after.items() if before.get(key, value) != value)
    summary = QtiImportSummary(
        info.key,
        info.school_id,
        added,
        updated,
        len(after) - len(added) - len(updated),
        dry_run,
        tuple(warnings),
    )
    # The course checks every item, activity and rubric against its framework.
    course = dataclasses.replace(
        stored,
        id=info.code,
        items=_merged(stored.items, items),
        activities=_merged(stored.activities, activities),
        rubrics=_merged(stored.rubrics, rubrics),
    )
    if dry_run or not summary.changed:
        return summary
    if updated and not confirm:
        raise Conflict(
            f"this import changes {len(updated)} items already in course {info.code!r} "
            f"({', '.join(updated[:5])}{'…' if len(updated) > 5 else ''}): nothing written; "
            "run again with --yes to apply it"
        )
    pictures = {m.name: m for found in found_all for m in found.media}
    import_course(
        session,
        actor=actor,
        course=course,
        now=now,
        school_id=info.school_id,
        confirm=True,
        media=list(pictures.values()),
    )
    return summary


def export_qti(
    session: Session,
    *,
    actor: User | None = None,
    course_code: str,
    school_id: str | None = None,
    now: datetime,
) -> bytes:
    """A course's items as a QTI 3.0 content package (zip bytes); audited.

    Raises:
        NotFound / PermissionDenied / InvalidInput: as :func:`import_qti` finds the course.
    """
    with transaction(session):
        info = _find_course(session, actor, course_code, school_id)
        course = get_course(session, course_id=info.key)
        append_audit(
            session,
            at=now,
            actor_id=actor.id if actor else None,
            action="course.export_qti",
            subject_type="course",
            subject_id=info.key,
            details={"school": info.school_id, "items": len(course.items)},
        )
        media = MediaRepository(session).of_course(info.key)
    return write_package(dataclasses.replace(course, id=info.code), media)
