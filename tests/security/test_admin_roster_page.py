"""The roster import page through the HTTP client: an admin uploads a OneRoster bundle, a
learner from it signs in; a dry run and a broken bundle write nothing; only admins get in."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests import oneroster_bundles as ob
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.services.system import Database
from zoped.store.tables import roster_records, users

# The demo school already has a "rivera": the bundle's usernames get a prefix.
BUNDLE = ob.school_bundle(prefix="x-")
PASSWORD = "ana-likes-maths-26"


def upload(client: TestClient, csrf: str, data: bytes, *, dry_run: bool = False):
    form = {"csrf_token": csrf, **({"dry_run": "1"} if dry_run else {})}
    return client.post(
        "/admin/roster", data=form, files={"bundle": ("roster.zip", data, "application/zip")}
    )


def rows(db: Database, table) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_an_admin_imports_a_bundle_and_a_learner_from_it_signs_in(fresh_db: Database) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    page = admin.get("/admin/roster")
    assert page.status_code == 200
    assert "Check only (dry run)" in page.text
    assert "No roster has been imported into this school yet." in page.text
    before = rows(fresh_db, users)
    done = upload(admin, csrf, BUNDLE.zip_bytes())
    assert done.status_code == 200, done.text
    assert "Imported roster.zip" in done.text
    assert '<tr><th scope="row">users</th><td>5</td><td>0</td>' in done.text
    assert rows(fresh_db, users) == before + 5
    # The latest imports name the admin, at a time of the school's zone (the demo's is GMT).
    assert " GMT</td><td>Alex Morgan</td>" in done.text
    learner = make_client(fresh_db)
    token = csrf_of(learner)
    signed = learner.post(
        "/signin", data={"username": "x-ana", "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/learner"
    again = upload(admin, csrf, BUNDLE.zip_bytes())
    assert "Imported roster.zip. Nothing changed." in again.text
    assert rows(fresh_db, users) == before + 5


def test_a_dry_run_shows_the_counts_and_writes_nothing(fresh_db: Database) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    before = rows(fresh_db, users)
    checked = upload(admin, csrf, BUNDLE.zip_bytes(), dry_run=True)
    assert checked.status_code == 200
    assert "Checked roster.zip: nothing was written" in checked.text
    assert '<tr><th scope="row">users</th><td>5</td>' in checked.text
    assert rows(fresh_db, users) == before
    assert rows(fresh_db, roster_records) == 0


def test_a_broken_bundle_lists_every_located_problem_and_writes_nothing(
    fresh_db: Database,
) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    before = rows(fresh_db, users)
    broken = (
        BUNDLE.edit("users.csv", "givenName", "givneName")
        .edit("academicSessions.csv", "2026-08-01,2026-12-20", "8/1/2026,2026-12-20")
        .edit("users.csv", "x-u-rivera,,,true,x-rivera", "x-u-rivera,,,true,rivera")
    )
    refused = upload(admin, csrf, broken.zip_bytes())
    assert refused.status_code == 422
    assert "2 problems; nothing was imported" in refused.text
    assert "<code>users.csv line 1 column givneName</code>: unknown column" in refused.text
    assert "<code>academicSessions.csv line 3 column startDate</code>" in refused.text
    assert "Traceback" not in refused.text
    assert rows(fresh_db, users) == before
    # A clash only the database sees (the demo's own "rivera") is located too.
    clash = upload(
        admin,
        csrf,
        BUNDLE.edit(
            "users.csv", "x-u-rivera,,,true,x-rivera", "x-u-rivera,,,true,rivera"
        ).zip_bytes(),
    )
    assert clash.status_code == 422
    assert (
        "<code>users.csv line 2 column username</code>: &#39;rivera&#39; is already used by "
        "another account of this school" in clash.text
    )
    assert rows(fresh_db, users) == before
    not_zip = upload(admin, csrf, b"this is not a zip")
    assert not_zip.status_code == 422
    assert "not a zip archive" in not_zip.text


def test_only_admins_reach_the_roster_page(fresh_db: Database) -> None:
    for username in ("rivera", "amara", "guardian.amara"):
        client = make_client(fresh_db)
        csrf = sign_in(client, username)
        assert client.get("/admin/roster").status_code == 403, username
        assert upload(client, csrf, BUNDLE.zip_bytes()).status_code == 403, username
    anonymous = make_client(fresh_db)
    assert anonymous.get("/admin/roster").status_code in (303, 307)
    admin = make_client(fresh_db)
    sign_in(admin, "admin")
    before = rows(fresh_db, users)
    forged = upload(admin, "not-the-token", BUNDLE.zip_bytes())
    assert forged.status_code == 403
    assert rows(fresh_db, users) == before


def test_a_roster_larger_than_other_requests_still_uploads(fresh_db: Database) -> None:
    """Other pages refuse bodies over ZOPED_MAX_REQUEST_BYTES (2 MB); a school's roster may be
    larger, up to the page's own limit."""
    import io
    import os
    import zipfile

    buffer = io.BytesIO(BUNDLE.zip_bytes())
    with zipfile.ZipFile(buffer, "a", compression=zipfile.ZIP_STORED) as bundle:
        bundle.writestr("notes/photos.bin", os.urandom(3_000_000))  # an extra file: ignored
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    big = buffer.getvalue()
    assert len(big) > 3_000_000
    done = upload(admin, csrf, big)
    assert done.status_code == 200, done.text[:500]
    assert "Imported roster.zip" in done.text
    elsewhere = admin.post(
        "/admin/users/import",
        data={"csrf_token": csrf},
        files={"users_file": ("people.csv", big, "text/csv")},
    )
    assert elsewhere.status_code == 413
