"""The xAPI 1.0.3 rules ralph's statement models leave out or read more strictly than the
specification, for :func:`zoped.interop.xapi_lrs.check_statement`, and what xAPI 2.0.0 adds.

ralph's models check most of a statement. Where they are stricter than xAPI 1.0.3 (a group as a
context instructor, an agent or group as a SubStatement's object, an empty definition or
extensions object, version "1.0"), :func:`model_view` hands them a copy with that part checked
here and replaced by a placeholder. ralph's models know xAPI 1.0.x only: for a 2.0 request the
parts 2.0 adds (``contextAgents``, ``contextGroups``, a 2.0.x ``version``) are checked here
(with ralph's agent, group and IRI models) and left out of the copy. :func:`problems` checks what
they leave out.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError
from ralph.models.xapi.base.agents import BaseXapiAgent
from ralph.models.xapi.base.common import IRI
from ralph.models.xapi.base.groups import BaseXapiGroup

from zoped.errors import Problem
from zoped.interop.xapi_versions import V1_0_3, XapiVersion

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


_CONTEXT_ENTRIES = {
    "contextAgents": ("contextAgent", "agent", TypeAdapter(BaseXapiAgent)),
    "contextGroups": ("contextGroup", "group", TypeAdapter(BaseXapiGroup)),
}
_IRI: TypeAdapter[Any] = TypeAdapter(IRI)


def _valid(adapter: TypeAdapter[Any], value: Any) -> bool:
    try:
        adapter.validate_python(value)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def _context_entry_problems(where: str, name: str, entries: Any) -> list[Problem]:
    """What is wrong with a 2.0 ``contextAgents`` or ``contextGroups`` array: each entry is
    ``{"objectType": "contextAgent", "agent": <Agent>, "relevantTypes": [IRI, ...]}`` (a
    ``contextGroup`` has a ``group``), ``relevantTypes`` optional but never empty."""
    kind, inner, adapter = _CONTEXT_ENTRIES[name]
    if not isinstance(entries, list) or not entries:
        return [Problem(where, f"{name} is a non-empty array of {kind} objects")]
    found: list[Problem] = []
    for index, entry in enumerate(entries):
        at = f"{where}[{index}]"
        if not isinstance(entry, Mapping):
            found.append(Problem(at, f"a {kind} is an object"))
            continue
        unknown = set(entry) - {"objectType", inner, "relevantTypes"}
        if unknown:
            found.append(Problem(f"{at}.{sorted(unknown)[0]}", f"a {kind} has no such property"))
        if entry.get("objectType") != kind:
            found.append(Problem(f"{at}.objectType", f'must be "{kind}"'))
        if not _valid(adapter, entry.get(inner)):
            found.append(Problem(f"{at}.{inner}", f"must be a valid {inner}"))
        if "relevantTypes" in entry:
            types = entry["relevantTypes"]
            if not isinstance(types, list) or not types:
                found.append(Problem(f"{at}.relevantTypes", "a non-empty array of IRIs"))
            elif not all(isinstance(t, str) and _valid(_IRI, t) for t in types):
                found.append(Problem(f"{at}.relevantTypes", "each relevant type is an IRI"))
    return found


def model_view(
    statement: Mapping[str, Any],
    agent_ok: Callable[[Any], bool],
    version: XapiVersion = V1_0_3,
) -> tuple[dict[str, Any], list[Problem]]:
    """The copy of a statement to give ralph's models, and the problems of the parts checked
    here instead (with ``agent_ok``, ralph's agent-or-group model), for a request of
    ``version``."""
    view: dict[str, Any] = copy.deepcopy(dict(statement))
    problems: list[Problem] = []
    given = view.get("version")
    if isinstance(given, str) and version.statement_versions.fullmatch(given):
        view["version"] = "1.0.0"  # ralph's models know 1.0.x only
    _strip_empty(view)
    for prefix, part in _parts(view):
        context = part.get("context")
        if version.context_agents and isinstance(context, dict):
            for name in _CONTEXT_ENTRIES:
                if name in context:
                    where = f"{prefix}context.{name}"
                    problems += _context_entry_problems(where, name, context.pop(name))
            if not context:
                del part["context"]  # type: ignore[attr-defined]
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
            for name, (_, inner, _) in _CONTEXT_ENTRIES.items():  # xAPI 2.0
                entries = context.get(name)
                for index, entry in enumerate(entries if isinstance(entries, list) else []):
                    found = entry.get(inner) if isinstance(entry, Mapping) else None
                    if isinstance(found, Mapping):
                        where = f"{prefix}context.{name}[{index}].{inner}"
                        yield where, found
                        for number, member in enumerate(found.get("member") or []):
                            if isinstance(member, Mapping):
                                yield f"{where}.member[{number}]", member


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
