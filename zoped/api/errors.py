"""One JSON error shape for every API error, and the mapping from zoped's errors to statuses.

Every error body is ``{"error": {"status", "code", "message", "problems": [...]}}``; no stack
trace or internal detail reaches the client.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.responses import JSONResponse

from zoped.api.schemas import ErrorBody, ErrorDetail, ProblemOut
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem, ZopedError


class Unauthenticated(Exception):
    """No valid session or API token came with a request that needs one."""


STATUS_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


def error_response(
    status: int,
    message: str,
    problems: Iterable[Problem] = (),
    *,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The JSON error response, in the one shape."""
    body = ErrorBody(
        error=ErrorDetail(
            status=status,
            code=code or STATUS_CODES.get(status, "error"),
            message=message,
            problems=[ProblemOut(location=p.location, message=p.message) for p in problems],
        )
    )
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def status_of(error: ZopedError) -> int:
    """The HTTP status of one of zoped's errors."""
    if isinstance(error, InvalidInput):
        return 422
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, PermissionDenied):
        return 403
    if isinstance(error, Conflict):
        return 409
    return 500


def zoped_error_response(error: ZopedError) -> JSONResponse:
    """The JSON response for one of zoped's errors (engine trouble is not detailed)."""
    status = status_of(error)
    if isinstance(error, InvalidInput):
        return error_response(status, error.message, error.problems)
    if status == 500:
        return error_response(500, "Something went wrong on our side.")
    if isinstance(error, NotFound):
        return error_response(404, "Not found.")
    return error_response(status, str(error))
