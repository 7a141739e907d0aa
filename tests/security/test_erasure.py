"""Erasure really removes a learner, once the grace period after the request is over: every text
and JSON column of every table is scanned, and the SQLite file and its write-ahead log are
searched for the bytes of the learner's name. Requests are made, shown and cancelled on the
pages (learner, guardian, teacher, admin), and exports hold what the person exporting may see,
with the learner model's state."""

from __future__ import annotations

import io
import json
import re
import time
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import JSON, String, select
from typer.testing import CliRunner

from tests.conftest import DEMO_NOW
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.cli import app as cli_app
from zoped.clock import PinnedClock
from zoped.domain.people import Enrollment, LearnerProfile, Role, User
from zoped.services import erasure, learning_log
from zoped.services.erasure import DueErasures
from zoped.services.pathways import learner_state
from zoped.services.roster import create_user, enroll_learner, save_learner_profile
from zoped.services.system import Database
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import erasure_requests, metadata

# Course content written by authors (item stems may use first names such as "Amara"): not
# learner data. It is checked to be unchanged by an erasure instead of scanned.
CONTENT_TABLES = {
    "courses",
    "competencies",
    "competency_prerequisites",
    "rubrics",
    "activities",
    "activity_competencies",
    "items",
    "item_competencies",
}
GRACE = timedelta(days=14)
AFTER_GRACE = DEMO_NOW + GRACE + timedelta(hours=1)


def _content(database: Database) -> list[object]:
    with database.session() as session:
        return [
            session.execute(select(metadata.tables[name])).all()
            for name in sorted(CONTENT_TABLES & set(metadata.tables))
        ]


def _mentions(database: Database, learner_id: str) -> list[str]:
    pattern = re.compile(r"(?<![a-z0-9])" + re.escape(learner_id) + r"(?![a-z0-9])", re.I)
    found = []
    with database.session() as session:
        for table in metadata.sorted_tables:
            if table.name in CONTENT_TABLES:
                continue
            columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
            if not columns:
                continue
            for row in session.execute(select(*columns)).all():
                for column, value in zip(columns, row, strict=True):
                    text = value if isinstance(value, str) else json.dumps(value)
                    if value is not None and pattern.search(text):
                        found.append(f"{table.name}.{column.name}: {text[:80]}")
    return found


def _erase_due(database: Database, now: datetime = AFTER_GRACE) -> DueErasures:
    with database.session() as session:
        return erasure.erase_due(session, now=now)


def _user(database: Database, user_id: str) -> User:
    with database.session() as session:
        return PeopleRepository(session).get_user(user_id)


def _export(client: TestClient, learner_id: str) -> tuple[dict[str, Any], bytes]:
    response = client.get(f"/privacy/export/{learner_id}")
    assert response.status_code == 200, response.text[:300]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        raw = b"".join(archive.read(name) for name in archive.namelist())
        return json.loads(archive.read("data.json")), raw


def test_admin_erasure_leaves_no_trace_in_any_table(fresh_db: Database) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    rivera = make_client(fresh_db)
    sign_in(rivera, "rivera")
    assert rivera.get("/api/v1/learners/amara").status_code == 200  # an audited access
    before = _mentions(fresh_db, "ben")
    content = _content(fresh_db)
    response = admin.post("/api/v1/learners/amara/erase", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "pending"
    assert body["due_at"].startswith((DEMO_NOW + GRACE).date().isoformat())
    again = admin.post("/api/v1/learners/amara/erase", headers={"X-CSRF-Token": csrf})
    assert again.json()["id"] == body["id"]  # one request per learner
    # Nothing happens before the grace period is over.
    assert _erase_due(fresh_db, DEMO_NOW + GRACE - timedelta(minutes=1)).done == []
    assert admin.get("/api/v1/learners/amara").status_code == 200
    [done] = _erase_due(fresh_db).done
    assert done.rows_by_table["evidence_events"] > 0
    assert _mentions(fresh_db, "amara") == []
    assert _mentions(fresh_db, "ben") == before  # nobody else was touched
    assert _content(fresh_db) == content
    assert admin.get("/api/v1/learners/amara").status_code == 404
    # The school's admin sees the erasure (the learner's own row is gone, so it is the school's).
    assert done.pseudonym in admin.get("/admin/audit", params={"action": "erase"}).text


def test_the_api_cancels_a_request_and_refuses_a_teacher(fresh_db: Database) -> None:
    learner = make_client(fresh_db)
    csrf = sign_in(learner, "amara")
    asked = learner.post("/api/v1/learners/amara/erase", headers={"X-CSRF-Token": csrf})
    assert asked.status_code == 202
    rivera = make_client(fresh_db)
    rivera_csrf = sign_in(rivera, "rivera")
    refused = rivera.post("/api/v1/learners/amara/erase", headers={"X-CSRF-Token": rivera_csrf})
    assert refused.status_code == 403
    cancelled = rivera.delete("/api/v1/learners/amara/erase", headers={"X-CSRF-Token": rivera_csrf})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    twice = rivera.delete("/api/v1/learners/amara/erase", headers={"X-CSRF-Token": rivera_csrf})
    assert twice.status_code == 409
    assert twice.json()["error"]["code"]
    assert _erase_due(fresh_db).done == []


def test_a_learner_asks_for_erasure_on_the_privacy_page(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    csrf = sign_in(client, "elif")
    data, _ = _export(client, "elif")
    assert data["tables"]["users"][0]["id"] == "elif"
    assert "password_hash" not in data["tables"]["users"][0]
    assert data["tables"]["evidence_events"]
    page = client.get("/privacy")
    assert "Ask for erasure" in page.text
    assert "14 days after you ask" in page.text
    form = {"csrf_token": csrf, "learner_id": "elif", "next": "/privacy"}
    wrong = client.post("/privacy/erase", data={**form, "confirm": "nope"})
    assert wrong.status_code == 422
    assert "Type the username exactly" in wrong.text
    with fresh_db.session() as session:
        assert session.execute(select(erasure_requests)).first() is None
    done = client.post("/privacy/erase", data={**form, "confirm": "elif"})
    assert done.status_code == 303
    assert done.headers["location"] == "/privacy?done=requested"
    page = client.get(done.headers["location"])
    assert "Erasure requested" in page.text
    due = (DEMO_NOW + GRACE).strftime("%d %B %Y")
    assert f"Your data will be erased on {due}" in page.text
    assert "Asked for by you" in page.text
    assert "Cancel the erasure" in page.text
    assert _mentions(fresh_db, "elif")  # nothing erased yet; still signed in
    assert client.get("/learner").status_code == 200
    [erased] = _erase_due(fresh_db).done
    assert _mentions(fresh_db, "elif") == []
    assert client.get("/privacy").status_code == 303  # signed out: the account is gone
    with fresh_db.session() as session:
        row = session.execute(select(erasure_requests)).mappings().one()
    assert (row["learner_id"], row["requested_by"]) == (erased.pseudonym, erased.pseudonym)


def test_a_learner_cancels_on_the_privacy_page(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    csrf = sign_in(client, "elif")
    form = {"csrf_token": csrf, "learner_id": "elif", "confirm": "elif", "next": "/privacy"}
    assert client.post("/privacy/erase", data=form).status_code == 303
    cancel = {"csrf_token": csrf, "learner_id": "elif", "next": "/privacy"}
    cancelled = client.post("/privacy/cancel", data=cancel)
    assert cancelled.status_code == 303
    page = client.get(cancelled.headers["location"])
    assert "The erasure is cancelled" in page.text
    assert "will be erased on" not in page.text
    assert "Ask for erasure" in page.text
    again = client.post("/privacy/cancel", data=cancel)
    assert again.status_code == 409  # nothing pending: a page, not a stack trace
    assert "Traceback" not in again.text
    assert _erase_due(fresh_db).done == []
    assert _mentions(fresh_db, "elif")


def test_a_guardian_asks_and_the_teacher_sees_it_and_cancels(fresh_db: Database) -> None:
    guardian = make_client(fresh_db)
    csrf = sign_in(guardian, "guardian.amara")
    page = guardian.get("/privacy")
    assert "Ask for erasure" in page.text
    form = {"csrf_token": csrf, "learner_id": "amara", "confirm": "amara", "next": "/privacy"}
    assert guardian.post("/privacy/erase", data=form).status_code == 303
    assert "data will be erased on" in guardian.get("/privacy").text
    teacher = make_client(fresh_db)
    teacher_csrf = sign_in(teacher, "rivera")
    learner_page = teacher.get("/teacher/learners/amara")
    assert learner_page.status_code == 200
    assert "data will be erased on" in learner_page.text
    assert "Asked for by" in learner_page.text
    # A teacher cannot ask for an erasure, even on the form.
    refused = teacher.post(
        "/privacy/erase",
        data={"csrf_token": teacher_csrf, "learner_id": "amara", "confirm": "amara"},
    )
    assert refused.status_code == 403
    back = "/teacher/learners/amara"
    cancelled = teacher.post(
        "/privacy/cancel", data={"csrf_token": teacher_csrf, "learner_id": "amara", "next": back}
    )
    assert cancelled.status_code == 303
    assert cancelled.headers["location"] == f"{back}?done=cancelled"
    shown = teacher.get(cancelled.headers["location"]).text
    assert "The erasure is cancelled" in shown
    assert "data will be erased on" not in shown
    assert "data will be erased on" not in guardian.get("/privacy").text
    # Off-site "next" targets are not followed.
    assert guardian.post("/privacy/erase", data=form).status_code == 303
    sneaky = guardian.post(
        "/privacy/cancel",
        data={"csrf_token": csrf, "learner_id": "amara", "next": "//evil.example/"},
    )
    assert sneaky.headers["location"] == "/privacy?done=cancelled"


def test_the_admin_page_finds_exports_asks_and_cancels(fresh_db: Database) -> None:
    teacher = make_client(fresh_db)
    sign_in(teacher, "rivera")
    assert teacher.get("/admin/privacy").status_code == 403
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    page = admin.get("/admin/privacy")
    assert page.status_code == 200
    assert 'aria-label="School administration"' in page.text  # the admin section's nav
    assert "No erasure is pending." in page.text
    found = admin.get("/admin/privacy", params={"q": "AMA"})
    assert "Amara" in found.text
    assert "/privacy/export/amara" in found.text
    assert "Ask for erasure of Amara" in found.text
    assert (
        "No learner of the school matches"
        in admin.get("/admin/privacy", params={"q": "100%_"}).text
    )
    assert admin.get("/admin/privacy", params={"q": "x" * 201}).status_code == 422
    data, _ = _export(admin, "amara")
    assert data["exported_by"] == "admin"
    form = {"csrf_token": csrf, "learner_id": "amara", "next": "/admin/privacy"}
    wrong = admin.post("/privacy/erase", data={**form, "confirm": "ben"})
    assert wrong.status_code == 422
    asked = admin.post("/privacy/erase", data={**form, "confirm": "amara"})
    assert asked.headers["location"] == "/admin/privacy?done=requested"
    text = admin.get(asked.headers["location"]).text
    assert "Erasure requested" in text
    assert (DEMO_NOW + GRACE).strftime("%Y-%m-%d") in text
    assert "Cancel the erasure of Amara" in text
    assert "Requested: see below." in admin.get("/admin/privacy", params={"q": "amara"}).text
    cancelled = admin.post("/privacy/cancel", data=form)
    assert cancelled.headers["location"] == "/admin/privacy?done=cancelled"
    text = admin.get("/admin/privacy").text
    assert "No erasure is pending." in text
    assert "cancelled" in text
    admin.post("/privacy/erase", data={**form, "confirm": "amara"})
    [done] = _erase_due(fresh_db).done
    text = admin.get("/admin/privacy").text
    assert done.pseudonym in text
    assert "erased" in text


def _write_log(database: Database, learner_id: str, body: str, shared: bool) -> None:
    with database.session() as session:
        learning_log.add_entry(
            session,
            actor=_user(database, learner_id),
            learner_id=learner_id,
            body=body,
            shared=shared,
            now=DEMO_NOW,
        )


def test_a_guardians_export_holds_only_what_a_guardian_sees(fresh_db: Database) -> None:
    secret = "my private worry about the test " + uuid.uuid4().hex[:8]
    shared = "a note for my teacher " + uuid.uuid4().hex[:8]
    _write_log(fresh_db, "amara", secret, shared=False)
    _write_log(fresh_db, "amara", shared, shared=True)
    learner = make_client(fresh_db)
    sign_in(learner, "amara")
    own, own_raw = _export(learner, "amara")
    assert secret.encode() in own_raw
    assert own["exported_by"] == "self"
    assert own["left_out"] == []
    guardian = make_client(fresh_db)
    sign_in(guardian, "guardian.amara")
    copy, raw = _export(guardian, "amara")
    assert copy["exported_by"] == "guardian"
    assert secret.encode() not in raw
    assert shared.encode() not in raw  # guardians see no learning log at all
    tables = set(copy["tables"])
    for private in ("log_entries", "web_sessions", "api_tokens", "recommendation_decisions"):
        assert private not in tables, private
    assert {"users", "evidence_events", "audit_log"} <= tables
    assert {r["guardian_id"] for r in copy["tables"].get("guardian_links", [])} <= {
        _user(fresh_db, "guardian.amara").id
    }
    assert copy["left_out"]
    admin = make_client(fresh_db)
    sign_in(admin, "admin")
    school, school_raw = _export(admin, "amara")
    assert shared.encode() in school_raw
    assert secret.encode() not in school_raw
    # No copy holds a credential, even as a digest.
    for data in (own, copy, school):
        for row in data["tables"].get("web_sessions", []):
            assert "id" not in row
        assert all("password_hash" not in r for r in data["tables"]["users"])


def test_every_export_holds_the_learner_models_state(fresh_db: Database) -> None:
    exports = {}
    for who in ("amara", "guardian.amara", "admin"):
        client = make_client(fresh_db)
        sign_in(client, who)
        exports[who], _ = _export(client, "amara")
    admin = _user(fresh_db, "admin")
    for who, data in exports.items():
        states = data["model_state"]
        assert states, who
        for doc in states:
            with fresh_db.session() as session:
                state = learner_state(
                    session,
                    actor=admin,
                    learner_id="amara",
                    now=DEMO_NOW,
                    course_id=doc["course_id"],
                )
            assert doc["parameter_version"] == state.parameter_version
            assert doc["parameter_version"]
            assert doc["n_events"] == state.n_events
            by_id = {c["competency_id"]: c for c in doc["competencies"]}
            assert set(by_id) == {c.competency_id for c in state.competencies}
            for c in state.competencies:
                got = by_id[c.competency_id]
                assert got["level"] == c.level.label, (who, c.competency_id)
                assert got["p_known"] == pytest.approx(c.p_known)
                assert got["p_correct"] == pytest.approx(c.p_correct)
                due = c.review_due_at.isoformat() if c.review_due_at else None
                assert got["review_due_at"] == due
    practised = [
        c
        for doc in exports["amara"]["model_state"]
        for c in doc["competencies"]
        if c["evidence_count"]
    ]
    assert practised, "the demo learner has practised"
    assert any(c["review_due_at"] for c in practised)


NAME = "Zebulon Quixotefrobnitz"


def _file_bytes(database: Database) -> tuple[bytes, bytes]:
    path = Path(database.url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    return path.read_bytes(), wal.read_bytes() if wal.exists() else b""


def test_erased_bytes_leave_the_sqlite_file_and_its_wal(fresh_db: Database) -> None:
    with fresh_db.session() as session:
        assert session.connection().exec_driver_sql("PRAGMA secure_delete").scalar() == 1
        create_user(
            session,
            user=User("zq", "demo-school", Role.LEARNER, NAME, username="zq.frobnitz"),
            now=DEMO_NOW,
        )
        enroll_learner(session, enrollment=Enrollment("class-5a", "zq"), now=DEMO_NOW)
        for step in range(3):  # rewritten, so that older copies of the pages exist
            save_learner_profile(
                session,
                profile=LearnerProfile("zq", f"{NAME} {step}", interests=(f"{NAME} likes maps",)),
                now=DEMO_NOW,
            )
    _write_log(fresh_db, "zq", f"Today {NAME} practised fractions", shared=False)
    database, wal = _file_bytes(fresh_db)
    assert NAME.encode() in database + wal  # the search can find it
    with fresh_db.session() as session:
        admin = PeopleRepository(session).get_user("admin")
        erasure.request_erasure(session, actor=admin, learner_id="zq", now=DEMO_NOW)
    result = _erase_due(fresh_db)
    assert len(result.done) == 1
    assert result.checkpointed
    database, wal = _file_bytes(fresh_db)
    assert wal == b""  # truncated by the checkpoint
    assert NAME.encode() not in database
    assert b"Quixotefrobnitz" not in database
    assert b"zq.frobnitz" not in database


def test_the_running_app_erases_due_requests_in_the_background(fresh_db: Database) -> None:
    with fresh_db.session() as session:
        admin = PeopleRepository(session).get_user("admin")
        erasure.request_erasure(session, actor=admin, learner_id="elif", now=DEMO_NOW)
        erasure.request_erasure(
            session, actor=admin, learner_id="amara", now=DEMO_NOW + timedelta(days=30)
        )
    with make_client(fresh_db, clock=PinnedClock(AFTER_GRACE)) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 20
        while _mentions(fresh_db, "elif") and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _mentions(fresh_db, "elif") == []
    assert _mentions(fresh_db, "amara")  # not due yet


def test_the_cli_erases_due_requests(fresh_db: Database) -> None:
    long_ago = datetime(2000, 1, 1, tzinfo=UTC)  # due whatever the date the tests run on
    with fresh_db.session() as session:
        admin = PeopleRepository(session).get_user("admin")
        erasure.request_erasure(session, actor=admin, learner_id="elif", now=long_ago, grace_days=0)
        far_future = datetime(9000, 1, 1, tzinfo=UTC)
        erasure.request_erasure(session, actor=admin, learner_id="amara", now=far_future)
    result = CliRunner().invoke(cli_app, ["privacy", "erase-due", "--database", fresh_db.url])
    assert result.exit_code == 0, result.output
    assert "1 learner erased" in result.output
    assert _mentions(fresh_db, "elif") == []
    assert _mentions(fresh_db, "amara")
    again = CliRunner().invoke(cli_app, ["privacy", "erase-due", "--db", fresh_db.url])
    assert "0 learners erased" in again.output


def test_every_privacy_route_needs_a_signed_in_user(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    csrf = csrf_of(client)
    for path in ("/privacy", "/admin/privacy", "/privacy/export/amara"):
        response = client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/signin")
    posted = client.post("/privacy/cancel", data={"csrf_token": csrf, "learner_id": "amara"})
    assert posted.status_code == 303
    assert posted.headers["location"].startswith("/signin")
