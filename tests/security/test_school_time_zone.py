"""Each school's own time zone: set by the operator (``zoped school create --time-zone``) and by
an admin on the overview page (an unknown zone refused beside the field, nothing changed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from tests.security.conftest import make_client, sign_in
from zoped.cli import app
from zoped.errors import InvalidInput, NotFound
from zoped.services import accounts
from zoped.services.demo import DEMO_SCHOOL_ID
from zoped.services.system import Database, open_database
from zoped.store.tables import audit_log

runner = CliRunner()


def _zone(database: Database, school_id: str = DEMO_SCHOOL_ID) -> str:
    with database.session() as session:
        return accounts.get_school(session, school_id=school_id).time_zone


def _zone_changes(database: Database) -> list[tuple[str | None, dict[str, str]]]:
    with database.session() as session:
        stmt = select(audit_log.c.actor_id, audit_log.c.details).where(
            audit_log.c.action == "school.time_zone"
        )
        return [
            (row.actor_id, {k: v for k, v in row.details.items() if k != "_v"})
            for row in session.execute(stmt)
        ]


def _set_zone(client: TestClient, csrf: str, zone: str):
    return client.post("/admin/time-zone", data={"time_zone": zone, "csrf_token": csrf})


def test_an_admin_sets_the_school_time_zone_and_the_change_is_audited(
    fresh_db: Database,
) -> None:
    before = _zone(fresh_db)
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    assert 'name="time_zone"' in admin.get("/admin").text
    done = _set_zone(admin, csrf, " America/New_York ")
    assert done.status_code == 303
    assert _zone(fresh_db) == "America/New_York"
    assert "time zone is saved" in admin.get(done.headers["location"]).text
    assert _zone_changes(fresh_db) == [("admin", {"from": before, "to": "America/New_York"})]


def test_an_unknown_time_zone_is_refused_beside_the_field_and_nothing_changes(
    fresh_db: Database,
) -> None:
    before = _zone(fresh_db)
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    for bad in ("Mars/Olympus", "", "../../etc/passwd", "localtime"):
        refused = _set_zone(admin, csrf, bad)
        assert refused.status_code == 422, bad
        page = refused.text
        assert 'id="time_zone-error"' in page  # the problem sits beside its field
        assert "a time zone name such as" in page
        assert 'aria-invalid="true"' in page
        if bad:
            assert f'value="{bad}"' in page  # what was typed is kept
        assert "Traceback" not in page
    assert _zone(fresh_db) == before
    assert _zone_changes(fresh_db) == []


def test_only_an_admin_sets_the_time_zone(fresh_db: Database) -> None:
    before = _zone(fresh_db)
    teacher = make_client(fresh_db)
    csrf = sign_in(teacher, "rivera")
    assert _set_zone(teacher, csrf, "Europe/Paris").status_code == 403
    assert _zone(fresh_db) == before


def test_the_cli_creates_a_school_in_a_time_zone_and_refuses_an_unknown_one(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'zoped.db'}"
    made = runner.invoke(
        app,
        ["school", "create", "kiwi", "--name", "Kiwi School", "--time-zone", "Pacific/Auckland"],
        env={"ZOPED_DATABASE_URL": url},
    )
    assert made.exit_code == 0, made.output
    assert "created school kiwi (time zone Pacific/Auckland)" in made.output
    plain = runner.invoke(
        app, ["school", "create", "plain", "--name", "Plain"], env={"ZOPED_DATABASE_URL": url}
    )
    assert "(time zone UTC)" in plain.output
    refused = runner.invoke(
        app,
        ["school", "create", "mars", "--name", "Mars", "--time-zone", "Mars/Olympus"],
        env={"ZOPED_DATABASE_URL": url},
    )
    assert refused.exit_code != 0  # zoped's main() prints the problem and exits with 2
    assert isinstance(refused.exception, InvalidInput)
    assert "time zone name such as" in str(refused.exception)
    database = open_database(url)
    try:
        assert _zone(database, "kiwi") == "Pacific/Auckland"
        assert _zone(database, "plain") == "UTC"
        with database.session() as session, pytest.raises(NotFound):
            accounts.get_school(session, school_id="mars")
    finally:
        database.dispose()
