"""Statements about a school's items and activities from its learners become evidence through
the evidence service; every other statement is stored only, and each store is counted in the
audit log."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from tests.conftest import DEMO_NOW
from tests.lrs.conftest import basic
from tests.security.conftest import fresh_db, make_client, seeded_path  # noqa: F401
from zoped.domain.evidence import EvidenceKind, EvidenceSource
from zoped.services import tokens
from zoped.services.evidence import list_evidence
from zoped.store.tables import audit_log

ADL = "http://adlnet.gov/expapi/verbs/"
ITEM = "urn:zoped:item:q.found.equal-parts.001"
ACTIVITY = "urn:zoped:activity:act.fair-share-sandwiches"


def statement(verb: str, object_id: str, learner: str = "umar", **result: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"account": {"homePage": "https://school.example", "name": learner}},
        "verb": {"id": ADL + verb},
        "object": {"id": object_id},
        "timestamp": "2026-11-30T10:00:00+00:00",
    }
    if result:
        found["result"] = result
    return found


def test_the_mapped_statements_become_evidence_and_the_rest_are_stored(fresh_db) -> None:  # noqa: F811
    with fresh_db.session() as session:
        issued = tokens.create_lrs_credentials(session, name="lrs", now=DEMO_NOW)
    client = make_client(fresh_db)
    sent = [
        statement("answered", ITEM, success=True, duration="PT30S"),
        statement("failed", ITEM),
        statement("progressed", ACTIVITY, score={"scaled": 0.5}),
        statement("completed", ACTIVITY, score={"scaled": 0.9}),
        statement("answered", ITEM),  # no result.success: not evidence
        statement("answered", "urn:zoped:item:not-in-any-course", success=True),
        statement("answered", ITEM, learner="nobody", success=True),
        statement("attended", ACTIVITY),
    ]
    response = client.post("/xapi/statements", json=sent, headers=basic(issued))
    assert response.status_code == 200, response.text
    with fresh_db.session() as session:
        mine = {
            str(e.id): e
            for e in list_evidence(session, learner_id="umar")
            if e.source is EvidenceSource.XAPI
        }
        entry = session.execute(
            select(audit_log.c.details).where(audit_log.c.action == "xapi_store")
        ).scalar_one()
    assert set(mine) == {s["id"] for s in sent[:4]}
    answered, failed, progressed, completed = (mine[s["id"]] for s in sent[:4])
    assert (answered.kind, answered.correct, answered.duration_s) == (
        EvidenceKind.ANSWER,
        True,
        30.0,
    )
    assert (failed.kind, failed.correct) == (EvidenceKind.ANSWER, False)
    assert (progressed.kind, progressed.score) == (EvidenceKind.ACTIVITY_PROGRESS, 0.5)
    assert (completed.kind, completed.score) == (EvidenceKind.ACTIVITY_COMPLETION, 0.9)
    assert {k: v for k, v in entry.items() if k != "_v"} == {"stored": 8, "evidence": 4, "other": 4}
    listed = client.get("/xapi/statements", params={"limit": 20}, headers=basic(issued))
    assert len(listed.json()["statements"]) == 8, "every statement is stored"
