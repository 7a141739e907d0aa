"""The HTTP side of the xAPI LRS shared by its resources: one request read whether it came
plainly or in the alternate request syntax, its parameters checked, and answers with the
xAPI headers.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from fastapi.responses import JSONResponse, Response

from zoped.errors import InvalidInput, Problem
from zoped.interop import xapi_lrs
from zoped.interop.xapi_versions import HEADER, XapiVersion, negotiate

VERSION_HEADER = HEADER
#: The form fields of the alternate request syntax that are headers.
FORM_HEADERS = frozenset(
    {"authorization", "x-experience-api-version", "content-type", "content-length"}
    | {"if-match", "if-none-match"}
)
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@dataclass
class XRequest:
    """One LRS request: its method, parameters, headers (lower-case names) and body."""

    method: str
    params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    alternate: bool = False
    seen: set[str] = field(default_factory=set)

    @property
    def content_type(self) -> str:
        """The body's media type with its parameters."""
        return self.headers.get("content-type", "")

    def get(self, name: str) -> str | None:
        """A parameter (None when absent)."""
        self.seen.add(name)
        return self.params.get(name)


def bad(location: str, message: str) -> InvalidInput:
    """The error for a bad parameter or body (400)."""
    return InvalidInput(message, [Problem(location, message)])


def read_request(
    method: str, query: list[tuple[str, str]], headers: Mapping[str, str], body: bytes
) -> XRequest:
    """The request as the LRS reads it, the alternate request syntax (``POST ?method=X`` with
    the parameters, some headers and ``content`` in a form body) unfolded.

    Raises:
        InvalidInput: a parameter given twice, or an alternate request that is not a POST,
            carries other query parameters or has no form body.
    """
    names = [name for name, _ in query]
    for name in names:
        if names.count(name) > 1:
            raise bad(name, f"the parameter {name} is given more than once")
    params = dict(query)
    lowered = {k.lower(): v for k, v in headers.items()}
    if "method" not in params:
        return XRequest(method, params, lowered, body)
    if method != "POST":
        raise bad("method", "the alternate request syntax is a POST")
    if set(params) != {"method"}:
        raise bad("method", "the alternate request syntax sends its parameters in the form")
    if "application/x-www-form-urlencoded" not in lowered.get("content-type", ""):
        raise bad("content-type", "the alternate request syntax sends a url-encoded form")
    try:
        form = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=bool(body))
    except (ValueError, UnicodeDecodeError) as error:
        raise bad("body", "the alternate request's body is not a url-encoded form") from error
    real_headers = {k: v for k, v in lowered.items() if k not in ("content-type", "content-length")}
    fields: dict[str, str] = {}
    content = b""
    for name, value in form:
        if name.lower() in FORM_HEADERS:
            real_headers[name.lower()] = value
        elif name == "content":
            content = value.encode()
        else:
            fields[name] = value
    wanted = params["method"].upper()
    if wanted in ("PUT", "POST") and not content:
        raise bad("content", "the alternate request sends its body as the form field content")
    real_headers.setdefault("content-type", "application/json" if content else "")
    return XRequest(wanted, fields, real_headers, content, alternate=True)


def check_version(request: XRequest) -> XapiVersion:
    """The xAPI version the request asks for.

    Raises:
        InvalidInput: a missing or unsupported X-Experience-API-Version, or the alternate
            request syntax in a version that has none (2.0).
    """
    version = negotiate(request.headers.get(VERSION_HEADER.lower()))
    if version is None:
        raise bad(VERSION_HEADER, f"send the header {VERSION_HEADER}: 2.0.0 or 1.0.3")
    if request.alternate and not version.alternate_syntax:
        raise bad("method", f"xAPI {version.name} has no alternate request syntax")
    return version


def basic_credentials(request: XRequest) -> str | None:
    """``KEY.SECRET`` from an HTTP Basic (or Bearer) Authorization header, if any."""
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    if scheme.lower() != "basic":
        return None
    try:
        user, colon, secret = base64.b64decode(value.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return f"{user}.{secret}" if colon and user and secret else None


def json_body(request: XRequest) -> Any:
    """The body as JSON. Raises: InvalidInput."""
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError) as error:
        raise bad("body", "the body is not JSON") from error


def uuid_param(request: XRequest, name: str, *, required: bool = False) -> str | None:
    """A UUID parameter, lower-case. Raises: InvalidInput."""
    value = request.get(name)
    if value is None:
        if required:
            raise bad(name, f"the parameter {name} is required")
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError as error:
        raise bad(name, f"{name} must be a UUID") from error


def iri_param(request: XRequest, name: str, *, required: bool = False) -> str | None:
    """An IRI parameter. Raises: InvalidInput."""
    value = request.get(name)
    if value is None:
        if required:
            raise bad(name, f"the parameter {name} is required")
        return None
    if not _IRI.match(value):
        raise bad(name, f"{name} must be an IRI")
    return value


def agent_param(request: XRequest, name: str = "agent", *, required: bool = False) -> str | None:
    """An agent parameter (JSON) as its key. Raises: InvalidInput."""
    value = request.get(name)
    if value is None:
        if required:
            raise bad(name, f"the parameter {name} is required")
        return None
    try:
        agent = json.loads(value)
    except ValueError as error:
        raise bad(name, f"{name} must be an agent as JSON") from error
    key = xapi_lrs.agent_key(agent)
    if key is None or not xapi_lrs.agent_ok(agent):
        raise bad(name, f"{name} must be an agent with one identifier")
    return key


def time_param(request: XRequest, name: str) -> datetime | None:
    """A timestamp parameter. Raises: InvalidInput."""
    value = request.get(name)
    if value is None:
        return None
    try:
        found = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as error:
        raise bad(name, f"{name} must be an ISO 8601 time") from error
    if found.utcoffset() is None:
        raise bad(name, f"{name} must carry a time zone")
    return found


def bool_param(request: XRequest, name: str) -> bool:
    """A true/false parameter (false when absent). Raises: InvalidInput."""
    value = request.get(name)
    if value is None:
        return False
    if value not in ("true", "false"):
        raise bad(name, f"{name} must be true or false")
    return value == "true"


def answer(
    body: Any = None, *, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON answer (no body for 204)."""
    if status == 204:
        return Response(status_code=204, headers=dict(headers or {}))
    return JSONResponse(body, status_code=status, headers=dict(headers or {}))
