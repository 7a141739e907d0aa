"""Deep and large JSON (issue 16, item 2): stored documents are bounded at the edge, and export
and erasure survive whatever is stored, however deeply it nests."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client, sign_in
from zoped.domain.evidence import MAX_PAYLOAD_BYTES, EvidenceEvent, EvidenceKind
from zoped.domain.jsondata import MAX_JSON_DEPTH, json_depth, text_depth, transform
from zoped.errors import InvalidInput
from zoped.services.erasure import erase_due
from zoped.store import mappers
from zoped.store.tables import evidence_events

ANSWER = {"item_id": "q.found.non-unit.001", "correct": True}


def nested(depth: int) -> object:
    """A value ``depth`` levels deep, lists and objects in turn."""
    value: object = "x"
    for level in range(depth):
        value = {"a": value} if level % 2 else [value]
    return value


def _count(database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(evidence_events)) or 0)


def _body(payload_json: str) -> bytes:
    """An answer's JSON body around ``payload_json`` (text: the nesting is in the bytes)."""
    envelope = json.dumps(
        {"id": str(uuid.uuid4()), "learner_id": "amara", "kind": "answer",
         "occurred_at": DEMO_NOW.isoformat(), **ANSWER, "payload": "PAYLOAD"}
    )  # fmt: skip
    return envelope.replace('"PAYLOAD"', payload_json).encode()


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 100_000])
def test_a_deep_payload_is_refused_at_the_edge_and_nothing_is_stored(fresh_db, depth) -> None:
    client = make_client(fresh_db)
    csrf = sign_in(client, "amara")
    before = _count(fresh_db)
    response = client.post(
        "/api/v1/evidence",
        content=_body('{"v": ' + "[" * depth + "]" * depth + "}"),
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text[:300]
    assert "deeper than" in json.dumps(response.json())
    assert _count(fresh_db) == before


def test_a_payload_at_the_limits_is_accepted_and_one_past_them_is_not() -> None:
    common = {
        "id": uuid.uuid4(), "learner_id": "amara", "kind": EvidenceKind.ANSWER,
        "occurred_at": DEMO_NOW, "recorded_at": DEMO_NOW, **ANSWER,
    }  # fmt: skip
    EvidenceEvent(payload={"v": nested(MAX_JSON_DEPTH - 1)}, **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="invalid evidence event"):
        EvidenceEvent(payload={"v": nested(MAX_JSON_DEPTH)}, **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput) as caught:
        EvidenceEvent(payload={"v": "x" * MAX_PAYLOAD_BYTES}, **common)  # type: ignore[arg-type]
    assert "bytes" in caught.value.problems[0].message


def _store_deep_payload(database, learner: str, depth: int) -> None:
    """A payload as deep as one stored before nesting was bounded (straight into the table)."""
    event = EvidenceEvent.restore(
        id=uuid.uuid4(), learner_id=learner, kind=EvidenceKind.ANSWER, occurred_at=DEMO_NOW,
        recorded_at=DEMO_NOW, source="web", item_id=ANSWER["item_id"], activity_id=None,
        competency_ids=(), correct=True, score=1.0, duration_s=None, hints_used=0,
        actor_id=None, note=f"mentions amara and {learner}", payload={"v": nested(depth)},
        supersedes=None,
    )  # fmt: skip
    row = mappers.event_row(event)
    with database.session() as session, session.begin():
        session.execute(evidence_events.insert(), [row])


def test_export_and_erasure_survive_what_is_already_stored(fresh_db) -> None:
    _store_deep_payload(fresh_db, "amara", 500)
    _store_deep_payload(fresh_db, "ben", 600)
    learner = make_client(fresh_db)
    sign_in(learner, "amara")
    export = learner.get("/privacy/export/amara")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        data = json.loads(archive.read("data.json"))
    deep = [e for e in data["tables"]["evidence_events"] if "mentions" in e["note"]]
    assert json_depth(deep[0]["payload"]) > 500
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    for learner_id in ("elif", "amara"):
        asked = admin.post(f"/api/v1/learners/{learner_id}/erase", headers={"X-CSRF-Token": csrf})
        assert asked.status_code == 202, asked.text[:300]
    with fresh_db.session() as session:
        result = erase_due(session, now=DEMO_NOW + timedelta(days=60))
    assert len(result.done) == 2
    assert result.failed == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=30,
)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


@given(json_values)
def test_the_walks_without_recursion_agree_with_the_plain_ones(value) -> None:
    assert json_depth(value) == _depth(value)
    assert text_depth(json.dumps(value).encode()) == _depth(value)
    assert transform(value, lambda leaf: leaf) == value
    assert json.dumps(transform(value, lambda leaf: leaf)) == json.dumps(value)
