"""The xAPI Learning Record Store at ``/xapi`` (xAPI 2.0.0 and 1.0.3).

Resources: ``statements`` (PUT, POST, GET with its filters and ``more`` paging, voiding,
attachments), ``activities/state``, ``activities/profile``, ``agents/profile``, ``agents``,
``activities`` and ``about``. A client authenticates with HTTP Basic: the key id and secret of
an LRS credential (``zoped credentials create --role lrs``). Every request but ``about`` sends
``X-Experience-API-Version`` (2.0.x or 1.0.x), which chooses that version's rules
(:mod:`zoped.interop.xapi_versions`); every answer names the version it was served under
(``ZOPED_XAPI_UNVERSIONED`` for a request that names none). Errors are the API's JSON errors
with xAPI's statuses (400 for bad input). The alternate request syntax (``POST ?method=PUT``
with a form) is read in 1.0.x.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from zoped.api.errors import error_response
from zoped.api.lrs_http import (
    VERSION_HEADER,
    XRequest,
    agent_param,
    answer,
    bad,
    basic_credentials,
    bool_param,
    check_version,
    iri_param,
    json_body,
    read_request,
    time_param,
    uuid_param,
)
from zoped.api.lrs_resources import (
    ABOUT,
    DOCUMENT_RESOURCES,
    activities_resource,
    agents_resource,
    document_resource,
)
from zoped.clock import request_now
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied, ZopedError
from zoped.interop import xapi_lrs, xapi_multipart, xapi_versions
from zoped.interop.xapi_versions import XapiVersion
from zoped.services import lrs
from zoped.services import tokens as token_services
from zoped.services.lrs_documents import PreconditionFailed
from zoped.services.system import Database

router = APIRouter(prefix="/xapi", include_in_schema=False)
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"]
RESOURCES = {
    "statements": {"GET", "HEAD", "PUT", "POST"},
    "activities/state": {"GET", "HEAD", "PUT", "POST", "DELETE"},
    "activities/profile": {"GET", "HEAD", "PUT", "POST", "DELETE"},
    "agents/profile": {"GET", "HEAD", "PUT", "POST", "DELETE"},
    "agents": {"GET", "HEAD"},
    "activities": {"GET", "HEAD"},
    "about": {"GET", "HEAD"},
}
QUERY_PARAMS = {
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
    "until",
    "limit",
    "format",
    "attachments",
    "ascending",
}
STATUS = {
    InvalidInput: 400,
    NotFound: 404,
    Conflict: 409,
    PermissionDenied: 403,
    PreconditionFailed: 412,
}


@router.api_route("/{resource:path}", methods=METHODS)
async def xapi(resource: str, request: Request) -> Response:
    """Every LRS resource: the body is read here, the rest runs in a worker thread."""
    body = await request.body()
    response = await run_in_threadpool(_handle, request, resource.strip("/"), body)
    if resource.strip("/") == "statements" and request.method in ("GET", "HEAD"):
        consistent = xapi_lrs.iso(request_now(request))
        response.headers.setdefault("X-Experience-API-Consistent-Through", consistent)
    if request.method == "HEAD":
        return Response(status_code=response.status_code, headers=dict(response.headers))
    return response


def _handle(request: Request, resource: str, body: bytes) -> Response:
    """The answer, with the X-Experience-API-Version it was served under."""
    unversioned = xapi_versions.BY_NAME[request.app.state.settings.xapi_unversioned]
    version = xapi_versions.answering(request.headers.get(VERSION_HEADER), unversioned)
    try:
        xrequest = read_request(
            request.method, request.query_params.multi_items(), request.headers, body
        )
        given = xrequest.headers.get(VERSION_HEADER.lower())
        version = xapi_versions.answering(given, unversioned)
        response = _serve(request, xrequest, resource)
    except ZopedError as error:
        status = next((s for kind, s in STATUS.items() if isinstance(error, kind)), 500)
        problems = error.problems if isinstance(error, InvalidInput) else []
        response = error_response(status, str(error), problems)
    response.headers[VERSION_HEADER] = version.name
    return response


def _serve(request: Request, xrequest: XRequest, resource: str) -> Response:
    allowed = RESOURCES.get(resource)
    if allowed is None:
        raise NotFound(f"no resource {resource!r}")
    if xrequest.method not in allowed:
        return error_response(405, f"{xrequest.method} is not allowed on {resource}")
    if resource == "about":
        return answer(ABOUT)
    version = check_version(xrequest)
    database: Database = request.app.state.db
    with database.session() as session:
        now = request_now(request)
        value = basic_credentials(xrequest)
        found = token_services.authenticate_token(session, value=value or "", now=now)
        if found is None:
            return error_response(
                401,
                "Send HTTP Basic credentials of an LRS credential.",
                headers={"WWW-Authenticate": 'Basic realm="zoped xAPI"'},
            )
        caller = lrs.LrsCaller(found[0], found[1])
        caller.require()
        return _route(session, xrequest, caller, resource, now, version)


def _route(
    session: Session,
    request: XRequest,
    caller: lrs.LrsCaller,
    resource: str,
    now: Any,
    version: XapiVersion,
) -> Response:
    if resource in DOCUMENT_RESOURCES:
        return document_resource(session, request, caller, resource, now, version)
    if resource == "agents":
        return agents_resource(request)
    if resource == "activities":
        return activities_resource(session, request, caller)
    if request.method in ("GET", "HEAD"):
        return _get_statements(session, request, caller, now, version)
    return _put_or_post(session, request, caller, now, version)


def _statement_body(request: XRequest) -> tuple[Any, dict[str, tuple[str, bytes]]]:
    media = request.content_type.lower()
    if media.startswith("multipart/mixed"):
        return xapi_multipart.parse(request.content_type, request.body)
    if media.startswith(("multipart/", "application/x-www-form-urlencoded")):
        raise bad("Content-Type", "statements come as application/json or multipart/mixed")
    return json_body(request), {}


def _put_or_post(
    session: Session, request: XRequest, caller: lrs.LrsCaller, now: Any, version: XapiVersion
) -> Response:
    if request.method == "PUT":
        statement_id = uuid_param(request, "statementId", required=True)
        unknown = set(request.params) - {"statementId"}
        if unknown:
            raise bad(sorted(unknown)[0], "PUT statements takes only statementId")
        data, parts = _statement_body(request)
        if not isinstance(data, dict):
            raise bad("body", "PUT sends one statement, a JSON object")
        lrs.store_statements(
            session,
            caller=caller,
            statements=[data],
            attachments=parts,
            statement_id=statement_id,
            now=now,
            version=version,
        )
        return answer(status=204)
    if request.params:
        raise bad(sorted(request.params)[0], "POST statements takes no parameters")
    data, parts = _statement_body(request)
    batch = data if isinstance(data, list) else [data]
    result = lrs.store_statements(
        session, caller=caller, statements=batch, attachments=parts, now=now, version=version
    )
    return answer(result.ids)


def _more_token(params: dict[str, str], after: tuple[datetime, int], top: int) -> str:
    cursor = [after[0].isoformat(), after[1]]
    raw = json.dumps({"q": params, "a": cursor, "t": top}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_more(token: str) -> tuple[dict[str, str], tuple[datetime, int], int]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        found = json.loads(raw)
        stored, seq = found["a"]
        after = (datetime.fromisoformat(stored), int(seq))
        return dict(found["q"]), after, int(found["t"])
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise bad("more", "not a more link of this LRS") from error


def _get_statements(
    session: Session, request: XRequest, caller: lrs.LrsCaller, now: Any, version: XapiVersion
) -> Response:
    after = top = None
    more = request.get("more")
    if more is not None:
        params, after, top = _read_more(more)
        request = XRequest(request.method, params, request.headers, b"")
    fmt = request.get("format") or "exact"
    if fmt not in xapi_lrs.FORMATS:
        raise bad("format", "format is one of exact, ids, canonical")
    with_attachments = bool_param(request, "attachments")
    languages = xapi_lrs.accepted_languages(request.headers.get("accept-language", ""))
    headers = {"X-Experience-API-Consistent-Through": xapi_lrs.iso(now)}
    single = [n for n in ("statementId", "voidedStatementId") if n in request.params]
    if single:
        name = single[0]
        others = set(request.params) - {name, "format", "attachments"}
        if others or len(single) > 1:
            raise bad(name, f"{name} takes no other parameter but format and attachments")
        statement_id = uuid_param(request, name, required=True) or ""
        found = lrs.get_statement(
            session, caller=caller, statement_id=statement_id, voided=name == "voidedStatementId"
        )
        document: Any = xapi_lrs.formatted(found, fmt, languages)
        statements = [found]
        if version.statement_last_modified:
            stored = datetime.fromisoformat(str(found["stored"]).replace("Z", "+00:00"))
            headers["Last-Modified"] = format_datetime(stored, usegmt=True)
    else:
        unknown = set(request.params) - QUERY_PARAMS
        if unknown:
            raise bad(sorted(unknown)[0], f"unknown parameter {sorted(unknown)[0]}")
        query = lrs.StatementQuery(
            agent=agent_param(request),
            verb=iri_param(request, "verb"),
            activity=iri_param(request, "activity"),
            registration=uuid_param(request, "registration"),
            since=time_param(request, "since"),
            until=time_param(request, "until"),
            related_agents=bool_param(request, "related_agents"),
            related_activities=bool_param(request, "related_activities"),
            ascending=bool_param(request, "ascending"),
        )
        limit_text = request.get("limit") or "0"
        if not limit_text.isdigit():
            raise bad("limit", "limit is a whole number, 0 for the LRS's page size")
        statements, next_after, top = lrs.query_statements(
            session, caller=caller, query=query, limit=int(limit_text), after=after, until_seq=top
        )
        link = ""
        if next_after is not None:
            link = "/xapi/statements?more=" + _more_token(request.params, next_after, top)
        document = {
            "statements": [xapi_lrs.formatted(s, fmt, languages) for s in statements],
            "more": link,
        }
    if with_attachments:
        parts = lrs.attachments_of(session, caller=caller, statements=statements)
        content_type, body = xapi_multipart.build(document, parts)
        return Response(body, media_type=content_type, headers=headers)
    return answer(document, headers=headers)
