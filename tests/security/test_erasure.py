"""Erasure really removes a learner: every text and JSON column of every table is scanned."""

from __future__ import annotations

import io
import json
import re
import zipfile

from sqlalchemy import JSON, String, select

from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.store.tables import metadata

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


def _content(database) -> list[object]:
    with database.session() as session:
        return [
            session.execute(select(metadata.tables[name])).all() for name in sorted(CONTENT_TABLES)
        ]


def _mentions(database, learner_id: str) -> list[str]:
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


def test_admin_erasure_leaves_no_trace_in_any_table(fresh_db) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    rivera = make_client(fresh_db)
    sign_in(rivera, "rivera")
    assert rivera.get("/api/v1/learners/amara").status_code == 200  # an audited access
    assert _mentions(fresh_db, "amara")
    before = _mentions(fresh_db, "ben")
    content = _content(fresh_db)
    response = admin.post("/api/v1/learners/amara/erase", headers={"X-CSRF-Token": csrf})
    assert response.status_code == 200, response.text
    assert response.json()["rows_by_table"]["evidence_events"] > 0
    assert _mentions(fresh_db, "amara") == []
    assert _mentions(fresh_db, "ben") == before  # nobody else was touched
    assert _content(fresh_db) == content
    assert admin.get("/api/v1/learners/amara").status_code == 404
    audit = admin.get("/admin/audit")
    assert "erase" in audit.text


def test_learner_erases_themselves_from_the_privacy_page(fresh_db) -> None:
    client = make_client(fresh_db)
    csrf = sign_in(client, "elif")
    export = client.get("/privacy/export/elif")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:
        data = json.loads(archive.read("data.json"))
        statements = json.loads(archive.read("xapi-statements.json"))
    assert data["tables"]["users"][0]["id"] == "elif"
    assert "password_hash" not in data["tables"]["users"][0]
    assert data["tables"]["evidence_events"]
    assert statements[0]["actor"]["account"]["name"] == "elif"
    assert statements[0]["verb"]["id"].startswith("http://adlnet.gov/expapi/verbs/")
    wrong = client.post(
        "/privacy/erase", data={"csrf_token": csrf, "learner_id": "elif", "confirm": "nope"}
    )
    assert wrong.status_code == 422
    assert _mentions(fresh_db, "elif")
    done = client.post(
        "/privacy/erase", data={"csrf_token": csrf, "learner_id": "elif", "confirm": "elif"}
    )
    assert done.status_code == 200
    assert _mentions(fresh_db, "elif") == []
    assert client.get("/privacy").status_code == 303  # signed out: the account is gone
    assert csrf_of(make_client(fresh_db))
