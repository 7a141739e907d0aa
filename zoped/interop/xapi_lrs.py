"""xAPI statements as the Learning Record Store reads and writes them (xAPI 1.0.3 and 2.0.0;
what differs between them is :mod:`zoped.interop.xapi_versions`).

Pure functions, no I/O: checking a statement (ralph's pydantic xAPI models, plus the few rules
they leave out), filling what the LRS sets (``id``, ``stored``, ``authority``, ``version``),
the keys the GET filters match on (an agent's identifier, the activities a statement is about),
and the ``ids`` and ``canonical`` formats of a statement.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from ralph.models.xapi.base.agents import BaseXapiAgent
from ralph.models.xapi.base.groups import BaseXapiGroup
from ralph.models.xapi.base.statements import BaseXapiStatement

from zoped.errors import Problem
from zoped.interop import xapi_rules
from zoped.interop.xapi_versions import V1_0_3, XapiVersion

VERSION = V1_0_3.name
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
FORMATS = ("exact", "ids", "canonical")
IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_ISO_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)?$", re.IGNORECASE
)
#: RFC 3339's date-time (section 5.6): seconds and a zone are required.
_RFC3339_TIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.IGNORECASE
)
_LANGUAGE_MAPS = ("display", "name", "description")
#: Properties whose value is text (ralph's models would turn a number into text).
_TEXT = frozenset(
    {"id", "mbox", "mbox_sha1sum", "openid", "homePage", "objectType", "sha2", "contentType"}
    | {"usageType", "fileUrl", "registration", "revision", "platform", "language", "duration"}
    | {"response", "interactionType", "moreInfo", "type", "version", "timestamp", "stored"}
)


def _problems_of(error: ValidationError) -> list[Problem]:
    """One problem per place: where the models tried several forms (an agent or a group, say),
    the place and the first form's complaint."""
    found: dict[str, str] = {}
    for e in error.errors():
        parts = [str(part) for part in e.get("loc", ())]
        forms = [i for i, part in enumerate(parts) if part.startswith(("BaseXapi", "function-"))]
        if forms:
            where = ".".join(parts[: forms[0]]) or "statement"
            found.setdefault(where, f"is none of the forms xAPI allows ({e['msg']})")
        else:
            found.setdefault(".".join(parts) or "statement", e["msg"])
    return [Problem(where, message) for where, message in found.items()][:20]


def _walk(data: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """Every (path, key, value) in a JSON document, extensions' contents left out."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield path, str(key), value
            if key != "extensions":
                yield from _walk(value, f"{path}.{key}" if path else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _walk(value, f"{path}[{index}]")


def check_statement(data: Any, version: XapiVersion = V1_0_3) -> list[Problem]:
    """What is wrong with a statement a client sent under ``version`` ([] when it is valid)."""
    if not isinstance(data, Mapping):
        return [Problem("statement", "a statement is a JSON object")]
    problems: list[Problem] = []
    for path, key, value in _walk(data):
        where = f"{path}.{key}" if path else key
        if key in _TEXT and not isinstance(value, str) and not path.endswith("extensions"):
            problems.append(Problem(where, "must be text"))
        elif key in _LANGUAGE_MAPS and not isinstance(value, str | Mapping):
            problems.append(Problem(where, "must be text or a language map"))
        elif path.rsplit(".", 1)[-1] in _LANGUAGE_MAPS and not isinstance(value, str):
            problems.append(Problem(where, "a language map's values are text"))
        if key == "length" and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(Problem(where, "must be a whole number"))
        if key in ("timestamp", "stored") and not (
            isinstance(value, str) and _ISO_TIME.match(value) and _time_ok(value)
        ):
            problems.append(Problem(where, "an ISO 8601 time is required"))
        elif (
            key in ("timestamp", "stored")
            and version.rfc3339_timestamps
            and not _RFC3339_TIME.match(value)
        ):
            problems.append(Problem(where, "an RFC 3339 date-time (seconds and zone) is required"))
        if key == "objectType" and value == "SubStatement" and path.count("object") > 1:
            problems.append(Problem(where, "a SubStatement may not contain a SubStatement"))
    view, found = xapi_rules.model_view(data, agent_ok, version)
    problems += found + xapi_rules.problems(data)
    try:
        BaseXapiStatement.model_validate(view)
    except ValidationError as error:
        problems.extend(_problems_of(error))
    except (ValueError, TypeError) as error:
        problems.append(Problem("statement", str(error)))
    obj = data.get("object")
    if isinstance(obj, Mapping) and obj.get("objectType") == "SubStatement":
        for key in ("id", "stored", "version", "authority"):
            if key in obj:
                problems.append(Problem(f"object.{key}", "a SubStatement may not carry it"))
    return problems


def _time_ok(text: str) -> bool:
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        return False
    return not text.endswith(("-00", "-0000", "-00:00"))


def prepare(
    data: Mapping[str, Any],
    *,
    stored: datetime,
    authority: Mapping[str, Any],
    version: XapiVersion = V1_0_3,
) -> dict[str, Any]:
    """The statement as the LRS keeps it: an id if it had none, ``stored`` and ``authority``
    set by the LRS, ``version`` the version's default (1.0.0, or 2.0.0 for a 2.0 request)
    unless given, ``timestamp`` defaulting to ``stored``."""
    statement = dict(data)
    statement.setdefault("id", str(uuid.uuid4()))
    statement["id"] = str(uuid.UUID(str(statement["id"])))
    stamp = iso(stored)
    statement["stored"] = stamp
    statement.setdefault("timestamp", stamp)
    statement["authority"] = dict(authority)
    statement.setdefault("version", version.default_statement_version)
    _context_as_arrays(statement)
    if isinstance(statement.get("object"), Mapping) and (
        statement["object"].get("objectType") == "SubStatement"
    ):
        statement["object"] = dict(statement["object"])
        _context_as_arrays(statement["object"])
    return statement


def _context_as_arrays(part: dict[str, Any]) -> None:
    """Each contextActivities value as a list (a client may send one activity alone)."""
    context = part.get("context")
    if not isinstance(context, Mapping) or not isinstance(
        context.get("contextActivities"), Mapping
    ):
        return
    found = context["contextActivities"]
    part["context"] = {
        **context,
        "contextActivities": {
            key: value if isinstance(value, list) else [value] for key, value in found.items()
        },
    }


def iso(at: datetime) -> str:
    """A time as xAPI writes it: UTC, milliseconds, ``Z``."""
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"


_AGENT: TypeAdapter[Any] = TypeAdapter(BaseXapiAgent | BaseXapiGroup)


def agent_ok(agent: Any) -> bool:
    """Whether ``agent`` is a valid agent or group."""
    try:
        _AGENT.validate_python(agent)
    except (ValidationError, ValueError, TypeError):
        return False
    return True


def agent_key(agent: Any) -> str | None:
    """The identifier an agent (or identified group) is matched by, or None without one."""
    if not isinstance(agent, Mapping):
        return None
    for ifi, prefix in (("mbox", "mbox:"), ("mbox_sha1sum", "sha1:"), ("openid", "openid:")):
        value = agent.get(ifi)
        if isinstance(value, str):
            return prefix + value
    account = agent.get("account")
    if isinstance(account, Mapping):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    return None


def _agents(agent: Any) -> Iterator[str]:
    """The keys of an agent or group and of a group's members."""
    key = agent_key(agent)
    if key:
        yield key
    if isinstance(agent, Mapping) and isinstance(agent.get("member"), list):
        for member in agent["member"]:
            member_key = agent_key(member)
            if member_key:
                yield member_key


def _context_activities(context: Any) -> Iterator[str]:
    found = context.get("contextActivities") if isinstance(context, Mapping) else None
    if not isinstance(found, Mapping):
        return
    for value in found.values():
        for activity in value if isinstance(value, list) else [value]:
            if isinstance(activity, Mapping) and isinstance(activity.get("id"), str):
                yield activity["id"]


def _context_agents(context: Any) -> Iterator[Any]:
    """The agents and groups of a context's ``contextAgents`` and ``contextGroups`` (xAPI
    2.0)."""
    if not isinstance(context, Mapping):
        return
    for name, inner in (("contextAgents", "agent"), ("contextGroups", "group")):
        entries = context.get(name)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, Mapping) and isinstance(entry.get(inner), Mapping):
                yield entry[inner]


def _is_activity(obj: Mapping[str, Any]) -> bool:
    return obj.get("objectType", "Activity") == "Activity" and isinstance(obj.get("id"), str)


def references(statement: Mapping[str, Any]) -> set[tuple[str, str, bool]]:
    """(kind, key, direct) for each agent and activity the statement is about: ``direct`` for
    its actor and object, the others reached only by ``related_agents`` or
    ``related_activities``; and (``statement``, id, True) for the statement a StatementRef
    object targets."""
    refs: set[tuple[str, str, bool]] = set()
    obj = statement.get("object") or {}
    if obj.get("objectType") == "StatementRef" and isinstance(obj.get("id"), str):
        refs.add(("statement", obj["id"].lower(), True))
    actor_key = agent_key(statement.get("actor"))
    if actor_key:
        refs.add(("agent", actor_key, True))
    if obj.get("objectType") in ("Agent", "Group"):
        key = agent_key(obj)
        if key:
            refs.add(("agent", key, True))
    if _is_activity(obj):
        refs.add(("activity", obj["id"], True))

    def related(part: Mapping[str, Any]) -> None:
        for name in ("actor", "authority"):
            refs.update(("agent", key, False) for key in _agents(part.get(name)))
        inner = part.get("object") or {}
        if inner.get("objectType") in ("Agent", "Group"):
            refs.update(("agent", key, False) for key in _agents(inner))
        if _is_activity(inner):
            refs.add(("activity", inner["id"], False))
        context = part.get("context") or {}
        for name in ("instructor", "team"):
            refs.update(("agent", key, False) for key in _agents(context.get(name)))
        for found in _context_agents(context):
            refs.update(("agent", key, False) for key in _agents(found))
        refs.update(("activity", a, False) for a in _context_activities(context))

    related(statement)
    if obj.get("objectType") == "SubStatement":
        related(obj)
    return refs


def _ids_agent(agent: Any) -> Any:
    if not isinstance(agent, Mapping):
        return agent
    out: dict[str, Any] = {"objectType": agent.get("objectType", "Agent")}
    key = next((k for k in IFIS if k in agent), None)
    if key is not None:
        out[key] = agent[key]
    elif isinstance(agent.get("member"), list):
        out["member"] = [_ids_agent(m) for m in agent["member"]]
    return out


def _ids_part(part: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(part)
    for name in ("actor", "authority"):
        if name in out:
            out[name] = _ids_agent(out[name])
    if isinstance(out.get("verb"), Mapping):
        out["verb"] = {"id": out["verb"].get("id")}
    obj = out.get("object")
    if isinstance(obj, Mapping):
        kind = obj.get("objectType", "Activity")
        if kind in ("Agent", "Group"):
            out["object"] = _ids_agent(obj)
        elif kind == "Activity":
            out["object"] = {"id": obj.get("id")}
        elif kind == "SubStatement":
            out["object"] = _ids_part(obj)
    context = out.get("context")
    if isinstance(context, Mapping):
        context = dict(context)
        for name in ("instructor", "team"):
            if name in context:
                context[name] = _ids_agent(context[name])
        for name, inner in (("contextAgents", "agent"), ("contextGroups", "group")):
            if isinstance(context.get(name), list):
                context[name] = [
                    {**e, inner: _ids_agent(e.get(inner))} if isinstance(e, Mapping) else e
                    for e in context[name]
                ]
        found = context.get("contextActivities")
        if isinstance(found, Mapping):
            context["contextActivities"] = {
                key: [{"id": a.get("id")} for a in value] if isinstance(value, list) else value
                for key, value in found.items()
            }
        out["context"] = context
    return out


def _canonical(data: Any, languages: list[str]) -> Any:
    if isinstance(data, Mapping):
        out = {}
        for key, value in data.items():
            if key in _LANGUAGE_MAPS and isinstance(value, Mapping) and value:
                out[key] = _one_language(value, languages)
            elif key == "extensions":
                out[key] = value
            else:
                out[key] = _canonical(value, languages)
        return out
    if isinstance(data, list):
        return [_canonical(v, languages) for v in data]
    return data


def _one_language(value: Mapping[str, Any], languages: list[str]) -> dict[str, Any]:
    for wanted in languages:
        for tag, text in value.items():
            if tag.lower() == wanted.lower() or tag.lower().startswith(wanted.lower() + "-"):
                return {tag: text}
    tag = next(iter(value))
    return {tag: value[tag]}


def accepted_languages(header: str) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first."""
    found = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and tag != "*":
            found.append((-quality, index, tag))
    return [tag for _, _, tag in sorted(found)]


def formatted(statement: Mapping[str, Any], fmt: str, languages: list[str]) -> dict[str, Any]:
    """A stored statement in the ``exact``, ``ids`` or ``canonical`` format."""
    if fmt == "ids":
        return _ids_part(statement)
    if fmt == "canonical":
        result: dict[str, Any] = _canonical(statement, languages)
        return result
    return dict(statement)


def same_statement(stored: Mapping[str, Any], sent: Mapping[str, Any]) -> bool:
    """Whether a statement sent again (as :func:`prepare` made it) says what the stored one
    says: what the LRS sets is left out, and the timestamp when the client sent none."""
    ignored = {"stored", "authority", "version", "id"}
    if sent.get("timestamp") == sent.get("stored"):
        ignored.add("timestamp")
    return {k: v for k, v in stored.items() if k not in ignored} == {
        k: v for k, v in sent.items() if k not in ignored
    }


SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
SIGNATURE_ALGORITHMS = frozenset({"RS256", "RS384", "RS512"})


def _b64url_json(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def signature_problems(
    statement: Mapping[str, Any], parts: Mapping[str, tuple[str, bytes]]
) -> list[Problem]:
    """What is wrong with a signed statement's signature (xAPI 1.0.3, 2.6): the signature
    attachment is ``application/octet-stream`` holding a JWS (compact form) signed with RS256,
    RS384 or RS512 whose payload is the statement. (The RSA signature itself is not verified:
    the LRS holds no key of the signer.)"""
    problems: list[Problem] = []
    for index, attachment in enumerate(statement.get("attachments") or []):
        if not isinstance(attachment, Mapping) or attachment.get("usageType") != SIGNATURE:
            continue
        where = f"attachments[{index}]"
        if attachment.get("contentType") != "application/octet-stream":
            problems.append(Problem(f"{where}.contentType", "a signature is octet-stream"))
            continue
        found = parts.get(str(attachment.get("sha2")))
        if found is None:
            continue  # reported as a missing part
        pieces = found[1].decode("ascii", "replace").strip().split(".")
        try:
            header, payload = _b64url_json(pieces[0]), _b64url_json(pieces[1])
        except (ValueError, IndexError, binascii.Error):
            problems.append(Problem(where, "the signature is not a JWS with a JSON payload"))
            continue
        if len(pieces) != 3 or not isinstance(header, Mapping):
            problems.append(Problem(where, "the signature is not a JWS"))
        elif header.get("alg") not in SIGNATURE_ALGORITHMS:
            problems.append(Problem(where, "a signature uses RS256, RS384 or RS512"))
        elif not isinstance(payload, Mapping) or any(
            payload.get(key) != statement.get(key) for key in ("actor", "verb", "object")
        ):
            problems.append(Problem(where, "the signature's payload is not this statement"))
    return problems
