"""The session signing key (issue 16, item 1): the app never runs on the public default key
outside tests, ``zoped serve`` refuses to start without a real one, and ``zoped demo`` makes
its own, so a cookie signed with the default key opens nothing."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import itsdangerous
import pytest
from typer.testing import CliRunner

from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client
from zoped.app import SESSION_COOKIE, create_app
from zoped.cli import app as cli
from zoped.cli.demo import demo_settings
from zoped.services import auth as auth_services
from zoped.services.system import Database
from zoped.settings import DEFAULT_SECRET, InsecureSettings, Settings
from zoped.web.deps import SESSION_ID


@pytest.mark.parametrize("secret", [DEFAULT_SECRET, "short-but-not-default"])
@pytest.mark.parametrize("environment", ["development", "production"])
def test_the_app_refuses_the_default_or_a_short_key(
    secret: str, environment: str, shared_db: Database
) -> None:
    with pytest.raises((InsecureSettings, ValueError), match="ZOPED_SECRET_KEY"):
        create_app(
            Settings(database_url=shared_db.url, environment=environment, secret_key=secret),
            database=shared_db,
        )


def test_serve_refuses_to_start_without_a_real_key(tmp_path: Path) -> None:
    env = {
        "ZOPED_ENVIRONMENT": "development",
        "ZOPED_SECRET_KEY": DEFAULT_SECRET,
        "ZOPED_DATABASE_URL": f"sqlite:///{tmp_path / 'z.db'}",
    }
    result = CliRunner().invoke(cli, ["serve", "--port", "9"], env=env)
    assert result.exit_code == 2
    assert "Refusing to start" in result.output
    assert "ZOPED_SECRET_KEY" in result.output


def test_the_demo_signs_with_a_key_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ZOPED_SECRET_KEY", raising=False)
    first, second = demo_settings(tmp_path / "a.db"), demo_settings(tmp_path / "b.db")
    assert first.has_real_secret
    assert first.secret_key != second.secret_key
    monkeypatch.setenv("ZOPED_SECRET_KEY", "x" * 40)
    assert demo_settings(tmp_path / "c.db").secret_key == "x" * 40


def _forged_session(session_id: str, key: str) -> str:
    """A Starlette session cookie naming ``session_id``, signed with ``key``."""
    data = base64.b64encode(json.dumps({SESSION_ID: session_id}).encode())
    return itsdangerous.TimestampSigner(key).sign(data).decode()


def test_a_cookie_signed_with_the_default_key_opens_nothing(shared_db: Database) -> None:
    own_key = demo_settings(Path("unused.db")).secret_key
    with shared_db.session() as session:
        admin = auth_services.user_by_id(session, user_id="admin")
        assert admin is not None
        session_id = auth_services.start_web_session(session, user=admin, now=DEMO_NOW)
    forged = make_client(shared_db, secret_key=own_key)
    forged.cookies.set(SESSION_COOKIE, _forged_session(session_id, DEFAULT_SECRET))
    response = forged.get("/admin/audit")
    assert response.status_code in (302, 303)
    assert "/signin" in response.headers["location"]
    # The same cookie signed with the instance's own key is a session: the forgery is real.
    signed = make_client(shared_db, secret_key=own_key)
    signed.cookies.set(SESSION_COOKIE, _forged_session(session_id, own_key))
    assert signed.get("/admin/audit").status_code == 200
