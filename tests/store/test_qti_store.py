"""A QTI import and export on SQLite and PostgreSQL: a teacher imports into their school's
course, a second import changes nothing, the export is audited, and a learner may do neither."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.qti.helpers import LIT_COURSE, MAPPING, fixture_package
from zoped.domain import Role
from zoped.domain.content import ItemType
from zoped.errors import PermissionDenied
from zoped.interop.course_file import parse_course
from zoped.services.courses import get_course, import_course
from zoped.services.qti_import import export_qti, import_qti
from zoped.store.tables import audit_log


def test_a_teacher_imports_and_exports_and_a_learner_may_not(
    roster: Session, tmp_path: Path
) -> None:
    session = roster
    import_course(session, course=parse_course(LIT_COURSE), now=f.T0, school_id="school-1")
    archive = tmp_path / "examples.zip"
    archive.write_bytes(fixture_package())
    mapping = tmp_path / "map.csv"
    mapping.write_text(MAPPING, encoding="utf-8")
    teacher = f.user(Role.TEACHER, id="teacher-1")
    learner = f.user(Role.LEARNER, id="learner-1")
    with pytest.raises(PermissionDenied):
        import_qti(
            session, actor=learner, source=archive, course_code="lit", mapping=mapping, now=f.T0
        )
    first = import_qti(
        session, actor=teacher, source=archive, course_code="lit", mapping=mapping, now=f.T0
    )
    assert len(first.added) == 9
    course = get_course(session, course_id="lit")
    assert course.item("associate").type is ItemType.MATCHING
    assert course.item("inlinechoice").blanks[0].answer == "York"
    again = import_qti(
        session, actor=teacher, source=archive, course_code="lit", mapping=mapping, now=f.T0
    )
    assert (again.added, again.updated, again.unchanged) == ((), (), 9)
    assert get_course(session, course_id="lit") == course
    with pytest.raises(PermissionDenied):
        export_qti(session, actor=learner, course_code="lit", now=f.T0)
    data = export_qti(session, actor=teacher, course_code="lit", now=f.T0)
    assert data.startswith(b"PK")
    actions = session.scalars(select(audit_log.c.action).order_by(audit_log.c.at)).all()
    assert actions.count("course.export_qti") == 1
    assert actions.count("course.reimport") == 1  # the first QTI import; the second wrote nothing
