"""xAPI statements from client tools become evidence: idempotent, validated, authorised."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.conftest import DEMO_NOW as NOW
from tests.security.conftest import copy_database, make_client
from zoped.domain.evidence import EvidenceSource
from zoped.domain.people import Role
from zoped.interop.xapi import ANSWERED, ITEM_IRI, statement_to_event
from zoped.services import tokens
from zoped.services.evidence import list_evidence
from zoped.store.tables import evidence_events

STATEMENT = {
    "id": "0b7c9d2e-1111-4222-8333-444455556666",
    "actor": {"objectType": "Agent", "account": {"homePage": "urn:x", "name": "umar"}},
    "verb": {"id": ANSWERED, "display": {"en": "answered"}},
    "object": {"objectType": "Activity", "id": ITEM_IRI + "q.found.non-unit.001"},
    "result": {"success": True, "duration": "PT42.5S"},
    "timestamp": "2026-11-30T10:00:00+00:00",
}


@pytest.fixture(scope="module")
def xapi_db(seeded_path, tmp_path_factory):
    database = copy_database(seeded_path, tmp_path_factory.mktemp("xapi") / "demo.db")
    yield database
    database.dispose()


def _token(database, scopes) -> str:
    with database.session() as session:
        issued = tokens.create_service_credentials(
            session, role=Role.ADMIN, name="xapi client", scopes=scopes, days=1, now=NOW
        )
    return issued.value


def _count(database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(evidence_events)) or 0)


def test_a_statement_is_recorded_once_as_an_xapi_answer(xapi_db) -> None:
    client = make_client(xapi_db)
    auth = {"Authorization": f"Bearer {_token(xapi_db, [tokens.Scope.WRITE_EVIDENCE])}"}
    before = _count(xapi_db)
    first = client.post("/api/v1/xapi/statements", json=STATEMENT, headers=auth)
    assert first.status_code == 200, first.text
    assert first.json() == [STATEMENT["id"]]
    again = client.post("/api/v1/xapi/statements", json=[STATEMENT], headers=auth)
    assert again.status_code == 200
    assert _count(xapi_db) == before + 1
    with xapi_db.session() as session:
        stored = [
            e for e in list_evidence(session, learner_id="umar") if str(e.id) == STATEMENT["id"]
        ]
    assert len(stored) == 1
    assert stored[0].source is EvidenceSource.XAPI
    assert stored[0].correct is True
    assert stored[0].duration_s == pytest.approx(42.5)


def test_bad_statements_list_every_problem_and_write_nothing(xapi_db) -> None:
    client = make_client(xapi_db)
    auth = {"Authorization": f"Bearer {_token(xapi_db, [tokens.Scope.WRITE_EVIDENCE])}"}
    good = {**STATEMENT, "id": "0b7c9d2e-1111-4222-8333-444455550001"}
    bad = {**STATEMENT, "id": "nope", "verb": {"id": "urn:verb:liked"}, "timestamp": "2026-11-30"}
    before = _count(xapi_db)
    response = client.post("/api/v1/xapi/statements", json=[good, bad], headers=auth)
    assert response.status_code == 422
    locations = {p["location"] for p in response.json()["error"]["problems"]}
    assert {"[1].id", "[1].verb.id", "[1].timestamp"} <= locations
    assert _count(xapi_db) == before, "the good statement was not written either"


def test_statements_need_the_scope_and_a_reachable_learner(xapi_db) -> None:
    client = make_client(xapi_db)
    assert client.post("/api/v1/xapi/statements", json=STATEMENT).status_code == 401
    read_only = {"Authorization": f"Bearer {_token(xapi_db, [tokens.Scope.READ_LEARNERS])}"}
    assert (
        client.post("/api/v1/xapi/statements", json=STATEMENT, headers=read_only).status_code == 403
    )
    writer = {"Authorization": f"Bearer {_token(xapi_db, [tokens.Scope.WRITE_EVIDENCE])}"}
    stranger = {**STATEMENT, "id": "0b7c9d2e-1111-4222-8333-444455550002"}
    stranger["actor"] = {"account": {"homePage": "urn:x", "name": "someone-elsewhere"}}
    response = client.post("/api/v1/xapi/statements", json=stranger, headers=writer)
    assert response.status_code == 404


def test_an_exported_statement_reads_back_as_the_same_event() -> None:
    event = statement_to_event(STATEMENT, recorded_at=datetime(2026, 12, 1, tzinfo=UTC))
    assert event.learner_id == "umar"
    assert event.item_id == "q.found.non-unit.001"
    assert event.occurred_at == datetime(2026, 11, 30, 10, tzinfo=UTC)


@pytest.mark.parametrize("clash", ["in the log", "in the batch"])
def test_a_batch_with_a_conflict_half_way_writes_nothing(xapi_db, clash: str) -> None:
    """Issue 16, item 5: the statements before a 409 are not kept."""
    client = make_client(xapi_db)
    auth = {"Authorization": f"Bearer {_token(xapi_db, [tokens.Scope.WRITE_EVIDENCE])}"}
    first = {**STATEMENT, "id": "0b7c9d2e-1111-4222-8333-4444555500a1"}
    taken = {**STATEMENT, "id": "0b7c9d2e-1111-4222-8333-4444555500a2"}
    if clash == "in the log":
        stored = client.post("/api/v1/xapi/statements", json=taken, headers=auth)
        assert stored.status_code == 200
    other_content = {**taken, "result": {"success": False}}
    batch = [first, other_content] if clash == "in the log" else [first, taken, other_content]
    before = _count(xapi_db)
    response = client.post("/api/v1/xapi/statements", json=batch, headers=auth)
    assert response.status_code == 409, response.text
    assert response.json()["error"]["code"] == "conflict"
    assert _count(xapi_db) == before, "nothing of the batch was kept"
