"""School administration through the JSON API: an admin's token with ``admin:roster`` runs the
school's people, classes, guardian links and tokens; nobody else does, and bad input is a 4xx
with the error shape that changes nothing."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client
from zoped.services import tokens
from zoped.services.system import Database
from zoped.store.repositories import PeopleRepository


def _bearer(database: Database, user_id: str, *scopes: str) -> dict[str, str]:
    with database.session() as session:
        user = PeopleRepository(session).get_user(user_id)
        issued = tokens.create_token(
            session, user=user, name="admin api test", scopes=scopes, days=30, now=DEMO_NOW
        )
    return {"Authorization": f"Bearer {issued.value}"}


def _client(database: Database) -> TestClient:
    return make_client(database)


def test_only_an_admin_token_with_the_scope_runs_the_school(fresh_db: Database) -> None:
    client = _client(fresh_db)
    teacher = _bearer(fresh_db, "rivera", "read:learners", "admin:roster")
    assert client.get("/api/v1/admin/users", headers=teacher).status_code == 403
    unscoped = _bearer(fresh_db, "admin", "read:learners")
    refused = client.get("/api/v1/admin/users", headers=unscoped)
    assert refused.status_code == 403
    assert refused.json()["error"]["status"] == 403
    admin = _bearer(fresh_db, "admin", "admin:roster")
    people = client.get("/api/v1/admin/users", headers=admin, params={"role": "teacher"})
    assert people.status_code == 200
    assert {p["id"] for p in people.json()} >= {"rivera", "okafor"}


def test_people_classes_links_and_tokens_through_the_api(fresh_db: Database) -> None:
    client = _client(fresh_db)
    admin = _bearer(fresh_db, "admin", "admin:roster")
    made = client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"username": "apinew", "display_name": "Api New", "role": "learner"},
    )
    assert made.status_code == 201, made.text
    yara = made.json()["id"]
    clash = client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"username": "apinew", "display_name": "Twin", "role": "learner"},
    )
    assert clash.status_code == 409
    bad = client.post(
        "/api/v1/admin/users",
        headers=admin,
        json={"username": "y a", "display_name": "Y", "role": "learner", "password": "x"},
    )
    assert bad.status_code == 422
    assert {p["location"] for p in bad.json()["error"]["problems"]} == {"username", "password"}

    cls = client.post(
        "/api/v1/admin/classes",
        headers=admin,
        json={"id": "chess-1", "name": "Chess club", "teacher_ids": ["okafor"]},
    )
    assert cls.status_code == 201, cls.text
    assert (
        client.put(f"/api/v1/admin/classes/chess-1/learners/{yara}", headers=admin).status_code
        == 204
    )
    classes = {c["id"]: c for c in client.get("/api/v1/admin/classes", headers=admin).json()}
    assert classes["chess-1"]["learner_ids"] == [yara]
    linked = client.put(f"/api/v1/admin/guardians/guardian.amara/learners/{yara}", headers=admin)
    assert linked.status_code == 204
    assert (
        client.delete(
            f"/api/v1/admin/guardians/guardian.amara/learners/{yara}", headers=admin
        ).status_code
        == 204
    )
    assert (
        client.delete(f"/api/v1/admin/classes/chess-1/learners/{yara}", headers=admin).status_code
        == 204
    )

    code = client.post(f"/api/v1/admin/users/{yara}/reset-code", headers=admin)
    assert code.status_code == 201
    assert len(code.json()["code"]) == 14
    off = client.patch(f"/api/v1/admin/users/{yara}", headers=admin, json={"active": False})
    assert off.json()["active"] is False
    renamed = client.patch(
        f"/api/v1/admin/users/{yara}", headers=admin, json={"display_name": "Api Newer"}
    )
    assert renamed.json()["display_name"] == "Api Newer"
    assert renamed.json()["active"] is False

    imported = client.post(
        "/api/v1/admin/users/import",
        headers={**admin, "Content-Type": "text/csv"},
        params={"dry_run": "true"},
        content=b"username,display_name,role\napized,Api Zed,teacher\n",
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["created"] == ["apized"]
    assert client.get("/api/v1/admin/users", headers=admin, params={"role": "teacher"}).json()
    assert "apized" not in {
        p["username"] for p in client.get("/api/v1/admin/users", headers=admin).json()
    }

    made = client.post(
        "/api/v1/admin/users/rivera/tokens",
        headers=admin,
        json={"name": "gradebook", "scopes": ["read:learners"], "days": 30},
    )
    assert made.status_code == 201, made.text
    as_rivera = {"Authorization": f"Bearer {made.json()['value']}"}
    assert client.get("/api/v1/me", headers=as_rivera).json()["id"] == "rivera"
    bad_scope = client.post(
        "/api/v1/admin/users/rivera/tokens",
        headers=admin,
        json={"name": "x", "scopes": ["everything"], "days": 30},
    )
    assert bad_scope.status_code == 422
    assert (
        client.delete(f"/api/v1/admin/tokens/{made.json()['key_id']}", headers=admin).status_code
        == 204
    )
    assert client.get("/api/v1/me", headers=as_rivera).status_code == 401
    found = client.get("/api/v1/admin/tokens", headers=admin).json()
    key = next(t["key_id"] for t in found if t["user_id"] == "admin" and not t["revoked_at"])
    assert client.delete(f"/api/v1/admin/tokens/{key}", headers=admin).status_code == 204
    # Revoking the admin's own token stops it at once.
    assert client.get("/api/v1/admin/tokens", headers=admin).status_code == 401


def test_another_schools_people_do_not_exist_for_this_admin(fresh_db: Database) -> None:
    from tests.security.test_small_holes import _other_school

    _other_school(fresh_db)
    client = _client(fresh_db)
    hill = _bearer(fresh_db, "hill-admin", "admin:roster")
    assert client.get("/api/v1/admin/users/amara", headers=hill).status_code == 404
    assert (
        client.patch("/api/v1/admin/users/amara", headers=hill, json={"active": False}).status_code
        == 404
    )
    assert (
        client.put("/api/v1/admin/classes/hill-1/learners/amara", headers=hill).status_code == 404
    )
    admin = _bearer(fresh_db, "admin", "admin:roster")
    assert client.get("/api/v1/admin/users/amara", headers=admin).json()["active"] is True
