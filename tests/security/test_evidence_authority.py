"""Evidence authority: each kind of evidence needs its action in the one policy.

Learners (and their devices) send answers, activity progress and their own view; rubric scores
and accepted prior learning are a teacher's judgement; overrides and placement answers come only
through their own services. A forged kind is refused with 403 and changes nothing.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select

from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client, sign_in
from zoped.domain.evidence import EvidenceKind
from zoped.store.tables import evidence_events

LEARNER = "amara"  # in rivera's class-5a; guardian.amara is her guardian
FIELDS: dict[EvidenceKind, dict[str, object]] = {
    EvidenceKind.ANSWER: {"item_id": "q.found.non-unit.001", "correct": True},
    EvidenceKind.PLACEMENT_ANSWER: {"item_id": "q.found.non-unit.001", "correct": True},
    EvidenceKind.ACTIVITY_PROGRESS: {"activity_id": "act.fair-share-sandwiches", "score": 0.5},
    EvidenceKind.ACTIVITY_COMPLETION: {"activity_id": "act.fair-share-sandwiches"},
    EvidenceKind.SELF_ASSESSMENT: {"competency_ids": ["found.non-unit"], "score": 0.75},
    EvidenceKind.RUBRIC_SCORE: {"competency_ids": ["found.non-unit"], "score": 1.0},
    EvidenceKind.PRIOR_LEARNING: {
        "competency_ids": ["found.non-unit"],
        "payload": {"level": 4},
        "note": "summer school",
    },
    EvidenceKind.TEACHER_OVERRIDE: {
        "competency_ids": ["found.non-unit"],
        "payload": {"level": 4},
        "note": "seen in class",
    },
}
LEARNER_KINDS = {
    EvidenceKind.ANSWER,
    EvidenceKind.ACTIVITY_PROGRESS,
    EvidenceKind.ACTIVITY_COMPLETION,
    EvidenceKind.SELF_ASSESSMENT,
}
TEACHER_KINDS = LEARNER_KINDS | {EvidenceKind.RUBRIC_SCORE, EvidenceKind.PRIOR_LEARNING}
ALLOWED = {
    "amara": LEARNER_KINDS,
    "guardian.amara": set(),
    "rivera": TEACHER_KINDS,
    "admin": TEACHER_KINDS,
}


def _count(database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(evidence_events)) or 0)


@pytest.mark.parametrize("actor", sorted(ALLOWED))
def test_each_kind_needs_its_authority(fresh_db, actor) -> None:
    client = make_client(fresh_db)
    csrf = sign_in(client, actor)
    for kind in EvidenceKind:
        body = {
            "id": str(uuid.uuid4()),
            "learner_id": LEARNER,
            "kind": str(kind),
            "occurred_at": DEMO_NOW.isoformat(),
            **FIELDS[kind],
        }
        before = _count(fresh_db)
        response = client.post("/api/v1/evidence", json=body, headers={"X-CSRF-Token": csrf})
        if kind in ALLOWED[actor]:
            assert response.status_code == 201, (actor, kind, response.text)
            assert _count(fresh_db) == before + 1
        else:
            assert response.status_code == 403, (actor, kind, response.text)
            assert response.json()["error"]["code"] == "forbidden"
            assert _count(fresh_db) == before, (actor, kind)


def test_a_learner_cannot_grant_themselves_mastery(fresh_db) -> None:
    client = make_client(fresh_db)
    csrf = sign_in(client, LEARNER)
    before = client.get("/learner").text
    claim = {
        "id": str(uuid.uuid4()),
        "learner_id": LEARNER,
        "kind": "prior_learning",
        "occurred_at": DEMO_NOW.isoformat(),
        **FIELDS[EvidenceKind.PRIOR_LEARNING],
    }
    refused = client.post("/api/v1/evidence", json=claim, headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    assert "accepted prior learning" not in client.get("/learner").text
    assert client.get("/learner").text.count("mastered") == before.count("mastered")
