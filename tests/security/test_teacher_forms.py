"""The teacher's forms (issue 15, item 7): a refused form shows its page again (status 422, still
signed in) with the problem next to its field and what was typed kept, and stores nothing."""

from __future__ import annotations

import html
import re

from sqlalchemy import func, select

from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.services.roster import get_learner_profile
from zoped.store.tables import assignments, evidence_events, plan_comments

LEARNER_PAGE = "/teacher/learners/amara"


def _count(db, table) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def _refused(answer, field_id: str, message: str, kept: str) -> str:
    """The refused page's text; checks the field is marked, the message and the typing kept."""
    assert answer.status_code == 422, answer.text[:500]
    page = html.unescape(answer.text)
    assert "Traceback" not in page
    assert "Sign out" in page, "the page still knows who is signed in"
    assert message in page
    assert kept in page, "what was typed is still in the form"
    described = re.search(rf'aria-describedby="({field_id})"', answer.text)
    assert described is not None, f"the field is tied to its problem ({field_id})"
    problem = re.search(rf'id="{field_id}">([^<]*)<', page)
    assert problem is not None
    assert message in problem.group(1)
    return page


def test_forms_on_the_learner_page_keep_what_was_typed(fresh_db) -> None:
    teacher = make_client(fresh_db)
    sign_in(teacher, "rivera")
    token = csrf_of(teacher, LEARNER_PAGE)
    events, comments = _count(fresh_db, evidence_events), _count(fresh_db, plan_comments)

    long_reason = "because " + "x" * 2_100
    answer = teacher.post(
        f"{LEARNER_PAGE}/overrides",
        data={"csrf_token": token, "competency_id": "", "level": "mastered", "reason": long_reason},
    )
    reason_too_long = "keep the reason to 2000 characters"
    page = _refused(answer, "err-override-reason", reason_too_long, long_reason)
    assert "choose a competency" in page

    answer = teacher.post(f"{LEARNER_PAGE}/comments", data={"csrf_token": token, "body": "  "})
    _refused(answer, "err-comment-body", "write something", "")

    answer = teacher.post(
        f"{LEARNER_PAGE}/plan",
        data={
            "csrf_token": token,
            "base_version": "0",
            "goal_description": "Fractions to mastery",
            "goal_date": "someday",
            "goal_competencies": "",
            "strategies": "Ten minutes a day",
            "mastery_evidence": "A quiz",
        },
    )
    page = _refused(answer, "err-plan-goals", "use YYYY-MM-DD", "Ten minutes a day")
    assert 'value="Fractions to mastery"' in page
    assert _count(fresh_db, evidence_events) == events
    assert _count(fresh_db, plan_comments) == comments


def test_a_refused_assignment_shows_its_page_again(fresh_db) -> None:
    teacher = make_client(fresh_db)
    sign_in(teacher, "rivera")
    token = csrf_of(teacher, LEARNER_PAGE)
    note = "Practise before the quiz"
    answer = teacher.post(
        "/teacher/assignments",
        data={
            "csrf_token": token,
            "activity_id": "no-such-activity",
            "learner_ids": "amara",
            "note": note,
            "due_at": "2026-11-01",
            "back": LEARNER_PAGE,
        },
    )
    page = _refused(answer, "err-assign-amara-due_at", "that date has passed", note)
    assert 'value="2026-11-01"' in page

    class_page = teacher.get("/teacher").text
    class_path = re.search(r'href="(/teacher/classes/[^"?]+)"', class_page)
    assert class_path is not None
    shown = teacher.get(class_path.group(1)).text
    group = re.findall(r'name="learner_ids" value="([^"]+)"', shown)
    assert group, "the demo class page suggests a group to assign to"
    group_form = shown[shown.index('name="back"') :]
    members = re.findall(r'name="learner_ids" value="([^"]+)"', group_form.split("</form>")[0])
    answer = teacher.post(
        "/teacher/assignments",
        data={
            "csrf_token": token,
            "activity_id": "",
            "learner_ids": members,
            "class_id": class_path.group(1).rsplit("/", 1)[1],
            "note": "x" * 600,
            "due_at": "",
            "back": class_path.group(1),
        },
    )
    form_id = "err-assign-" + "-".join(sorted(members)) + "-note"
    _refused(answer, form_id, "keep the note to 500 characters", "x" * 600)
    assert _count(fresh_db, assignments) == 0


def test_an_assignment_from_elsewhere_still_gets_a_clear_error(fresh_db) -> None:
    teacher = make_client(fresh_db)
    token = sign_in(teacher, "rivera")
    answer = teacher.post(
        "/teacher/assignments",
        data={"csrf_token": token, "activity_id": "x", "learner_ids": "amara", "due_at": "soon"},
    )
    assert answer.status_code == 422
    assert "use a date like" in html.unescape(answer.text)
    assert _count(fresh_db, assignments) == 0


def test_the_learner_profile_forms_keep_what_was_typed(fresh_db) -> None:
    learner = make_client(fresh_db)
    sign_in(learner, "amara")
    token = csrf_of(learner, "/learner/profile")
    too_many = ", ".join(f"topic {n}" for n in range(25))
    answer = learner.post("/learner/profile", data={"csrf_token": token, "interests": too_many})
    _refused(answer, "err-profile-interests", "at most 20 interests", too_many)

    story = "I learned this at my maths club"
    answer = learner.post(
        "/learner/claims",
        data={"csrf_token": token, "competency_id": "", "what": story, "link": "ftp://x"},
    )
    page = _refused(answer, "err-claim-link", "a link starts with https://", story)
    assert 'value="ftp://x"' in page
    with fresh_db.session() as s:
        profile = get_learner_profile(s, learner_id="amara")
    assert profile is None or len(profile.interests) <= 20
