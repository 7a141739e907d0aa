"""The xAPI LRS's statement resource: store any valid statement, read it back, filter, page,
void, refuse what is invalid, and keep each school's statements apart."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from tests.lrs.conftest import VERSION, Lrs
from zoped.store import lrs_repository

ENDPOINT = "/xapi/statements"


def statement(**changes: Any) -> dict[str, Any]:
    found: dict[str, Any] = {
        "actor": {"objectType": "Agent", "mbox": "mailto:ada@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}},
        "object": {"objectType": "Activity", "id": "http://example.com/meetings/1"},
    }
    found.update(changes)
    return found


def test_a_posted_statement_reads_back_with_what_the_lrs_sets(lrs: Lrs) -> None:
    posted = lrs.client.post(ENDPOINT, json=statement(), headers=lrs.north)
    assert posted.status_code == 200, posted.text
    assert posted.headers["X-Experience-API-Version"] == "1.0.3"
    [sid] = posted.json()
    got = lrs.client.get(ENDPOINT, params={"statementId": sid}, headers=lrs.north)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["id"] == sid
    assert body["verb"]["id"] == "http://adlnet.gov/expapi/verbs/attended"
    assert body["stored"].endswith("Z")
    assert body["authority"]["account"]["homePage"] == "urn:zoped:credential"
    assert body["version"] == "1.0.0"
    assert "X-Experience-API-Consistent-Through" in got.headers


def test_put_stores_once_and_refuses_other_content_under_the_same_id(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    first = lrs.client.put(
        ENDPOINT, params={"statementId": sid}, json=statement(), headers=lrs.north
    )
    assert first.status_code == 204, first.text
    again = lrs.client.put(
        ENDPOINT, params={"statementId": sid}, json=statement(), headers=lrs.north
    )
    assert again.status_code == 204
    other = statement(object={"id": "http://example.com/meetings/2"})
    clash = lrs.client.put(ENDPOINT, params={"statementId": sid}, json=other, headers=lrs.north)
    assert clash.status_code == 409
    listed = lrs.client.get(ENDPOINT, headers=lrs.north).json()["statements"]
    assert [s["id"] for s in listed] == [sid]


def test_a_batch_with_one_bad_statement_stores_nothing(lrs: Lrs) -> None:
    bad = statement(actor={"mbox": "ada@example.com"})  # not a mailto IRI
    refused = lrs.client.post(ENDPOINT, json=[statement(), bad], headers=lrs.north)
    assert refused.status_code == 400
    assert any(p["location"].startswith("[1].actor") for p in refused.json()["error"]["problems"])
    sid = str(uuid.uuid4())
    lrs.client.put(ENDPOINT, params={"statementId": sid}, json=statement(), headers=lrs.north)
    clash = statement(id=sid, object={"id": "http://example.com/other"})
    refused = lrs.client.post(ENDPOINT, json=[statement(), clash], headers=lrs.north)
    assert refused.status_code == 409
    listed = lrs.client.get(ENDPOINT, headers=lrs.north).json()["statements"]
    assert [s["id"] for s in listed] == [sid], "neither batch stored anything"


def test_auth_and_version_are_required_and_schools_are_apart(lrs: Lrs) -> None:
    no_auth = lrs.client.post(ENDPOINT, json=statement(), headers=VERSION)
    assert no_auth.status_code == 401
    assert no_auth.headers["WWW-Authenticate"].startswith("Basic")
    wrong = {**lrs.north, "Authorization": "Basic Zm9vOmJhcg=="}
    assert lrs.client.get(ENDPOINT, headers=wrong).status_code == 401
    no_version = {"Authorization": lrs.north["Authorization"]}
    assert lrs.client.get(ENDPOINT, headers=no_version).status_code == 400
    [sid] = lrs.client.post(ENDPOINT, json=statement(), headers=lrs.north).json()
    south = lrs.client.get(ENDPOINT, params={"statementId": sid}, headers=lrs.south)
    assert south.status_code == 404
    assert lrs.client.get(ENDPOINT, headers=lrs.south).json()["statements"] == []


def test_filters_and_more_pages(lrs: Lrs) -> None:
    other_verb = {"id": "http://adlnet.gov/expapi/verbs/experienced"}
    ids = [
        lrs.client.post(
            ENDPOINT, json=statement(verb=other_verb if i % 2 else None), headers=lrs.north
        ).json()[0]
        if i % 2
        else lrs.client.post(ENDPOINT, json=statement(), headers=lrs.north).json()[0]
        for i in range(5)
    ]
    by_verb = lrs.client.get(ENDPOINT, params={"verb": other_verb["id"]}, headers=lrs.north)
    assert {s["id"] for s in by_verb.json()["statements"]} == {ids[1], ids[3]}
    agent = '{"mbox": "mailto:ada@example.com"}'
    first = lrs.client.get(
        ENDPOINT, params={"agent": agent, "limit": 2, "ascending": "true"}, headers=lrs.north
    ).json()
    assert [s["id"] for s in first["statements"]] == ids[:2]
    seen = [s["id"] for s in first["statements"]]
    more = first["more"]
    while more:
        page = lrs.client.get(more, headers=lrs.north).json()
        seen += [s["id"] for s in page["statements"]]
        more = page["more"]
    assert seen == ids
    bad = lrs.client.get(ENDPOINT, params={"agent": "{nope"}, headers=lrs.north)
    assert bad.status_code == 400


def test_voiding_hides_a_statement_from_queries_but_not_from_voided_statement_id(
    lrs: Lrs,
) -> None:
    [sid] = lrs.client.post(ENDPOINT, json=statement(), headers=lrs.north).json()
    voiding = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": sid},
    )
    [vid] = lrs.client.post(ENDPOINT, json=voiding, headers=lrs.north).json()
    listed = [s["id"] for s in lrs.client.get(ENDPOINT, headers=lrs.north).json()["statements"]]
    assert listed == [vid]
    assert (
        lrs.client.get(ENDPOINT, params={"statementId": sid}, headers=lrs.north).status_code == 404
    )
    voided = lrs.client.get(ENDPOINT, params={"voidedStatementId": sid}, headers=lrs.north)
    assert voided.status_code == 200
    assert voided.json()["id"] == sid
    again = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": vid},
    )
    refused = lrs.client.post(ENDPOINT, json=again, headers=lrs.north)
    assert refused.status_code == 400, "a voiding statement cannot be voided"


def test_filters_also_return_the_statements_that_target_a_match(lrs: Lrs) -> None:
    experienced = {"id": "http://adlnet.gov/expapi/verbs/experienced"}
    [first] = lrs.client.post(ENDPOINT, json=statement(verb=experienced), headers=lrs.north).json()
    ref = statement(object={"objectType": "StatementRef", "id": first})
    [second] = lrs.client.post(ENDPOINT, json=ref, headers=lrs.north).json()
    ref_of_ref = statement(object={"objectType": "StatementRef", "id": second})
    [third] = lrs.client.post(ENDPOINT, json=ref_of_ref, headers=lrs.north).json()
    lrs.client.post(ENDPOINT, json=statement(), headers=lrs.north)
    found = lrs.client.get(ENDPOINT, params={"verb": experienced["id"]}, headers=lrs.north)
    assert [s["id"] for s in found.json()["statements"]] == [third, second, first]


def test_the_alternate_request_syntax_reads_headers_and_content_from_the_form(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    form = {
        "statementId": sid,
        "content": json.dumps(statement()),
        "Authorization": lrs.north["Authorization"],
        "X-Experience-API-Version": "1.0.3",
    }
    put = lrs.client.post(ENDPOINT, params={"method": "PUT"}, data=form)
    assert put.status_code == 204, put.text
    got = lrs.client.post(
        ENDPOINT, params={"method": "GET"}, data={**form, "content": ""}, headers=lrs.north
    )
    assert got.status_code == 200, got.text
    assert got.json()["id"] == sid
    not_post = lrs.client.put(ENDPOINT, params={"method": "PUT"}, data=form)
    assert not_post.status_code == 400


def test_every_answer_names_the_version_even_a_refused_upload(lrs: Lrs) -> None:
    huge = b"[" + b"0," * 1_100_000 + b"0]"
    refused = lrs.client.post(
        ENDPOINT, content=huge, headers={**lrs.north, "Content-Type": "application/json"}
    )
    assert refused.status_code == 413
    assert refused.headers["X-Experience-API-Version"] == "1.0.3"
    assert refused.headers["content-type"].startswith("application/json")


def test_a_batch_may_void_a_statement_it_stores(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    voiding = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided"},
        object={"objectType": "StatementRef", "id": sid},
    )
    posted = lrs.client.post(ENDPOINT, json=[statement(id=sid), voiding], headers=lrs.north)
    assert posted.status_code == 200, posted.text
    assert (
        lrs.client.get(ENDPOINT, params={"statementId": sid}, headers=lrs.north).status_code == 404
    )
    voided = lrs.client.get(ENDPOINT, params={"voidedStatementId": sid}, headers=lrs.north)
    assert voided.status_code == 200


def test_a_statement_stored_meanwhile_by_another_request_is_judged_again(
    lrs: Lrs, monkeypatch: pytest.MonkeyPatch
) -> None:
    sid = str(uuid.uuid4())
    first = lrs.client.put(
        ENDPOINT, params={"statementId": sid}, json=statement(), headers=lrs.north
    )
    assert first.status_code == 204
    real = lrs_repository.find_statements
    calls: list[int] = []

    def late(*args: Any, **kwargs: Any) -> dict[str, str]:
        calls.append(1)
        return {} if len(calls) == 1 else real(*args, **kwargs)  # the first read misses it

    monkeypatch.setattr(lrs_repository, "find_statements", late)
    same = lrs.client.post(ENDPOINT, json=statement(id=sid), headers=lrs.north)
    assert same.status_code == 200, same.text
    calls.clear()
    other = statement(id=sid, object={"id": "http://example.com/other"})
    clash = lrs.client.post(ENDPOINT, json=other, headers=lrs.north)
    assert clash.status_code == 409
    assert len(calls) == 2
