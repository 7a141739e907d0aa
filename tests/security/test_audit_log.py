"""The audit log through HTTP, on SQLite and PostgreSQL: each page view is one row per
(actor, action, learner); the admin's page filters, pages and exports their own school's log;
the JSON API reads it with a ``read:audit`` token."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from tests.conftest import DEMO_NOW
from tests.security.conftest import copy_database, csrf_of, make_client
from zoped.domain.people import Role, School, User
from zoped.services import demo, tokens
from zoped.services.audit import record_access
from zoped.services.auth import hash_password
from zoped.services.roster import create_school, create_user
from zoped.services.system import Database, open_database
from zoped.store.db import make_engine, normalise_url
from zoped.store.tables import audit_log

ENTRY_RE = re.compile(r'<tr id="entry-(\d+)">')


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def audit_db(
    request: pytest.FixtureRequest, seeded_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """The demo school and a second school (Hill) on each backend, shared by this module's
    tests (each reads only the rows it wrote, or rows at instants of its own)."""
    if request.param == "sqlite":
        database = copy_database(seeded_path, tmp_path_factory.mktemp("audit") / "demo.db")
        _hill_school(database)
        yield database
        database.dispose()
        return
    base = request.getfixturevalue("postgres_url")
    schema = f"test_audit_{uuid.uuid4().hex[:12]}"
    admin = make_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(normalise_url(base)).update_query_dict({"options": f"-csearch_path={schema}"})
    database = open_database(url.render_as_string(hide_password=False))
    try:
        with database.session() as session:
            demo.seed_demo_school(session, seed=7, now=DEMO_NOW)
        _hill_school(database)
        yield database
    finally:
        database.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _hill_school(database: Database) -> None:
    """A second school with its own admin and learner, and an access there."""
    password = hash_password(demo.DEMO_PASSWORD)
    with database.session() as session:
        create_school(session, school=School("hill", "Hill School"), now=DEMO_NOW)
        admin = User("hill-admin", "hill", Role.ADMIN, "Hill admin", username="hilladmin")
        learner = User("hill-kid", "hill", Role.LEARNER, "Hill kid", username="amara")
        for user in (admin, learner):
            create_user(session, user=user, password_hash=password, now=DEMO_NOW)
        record_access(
            session, actor=admin, action="read", subject_type="learner", subject_id="hill-kid",
            now=DEMO_NOW,
        )  # fmt: skip
        session.commit()


def _last_id(database: Database) -> int:
    with database.session() as session:
        return session.scalar(select(func.max(audit_log.c.id))) or 0


def _written_since(database: Database, last: int) -> Counter[tuple[str, str, str, str]]:
    stmt = select(
        audit_log.c.actor_id, audit_log.c.action, audit_log.c.subject_type, audit_log.c.subject_id
    ).where(audit_log.c.id > last)
    with database.session() as session:
        return Counter(tuple(row) for row in session.execute(stmt))


def _signed_in(database: Database, username: str, school: str = demo.DEMO_SCHOOL_ID) -> TestClient:
    client = make_client(database)
    form = {
        "username": username, "password": demo.DEMO_PASSWORD, "school": school,
        "csrf_token": csrf_of(client),
    }  # fmt: skip
    assert client.post("/signin", data=form).status_code == 303
    return client


# --- one row per access ---------------------------------------------------------------------

# (who, page, the learners it reads). amara and rosa are in class-5a (Ms. Rivera's).
PAGE_VIEWS = [
    ("amara", "/learner", ["amara"]),
    ("amara", "/learner/plan", ["amara"]),
    ("amara", "/learner/log", ["amara"]),
    ("amara", "/learner/profile", ["amara"]),
    ("amara", "/api/v1/learners/amara/state", ["amara"]),
    ("amara", "/api/v1/learners/amara/menu", ["amara"]),
    ("rivera", "/teacher/learners/amara", ["amara"]),
    ("rivera", "/teacher/classes/class-5a", ["amara", "rosa"]),
    ("rivera", "/teacher/today", ["amara", "rosa"]),
    ("rivera", "/api/v1/learners/amara/state", ["amara"]),
    ("guardian.amara", "/guardian/learners/amara", ["amara"]),
    ("admin", "/teacher/learners/amara", ["amara"]),
    ("admin", "/teacher/classes/class-5a", ["amara", "rosa"]),
]


@pytest.mark.parametrize(("username", "path", "learners"), PAGE_VIEWS)
def test_a_page_view_is_one_row_per_access(
    audit_db: Database, username: str, path: str, learners: list[str]
) -> None:
    client = _signed_in(audit_db, username)
    last = _last_id(audit_db)
    assert client.get(path).status_code == 200
    written = _written_since(audit_db, last)
    repeated = {key: n for key, n in written.items() if n > 1}
    assert repeated == {}, f"{username} {path} wrote the same access more than once"
    for learner in learners:  # and every access is still there
        assert (username, "read", "learner", learner) in written, (path, learner, written)


def test_each_request_is_its_own_access(audit_db: Database) -> None:
    client = _signed_in(audit_db, "amara")
    last = _last_id(audit_db)
    for _ in range(2):
        assert client.get("/learner").status_code == 200
    assert _written_since(audit_db, last)[("amara", "read", "learner", "amara")] == 2


# --- the admin's page -----------------------------------------------------------------------


def _entries(page: str) -> list[int]:
    return [int(found) for found in ENTRY_RE.findall(page)]


def _ids_where(database: Database, *conditions: object) -> set[int]:
    with database.session() as session:
        return set(session.scalars(select(audit_log.c.id).where(*conditions)))  # type: ignore[arg-type]


def test_the_page_filters_by_who_learner_action_and_days(audit_db: Database) -> None:
    # Accesses on two days of their own (far from the clock's), one of them at 23:59:59.
    day_1 = datetime(2031, 5, 1, tzinfo=UTC)
    rivera = User("rivera", demo.DEMO_SCHOOL_ID, Role.TEACHER, "Ms. Rivera", username="rivera")
    with audit_db.session() as session:
        for at, learner in (
            (day_1 + timedelta(hours=9), "amara"),
            (day_1 + timedelta(hours=23, minutes=59, seconds=59), "ben"),
            (day_1 + timedelta(days=1), "amara"),
        ):
            record_access(
                session, actor=rivera, action="comment", subject_type="learner",
                subject_id=learner, now=at,
            )  # fmt: skip
        session.commit()
    admin = _signed_in(audit_db, "admin")

    page = admin.get(
        "/admin/audit", params={"who": "rivera", "from": "2031-05-01", "to": "2031-05-01"}
    )
    assert page.status_code == 200
    day_1_ids = _ids_where(
        audit_db,
        audit_log.c.actor_id == "rivera",
        audit_log.c.at >= day_1,
        audit_log.c.at < day_1 + timedelta(days=1),
    )
    assert len(day_1_ids) == 2
    assert set(_entries(page.text)) == day_1_ids
    assert "2 entries match this filter" in page.text

    page = admin.get(
        "/admin/audit", params={"learner": "amara", "action": "comment", "from": "2031-05-01"}
    )
    assert len(_entries(page.text)) == 2
    assert '<option value="comment" selected>' in page.text
    assert 'value="amara"' in page.text  # the filter is shown back

    page = admin.get("/admin/audit", params={"who": "Ms. Rivera"})  # a name is not a username
    assert _entries(page.text) == []
    assert "No entries match this filter." in page.text


def test_paging_keeps_the_filter(audit_db: Database) -> None:
    admin_user = User("admin", demo.DEMO_SCHOOL_ID, Role.ADMIN, "Alex Morgan", username="admin")
    with audit_db.session() as session:
        for n in range(60):
            record_access(
                session, actor=admin_user, action="read", subject_type="learner",
                subject_id="ben", now=DEMO_NOW + timedelta(seconds=n),
            )  # fmt: skip
        session.commit()
    admin = _signed_in(audit_db, "admin")
    page = admin.get("/admin/audit", params={"action": "read"})
    older = re.search(r'<a href="([^"]+)" rel="next">', page.text)
    assert older is not None, "more than one page of reads"
    link = older.group(1).replace("&amp;", "&")
    assert parse_qs(urlparse(link).query) == {"action": ["read"], "page": ["2"]}
    second = admin.get(link)
    assert second.status_code == 200
    first_ids, second_ids = set(_entries(page.text)), set(_entries(second.text))
    assert len(first_ids) == 50
    assert second_ids
    assert not first_ids & second_ids
    assert (
        _ids_where(audit_db, audit_log.c.id.in_(second_ids), audit_log.c.action != "read") == set()
    )
    csv_link = re.search(r'<a href="(/admin/audit\.csv[^"]*)" download>', page.text)
    assert csv_link is not None
    assert parse_qs(urlparse(csv_link.group(1)).query) == {"action": ["read"]}


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"from": "2026-13-01"}, "is not a date"),
        ({"to": "31/12/2026"}, "write it as YYYY-MM-DD"),
        ({"from": "2026-11-02", "to": "2026-11-01"}, "is before the start date"),
    ],
)
@pytest.mark.parametrize("path", ["/admin/audit", "/admin/audit.csv"])
def test_a_bad_date_is_a_message_on_the_page(
    audit_db: Database, params: dict[str, str], says: str, path: str
) -> None:
    admin = _signed_in(audit_db, "admin")
    last = _last_id(audit_db)
    page = admin.get(path, params=params)
    assert page.status_code == 422
    assert page.headers["content-type"].startswith("text/html")
    assert says in page.text
    assert 'role="alert"' in page.text
    assert 'name="from"' in page.text  # the form is there to fix it
    assert "Traceback" not in page.text
    assert _written_since(audit_db, last) == Counter(), "nothing exported, nothing recorded"


def test_an_admin_sees_only_their_own_school(audit_db: Database) -> None:
    # A read of Amara of its own (this module's other tests may run in another worker).
    assert _signed_in(audit_db, "rivera").get("/teacher/learners/amara").status_code == 200
    hill = _signed_in(audit_db, "hilladmin", "hill")
    page = hill.get("/admin/audit")
    assert page.status_code == 200
    shown = set(_entries(page.text))
    with audit_db.session() as session:
        rows = session.execute(
            select(audit_log.c.id, audit_log.c.actor_id, audit_log.c.subject_id).where(
                audit_log.c.id.in_(shown)
            )
        ).all()
    assert rows
    assert {r.actor_id for r in rows} <= {"hill-admin", "hill-kid", None}
    assert {r.subject_id for r in rows} <= {"hill", "hill-admin", "hill-kid", None}
    # "amara" is a username in both schools: each admin's filter means their own.
    theirs = hill.get("/admin/audit", params={"learner": "amara"})
    assert "Hill kid" in theirs.text
    assert "Amara" not in theirs.text
    demo_admin = _signed_in(audit_db, "admin")
    ours = demo_admin.get("/admin/audit", params={"learner": "amara", "action": "read"})
    assert _entries(ours.text)
    assert "Hill kid" not in ours.text
    assert "hill-admin" not in demo_admin.get("/admin/audit.csv").text


def test_only_admins_read_the_log(audit_db: Database) -> None:
    for username in ("rivera", "amara", "guardian.amara"):
        client = _signed_in(audit_db, username)
        assert client.get("/admin/audit").status_code == 403
        assert client.get("/admin/audit.csv").status_code == 403


# --- the CSV export -------------------------------------------------------------------------


def test_the_csv_export_streams_the_filtered_log(audit_db: Database) -> None:
    # Rows of its own (under xdist this module's other tests may run in another worker).
    assert _signed_in(audit_db, "rivera").get("/teacher/learners/amara").status_code == 200
    admin = _signed_in(audit_db, "admin")
    last = _last_id(audit_db)
    response = admin.get("/admin/audit.csv", params={"who": "rivera"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0][:2] == ["id", "at"]
    assert {r[2] for r in rows[1:]} == {"rivera"}
    expected = _ids_where(audit_db, audit_log.c.actor_id == "rivera", audit_log.c.id <= last)
    assert {int(r[0]) for r in rows[1:]} == expected
    for row in rows[1:]:
        assert datetime.fromisoformat(row[1]).utcoffset() == timedelta(0)
    # The export is itself recorded, with its filter.
    assert _written_since(audit_db, last) == Counter(
        {("admin", "audit.export", "audit_log", None): 1}
    )


def test_a_name_that_is_a_formula_is_text_in_the_csv(audit_db: Database) -> None:
    evil = User(
        "evil", demo.DEMO_SCHOOL_ID, Role.TEACHER, '=HYPERLINK("http://x","go")', username="evil"
    )
    with audit_db.session() as session:
        create_user(session, user=evil, now=DEMO_NOW)
        record_access(
            session, actor=evil, action="-read", subject_type="user", subject_id="@evil",
            now=DEMO_NOW,
        )  # fmt: skip
        session.commit()
    admin = _signed_in(audit_db, "admin")
    rows = list(csv.reader(io.StringIO(admin.get("/admin/audit.csv", params={"who": "evil"}).text)))
    assert rows[1][3:6] == ['\'=HYPERLINK("http://x","go")', "teacher", "'-read"]
    assert rows[1][7] == "'@evil"


# --- the JSON API ---------------------------------------------------------------------------


def _token(database: Database, role: Role, scopes: list[str]) -> dict[str, str]:
    with database.session() as session:
        issued = tokens.create_service_credentials(
            session, role=role, name="audit test", scopes=scopes, days=30,
            school_id=demo.DEMO_SCHOOL_ID, now=DEMO_NOW,
        )  # fmt: skip
    return {"Authorization": f"Bearer {issued.value}"}


def test_the_api_reads_the_log_with_the_same_filters(audit_db: Database) -> None:
    # Rows of its own: under xdist this module's other tests may run in another worker.
    rivera = _signed_in(audit_db, "rivera")
    for _ in range(7):
        assert rivera.get("/teacher/learners/amara").status_code == 200
    client = make_client(audit_db)
    headers = _token(audit_db, Role.ADMIN, [tokens.Scope.READ_AUDIT])
    answer = client.get(
        "/api/v1/audit", params={"who": "rivera", "limit": 5, "offset": 1}, headers=headers
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["limit"] == 5
    assert body["offset"] == 1
    assert len(body["items"]) == 5
    assert {i["actor_id"] for i in body["items"]} == {"rivera"}
    assert body["total"] > 5
    assert body["items"][0]["actor_name"] == "Ms. Rivera"

    bad = client.get("/api/v1/audit", params={"from": "2026-02-30"}, headers=headers)
    assert bad.status_code == 422
    assert bad.json()["error"]["problems"][0]["location"] == "from"

    too_many = client.get("/api/v1/audit", params={"limit": 1000}, headers=headers)
    assert too_many.status_code == 422


def test_the_api_needs_an_admin_with_the_audit_scope(audit_db: Database) -> None:
    client = make_client(audit_db)
    no_scope = _token(audit_db, Role.ADMIN, [tokens.Scope.READ_LEARNERS])
    assert client.get("/api/v1/audit", headers=no_scope).status_code == 403
    teacher = _token(audit_db, Role.TEACHER, [tokens.Scope.READ_AUDIT])
    answer = client.get("/api/v1/audit", headers=teacher)
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "forbidden"
    assert client.get("/api/v1/audit").status_code == 401
