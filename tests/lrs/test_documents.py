"""The xAPI LRS's document resources: state, activity profile and agent profile, with ETags
and their preconditions; and the agents, activities and about resources."""

from __future__ import annotations

import hashlib
import json

from tests.lrs.conftest import VERSION, Lrs

AGENT = json.dumps({"mbox": "mailto:ada@example.com"})
ACTIVITY = "http://example.com/activities/1"


def test_state_documents_put_merge_list_and_delete(lrs: Lrs) -> None:
    where = {"activityId": ACTIVITY, "agent": AGENT}
    put = lrs.client.put(
        "/xapi/activities/state",
        params={**where, "stateId": "s1"},
        json={"a": 1},
        headers=lrs.north,
    )
    assert put.status_code == 204, put.text
    merged = lrs.client.post(
        "/xapi/activities/state",
        params={**where, "stateId": "s1"},
        json={"b": 2},
        headers=lrs.north,
    )
    assert merged.status_code == 204
    got = lrs.client.get(
        "/xapi/activities/state", params={**where, "stateId": "s1"}, headers=lrs.north
    )
    assert got.json() == {"a": 1, "b": 2}
    assert got.headers["ETag"] == f'"{hashlib.sha1(got.content).hexdigest()}"'
    listed = lrs.client.get("/xapi/activities/state", params=where, headers=lrs.north)
    assert listed.json() == ["s1"]
    other_school = lrs.client.get("/xapi/activities/state", params=where, headers=lrs.south)
    assert other_school.json() == []
    text = lrs.client.put(
        "/xapi/activities/state",
        params={**where, "stateId": "s2"},
        content=b"plain",
        headers={**lrs.north, "Content-Type": "text/plain"},
    )
    assert text.status_code == 204
    refused = lrs.client.post(
        "/xapi/activities/state",
        params={**where, "stateId": "s2"},
        json={"c": 3},
        headers=lrs.north,
    )
    assert refused.status_code == 400, "only JSON objects merge"
    deleted = lrs.client.delete("/xapi/activities/state", params=where, headers=lrs.north)
    assert deleted.status_code == 204
    assert lrs.client.get("/xapi/activities/state", params=where, headers=lrs.north).json() == []
    missing = lrs.client.get("/xapi/activities/state", params={"agent": AGENT}, headers=lrs.north)
    assert missing.status_code == 400


def test_profiles_are_written_under_their_etags(lrs: Lrs) -> None:
    where = {"activityId": ACTIVITY, "profileId": "p"}
    first = lrs.client.put(
        "/xapi/activities/profile",
        params=where,
        json={"v": 1},
        headers={**lrs.north, "If-None-Match": "*"},
    )
    assert first.status_code == 204, first.text
    etag = lrs.client.get("/xapi/activities/profile", params=where, headers=lrs.north).headers[
        "ETag"
    ]
    blind = lrs.client.put(
        "/xapi/activities/profile", params=where, json={"v": 2}, headers=lrs.north
    )
    assert blind.status_code == 409, "a PUT over a profile needs If-Match or If-None-Match"
    stale = lrs.client.put(
        "/xapi/activities/profile",
        params=where,
        json={"v": 2},
        headers={**lrs.north, "If-Match": '"0000"'},
    )
    assert stale.status_code == 412
    fresh = lrs.client.put(
        "/xapi/activities/profile",
        params=where,
        json={"v": 3},
        headers={**lrs.north, "If-Match": etag},
    )
    assert fresh.status_code == 204
    got = lrs.client.get("/xapi/activities/profile", params=where, headers=lrs.north)
    assert got.json() == {"v": 3}
    where = {"agent": AGENT, "profileId": "x"}
    blind = lrs.client.put("/xapi/agents/profile", params=where, json={"k": 1}, headers=lrs.north)
    assert blind.status_code == 400, "a new profile is PUT with If-None-Match: *"
    created = lrs.client.put(
        "/xapi/agents/profile",
        params=where,
        json={"k": 1},
        headers={**lrs.north, "If-None-Match": "*"},
    )
    assert created.status_code == 204
    again = lrs.client.put(
        "/xapi/agents/profile",
        params=where,
        json={"k": 2},
        headers={**lrs.north, "If-None-Match": "*"},
    )
    assert again.status_code == 412, "If-None-Match: * fails once the profile exists"
    agent = lrs.client.get("/xapi/agents", params={"agent": AGENT}, headers=lrs.north)
    assert agent.json() == {"objectType": "Person", "mbox": ["mailto:ada@example.com"]}


def test_about_needs_no_credential_and_activities_give_definitions(lrs: Lrs) -> None:
    about = lrs.client.get("/xapi/about")
    assert about.status_code == 200
    assert "1.0.3" in about.json()["version"]
    definition = {"name": {"en-US": "Meeting"}}
    lrs.client.post(
        "/xapi/statements",
        json={
            "actor": {"mbox": "mailto:ada@example.com"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
            "object": {"id": ACTIVITY, "definition": definition},
        },
        headers=lrs.north,
    )
    found = lrs.client.get("/xapi/activities", params={"activityId": ACTIVITY}, headers=lrs.north)
    assert found.json() == {"objectType": "Activity", "id": ACTIVITY, "definition": definition}
    elsewhere = lrs.client.get(
        "/xapi/activities", params={"activityId": ACTIVITY}, headers=lrs.south
    )
    assert "definition" not in elsewhere.json()
    assert lrs.client.get("/xapi/nothing", headers=VERSION).status_code == 404
