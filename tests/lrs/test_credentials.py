"""``zoped credentials create --role lrs``: a credential of one school's LRS that signs in with
HTTP Basic and reaches nothing outside /xapi."""

from __future__ import annotations

import base64
from pathlib import Path

import time_machine
from typer.testing import CliRunner

from tests.conftest import DEMO_NOW
from tests.lrs.conftest import VERSION
from tests.security.conftest import make_client
from zoped.cli import app
from zoped.domain.people import Role, School
from zoped.services import roster, tokens
from zoped.services.system import open_database

runner = CliRunner()


def test_an_lrs_credential_signs_in_with_basic_and_only_to_the_lrs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lrs.db'}"
    database = open_database(url)
    with database.session() as session:
        roster.create_school(session, school=School("north", "North"), now=DEMO_NOW)
    with time_machine.travel(DEMO_NOW, tick=False):
        result = runner.invoke(
            app, ["credentials", "create", "--role", "lrs", "--name", "Sims", "--db", url]
        )
    assert result.exit_code == 0, result.output
    fields = dict(line.split(":", 1) for line in result.output.splitlines() if ":" in line)
    key, secret = fields["key"].strip(), fields["secret"].strip()
    assert fields["scopes"].strip() == "xapi:lrs"
    assert "basic" in fields
    pair = base64.b64encode(f"{key}:{secret}".encode()).decode()
    client = make_client(database)
    lrs = client.get("/xapi/statements", headers={"Authorization": f"Basic {pair}", **VERSION})
    assert lrs.status_code == 200, lrs.text
    api = client.get("/api/v1/learners", headers={"Authorization": f"Bearer {key}.{secret}"})
    assert api.status_code == 403, "the LRS scope opens nothing else"
    refused = runner.invoke(app, ["credentials", "create", "--role", "robot", "--name", "x"])
    assert refused.exit_code != 0
    assert "lrs" in refused.output
    database.dispose()


def test_the_lrs_scope_serves_only_an_admin_of_the_school(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'lrs.db'}"
    database = open_database(url)
    with database.session() as session:
        roster.create_school(session, school=School("north", "North"), now=DEMO_NOW)
        teacher = tokens.create_service_credentials(
            session,
            role=Role.TEACHER,
            name="teacher's tool",
            scopes=[tokens.Scope.XAPI_LRS],
            now=DEMO_NOW,
        )
    client = make_client(database)
    pair = base64.b64encode(f"{teacher.key_id}:{teacher.secret}".encode()).decode()
    refused = client.get("/xapi/statements", headers={"Authorization": f"Basic {pair}", **VERSION})
    assert refused.status_code == 403
    database.dispose()
