"""xAPI 2.0.0 beside 1.0.3: the request's X-Experience-API-Version chooses the rules, and each
2.0 difference (zoped/interop/xapi_versions.py) holds for a 2.0 request and not for a 1.0.3
one."""

from __future__ import annotations

import json
import uuid
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.lrs.conftest import Lrs
from tests.lrs.test_statements import ENDPOINT, statement
from tests.security.conftest import make_client

V2 = {"X-Experience-API-Version": "2.0.0"}
CONTEXT_AGENTS = {
    "contextAgents": [
        {
            "objectType": "contextAgent",
            "agent": {"objectType": "Agent", "mbox": "mailto:coach@example.com"},
            "relevantTypes": ["https://example.com/activity-types/coach"],
        }
    ],
    "contextGroups": [
        {
            "objectType": "contextGroup",
            "group": {
                "objectType": "Group",
                "mbox": "mailto:team@example.com",
                "member": [{"objectType": "Agent", "mbox": "mailto:player@example.com"}],
            },
        }
    ],
}


def v2(lrs: Lrs) -> dict[str, str]:
    """The north school's credentials with a 2.0.0 version header."""
    return {**lrs.north, **V2}


def stored_ids(lrs: Lrs) -> list[str]:
    listed = lrs.client.get(ENDPOINT, headers=lrs.north).json()["statements"]
    return [s["id"] for s in listed]


def test_about_lists_both_versions(lrs: Lrs) -> None:
    about = lrs.client.get("/xapi/about")
    assert about.status_code == 200
    assert {"2.0.0", "1.0.3"} <= set(about.json()["version"])


def test_each_request_is_answered_in_the_version_it_names(lrs: Lrs) -> None:
    posted = lrs.client.post(ENDPOINT, json=statement(), headers=v2(lrs))
    assert posted.status_code == 200, posted.text
    assert posted.headers["X-Experience-API-Version"] == "2.0.0"
    [sid] = posted.json()
    old = lrs.client.post(ENDPOINT, json=statement(), headers=lrs.north)
    assert old.headers["X-Experience-API-Version"] == "1.0.3"
    [old_id] = old.json()
    got = lrs.client.get(ENDPOINT, params={"statementId": sid}, headers=v2(lrs))
    assert got.headers["X-Experience-API-Version"] == "2.0.0"
    assert got.json()["version"] == "2.0.0", "a 2.0 statement without a version is 2.0.0"
    got_old = lrs.client.get(ENDPOINT, params={"statementId": old_id}, headers=v2(lrs))
    assert got_old.json()["version"] == "1.0.0"


@pytest.mark.parametrize("unversioned", ["1.0.3", "2.0.0"])
def test_a_request_without_a_version_is_refused_in_the_configured_version(
    lrs: Lrs, unversioned: str
) -> None:
    client = make_client(lrs.database, xapi_unversioned=unversioned)
    headers = {"Authorization": lrs.north["Authorization"]}
    refused = client.post(ENDPOINT, json=statement(), headers=headers)
    assert refused.status_code == 400
    assert refused.headers["X-Experience-API-Version"] == unversioned
    unknown = client.post(
        ENDPOINT, json=statement(), headers={**headers, **{"X-Experience-API-Version": "3.0.0"}}
    )
    assert unknown.status_code == 400
    assert unknown.headers["X-Experience-API-Version"] == unversioned
    assert stored_ids(lrs) == []


def test_a_statement_version_2_0_is_accepted_only_under_2_0(lrs: Lrs) -> None:
    refused = lrs.client.post(ENDPOINT, json=statement(version="2.0.0"), headers=lrs.north)
    assert refused.status_code == 400
    for bad in ("1.1.0", "2.1.0", "2.0.0\n"):
        wrong = lrs.client.post(ENDPOINT, json=statement(version=bad), headers=v2(lrs))
        assert wrong.status_code == 400, bad
    assert stored_ids(lrs) == []
    for good in ("2.0.0", "2.0", "1.0.3"):
        kept = lrs.client.post(ENDPOINT, json=statement(version=good), headers=v2(lrs))
        assert kept.status_code == 200, (good, kept.text)
        got = lrs.client.get(ENDPOINT, params={"statementId": kept.json()[0]}, headers=v2(lrs))
        assert got.json()["version"] == good


def test_context_agents_and_groups_are_kept_found_and_formatted(lrs: Lrs) -> None:
    sent = statement(context=CONTEXT_AGENTS)
    refused = lrs.client.post(ENDPOINT, json=sent, headers=lrs.north)
    assert refused.status_code == 400, "1.0.3 has no contextAgents"
    posted = lrs.client.post(ENDPOINT, json=sent, headers=v2(lrs))
    assert posted.status_code == 200, posted.text
    [sid] = posted.json()
    got = lrs.client.get(ENDPOINT, params={"statementId": sid}, headers=v2(lrs)).json()
    assert got["context"] == CONTEXT_AGENTS
    for mbox in ("mailto:coach@example.com", "mailto:player@example.com"):
        agent = json.dumps({"mbox": mbox})
        related = lrs.client.get(
            ENDPOINT, params={"agent": agent, "related_agents": "true"}, headers=v2(lrs)
        )
        assert [s["id"] for s in related.json()["statements"]] == [sid], mbox
        direct = lrs.client.get(ENDPOINT, params={"agent": agent}, headers=v2(lrs))
        assert direct.json()["statements"] == []
    ids = lrs.client.get(ENDPOINT, params={"statementId": sid, "format": "ids"}, headers=v2(lrs))
    assert ids.json()["context"]["contextGroups"][0]["group"] == {
        "objectType": "Group",
        "mbox": "mailto:team@example.com",
    }


@pytest.mark.parametrize(
    "context",
    [
        {"contextAgents": [{**CONTEXT_AGENTS["contextAgents"][0], "objectType": "Agent"}]},
        {"contextAgents": [{"objectType": "contextAgent", "agent": {"key": "no"}}]},
        {"contextAgents": [{**CONTEXT_AGENTS["contextAgents"][0], "relevantTypes": []}]},
        {"contextAgents": [{**CONTEXT_AGENTS["contextAgents"][0], "relevantTypes": ["abc"]}]},
        {"contextAgents": []},
        {"contextAgents": [{**CONTEXT_AGENTS["contextAgents"][0], "extra": 1}]},
        {"contextGroups": [{"objectType": "contextGroup", "group": {"mbox": "mailto:a@b.c"}}]},
        {"contextAgents": [{"objectType": "contextAgent", "agent": {"openid": "not-a-uri"}}]},
        {"contextGroups": [{**CONTEXT_AGENTS["contextGroups"][0], "objectType": "contextAgent"}]},
    ],
)
def test_an_invalid_context_agent_or_group_is_refused(lrs: Lrs, context: dict[str, Any]) -> None:
    refused = lrs.client.post(ENDPOINT, json=statement(context=context), headers=v2(lrs))
    assert refused.status_code == 400, refused.text
    assert "context" in refused.text
    sub = statement(
        object={**statement(context=context), "objectType": "SubStatement"},
    )
    assert lrs.client.post(ENDPOINT, json=sub, headers=v2(lrs)).status_code == 400
    assert stored_ids(lrs) == []


@pytest.mark.parametrize("stamp", ["2024-05-04T12:00Z", "2024-05-04T12:00:00", "2024-05-04T12Z"])
def test_a_2_0_timestamp_is_an_rfc_3339_date_time(lrs: Lrs, stamp: str) -> None:
    refused = lrs.client.post(ENDPOINT, json=statement(timestamp=stamp), headers=v2(lrs))
    assert refused.status_code == 400
    assert stored_ids(lrs) == []
    kept = lrs.client.post(
        ENDPOINT, json=statement(timestamp="2024-05-04T12:00:00.5-05:00"), headers=v2(lrs)
    )
    assert kept.status_code == 200


def test_1_0_3_keeps_reading_iso_8601_timestamps(lrs: Lrs) -> None:
    kept = lrs.client.post(
        ENDPOINT, json=statement(timestamp="2024-05-04T12:00Z"), headers=lrs.north
    )
    assert kept.status_code == 200, kept.text


def test_the_alternate_request_syntax_is_refused_under_2_0(lrs: Lrs) -> None:
    sid = str(uuid.uuid4())
    form = {
        "statementId": sid,
        "content": json.dumps(statement()),
        "Authorization": lrs.north["Authorization"],
    }
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    refused = lrs.client.post(
        ENDPOINT + "?method=PUT",
        content=urlencode({**form, "X-Experience-API-Version": "2.0.0"}),
        headers=headers,
    )
    assert refused.status_code == 400
    assert refused.headers["X-Experience-API-Version"] == "2.0.0"
    assert stored_ids(lrs) == []
    accepted = lrs.client.post(
        ENDPOINT + "?method=PUT",
        content=urlencode({**form, "X-Experience-API-Version": "1.0.3"}),
        headers=headers,
    )
    assert accepted.status_code == 204, accepted.text
    assert stored_ids(lrs) == [sid]


def test_a_statement_read_by_id_carries_last_modified_under_2_0(lrs: Lrs) -> None:
    [sid] = lrs.client.post(ENDPOINT, json=statement(), headers=v2(lrs)).json()
    got = lrs.client.get(ENDPOINT, params={"statementId": sid}, headers=v2(lrs))
    stored = got.json()["stored"]
    modified = parsedate_to_datetime(got.headers["Last-Modified"])
    assert modified.isoformat().startswith(stored[:19])
    old = lrs.client.get(ENDPOINT, params={"statementId": sid}, headers=lrs.north)
    assert "Last-Modified" not in old.headers


STATE = {
    "activityId": "http://example.com/activities/1",
    "agent": json.dumps({"mbox": "mailto:ada@example.com"}),
    "stateId": "progress",
}


def test_2_0_guards_state_documents_like_profiles(lrs: Lrs) -> None:
    path = "/xapi/activities/state"
    created = lrs.client.put(path, params=STATE, json={"level": 1}, headers=v2(lrs))
    assert created.status_code == 204, created.text
    clash = lrs.client.put(path, params=STATE, json={"level": 2}, headers=v2(lrs))
    assert clash.status_code == 409
    assert lrs.client.get(path, params=STATE, headers=v2(lrs)).json() == {"level": 1}
    etag = lrs.client.get(path, params=STATE, headers=v2(lrs)).headers["ETag"]
    replaced = lrs.client.put(
        path, params=STATE, json={"level": 3}, headers={**v2(lrs), "If-Match": etag}
    )
    assert replaced.status_code == 204
    old = lrs.client.put(path, params=STATE, json={"level": 4}, headers=lrs.north)
    assert old.status_code == 204, "1.0.3 replaces a state document without a precondition"
    assert lrs.client.get(path, params=STATE, headers=v2(lrs)).json() == {"level": 4}


def test_2_0_creates_a_profile_put_without_preconditions(lrs: Lrs) -> None:
    path = "/xapi/activities/profile"
    where = {"activityId": "http://example.com/activities/1", "profileId": "p1"}
    old = lrs.client.put(path, params=where, json={"a": 1}, headers=lrs.north)
    assert old.status_code == 400, "1.0.3 asks for If-None-Match to create a profile"
    created = lrs.client.put(path, params=where, json={"a": 1}, headers=v2(lrs))
    assert created.status_code == 204, created.text
    again = lrs.client.put(path, params=where, json={"a": 2}, headers=v2(lrs))
    assert again.status_code == 409
    got = lrs.client.get(path, params=where, headers=v2(lrs))
    assert got.json() == {"a": 1}
    assert parsedate_to_datetime(got.headers["Last-Modified"]).tzinfo is not None


def test_a_refused_oversized_request_names_the_version_it_asked_for(lrs: Lrs) -> None:
    client = make_client(lrs.database, max_request_bytes=1024)
    big = statement(result={"response": "x" * 4000})
    for headers, named in ((v2(lrs), "2.0.0"), (lrs.north, "1.0.3")):
        refused = client.post(ENDPOINT, json=big, headers=headers)
        assert refused.status_code == 413
        assert refused.headers["X-Experience-API-Version"] == named
