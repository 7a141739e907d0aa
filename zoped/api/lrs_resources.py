"""The xAPI LRS's document resources (state, activity profile, agent profile) and the agents,
activities and about resources."""

from __future__ import annotations

import json
from email.utils import format_datetime
from typing import Any

from fastapi.responses import Response
from sqlalchemy.orm import Session

from zoped.api.lrs_http import (
    XRequest,
    agent_param,
    answer,
    bad,
    iri_param,
    json_body,
    time_param,
    uuid_param,
)
from zoped.interop import xapi_lrs
from zoped.interop.xapi_versions import ABOUT_VERSIONS, XapiVersion
from zoped.services import lrs_documents as documents
from zoped.services.lrs import LrsCaller, activity_definition
from zoped.services.lrs_documents import DocumentKey

#: Resource path -> (kind, the parameter naming a document).
DOCUMENT_RESOURCES = {
    "activities/state": ("state", "stateId"),
    "activities/profile": ("activity_profile", "profileId"),
    "agents/profile": ("agent_profile", "profileId"),
}
ABOUT = {"version": ABOUT_VERSIONS, "extensions": {}}


def _key(request: XRequest, caller: LrsCaller, kind: str) -> DocumentKey:
    if kind == "state":
        activity = iri_param(request, "activityId", required=True) or ""
        agent = agent_param(request, required=True) or ""
        registration = uuid_param(request, "registration") or ""
        return DocumentKey(caller.school_id, kind, activity, agent, registration)
    if kind == "activity_profile":
        activity = iri_param(request, "activityId", required=True) or ""
        return DocumentKey(caller.school_id, kind, activity_id=activity)
    agent = agent_param(request, required=True) or ""
    return DocumentKey(caller.school_id, kind, agent_key=agent)


def document_resource(
    session: Session,
    request: XRequest,
    caller: LrsCaller,
    resource: str,
    now: Any,
    version: XapiVersion,
) -> Response:
    """GET, PUT, POST or DELETE on a document resource, under ``version``'s concurrency
    rules."""
    kind, id_name = DOCUMENT_RESOURCES[resource]
    key = _key(request, caller, kind)
    document_id = request.get(id_name)
    since = time_param(request, "since")
    unknown = set(request.params) - request.seen
    if unknown:
        raise bad(sorted(unknown)[0], f"unknown parameter {sorted(unknown)[0]}")
    method = request.method
    if method in ("GET", "HEAD"):
        if document_id is None:
            ids = documents.list_documents(session, caller=caller, key=key, since=since)
            return answer(ids)
        found = documents.get_document(session, caller=caller, key=key, document_id=document_id)
        headers = {
            "ETag": f'"{found.etag}"',
            "Last-Modified": format_datetime(found.updated, usegmt=True),
        }
        return Response(found.content, media_type=found.content_type, headers=headers)
    if method == "DELETE":
        if document_id is None and kind != "state":
            raise bad(id_name, f"the parameter {id_name} is required")
        documents.delete_documents(
            session,
            caller=caller,
            key=key,
            document_id=document_id,
            if_match=request.headers.get("if-match"),
        )
        return answer(status=204)
    if document_id is None:
        raise bad(id_name, f"the parameter {id_name} is required")
    content_type = request.content_type or "application/octet-stream"
    if "application/json" in content_type:
        json_body(request)
    saved = documents.save_document(
        session,
        caller=caller,
        key=key,
        document_id=document_id,
        content=request.body,
        content_type=content_type,
        merge=method == "POST",
        if_match=request.headers.get("if-match"),
        if_none_match=request.headers.get("if-none-match"),
        now=now,
        rules=documents.ConcurrencyRules.of(version),
    )
    return answer(status=204, headers={"ETag": f'"{saved.etag}"'})


def agents_resource(request: XRequest) -> Response:
    """GET /agents: the Person object of an agent (what the LRS knows: the agent itself)."""
    value = request.get("agent")
    agent_param(request, required=True)
    agent = json.loads(value or "{}")
    person: dict[str, Any] = {"objectType": "Person"}
    if agent.get("name"):
        person["name"] = [agent["name"]]
    for ifi in xapi_lrs.IFIS:
        if ifi in agent:
            person[ifi] = [agent[ifi]]
    return answer(person)


def activities_resource(session: Session, request: XRequest, caller: LrsCaller) -> Response:
    """GET /activities: the activity's definition as the newest statement about it gave it."""
    activity_id = iri_param(request, "activityId", required=True) or ""
    found = activity_definition(session, caller=caller, activity_id=activity_id)
    return answer(found)
