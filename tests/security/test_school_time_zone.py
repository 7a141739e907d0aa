"""Each school's own time zone: set by the operator (``zoped school create --time-zone``) and by
an admin on the overview page (an unknown zone refused beside the field, nothing changed)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import select
from typer.testing import CliRunner

from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client, sign_in
from tests.security.test_assignments_api import _bearer
from zoped.cli import app
from zoped.clock import PinnedClock
from zoped.errors import InvalidInput, NotFound
from zoped.services import accounts
from zoped.services.courses import courses_of_learner, get_course
from zoped.services.demo import DEMO_SCHOOL_ID
from zoped.services.system import Database, open_database
from zoped.store.tables import assignments, audit_log

runner = CliRunner()
NEW_YORK = ZoneInfo("America/New_York")
AUCKLAND = ZoneInfo("Pacific/Auckland")


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


# --- due dates are days of the school's time zone ------------------------------------------


def _in_zone(database: Database, zone: str) -> None:
    with database.session() as session:
        accounts.set_school_time_zone(
            session, actor=None, school_id=DEMO_SCHOOL_ID, time_zone=zone, now=DEMO_NOW
        )


def _first_activity(database: Database) -> str:
    with database.session() as session:
        info = courses_of_learner(session, learner_id="amara")[0]
        return get_course(session, course_id=info.key).activities[0].id


def _at(database: Database, local: datetime, username: str) -> TestClient:
    """A client signed in as ``username`` whose clock reads ``local`` (an aware local time)."""
    client = make_client(database, clock=PinnedClock(local.astimezone(UTC)))
    sign_in(client, username)
    return client


def _assigned(client: TestClient) -> str:
    """The learner's "From your teacher" section, as text."""
    page = client.get("/learner").text
    start = page.index('id="assigned-h"')
    section = page[start : page.index("</section>", start)]
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section)))


def _assign_due(database: Database, local: datetime, due: str) -> Response:
    teacher = make_client(database, clock=PinnedClock(local.astimezone(UTC)))
    csrf = sign_in(teacher, "rivera")
    form = {
        "csrf_token": csrf,
        "activity_id": _first_activity(database),
        "learner_ids": "amara",
        "due_at": due,
        "back": "/teacher/learners/amara",
    }
    return teacher.post("/teacher/assignments", data=form)


def test_in_new_york_work_due_today_is_due_until_local_midnight(fresh_db: Database) -> None:
    """Due 12 December in New York: at 20:00 local (01:00 UTC on the 13th) it is still due
    today, for the learner, the teacher and the API; at 00:01 local on the 13th it is overdue."""
    _in_zone(fresh_db, "America/New_York")
    evening = datetime(2026, 12, 12, 20, 0, tzinfo=NEW_YORK)
    # The teacher may still set it for today (the UTC day has already ended).
    assert _assign_due(fresh_db, evening, "2026-12-12").status_code == 303
    assert "Due today" in _assigned(_at(fresh_db, evening, "amara"))
    teacher = _at(fresh_db, evening, "rivera")
    assert "· due today" in teacher.get("/teacher/classes/class-5a").text
    with fresh_db.session() as session:
        [row] = session.execute(select(assignments.c.due_at)).scalars().all()
    assert row == datetime(2026, 12, 12, 23, 59, 59, tzinfo=NEW_YORK)

    api = make_client(fresh_db, clock=PinnedClock(evening.astimezone(UTC)))
    headers = _bearer(fresh_db, "amara", "read:learners")
    [mine] = api.get("/api/v1/learners/amara/assignments", headers=headers).json()
    assert mine["progress"]["status"] == "not started"
    assert datetime.fromisoformat(mine["assignment"]["due_at"]) == row

    after_midnight = datetime(2026, 12, 13, 0, 1, tzinfo=NEW_YORK)
    assert "Overdue by 1 day" in _assigned(_at(fresh_db, after_midnight, "amara"))
    late = _at(fresh_db, after_midnight, "rivera").get("/teacher/classes/class-5a").text
    assert "· overdue by 1 day" in late


def test_in_auckland_the_day_ends_before_it_ends_in_utc(fresh_db: Database) -> None:
    """Due 12 December in Auckland (UTC+13): on the morning of the 12th (the 11th in UTC) it
    is due today, not tomorrow; at 00:01 on the 13th (11:01 UTC on the 12th) it is overdue."""
    _in_zone(fresh_db, "Pacific/Auckland")
    morning = datetime(2026, 12, 12, 8, 0, tzinfo=AUCKLAND)
    assert _assign_due(fresh_db, morning, "2026-12-12").status_code == 303
    assert "Due today" in _assigned(_at(fresh_db, morning, "amara"))
    after_midnight = datetime(2026, 12, 13, 0, 1, tzinfo=AUCKLAND)
    assert "Overdue by 1 day" in _assigned(_at(fresh_db, after_midnight, "amara"))
    # A day that has ended there is refused, though it has not ended in UTC.
    refused = _assign_due(fresh_db, after_midnight, "2026-12-12")
    assert refused.status_code == 422
    assert "that date has passed" in refused.text


# --- pages show times in the school's time zone ---------------------------------------------


def test_pages_show_times_and_days_in_the_school_time_zone(fresh_db: Database) -> None:
    """At 20:00 on Saturday 12 December in New York (01:00 UTC on Sunday the 13th), a log
    entry reads 20:00 on the 12th, the teacher's "today" is Saturday the 12th, and the audit
    log shows the zone's abbreviation, not a literal UTC."""
    _in_zone(fresh_db, "America/New_York")
    evening = datetime(2026, 12, 12, 20, 0, tzinfo=NEW_YORK)
    learner = make_client(fresh_db, clock=PinnedClock(evening.astimezone(UTC)))
    csrf = sign_in(learner, "amara")
    written = learner.post("/learner/log", data={"body": "Fractions today", "csrf_token": csrf})
    assert written.status_code == 303
    log = learner.get("/learner/log").text
    assert "12 Dec 2026, 20:00" in log
    assert "13 Dec 2026" not in log

    today = _at(fresh_db, evening, "rivera").get("/teacher/today").text
    assert "Saturday 12 December 2026" in today

    audit = _at(fresh_db, evening, "admin").get("/admin/audit").text
    assert "2026-12-12 20:00:00 EST" in audit  # amara's sign-in and her log entry
    assert "(America/New_York)" in audit
    assert " UTC" not in audit
