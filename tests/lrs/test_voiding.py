"""A voiding statement that comes before the statement it voids: the LRS stores it (xAPI
1.0.3, 2.3.2 and 2.0.0, 2.2.3 say it does not refuse one whose target it lacks), and the
target, when it comes, is stored voided, and is no evidence."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import DEMO_NOW
from tests.lrs.conftest import Lrs, basic
from tests.lrs.test_evidence import ITEM
from tests.lrs.test_evidence import statement as evidence_statement
from tests.lrs.test_statements import ENDPOINT, statement
from tests.security.conftest import fresh_db, make_client, seeded_path  # noqa: F401
from zoped.domain.evidence import EvidenceSource
from zoped.services import tokens
from zoped.services.evidence import list_evidence

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def voiding(target: str) -> dict[str, Any]:
    return statement(
        verb={"id": VOIDED, "display": {"en-US": "voided"}},
        object={"objectType": "StatementRef", "id": target},
    )


@pytest.mark.parametrize("version", ["1.0.3", "2.0.0"])
def test_a_statement_whose_voiding_statement_came_first_is_stored_voided(
    lrs: Lrs, version: str
) -> None:
    headers = {**lrs.north, "X-Experience-API-Version": version}
    target = str(uuid.uuid4())
    first = lrs.client.post(ENDPOINT, json=voiding(target), headers=headers)
    assert first.status_code == 200, first.text
    [voiding_id] = first.json()
    late = lrs.client.put(
        ENDPOINT, params={"statementId": target}, json=statement(), headers=headers
    )
    assert late.status_code == 204, late.text
    by_id = lrs.client.get(ENDPOINT, params={"statementId": target}, headers=headers)
    assert by_id.status_code == 404
    voided = lrs.client.get(ENDPOINT, params={"voidedStatementId": target}, headers=headers)
    assert voided.status_code == 200
    assert voided.json()["id"] == target
    listed = lrs.client.get(ENDPOINT, headers=headers).json()["statements"]
    assert [s["id"] for s in listed] == [voiding_id]
    again = lrs.client.put(
        ENDPOINT, params={"statementId": target}, json=statement(), headers=headers
    )
    assert again.status_code == 204, "the same statement again is still accepted"


def test_a_voiding_statement_is_never_voided_even_when_targeted_first(lrs: Lrs) -> None:
    late_voider = str(uuid.uuid4())
    first = lrs.client.post(ENDPOINT, json=voiding(late_voider), headers=lrs.north)
    assert first.status_code == 200
    sent = {**voiding(str(uuid.uuid4())), "id": late_voider}
    posted = lrs.client.post(ENDPOINT, json=sent, headers=lrs.north)
    assert posted.status_code == 200, posted.text
    got = lrs.client.get(ENDPOINT, params={"statementId": late_voider}, headers=lrs.north)
    assert got.status_code == 200, "a voiding statement cannot be voided"


def test_a_voided_statement_of_another_school_is_not_voided_here(lrs: Lrs) -> None:
    target = str(uuid.uuid4())
    assert lrs.client.post(ENDPOINT, json=voiding(target), headers=lrs.south).status_code == 200
    put = lrs.client.put(
        ENDPOINT, params={"statementId": target}, json=statement(), headers=lrs.north
    )
    assert put.status_code == 204
    got = lrs.client.get(ENDPOINT, params={"statementId": target}, headers=lrs.north)
    assert got.status_code == 200


def test_a_statement_voided_on_arrival_is_no_evidence(fresh_db) -> None:  # noqa: F811
    with fresh_db.session() as session:
        issued = tokens.create_lrs_credentials(session, name="lrs", now=DEMO_NOW)
    client = make_client(fresh_db)
    early = evidence_statement("answered", ITEM, success=True)
    same_batch = evidence_statement("answered", ITEM, success=False)
    kept = evidence_statement("answered", ITEM, success=True)
    first = client.post("/xapi/statements", json=voiding(early["id"]), headers=basic(issued))
    assert first.status_code == 200
    batch = [early, same_batch, voiding(same_batch["id"]), kept]
    posted = client.post("/xapi/statements", json=batch, headers=basic(issued))
    assert posted.status_code == 200, posted.text
    with fresh_db.session() as session:
        mine = {
            str(e.id)
            for e in list_evidence(session, learner_id="umar")
            if e.source is EvidenceSource.XAPI
        }
    assert mine == {kept["id"]}
