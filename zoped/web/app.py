"""The application factory: ``create_app(settings)`` builds everything; nothing at import time."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from zoped import __version__
from zoped.api import routes as api_routes
from zoped.services import demo as demo_services
from zoped.services.system import Database, database_answers, open_database
from zoped.settings import Settings
from zoped.web import auth, guardian, learner, teacher

HERE = Path(__file__).parent
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


def create_app(settings: Settings, *, database: Database | None = None) -> FastAPI:
    """Build the web app for ``settings``; tests may pass their own ``database``."""
    db = database or open_database(settings.database_url)
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["version"] = __version__

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if database is None:
            db.dispose()

    app = FastAPI(title="zoped", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    def page_error(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith(("/api/", "/healthz")):
            return JSONResponse({"error": {"status": status, "message": message}}, status)
        return templates.TemplateResponse(
            request, "error.html", {"status": status, "message": message}, status_code=status
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        messages = {404: "We could not find that page.", 405: "That action is not allowed here."}
        return page_error(request, error.status_code, messages.get(error.status_code, "Error"))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        del error
        return page_error(request, 422, "Some of what was sent could not be read.")

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> Response:
        log.exception("unhandled error on %s", request.url.path, exc_info=error)
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
        return templates.TemplateResponse(request, "home.html", {"overview": overview})

    for router in (auth.router, learner.router, teacher.router, guardian.router):
        app.include_router(router)
    app.include_router(api_routes.router)
    return app
