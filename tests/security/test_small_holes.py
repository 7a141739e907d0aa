"""The smaller holes of the attack probe (issue 16, item 5): odd input gets a 4xx in the error
shape, never a 500."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from tests.conftest import DEMO_NOW
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.domain.content import Activity, Modality, is_web_link
from zoped.errors import InvalidInput
from zoped.services import demo
from zoped.store.db import make_engine, upgrade
from zoped.store.tables import activities, courses


@pytest.mark.parametrize(
    "when", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00"]
)
def test_an_instant_at_the_edge_of_the_calendar_is_a_clear_422(fresh_db, when: str) -> None:
    client = make_client(fresh_db)
    csrf = sign_in(client, "amara")
    body = {
        "id": str(uuid.uuid4()), "learner_id": "amara", "kind": "answer", "occurred_at": when,
        "item_id": "q.found.non-unit.001", "correct": True,
    }  # fmt: skip
    response = client.post("/api/v1/evidence", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 422, response.text[:300]
    assert response.json()["error"]["code"] == "invalid_input"


@pytest.mark.parametrize("token", ["é" * 43, "\u00ff", "token"])
def test_a_strange_csrf_header_is_a_403_not_a_500(fresh_db, token: str) -> None:
    client = make_client(fresh_db)
    sign_in(client, "amara")
    body = {
        "id": str(uuid.uuid4()), "learner_id": "amara", "kind": "answer",
        "occurred_at": DEMO_NOW.isoformat(), "item_id": "q.found.non-unit.001", "correct": True,
    }  # fmt: skip
    response = client.post("/api/v1/evidence", json=body, headers={b"X-CSRF-Token": token.encode()})
    assert response.status_code == 403, response.text[:300]
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("level", ["²", "٣٣", "-1", "9" * 30])
def test_a_strange_rubric_level_is_a_clear_answer(fresh_db, level: str) -> None:
    client = make_client(fresh_db)
    sign_in(client, "rivera")
    page = client.get("/teacher/learners/amara")
    form = {
        "csrf_token": csrf_of(client, "/teacher/learners/amara"),
        "rubric_id": "rub.fraction-poster",
        "level.accuracy": level,
        "note": "",
    }
    response = client.post("/teacher/learners/amara/rubric", data=form)
    assert response.status_code in (303, 404, 422), (page.status_code, response.text[:300])
    assert "Traceback" not in response.text


def _other_school(database) -> None:
    """A second school with its own admin and class (the probe's two schools)."""
    from zoped.domain.people import Role, School, SchoolClass, User
    from zoped.services.auth import hash_password
    from zoped.services.roster import create_class, create_school, create_user

    with database.session() as session:
        create_school(session, school=School("hill", "Hill School"), now=DEMO_NOW)
        admin = User("hill-admin", "hill", Role.ADMIN, "Hill admin", username="hilladmin")
        create_user(
            session, user=admin, password_hash=hash_password(demo.DEMO_PASSWORD), now=DEMO_NOW
        )
        create_class(session, school_class=SchoolClass("hill-1", "hill", "H1", ()), now=DEMO_NOW)


def _sign_in_at(client, username: str, school: str) -> str:
    """Sign in where two schools share the server (the form then names the school)."""
    form = {
        "username": username, "password": demo.DEMO_PASSWORD, "school": school,
        "csrf_token": csrf_of(client),
    }  # fmt: skip
    assert client.post("/signin", data=form).status_code == 303
    return csrf_of(client, "/")


def test_another_schools_admin_cannot_tell_whether_a_learner_exists(fresh_db) -> None:
    _other_school(fresh_db)
    client = make_client(fresh_db)
    csrf = _sign_in_at(client, "hilladmin", "hill")
    answers = {}
    for learner in ("amara", "no-such-learner"):
        form = {"csrf_token": csrf, "learner_id": learner, "confirm": "wrong"}
        response = client.post("/privacy/erase", data=form)
        answers[learner] = (response.status_code, re.sub(r'value="[^"]*"', "", response.text))
    assert answers["amara"][0] == 404
    assert answers["amara"] == answers["no-such-learner"]


def test_an_assignment_names_a_class_of_the_teachers_own(fresh_db) -> None:
    _other_school(fresh_db)
    client = make_client(fresh_db)
    csrf = _sign_in_at(client, "rivera", demo.DEMO_SCHOOL_ID)
    for class_id, why in (("hill-1", "another school's"), ("class-7c", "not rivera's")):
        form = {
            "csrf_token": csrf, "activity_id": "act.fair-share-sandwiches",
            "learner_ids": "amara", "class_id": class_id, "note": "",
        }  # fmt: skip
        response = client.post("/teacher/assignments", data=form)
        assert response.status_code == 404, (why, response.status_code)
    form = {
        "csrf_token": csrf, "activity_id": "act.fair-share-sandwiches",
        "learner_ids": "umar", "class_id": "class-5a", "note": "",
    }  # fmt: skip
    response = client.post("/teacher/assignments", data=form)
    assert response.status_code == 422, "umar is not in class-5a"


def test_pages_with_learner_data_are_never_cached(fresh_db) -> None:
    client = make_client(fresh_db)
    sign_in(client, "amara")
    for path in ("/learner", "/learner/plan", "/privacy"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-store", path


def test_the_anonymous_home_page_of_a_real_school_shows_no_figures(fresh_db) -> None:
    page = make_client(fresh_db, demo=False).get("/")
    assert "Riverside Middle School" in page.text
    assert "learners" not in page.text
    assert "pieces of evidence" not in page.text
    demo_page = make_client(fresh_db, demo=True).get("/")
    assert "pieces of evidence" in demo_page.text


def test_a_course_link_is_a_web_address_or_nothing() -> None:
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "/relative"):
        assert not is_web_link(bad), bad
        activity = Activity("act.x", "X", Modality.PRACTICE, ("c",), 10, link=bad)
        with pytest.raises(InvalidInput, match="activity"):
            activity.validate()
    assert is_web_link("https://example.org/fractions")


def test_links_stored_before_the_check_are_removed_by_the_migration(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0008")
    engine = make_engine(url)
    bad = {"link": "javascript:alert(document.cookie)", "body": None, "minutes": 5}
    good = {"link": "https://example.org/x", "body": None, "minutes": 5}
    try:
        with engine.begin() as connection:
            connection.execute(
                courses.insert(),
                [{"id": "c", "title": "C", "description": "", "language": "en",
                  "imported_at": DEMO_NOW, "revision": "r"}],
            )  # fmt: skip
            connection.execute(
                activities.insert(),
                [
                    {"id": f"act.{name}", "course_id": "c", "position": n, "title": name,
                     "modality": "practice", "content": content}
                    for n, (name, content) in enumerate((("bad", bad), ("good", good)))
                ],
            )  # fmt: skip
        upgrade(url)
        with engine.connect() as connection:
            stored = dict(connection.execute(select(activities.c.id, activities.c.content)).all())
    finally:
        engine.dispose()
    assert stored["act.bad"]["link"] is None
    assert "removed" in stored["act.bad"]["body"]
    assert stored["act.good"]["link"] == "https://example.org/x"


def test_signing_out_ends_the_session_for_every_copy_of_its_cookie(fresh_db) -> None:
    client = make_client(fresh_db)
    csrf = sign_in(client, "amara")
    copied = make_client(fresh_db)
    copied.cookies.set("zoped_session", client.cookies["zoped_session"])
    assert copied.get("/learner").status_code == 200
    assert copied.get("/api/v1/learners/amara/state").status_code == 200
    assert client.post("/signout", data={"csrf_token": csrf}).status_code == 303
    page = copied.get("/learner")
    assert page.status_code == 303
    assert "/signin" in page.headers["location"]
    assert copied.get("/api/v1/learners/amara/state").status_code == 401


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hints", "abc"),
        ("hints", "²"),
        ("event_id", "not-a-uuid"),
        ("started", "yesterday"),
        ("started", "0001-01-01T00:00:00+14:00"),
    ],
)
def test_a_tampered_practice_form_is_a_422(fresh_db, field: str, value: str) -> None:
    client = make_client(fresh_db)
    sign_in(client, "amara")
    form = {
        "csrf_token": csrf_of(client, "/learner"), "item_id": "q.found.non-unit.001",
        "event_id": str(uuid.uuid4()), "hints": "0", "started": DEMO_NOW.isoformat(),
        "response": "1",
    }  # fmt: skip
    form[field] = value
    response = client.post("/learner/practice/found.non-unit/answer", data=form)
    assert response.status_code == 422, response.text[:300]
