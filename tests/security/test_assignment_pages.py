"""Assignments through the pages: a teacher assigns with a note and a due date, the learner
sees it on their home ("From your teacher"), it is done only when the learner does it, and the
teacher sees each learner's status on the class page and the "today" page."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import func, select

from tests import factories as f
from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client, sign_in
from zoped.clock import PinnedClock
from zoped.domain.evidence import EvidenceKind
from zoped.services import transaction
from zoped.services.courses import courses_of_learner, get_course
from zoped.services.evidence import list_evidence
from zoped.services.pathways import learner_state
from zoped.store.evidence_log import EvidenceRepository
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import assignments

# DEMO_NOW is Monday 30 November 2026; the due date is that Friday.
DUE = "2026-12-04"


def _text(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def _section(page: str, heading_id: str) -> str:
    start = page.index(f'id="{heading_id}"')
    return _text(page[start : page.index("</section>", start)])


def _mastered_activity(database) -> tuple[str, str]:
    """(id, title) of an activity whose competencies amara has all mastered already."""
    with database.session() as s:
        amara = PeopleRepository(s).get_user("amara")
        state = learner_state(s, actor=amara, learner_id="amara", now=DEMO_NOW)
        course = get_course(s, course_id=state.course_id)
        mastered = {c.competency_id for c in state.competencies if c.level.label == "mastered"}
    found = [a for a in course.activities if a.competencies and set(a.competencies) <= mastered]
    assert found, "the demo gives amara mastered competencies with an activity"
    return found[0].id, found[0].title


def _assign(client, token: str, activity_id: str, **fields: str):
    data = {
        "csrf_token": token,
        "activity_id": activity_id,
        "learner_ids": "amara",
        "note": "Practise before Friday's quiz",
        "due_at": DUE,
        "back": "/teacher/learners/amara",
    }
    data.update(fields)
    return client.post("/teacher/assignments", data=data)


def test_an_assignment_reaches_the_learner_and_is_done_only_when_they_do_it(fresh_db) -> None:
    activity_id, title = _mastered_activity(fresh_db)
    teacher = make_client(fresh_db)
    token = sign_in(teacher, "rivera")
    assert _assign(teacher, token, activity_id).status_code == 303

    # The bug: amara had mastered what it practises, and it read "done" at once.
    page = teacher.get("/teacher/learners/amara").text
    listed = _section(page, "assign-h")
    assert f"{title} : not started, due Friday 4 December" in listed
    assert f"{title} : done" not in listed

    learner = make_client(fresh_db)
    sign_in(learner, "amara")
    home = learner.get("/learner")
    assert home.status_code == 200
    mine = _section(home.text, "assigned-h")
    assert "From your teacher" in mine
    assert title in mine
    assert "Why: Practise before Friday's quiz" in mine
    assert "Due Friday 4 December" in mine
    assert activity_id not in mine  # named in words; the id is only in the link
    assert f'href="/learner/activity/{activity_id}"' in home.text

    # The following Monday it is overdue, for her and for her teacher.
    later = PinnedClock(DEMO_NOW + timedelta(days=7))
    learner_later = make_client(fresh_db, clock=later)
    sign_in(learner_later, "amara")
    assert "Overdue by 3 days" in _section(learner_later.get("/learner").text, "assigned-h")
    teacher_later = make_client(fresh_db, clock=later)
    sign_in(teacher_later, "rivera")
    report = _section(teacher_later.get("/teacher/classes/class-5a").text, "assigned-h")
    assert re.search(rf"{re.escape(title)} · overdue by 3 days", report)
    assert "Amara A. overdue" in report

    # She completes it (after it was assigned): done, and gone from her list.
    with fresh_db.session() as s, transaction(s):
        EvidenceRepository(s).add(
            f.event(
                learner_id="amara",
                kind=EvidenceKind.ACTIVITY_COMPLETION,
                item_id=None,
                correct=None,
                competency_ids=[],
                score=1.0,
                activity_id=activity_id,
                occurred_at=DEMO_NOW + timedelta(days=7, minutes=-5),
                recorded_at=DEMO_NOW + timedelta(days=7, minutes=-5),
                payload={},
            )
        )
    assert title not in learner_later.get("/learner").text.split('id="menu-h"')[0]
    report = _section(teacher_later.get("/teacher/classes/class-5a").text, "assigned-h")
    assert "Amara A. done" in report
    assert "1 of 1 done" in report


def test_the_today_page_summarises_each_class(fresh_db) -> None:
    activity_id, title = _mastered_activity(fresh_db)
    teacher = make_client(fresh_db)
    token = sign_in(teacher, "rivera")
    assert "/teacher/today" in teacher.get("/teacher").text
    _assign(teacher, token, activity_id)
    page = teacher.get("/teacher/today")
    assert page.status_code == 200
    text = _text(page.text)
    assert "Grade 5 · Room 12" in text
    assert "Grade 6 · Room 7" in text
    assert "Grade 7 · Room 3" not in text  # okafor's class only
    five = text[text.index("Grade 5 · Room 12") : text.index("Grade 6 · Room 7")]
    assert re.search(r"Stuck \(\d+ learners?\)", five)
    assert "Ready to move on (" in five
    assert re.search(r"\d+ of 20 learners have something to review \(\d+ reviews in all\)", five)
    assert "Most due:" in five
    assert f"{title} , due Friday 4 December: 0 of 1 done" in five
    # Reviews are summarised for the class, not a badge per learner.
    assert five.count("review due since") == 0
    learner = make_client(fresh_db)
    sign_in(learner, "amara")
    assert learner.get("/teacher/today").status_code in (403, 404)


def test_a_bad_due_date_or_note_is_refused_and_nothing_is_stored(fresh_db) -> None:
    activity_id, _ = _mastered_activity(fresh_db)
    teacher = make_client(fresh_db)
    token = sign_in(teacher, "rivera")

    def stored() -> int:
        with fresh_db.session() as s:
            return int(s.scalar(select(func.count()).select_from(assignments)) or 0)

    for fields, message in (
        ({"due_at": "next friday"}, "use a date like 2026-12-12"),
        ({"due_at": "2026-11-01"}, "that date has passed"),
        ({"note": "x" * 501}, "keep the note to 500 characters"),
    ):
        answer = _assign(teacher, token, activity_id, **fields)
        assert answer.status_code == 422, fields
        assert message in html.unescape(answer.text)
        assert "Traceback" not in answer.text
    assert stored() == 0
    assert _assign(teacher, token, activity_id, due="").status_code == 303
    assert stored() == 1
    with fresh_db.session() as s:
        # Assigning records no evidence for the learner.
        assert courses_of_learner(s, learner_id="amara")
        assert not [
            e
            for e in list_evidence(s, learner_id="amara", since=DEMO_NOW)
            if e.activity_id == activity_id
        ]
