"""The smaller holes of the attack probe (issue 16, item 5): odd input gets a 4xx in the error
shape, never a 500."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import DEMO_NOW
from tests.security.conftest import csrf_of, make_client, sign_in


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
