"""Assignments through the JSON API: a teacher's token with ``write:assignments`` assigns work;
the learner, and the class's teacher, read where it stands; bad input is a 422 with the error
shape and writes nothing; a learner cannot assign, another teacher cannot read the class."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client
from zoped.services import tokens
from zoped.services.courses import courses_of_learner, get_course
from zoped.services.system import Database
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import assignments


def _bearer(database: Database, user_id: str, *scopes: str) -> dict[str, str]:
    with database.session() as session:
        user = PeopleRepository(session).get_user(user_id)
        issued = tokens.create_token(
            session, user=user, name="assignments api test", scopes=scopes, days=30, now=DEMO_NOW
        )
    return {"Authorization": f"Bearer {issued.value}"}


def _stored(database: Database) -> int:
    with database.session() as s:
        return int(s.scalar(select(func.count()).select_from(assignments)) or 0)


def _first_activity(database: Database) -> str:
    with database.session() as s:
        info = courses_of_learner(s, learner_id="amara")[0]
        return get_course(s, course_id=info.key).activities[0].id


def test_a_teacher_assigns_and_everyone_who_may_reads_it(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    teacher = _bearer(fresh_db, "rivera", "write:assignments", "read:learners")
    activity = _first_activity(fresh_db)
    due = (DEMO_NOW + timedelta(days=4)).isoformat()
    made = client.post(
        "/api/v1/assignments",
        json={"learner_ids": ["amara"], "activity_id": activity, "due_at": due, "note": "Why"},
        headers=teacher,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["learner_ids"] == ["amara"]
    assert body["activity_id"] == activity
    assert body["note"] == "Why"

    learner = _bearer(fresh_db, "amara", "read:learners")
    mine = client.get("/api/v1/learners/amara/assignments", headers=learner)
    assert mine.status_code == 200
    found = [a for a in mine.json() if a["assignment"]["id"] == body["id"]]
    assert len(found) == 1
    assert found[0]["progress"]["status"] == "not started"

    with fresh_db.session() as s:
        repo = PeopleRepository(s)
        school_id = repo.get_user("amara").school_id
        class_id = next(
            c.id for c in repo.list_classes(school_id) if "amara" in repo.learners_in_class(c.id)
        )
    report = client.get(f"/api/v1/classes/{class_id}/assignments", headers=teacher)
    assert report.status_code == 200
    listed = [r for r in report.json() if r["assignment"]["id"] == body["id"]]
    assert [p["learner_id"] for p in listed[0]["learners"]] == ["amara"]


def test_bad_or_unauthorised_assignments_write_nothing(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    activity = _first_activity(fresh_db)
    teacher = _bearer(fresh_db, "rivera", "write:assignments")
    past = (DEMO_NOW - timedelta(days=1)).isoformat()
    for body, field in (
        ({"learner_ids": ["amara"], "activity_id": activity, "due_at": past}, "due_at"),
        ({"learner_ids": [], "activity_id": activity}, "learner_ids"),
        ({"learner_ids": ["amara"]}, "activity_id"),
        ({"learner_ids": ["amara"], "activity_id": activity, "note": "x" * 501}, "note"),
    ):
        answer = client.post("/api/v1/assignments", json=body, headers=teacher)
        assert answer.status_code == 422, (body, answer.text)
        # Each problem is located by the request's own field name (under "body." when the
        # request's schema refuses it before the service sees it).
        problems = answer.json()["error"]["problems"]
        assert field in {p["location"].removeprefix("body.") for p in problems}, problems
    without_scope = _bearer(fresh_db, "rivera", "read:learners")
    body = {"learner_ids": ["amara"], "activity_id": activity}
    assert client.post("/api/v1/assignments", json=body, headers=without_scope).status_code == 403
    learner = _bearer(fresh_db, "amara", "write:assignments")
    assert client.post("/api/v1/assignments", json=body, headers=learner).status_code == 403
    assert _stored(fresh_db) == 0

    other_learner = _bearer(fresh_db, "ben", "read:learners")
    answer = client.get("/api/v1/learners/amara/assignments", headers=other_learner)
    assert answer.status_code in (403, 404)
