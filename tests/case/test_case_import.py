"""Importing CASE frameworks into a school, on SQLite and PostgreSQL: a framework becomes a
course; the same package again changes nothing (and says so); a changed one updates the course
in place, keeping each item's competency id, only when confirmed; a failure writes nothing; the
export validates and reads back."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.case.packages import DOC, association, fractions, item, uid
from zoped.domain import Role
from zoped.domain.content import Activity, Modality
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zoped.interop.case import read_package, schema_problems
from zoped.interop.case_map import map_framework
from zoped.services.case_import import (
    course_links,
    export_case,
    import_case,
    preview_case_import,
)
from zoped.services.courses import get_course, import_course
from zoped.store.case_repository import CaseRepository
from zoped.store.evidence_log import EvidenceRepository
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import audit_log, competencies

SCHOOL = "school-1"
LATER = f.T0.replace(day=2)


def _audit_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(audit_log)) or 0


def _ids(session: Session, key: str) -> list[str]:
    stmt = select(competencies.c.id).where(competencies.c.course_id == key)
    return sorted(session.scalars(stmt))


def _revised() -> dict[str, Any]:
    """The fractions framework a year on: 3.NF.2 reworded, 3.NF.3 gone, a new 3.NF.4 that
    3.NF.2 precedes; codes renumbered (3.NF.1 -> 3.NF.A.1), which must not change ids."""
    data = fractions()
    data["CFItems"][1]["humanCodingScheme"] = "3.NF.A.1"
    data["CFItems"][2]["fullStatement"] = "Explain why two fractions are equivalent."
    del data["CFItems"][3]
    data["CFItems"].append(item(5, "Add fractions with like denominators.", "3.NF.4"))
    data["CFAssociations"] = [
        a for a in data["CFAssociations"] if uid(4) not in (a["originNodeURI"]["identifier"],)
    ]
    data["CFAssociations"] += [
        association(10, "isChildOf", uid(5), uid(1), sequenceNumber=4),
        association(11, "precedes", uid(3), uid(5)),
    ]
    return data


def test_a_framework_becomes_a_course_and_a_second_import_changes_nothing(
    roster: Session,
) -> None:
    package = read_package(fractions())
    first = import_case(roster, package=package, school_id=SCHOOL, now=f.T0)
    assert (first.created, first.unchanged, first.course_id) == (
        True,
        False,
        "example-mathematics-standards",
    )
    assert (first.competencies, first.links, first.added) == (4, 1, 4)
    assert _ids(roster, first.key) == ["3.nf.1", "3.nf.2", "3.nf.3", "nf"]
    course = get_course(roster, course_id=first.key)
    assert course.framework.get("3.nf.2").prerequisites == ("3.nf.1",)
    assert course.activities == ()
    assert course.items == ()
    audit_before = _audit_rows(roster)
    stored_before = CaseRepository(roster).of_course(first.key)

    again = import_case(roster, package=read_package(fractions()), school_id=SCHOOL, now=LATER)
    assert again.unchanged
    assert not again.created
    assert (again.added, again.changed, again.removed) == (0, 0, 0)
    assert _audit_rows(roster) == audit_before  # nothing written, not even the audit log
    assert CaseRepository(roster).of_course(first.key) == stored_before
    links = course_links(roster, course_key=first.key)
    assert [link.type for link in links["3.nf.3"]] == ["isRelatedTo"]


def test_a_changed_framework_updates_in_place_only_when_confirmed(roster: Session) -> None:
    first = import_case(roster, package=read_package(fractions()), school_id=SCHOOL, now=f.T0)
    revised = read_package(_revised())
    plan = preview_case_import(roster, package=revised, school_id=SCHOOL)
    assert [c.id for c in plan.preview.removed] == ["3.nf.3"]
    assert {c.id for c in plan.preview.changed} >= {"3.nf.2"}
    with pytest.raises(Conflict):
        import_case(roster, package=revised, school_id=SCHOOL, now=LATER)
    assert _ids(roster, first.key) == ["3.nf.1", "3.nf.2", "3.nf.3", "nf"]  # nothing written

    # A learner's evidence on 3.NF.1 (renumbered below): evidence names competencies by id.
    evidence = EvidenceRepository(roster)
    evidence.add(f.event(competency_ids=["3.nf.1"]))
    roster.commit()
    before = evidence.list_for_learner("learner-1")
    assert [e.competency_ids for e in before] == [("3.nf.1",)]
    summary = import_case(roster, package=revised, school_id=SCHOOL, now=LATER, confirm=True)
    assert evidence.list_for_learner("learner-1") == before
    assert (summary.key, summary.created, summary.removed) == (first.key, False, 1)
    # 3.NF.1 was renumbered 3.NF.A.1 but keeps its id (and so its learners' evidence).
    assert _ids(roster, first.key) == ["3.nf.1", "3.nf.2", "3.nf.4", "nf"]
    course = get_course(roster, course_id=first.key)
    assert course.framework.get("3.nf.1").standard_code == "3.NF.A.1"
    assert course.framework.get("3.nf.4").prerequisites == ("3.nf.2",)
    assert course.framework.get("3.nf.2").title == "Explain why two fractions are equivalent."


def test_a_failed_reimport_writes_nothing(roster: Session) -> None:
    first = import_case(roster, package=read_package(fractions()), school_id=SCHOOL, now=f.T0)
    # The course gets an activity on 3.NF.3 (its file was imported over the framework).
    course = get_course(roster, course_id=first.key)
    activity = Activity(
        id="act.compare",
        title="Compare on a number line",
        modality=Modality.HANDS_ON,
        competencies=("3.nf.3",),
        minutes=10,
        body="Mark both fractions.",
    )
    import_course(
        roster,
        course=dataclasses.replace(course, id=first.course_id, activities=(activity,)),
        school_id=SCHOOL,
        now=f.T0,
        confirm=True,
    )
    audit_before = _audit_rows(roster)
    with pytest.raises(InvalidInput) as error:
        import_case(
            roster, package=read_package(_revised()), school_id=SCHOOL, now=LATER, confirm=True
        )
    assert "no longer has" in error.value.message
    assert any("activities[0].competencies[0]" in str(p) for p in error.value.problems)
    assert _ids(roster, first.key) == ["3.nf.1", "3.nf.2", "3.nf.3", "nf"]
    assert _audit_rows(roster) == audit_before
    # The activity stays through a re-import that keeps its competency.
    again = import_case(roster, package=read_package(fractions()), school_id=SCHOOL, now=LATER)
    assert again.unchanged
    assert get_course(roster, course_id=first.key).activities == (activity,)


def test_a_code_held_by_another_course_is_refused(roster: Session) -> None:
    import_course(roster, course=f.course(id="maths"), school_id=SCHOOL, now=f.T0)
    with pytest.raises(Conflict, match="not imported from this CASE framework"):
        import_case(
            roster, package=read_package(fractions()), school_id=SCHOOL, now=f.T0, code="maths"
        )
    assert CaseRepository(roster).of_document(SCHOOL, DOC) is None


def test_only_teachers_and_admins_of_the_school_import_and_export(roster: Session) -> None:
    people = PeopleRepository(roster)
    learner, teacher = people.get_user("learner-1"), people.get_user("teacher-1")
    package = read_package(fractions())
    with pytest.raises(PermissionDenied):
        import_case(roster, actor=learner, package=package, now=f.T0)
    summary = import_case(roster, actor=teacher, package=package, now=f.T0)
    assert summary.school_id == SCHOOL
    with pytest.raises(PermissionDenied):
        export_case(roster, actor=learner, course_key=summary.key)
    stranger = dataclasses.replace(teacher, school_id="school-2", role=Role.ADMIN)
    with pytest.raises(NotFound):
        export_case(roster, actor=stranger, course_key=summary.key)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_the_export_validates_and_imports_elsewhere_as_the_same_framework(
    roster: Session, version: str
) -> None:
    first = import_case(roster, package=read_package(fractions()), school_id=SCHOOL, now=f.T0)
    package, left_out = export_case(roster, course_key=first.key, version=version)
    assert left_out == []
    assert schema_problems(package, version) == []
    back = map_framework(read_package(package, version=version))
    assert back.competencies == get_course(roster, course_id=first.key).framework.competencies
    assert [link.identifier for link in back.links] == [uid(107)]
