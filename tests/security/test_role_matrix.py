"""Every role against every learner-data endpoint (API and pages) on the seeded demo school.

Demo classes: class-5a (rivera) holds amara; class-6b (rivera, okafor) holds umar; class-7c
(okafor) holds oscar. guardian.amara is linked to amara only.
"""

from __future__ import annotations

import pytest

from tests.security.conftest import csrf_of, make_client, sign_in

TARGETS = ("amara", "umar", "oscar")
REACH = {
    "admin": {"amara", "umar", "oscar"},
    "rivera": {"amara", "umar"},
    "okafor": {"umar", "oscar"},
    "amara": {"amara"},
    "elif": set(),
    "guardian.amara": {"amara"},
}
MAY_EXPORT = {"admin", "amara", "guardian.amara"}


@pytest.fixture(scope="module")
def clients(shared_db):
    result = {}
    for username in REACH:
        client = make_client(shared_db)
        sign_in(client, username)
        result[username] = client
    return result


@pytest.mark.parametrize("actor", sorted(REACH))
def test_api_read_matrix(clients, actor) -> None:
    client = clients[actor]
    for learner in TARGETS:
        for path in (f"/api/v1/learners/{learner}", f"/api/v1/learners/{learner}/evidence"):
            response = client.get(path)
            expected = 200 if learner in REACH[actor] else 404
            assert response.status_code == expected, (actor, path, response.text)
            if expected == 404:
                assert response.json() == client.get("/api/v1/learners/no-such-one").json()


@pytest.mark.parametrize("actor", sorted(REACH))
def test_api_listing_is_filtered_by_the_same_policy(clients, actor) -> None:
    listed = set()
    offset = 0
    while True:
        page = clients[actor].get("/api/v1/learners", params={"limit": 50, "offset": offset})
        assert page.status_code == 200
        items = page.json()["items"]
        listed |= {item["id"] for item in items}
        offset += 50
        if offset >= page.json()["total"]:
            break
    assert listed & set(TARGETS) == REACH[actor]
    if actor == "elif":
        assert listed == {"elif"}


@pytest.mark.parametrize("actor", sorted(REACH))
def test_export_matrix(clients, actor) -> None:
    for learner in TARGETS:
        status = clients[actor].get(f"/api/v1/learners/{learner}/export").status_code
        if learner not in REACH[actor]:
            assert status == 404
        else:
            assert status == (200 if actor in MAY_EXPORT else 403), (actor, learner)


def test_guardian_only_reads(clients) -> None:
    client = clients["guardian.amara"]
    csrf = csrf_of(client, "/")
    body = {
        "id": "6f1c1a4e-0000-4000-8000-000000000001",
        "learner_id": "amara",
        "kind": "self_assessment",
        "occurred_at": "2026-11-30T10:00:00Z",
        "score": 0.5,
        "competency_ids": ["c1"],
    }
    response = client.post("/api/v1/evidence", json=body, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 403
    # A guardian may ask for the child's erasure (tests/services/test_erasure_requests.py);
    # a teacher may not.
    teacher = clients["rivera"]
    erase = teacher.post(
        "/api/v1/learners/amara/erase", headers={"X-CSRF-Token": csrf_of(teacher, "/")}
    )
    assert erase.status_code == 403


def test_teacher_of_5a_asking_for_a_7c_learner_learns_nothing(clients) -> None:
    response = clients["rivera"].get("/api/v1/learners/oscar")
    assert response.status_code == 404
    assert "Oscar" not in response.text
    assert "class-7c" not in response.text
    assert response.json()["error"]["message"] == "Not found."


def test_anonymous_gets_401_from_every_learner_data_endpoint(shared_db) -> None:
    client = make_client(shared_db)
    for method, path in [
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/learners"),
        ("GET", "/api/v1/learners/amara"),
        ("GET", "/api/v1/learners/amara/evidence"),
        ("GET", "/api/v1/learners/amara/export"),
        ("POST", "/api/v1/learners/amara/erase"),
        ("POST", "/api/v1/evidence"),
    ]:
        response = client.request(method, path, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthenticated"
    for page in ("/privacy", "/privacy/access-log", "/admin/audit", "/privacy/export/amara"):
        response = client.get(page)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/signin")


@pytest.mark.parametrize("actor", sorted(REACH))
def test_page_matrix(clients, actor) -> None:
    client = clients[actor]
    assert client.get("/admin/audit").status_code == (200 if actor == "admin" else 403)
    for learner in TARGETS:
        log = client.get("/privacy/access-log", params={"learner": learner}).status_code
        sees_log = learner in REACH[actor] and actor in MAY_EXPORT
        assert log == (200 if sees_log else 404), (actor, learner)
        export = client.get(f"/privacy/export/{learner}").status_code
        if learner not in REACH[actor]:
            assert export == 404
        else:
            assert export == (200 if actor in MAY_EXPORT else 403)


def test_access_is_audited_and_shown_to_the_learner(clients) -> None:
    assert clients["rivera"].get("/api/v1/learners/amara").status_code == 200
    page = clients["amara"].get("/privacy/access-log")
    assert page.status_code == 200
    assert "Ms. Rivera" in page.text
    audit = clients["admin"].get("/admin/audit")
    assert "Ms. Rivera" in audit.text
