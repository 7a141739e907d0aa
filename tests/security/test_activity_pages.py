"""Activity pages through the HTTP client (issue 15, item 2): competencies by title, "mark as
done" with a reflection, project work handed in, its file downloaded only by those who may read
the learner, and the teacher's rubric scores shown to the learner."""

from __future__ import annotations

import re
import uuid

from tests.security.conftest import make_client, sign_in
from zoped.domain.evidence import EvidenceKind
from zoped.domain.submissions import MAX_FILE_BYTES
from zoped.services.evidence import list_evidence

HANDS_ON = "/learner/activity/act.fair-share-sandwiches"
PROJECT = "/learner/activity/project.recipe-party"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
FILE_LINK = re.compile(r'href="(/(?:learner|teacher/learners/dev)/files/[0-9a-f-]{36})"')


def _completions(database, learner_id: str) -> int:
    with database.session() as session:
        return len(
            list_evidence(session, learner_id=learner_id, kinds=[EvidenceKind.ACTIVITY_COMPLETION])
        )


def test_competencies_are_named_by_title(shared_db) -> None:
    client = make_client(shared_db)
    sign_in(client, "ben")
    page = client.get(HANDS_ON)
    assert page.status_code == 200
    assert "Practise Equal parts of a whole" in page.text
    assert "found.equal-parts</a>" not in page.text
    assert "Practise found." not in page.text
    assert "Mark as done" in page.text


def test_mark_as_done_with_a_reflection(fresh_db) -> None:
    client = make_client(fresh_db)
    token = sign_in(client, "ben")
    before = _completions(fresh_db, "ben")
    form = {"csrf_token": token, "event_id": str(uuid.uuid4()), "reflection": "Thirds were hard."}
    sent = client.post(f"{HANDS_ON}/done", data=form)
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{HANDS_ON}?done=done"
    again = client.post(f"{HANDS_ON}/done", data=form)  # a double click: one event
    assert again.status_code == 303
    assert _completions(fresh_db, "ben") == before + 1
    page = client.get(sent.headers["location"]).text
    assert "Marked as done" in page
    assert "you marked this done on 30 Nov 2026 at 17:0" in page
    assert "Thirds were hard." in page
    assert "Mark as done again" in page


def test_a_reflection_too_long_keeps_what_was_typed(fresh_db) -> None:
    client = make_client(fresh_db)
    token = sign_in(client, "ben")
    before = _completions(fresh_db, "ben")
    typed = "I learned " + "a lot " * 400
    form = {"csrf_token": token, "event_id": str(uuid.uuid4()), "reflection": typed}
    page = client.post(f"{HANDS_ON}/done", data=form)
    assert page.status_code == 422
    assert 'id="reflection-error"' in page.text
    assert "at most 2,000" in page.text
    assert typed.strip() in page.text
    assert "you marked this done" not in page.text
    assert "Traceback" not in page.text
    assert _completions(fresh_db, "ben") == before


def test_bad_project_work_is_refused_next_to_its_field(fresh_db) -> None:
    client = make_client(fresh_db)
    token = sign_in(client, "dev")
    before = _completions(fresh_db, "dev")
    base = {"csrf_token": token, "event_id": str(uuid.uuid4())}
    bad_link = client.post(
        f"{PROJECT}/submit",
        data={**base, "text": "My recipe for 28", "link": "javascript:alert(1)"},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert bad_link.status_code == 422
    assert 'id="link-error"' in bad_link.text
    assert "My recipe for 28" in bad_link.text
    disguised = client.post(
        f"{PROJECT}/submit",
        data={**base, "text": "see file"},
        files={"file": ("photo.png", b"MZ\x90\x00\x03\x00", "image/png")},
    )
    assert disguised.status_code == 422
    assert 'id="file-error"' in disguised.text
    assert "not accepted" in disguised.text
    too_big = client.post(
        f"{PROJECT}/submit",
        data={**base, "text": "see file"},
        files={"file": ("big.txt", b"a" * (MAX_FILE_BYTES + 1), "text/plain")},
    )
    assert too_big.status_code == 422
    assert "too large" in too_big.text
    nothing = client.post(f"{PROJECT}/submit", data={**base, "text": "  ", "link": ""})
    assert nothing.status_code == 422
    assert "Write something, give a link or add a file." in nothing.text
    assert _completions(fresh_db, "dev") == before


def test_project_handed_in_scored_and_read_back(fresh_db) -> None:
    learner = make_client(fresh_db)
    token = sign_in(learner, "dev")
    form = {
        "csrf_token": token,
        "event_id": str(uuid.uuid4()),
        "text": "Scale factor 7/2, ratio table attached.",
        "link": "https://example.org/our-recipe",
    }
    sent = learner.post(
        f"{PROJECT}/submit", data=form, files={"file": ("recipe.png", PNG, "image/png")}
    )
    assert sent.status_code == 303, sent.text
    page = learner.get(sent.headers["location"]).text
    assert "Your work is handed in" in page
    assert "Scale factor 7/2, ratio table attached." in page
    assert 'href="https://example.org/our-recipe"' in page
    own = FILE_LINK.search(page)
    assert own is not None
    got = learner.get(own.group(1))
    assert got.status_code == 200
    assert got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith('attachment; filename="recipe.png"')
    assert got.headers["x-content-type-options"] == "nosniff"
    event_id = own.group(1).rsplit("/", 1)[1]

    # Another learner cannot fetch it, nor name it under the owner's id.
    other = make_client(fresh_db)
    sign_in(other, "ben")
    assert other.get(f"/learner/files/{event_id}").status_code == 404
    assert other.get(f"/teacher/learners/dev/files/{event_id}").status_code == 403
    assert other.get("/learner/files/not-a-uuid").status_code == 404

    teacher = make_client(fresh_db)
    teacher_token = sign_in(teacher, "rivera")
    seen = teacher.get("/teacher/learners/dev").text
    assert "Scale factor 7/2, ratio table attached." in seen
    link = FILE_LINK.search(seen)
    assert link is not None
    assert link.group(1) == f"/teacher/learners/dev/files/{event_id}"
    assert teacher.get(link.group(1)).content == PNG
    scored = teacher.post(
        "/teacher/learners/dev/rubric",
        data={
            "csrf_token": teacher_token,
            "rubric_id": "rubric.recipe-party",
            "level.scaling": "3",
            "level.measuring": "1",
            "note": "Clear ratio table; simplify 14/4.",
        },
    )
    assert scored.status_code == 303

    page = learner.get(PROJECT).text
    assert "Your teacher's scores" in page
    assert "6 of 8 points" in page
    assert "Accurate scaling" in page
    assert "Extending" in page
    assert "Clear ratio table; simplify 14/4." in page


def test_a_tampered_form_is_a_clear_answer_not_a_crash(fresh_db) -> None:
    client = make_client(fresh_db)
    token = sign_in(client, "ben")
    tampered = client.post(
        f"{HANDS_ON}/done", data={"csrf_token": token, "event_id": "../../x", "reflection": "hi"}
    )
    assert tampered.status_code == 422
    assert "Traceback" not in tampered.text
    unknown = client.post(
        "/learner/activity/no.such-activity/done",
        data={"csrf_token": token, "event_id": str(uuid.uuid4())},
    )
    assert unknown.status_code == 404
    event_id = str(uuid.uuid4())
    done = client.post(f"{HANDS_ON}/done", data={"csrf_token": token, "event_id": event_id})
    assert done.status_code == 303
    reused = client.post(
        f"{PROJECT}/submit", data={"csrf_token": token, "event_id": event_id, "text": "my work"}
    )
    assert reused.status_code == 422
    assert "reload the page" in reused.text
    assert "my work" in reused.text
