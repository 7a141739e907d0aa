"""Statement checks: ralph's models plus the xAPI 1.0.3 rules they leave out or read more
strictly than the specification."""

from __future__ import annotations

from typing import Any

import pytest

from zoped.interop.xapi_lrs import check_statement

BASE: dict[str, Any] = {
    "actor": {"mbox": "mailto:ada@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
    "object": {"id": "http://example.com/activities/1"},
}
GROUP = {"objectType": "Group", "member": [{"mbox": "mailto:bo@example.com"}]}
SUB = {
    "objectType": "SubStatement",
    "actor": {"mbox": "mailto:ada@example.com"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
}


@pytest.mark.parametrize(
    "changes",
    [
        {"version": "1.0"},
        {"context": {"instructor": GROUP}},
        {"object": {**SUB, "object": {"objectType": "Agent", "mbox": "mailto:c@example.com"}}},
        {"object": {"id": "http://example.com/activities/1", "definition": {}}},
        {"result": {"extensions": {}, "duration": "PT4H35M59.14S"}},
        {"timestamp": "2026-11-30T10:00:00.123+02:00"},
    ],
)
def test_valid_statements_pass(changes: dict[str, Any]) -> None:
    assert check_statement({**BASE, **changes}) == []


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"actor": {"mbox": "ada@example.com"}}, "actor"),
        ({"actor": {"openid": "not a uri", "objectType": "Agent"}}, "actor.openid"),
        ({"object": {"mbox": "mailto:c@example.com"}}, "object.objectType"),
        ({"verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}}, "object"),
        ({"result": {"score": {"max": "100"}}}, "result.score.max"),
        ({"result": {"completion": "false"}}, "result.completion"),
        ({"result": {"duration": "P4W1D"}}, "result.duration"),
        ({"timestamp": "2026-11-30T10:00:00-00:00"}, "timestamp"),
        ({"timestamp": 1764496800}, "timestamp"),
        ({"verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en": 1}}}, "verb"),
        ({"authority": {**GROUP, "mbox": "mailto:g@example.com"}}, "authority"),
        ({"object": {**SUB, "object": SUB}}, "object.object"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_invalid_statements_name_the_place(changes: dict[str, Any], where: str) -> None:
    problems = check_statement({**BASE, **changes})
    assert problems, f"{changes} should be refused"
    assert any(p.location.startswith(where) for p in problems), problems
