"""The xAPI 1.0.3 rules ralph's statement models leave out or read more strictly than the
specification, for :func:`zoped.interop.xapi_lrs.check_statement`.

ralph's models check most of a statement. Where they are stricter than xAPI 1.0.3 (a group as a
context instructor, an agent or group as a SubStatement's object, an empty definition or
extensions object, version "1.0"), :func:`model_view` hands them a copy with that part checked
here and replaced by a placeholder. :func:`problems` checks what they leave out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from zoped.errors import Problem

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
_PLACEHOLDER_AGENT = {"objectType": "Agent", "mbox": "mailto:placeholder@example.com"}
_PLACEHOLDER_ACTIVITY = {"objectType": "Activity", "id": "urn:zoped:placeholder"}
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_DURATION = re.compile(
    r"^P(?:\d+(?:\.\d+)?W|(?=\d|T\d)(?:\d+(?:\.\d+)?Y)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?D)?"
    r"(?:T(?=\d)(?:\d+(?:\.\d+)?H)?(?:\d+(?:\.\d+)?M)?(?:\d+(?:\.\d+)?S)?)?)$"
)
_NUMBERS = ("raw", "min", "max", "scaled")


def _parts(statement: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The statement and its SubStatement (if any), each with its location prefix."""
    yield "", statement
    obj = statement.get("object")
    if isinstance(obj, Mapping) and obj.get("objectType") == "SubStatement":
        yield "object.", obj


def _strip_empty(data: Any) -> None:
    """Drop empty ``extensions`` and ``definition`` objects (xAPI allows them)."""
    if isinstance(data, dict):
        for key in ("extensions", "definition"):
            if data.get(key) == {}:
                del data[key]
        for key, value in data.items():
            if key != "extensions":
                _strip_empty(value)
    elif isinstance(data, list):
        for value in data:
            _strip_empty(value)


def model_view(
    statement: Mapping[str, Any], agent_ok: Callable[[Any], bool]
) -> tuple[dict[str, Any], list[Problem]]:
    """The copy of a statement to give ralph's models, and the problems of the parts checked
    here instead (with ``agent_ok``, ralph's agent-or-group model)."""
    view: dict[str, Any] = copy.deepcopy(dict(statement))
    problems: list[Problem] = []
    if view.get("version") == "1.0":
        view["version"] = "1.0.0"
    _strip_empty(view)
    for prefix, part in _parts(view):
        context = part.get("context")
        instructor = context.get("instructor") if isinstance(context, dict) else None
        if isinstance(instructor, Mapping) and instructor.get("objectType") == "Group":
            if not agent_ok(instructor):
                problems.append(Problem(f"{prefix}context.instructor", "not a valid group"))
            context["instructor"] = dict(_PLACEHOLDER_AGENT)  # type: ignore[index]
    obj = view.get("object")
    if isinstance(obj, dict) and obj.get("objectType") == "SubStatement":
        inner = obj.get("object")
        if isinstance(inner, Mapping) and inner.get("objectType") in ("Agent", "Group"):
            if not agent_ok(inner):
                problems.append(Problem("object.object", "not a valid agent or group"))
            obj["object"] = dict(_PLACEHOLDER_ACTIVITY)
    return view, problems


def _agents(statement: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for prefix, part in _parts(statement):
        for name in ("actor", "object", "authority"):
            found = part.get(name)
            if isinstance(found, Mapping):
                yield f"{prefix}{name}", found
                for index, member in enumerate(found.get("member") or []):
                    if isinstance(member, Mapping):
                        yield f"{prefix}{name}.member[{index}]", member
        context = part.get("context")
        if isinstance(context, Mapping):
            for name in ("instructor", "team"):
                found = context.get(name)
                if isinstance(found, Mapping):
                    yield f"{prefix}context.{name}", found
                    for index, member in enumerate(found.get("member") or []):
                        if isinstance(member, Mapping):
                            yield f"{prefix}context.{name}.member[{index}]", member


def problems(statement: Mapping[str, Any]) -> list[Problem]:
    """What xAPI 1.0.3 forbids that ralph's models let through."""
    found: list[Problem] = []
    for where, agent in _agents(statement):
        openid = agent.get("openid")
        if openid is not None and not (isinstance(openid, str) and _URI.match(openid)):
            found.append(Problem(f"{where}.openid", "an openid is a URI"))
    for prefix, part in _parts(statement):
        obj = part.get("object")
        if (
            isinstance(obj, Mapping)
            and "objectType" not in obj
            and any(key in obj for key in (*_IFIS, "member"))
        ):
            found.append(
                Problem(f"{prefix}object.objectType", "an agent or group as object says so")
            )
        verb = part.get("verb")
        if (
            isinstance(verb, Mapping)
            and verb.get("id") == VOIDED
            and not (isinstance(obj, Mapping) and obj.get("objectType") == "StatementRef")
        ):
            found.append(
                Problem(f"{prefix}object", "a voiding statement's object is a StatementRef")
            )
        context = part.get("context")
        kind = obj.get("objectType", "Activity") if isinstance(obj, Mapping) else None
        if isinstance(context, Mapping) and kind != "Activity":
            for key in ("revision", "platform"):
                if key in context:
                    found.append(
                        Problem(
                            f"{prefix}context.{key}", "only a statement about an activity has it"
                        )
                    )
        result = part.get("result")
        if isinstance(result, Mapping):
            found += _result_problems(prefix, result)
    authority = statement.get("authority")
    if isinstance(authority, Mapping) and authority.get("objectType") == "Group":
        members = authority.get("member")
        if any(key in authority for key in _IFIS) or not (
            isinstance(members, list) and len(members) == 2
        ):
            found.append(
                Problem("authority", "a group as authority is anonymous with two agents (OAuth)")
            )
    return found


def _result_problems(prefix: str, result: Mapping[str, Any]) -> list[Problem]:
    found: list[Problem] = []
    score = result.get("score")
    if isinstance(score, Mapping):
        for key in _NUMBERS:
            value = score.get(key)
            if key in score and (isinstance(value, bool) or not isinstance(value, int | float)):
                found.append(Problem(f"{prefix}result.score.{key}", "must be a number"))
    for key in ("success", "completion"):
        if key in result and not isinstance(result[key], bool):
            found.append(Problem(f"{prefix}result.{key}", "must be true or false"))
    duration = result.get("duration")
    if duration is not None and not (isinstance(duration, str) and _DURATION.match(duration)):
        found.append(Problem(f"{prefix}result.duration", "must be an ISO 8601 duration"))
    return found
