"""The application factory.

``create_app(settings)`` composes the pages and the JSON API over the services; nothing is
built at import time.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from zoped import __version__
from zoped.api import admin as api_admin
from zoped.api import assignments as api_assignments
from zoped.api import audit as api_audit
from zoped.api import lrs as api_lrs
from zoped.api import routes as api_routes
from zoped.api.errors import Unauthenticated, error_response, status_of, zoped_error_response
from zoped.clock import Clock, SystemClock
from zoped.domain.content import is_web_link, shown_order
from zoped.domain.jsondata import MAX_JSON_DEPTH, text_depth
from zoped.domain.submissions import MAX_FILE_BYTES, size_in_words
from zoped.domain.words import chance_in_words, change_in_words, sureness_in_words
from zoped.errors import Problem, ZopedError
from zoped.interop.xapi_versions import BY_NAME as XAPI_VERSIONS
from zoped.interop.xapi_versions import answering as xapi_version_of
from zoped.services import auth as auth_services
from zoped.services import demo as demo_services
from zoped.services.erasure import DueErasureRunner
from zoped.services.system import Database, database_answers, open_database
from zoped.settings import Settings, require_real_secret
from zoped.web import (
    activities,
    admin,
    admin_courses,
    admin_privacy,
    admin_roster,
    auth,
    case_import,
    course_import,
    guardian,
    learner,
    media,
    privacy,
    qti_import,
    teacher,
)
from zoped.web import admin_audit as audit_pages
from zoped.web.admin_roster import MAX_BUNDLE_UPLOAD_BYTES
from zoped.web.deps import (
    CSRF_FIELD,
    CSRF_HEADER,
    SESSION_CSRF,
    CsrfRefused,
    PasswordChangeRequired,
    SignInRequired,
    optional_user,
    render,
)
from zoped.web.markdown import render_inline, render_markdown
from zoped.web.times import local as local_time

WEB = Path(__file__).parent / "web"
log = logging.getLogger("zoped.web")

# No inline script anywhere: every script is a file under /static.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


SESSION_COOKIE = "zoped_session"
#: Paths answered in JSON and checked by their own callers' credentials, never CSRF: the JSON
#: API and the xAPI LRS (HTTP Basic).
API_PATHS = ("/api/", "/xapi/")
SESSION_MAX_AGE_S = 8 * 60 * 60
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
ErrorPage = Callable[[Request, int, str], Awaitable[Response]]


class _BodyTooLarge(Exception):
    pass


#: The deepest JSON body accepted: a stored document's limit and room for the envelope around
#: it. Checked on the text, before any parser (a recursive one fails past ~1,000 levels).
MAX_BODY_DEPTH = MAX_JSON_DEPTH + 8


class RequestGuard:
    """Pure ASGI middleware: refuses bodies over ``max_bytes`` (413), JSON bodies nested deeper
    than :data:`MAX_BODY_DEPTH` (422) and, for pages, any unsafe
    request whose ``csrf_token`` form field (or ``X-CSRF-Token`` header) is not the session's
    (403). The body is buffered once and replayed to the app. The JSON API checks its own
    callers (tokens, or the CSRF header for cookie sessions) in :mod:`zoped.api.deps`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_bytes: int,
        error_page: ErrorPage,
        upload_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.error_page = error_page
        # Upload pages that take more than ``max_bytes`` (a school's roster), by path: a
        # regular expression the whole path matches (a project's page names its activity).
        self.upload_limits = [(re.compile(p), n) for p, n in (upload_limits or {}).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = scope["path"]
        limit = next((n for p, n in self.upload_limits if p.fullmatch(path)), self.max_bytes)
        length = Headers(scope=scope).get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await self._refuse(request, 413, "That upload is too large.", scope, receive, send)
            return
        try:
            body = await self._read(receive, limit)
        except _BodyTooLarge:
            await self._refuse(request, 413, "That upload is too large.", scope, receive, send)
            return
        content_type = Headers(scope=scope).get("content-type", "")
        if "json" in content_type and text_depth(body) > MAX_BODY_DEPTH:
            message = f"The JSON body nests deeper than {MAX_BODY_DEPTH} levels."
            await self._refuse(request, 422, message, scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        is_page_write = scope["method"] in UNSAFE_METHODS and not scope["path"].startswith(
            API_PATHS
        )
        if is_page_write and not await self._csrf_ok(scope, body):
            await self._refuse(
                request,
                403,
                "This form has expired. Please go back, reload the page and try again.",
                scope,
                receive,
                send,
            )
            return
        await self.app(scope, replay, send)

    async def _read(self, receive: Receive, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _BodyTooLarge()
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    async def _csrf_ok(self, scope: Scope, body: bytes) -> bool:
        session = scope.get("session") or {}
        expected = session.get("csrf")
        given: object = Headers(scope=scope).get(CSRF_HEADER)
        if given is None:
            sent = False

            async def once() -> Message:
                nonlocal sent
                if sent:
                    return {"type": "http.disconnect"}
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}

            try:
                form = await Request(scope, once).form()
                given = form.get(CSRF_FIELD)
                await form.close()
            except Exception:  # an unreadable form carries no token
                given = None
        return auth_services.csrf_matches(expected, given)

    async def _refuse(
        self,
        request: Request,
        status: int,
        message: str,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        response = await self.error_page(request, status, message)
        await response(scope, receive, send)


def create_app(
    settings: Settings, *, database: Database | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the web app for ``settings``; tests may pass their own ``database`` and ``clock``
    (the system clock by default: every request reads "now" from it and nowhere else).

    Raises:
        InsecureSettings: the signing key is the public default or too short (outside tests).
    """
    require_real_secret(settings)
    db = database or open_database(settings.database_url)
    templates = Jinja2Templates(directory=WEB / "templates")
    templates.env.globals["version"] = __version__
    # Course content stored before links were checked still never renders a javascript: link.
    templates.env.tests["web_link"] = is_web_link
    templates.env.filters["shown_order"] = shown_order
    templates.env.filters["markdown"] = render_markdown
    templates.env.filters["markdown_inline"] = render_inline
    # Chances in words for learners and guardians ("about 9 times in 10"), never P(known).
    templates.env.filters["chance"] = chance_in_words
    templates.env.filters["file_size"] = size_in_words
    templates.env.filters["sureness"] = sureness_in_words
    templates.env.filters["sure_change"] = change_in_words
    # Instants in the viewer's school's time zone: {{ entry.at|local("%d %b %Y %H:%M %Z") }}.
    templates.env.filters["local"] = local_time

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Due erasure requests are carried out at start and then hourly, in a thread of their
        # own (never in the event loop), at the app's clock.
        eraser = DueErasureRunner(db, lambda: app.state.clock.now())
        eraser.start()
        yield
        await asyncio.to_thread(eraser.stop)
        if database is None:
            db.dispose()

    production = settings.environment == "production"
    # The interactive docs pages load their scripts from a CDN, which zoped never uses: the
    # schema itself is served at /openapi.json.
    app = FastAPI(
        title="zoped", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.state.settings = settings
    app.state.db = db
    app.state.clock = clock or SystemClock()
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=WEB / "static"), name="static")

    def page_error(
        request: Request, status: int, message: str, problems: list[Problem] | None = None
    ) -> Response:
        if request.url.path.startswith((*API_PATHS, "/healthz")):
            return error_response(status, message, problems or [])
        # The header shows who is signed in when the request already knew (see known_user);
        # the page never queries here: the guard middleware calls it outside any handler.
        context = {
            "status": status,
            "message": message,
            "problems": problems or [],
            "user": request.state._state.get("user"),
            "body_class": request.state._state.get("body_class", ""),
            "csrf_token": request.session.get(SESSION_CSRF, "")
            if "session" in request.scope
            else "",
        }
        return templates.TemplateResponse(request, "error.html", context, status_code=status)

    async def known_user(request: Request) -> None:
        """Look up who is signed in (off the event loop) if the failed request had not yet, so
        that an error page still shows their name and their way out."""
        if "user" in request.state._state or "session" not in request.scope:
            return
        try:
            await run_in_threadpool(optional_user, request)
        except Exception:  # an error page must render even when the database is the problem
            log.warning("could not tell who is signed in on an error page", exc_info=True)

    async def guard_error_page(request: Request, status: int, message: str) -> Response:
        await known_user(request)
        return page_error(request, status, message)

    # Innermost first: the guard needs the session; the headers go on every response.
    app.add_middleware(
        RequestGuard,
        max_bytes=settings.max_request_bytes,
        error_page=guard_error_page,
        upload_limits={
            "/admin/roster": MAX_BUNDLE_UPLOAD_BYTES,
            re.escape(qti_import.PATH): qti_import.MAX_UPLOAD_BYTES,
            # A project's file, its text and the form around them.
            r"/learner/activity/[^/]+/submit": MAX_FILE_BYTES + 100_000,
        },
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie=SESSION_COOKIE,
        max_age=SESSION_MAX_AGE_S,
        same_site="lax",
        https_only=production,
    )

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if production:
            response.headers.setdefault(
                "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
            )
        if not request.url.path.startswith("/static/"):
            # Pages and API answers carry learner data: no browser or proxy keeps a copy.
            response.headers.setdefault("Cache-Control", "no-store")
        if request.url.path.startswith("/xapi/"):
            # Every answer of the LRS names its xAPI version, even one the guard gave (413).
            unversioned = XAPI_VERSIONS[settings.xapi_unversioned]
            asked = request.headers.get("X-Experience-API-Version")
            version = xapi_version_of(asked, unversioned).name
            response.headers.setdefault("X-Experience-API-Version", version)
        return response

    @app.exception_handler(SignInRequired)
    async def sign_in_required(request: Request, error: SignInRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return error_response(401, "Sign in or send an API token.")
        target = error.next_path if error.next_path.startswith("/") else "/"
        return RedirectResponse(f"/signin?{urlencode({'next': target})}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def password_change_required(request: Request, error: PasswordChangeRequired) -> Response:
        del error
        if request.url.path.startswith("/api/"):
            return error_response(403, "Choose a new password on the pages first.")
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, error: Unauthenticated) -> Response:
        del request, error
        return error_response(
            401, "Sign in or send an API token.", headers={"WWW-Authenticate": "Bearer"}
        )

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, error: CsrfRefused) -> Response:
        del error
        await known_user(request)
        return page_error(request, 403, "This form has expired. Please reload and try again.")

    @app.exception_handler(ZopedError)
    async def zoped_error(request: Request, error: ZopedError) -> Response:
        if request.url.path.startswith("/api/"):
            return zoped_error_response(error)
        status = status_of(error)
        messages = {
            404: "We could not find that page.",
            403: "You do not have access to that.",
            409: "That changed while you were working on it. Please reload and try again.",
            422: str(error),
        }
        if status == 500:
            log.error("engine error on %s: %s", request.url.path, error)
        await known_user(request)
        return page_error(request, status, messages.get(status, "Something went wrong."))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        messages = {404: "We could not find that page.", 405: "That action is not allowed here."}
        await known_user(request)
        return page_error(request, error.status_code, messages.get(error.status_code, "Error"))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        problems = [
            Problem(".".join(str(part) for part in e.get("loc", ())), str(e.get("msg", "")))
            for e in error.errors()
        ]
        await known_user(request)
        return page_error(request, 422, "Some of what was sent could not be read.", problems)

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path, exc_info=error)
        await known_user(request)
        return page_error(request, 500, "Something went wrong on our side. Please try again.")

    @app.get("/healthz")
    def healthz() -> JSONResponse:
        if database_answers(db):
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "unavailable"}, status_code=503)

    @app.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Response:
        with db.session() as session:
            overview = demo_services.school_overview(session, include_signins=settings.demo)
        return render(request, "home.html", {"overview": overview})

    for router in (
        auth.router,
        learner.router,
        activities.router,
        teacher.router,
        guardian.router,
        admin.router,
        privacy.router,
        admin_privacy.router,
        audit_pages.router,
        admin_courses.router,
        course_import.router,
        case_import.router,
        qti_import.router,
        admin_roster.router,
        media.router,
    ):
        app.include_router(router)
    app.include_router(api_routes.router)
    app.include_router(api_admin.router)
    app.include_router(api_audit.router)
    app.include_router(api_assignments.router)
    app.include_router(api_lrs.router)
    return app
