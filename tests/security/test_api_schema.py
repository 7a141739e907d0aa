"""The JSON API against its own OpenAPI schema (schemathesis, in-process, few examples), and
bad input that changes nothing in the database."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func, select

from tests.conftest import DEMO_NOW as NOW
from tests.security.conftest import SECRET, copy_database, make_client
from zoped.app import create_app
from zoped.clock import PinnedClock
from zoped.domain.people import Role
from zoped.services import tokens
from zoped.settings import Settings
from zoped.store.tables import metadata


@pytest.fixture(scope="module")
def api_db(seeded_path, tmp_path_factory):
    database = copy_database(seeded_path, tmp_path_factory.mktemp("schema") / "demo.db")
    yield database
    database.dispose()


@pytest.fixture(scope="module")
def admin_token(api_db) -> str:
    with api_db.session() as session:
        scopes = sorted(tokens.ALL_SCOPES - {tokens.Scope.ERASE_LEARNERS})
        issued = tokens.create_service_credentials(
            session, role=Role.ADMIN, name="schema test", scopes=scopes, days=30, now=NOW
        )
    return issued.value


@pytest.fixture(scope="module")
def api_schema(api_db):
    config = Settings(environment="test", secret_key=SECRET, database_url=api_db.url)
    return schemathesis.openapi.from_asgi(
        "/openapi.json", create_app(config, database=api_db, clock=PinnedClock(NOW))
    )


def test_api_conforms_to_its_schema(api_schema, admin_token) -> None:
    checks = [
        not_a_server_error,
        response_schema_conformance,
        status_code_conformance,
        content_type_conformance,
    ]
    operations = [result.ok() for result in api_schema.get_all_operations()]
    operations = [op for op in operations if op.path.startswith("/api/")]
    assert len(operations) >= 7

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {admin_token}"}, checks=checks
            )

        run()


def _counts(database) -> dict[str, int]:
    with database.session() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in metadata.tables.items()
        }


BAD_EVIDENCE = [
    {},
    {"id": "not-a-uuid", "learner_id": "amara", "kind": "answer"},
    {
        "id": "6f1c1a4e-0000-4000-8000-0000000000aa",
        "learner_id": "amara",
        "kind": "answer",
        "occurred_at": "2026-11-30T10:00:00",  # naive: refused
    },
    {
        "id": "6f1c1a4e-0000-4000-8000-0000000000ab",
        "learner_id": "amara",
        "kind": "answer",
        "occurred_at": "2026-11-30T10:00:00Z",  # an answer without item or correctness
    },
    {
        "id": "6f1c1a4e-0000-4000-8000-0000000000ac",
        "learner_id": "amara",
        "kind": "rubric_score",
        "occurred_at": "2026-11-30T10:00:00Z",
        "score": 7,
    },
]


def test_bad_input_gets_one_error_shape_and_changes_nothing(api_db, admin_token) -> None:
    client = make_client(api_db)
    auth = {"Authorization": f"Bearer {admin_token}"}
    client.get("/api/v1/me", headers=auth)  # settle the token's last-used stamp
    before = _counts(api_db)
    for body in BAD_EVIDENCE:
        response = client.post("/api/v1/evidence", json=body, headers=auth)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert set(error) == {"status", "code", "message", "problems"}
        assert error["status"] == 422
        assert error["problems"]
        assert "Traceback" not in response.text
    for params in ({"limit": 0}, {"limit": 100_000}, {"offset": -1}, {"limit": 201}):
        response = client.get("/api/v1/learners", params=params, headers=auth)
        assert response.status_code == 422
    assert client.get("/api/v1/nowhere", headers=auth).json()["error"]["code"] == "not_found"
    assert _counts(api_db) == before


def test_evidence_is_idempotent_by_event_id(api_db, admin_token) -> None:
    client = make_client(api_db)
    auth = {"Authorization": f"Bearer {admin_token}"}
    body = {
        "id": "6f1c1a4e-0000-4000-8000-0000000000ff",
        "learner_id": "umar",
        "kind": "self_assessment",
        "occurred_at": "2026-11-30T10:00:00Z",
        "score": 0.5,
        "competency_ids": ["fractions-equivalent"],
    }
    first = client.post("/api/v1/evidence", json=body, headers=auth)
    assert first.status_code == 201, first.text
    assert client.post("/api/v1/evidence", json=body, headers=auth).status_code == 200
    changed = client.post("/api/v1/evidence", json={**body, "score": 0.9}, headers=auth)
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "conflict"
