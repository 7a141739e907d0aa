"""The first web app: home page, health check, friendly errors, security headers."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import DEMO_NOW
from zoped.app import SECURITY_HEADERS, create_app
from zoped.clock import PinnedClock
from zoped.settings import Settings


@pytest.fixture
def client(demo_db):
    app = create_app(
        Settings(demo=True, database_url=demo_db.url), database=demo_db, clock=PinnedClock(DEMO_NOW)
    )
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def test_healthz_answers_ok_once_the_database_answers(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_healthz_reports_a_database_that_does_not_answer(tmp_path):
    from zoped.services.system import open_database

    database = open_database(f"sqlite:///{tmp_path / 'gone.db'}")
    app = create_app(Settings(database_url=database.url), database=database)
    database.engine.dispose()
    (tmp_path / "gone.db").unlink()
    (tmp_path / "gone.db").mkdir()  # a directory where the file was: SQLite cannot open it
    with TestClient(app) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


def test_home_page_shows_the_school_and_the_demo_signins(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "Riverside Middle School" in page.text
    assert "Demo sign-ins" in page.text
    assert "rivera" in page.text
    assert "guardian.amara" in page.text
    assert "<strong>60</strong> learners" in page.text


def test_home_page_hides_signins_outside_the_demo(demo_db):
    app = create_app(
        Settings(demo=False, database_url=demo_db.url),
        database=demo_db,
        clock=PinnedClock(DEMO_NOW),
    )
    with TestClient(app) as test_client:
        page = test_client.get("/")
    assert "Riverside Middle School" in page.text
    assert "Demo sign-ins" not in page.text
    assert "zoped-demo" not in page.text


def test_every_response_carries_the_security_headers(client):
    for path in ("/", "/healthz", "/no-such-page", "/static/zoped.css"):
        response = client.get(path)
        for name, value in SECURITY_HEADERS.items():
            assert response.headers.get(name) == value, (path, name)
    assert "'unsafe-inline'" not in SECURITY_HEADERS["Content-Security-Policy"]


def test_unknown_page_is_a_friendly_404_without_a_traceback(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "We could not find that page" in response.text
    assert "Traceback" not in response.text


def test_openapi_schema_is_served_but_no_cdn_docs_page(client):
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404


def test_no_route_runs_on_the_event_loop():
    """Every route calls blocking services (database, model maths), so each is a plain def that
    FastAPI runs in its thread pool; an async route would stall every other request."""
    import inspect

    from fastapi.routing import APIRoute

    from zoped.api import routes as api_routes
    from zoped.web import auth, guardian, learner, teacher

    routers = (auth.router, learner.router, teacher.router, guardian.router, api_routes.router)
    routes = [r for router in routers for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) > 30
    assert [r.path for r in routes if inspect.iscoroutinefunction(r.endpoint)] == []
