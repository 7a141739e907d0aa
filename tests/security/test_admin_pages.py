"""The admin's pages through the HTTP client: people one by one and from CSV, reset codes and
forced password changes, switching accounts off, classes, tokens; and first-run setup."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient

from tests.security.conftest import CSRF_RE, SECRET, csrf_of, make_client, sign_in
from zoped.services import auth
from zoped.services.system import Database, open_database


def _post(client: TestClient, path: str, csrf: str, **data: str) -> object:
    return client.post(path, data={**data, "csrf_token": csrf})


def test_only_admins_reach_the_admin_pages(fresh_db: Database) -> None:
    for username in ("rivera", "amara", "guardian.amara"):
        client = make_client(fresh_db)
        sign_in(client, username)
        for page in ("/admin", "/admin/users", "/admin/classes", "/admin/tokens"):
            assert client.get(page).status_code == 403, (username, page)
    admin = make_client(fresh_db)
    sign_in(admin, "admin")
    assert admin.get("/signin").headers["location"] == "/admin"
    overview = admin.get("/admin")
    assert overview.status_code == 200
    assert "Riverside" in overview.text


def test_an_added_user_must_choose_a_password_at_first_sign_in(fresh_db: Database) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    bad = admin.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "a b", "display_name": "Zed", "role": "learner"},
    )
    assert bad.status_code == 422
    assert 'value="Zed"' in bad.text  # what was typed is kept
    assert 'aria-invalid="true"' in bad.text  # and the problem sits next to its field
    made = admin.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "zed",
            "display_name": "Zed Z.",
            "role": "learner",
            "password": "first-pass-99",
        },
    )
    assert made.status_code == 303
    learner = make_client(fresh_db)
    token = csrf_of(learner)
    signed = learner.post(
        "/signin", data={"username": "zed", "password": "first-pass-99", "csrf_token": token}
    )
    assert signed.headers["location"] == "/account/password"
    assert learner.get("/learner").headers["location"] == "/account/password"
    csrf = csrf_of(learner, "/account/password")
    changed = learner.post(
        "/account/password",
        data={
            "csrf_token": csrf,
            "current_password": "first-pass-99",
            "new_password": "zeds-own-pass",
            "repeat_password": "zeds-own-pass",
        },
    )
    assert changed.status_code == 303
    assert learner.get("/learner").status_code == 200


def test_a_reset_code_from_the_admin_lets_the_user_in_once(fresh_db: Database) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    page = admin.post("/admin/users/ben/reset", data={"csrf_token": csrf})
    found = re.search(r'id="reset-code">([A-Z0-9-]+)<', page.text)
    assert found is not None
    learner = make_client(fresh_db)
    token = csrf_of(learner, "/signin/reset")
    form = {
        "csrf_token": token,
        "username": "ben",
        "code": found.group(1),
        "new_password": "bens-new-pass",
        "repeat_password": "bens-new-pass",
    }
    assert learner.post("/signin/reset", data=form).headers["location"] == "/learner"
    again = make_client(fresh_db)
    form["csrf_token"] = csrf_of(again, "/signin/reset")
    reused = again.post("/signin/reset", data=form)
    assert reused.status_code == 401
    assert "expired" in reused.text
    sign_in(again, "ben", "bens-new-pass")


def test_a_switched_off_account_is_signed_out_and_cannot_sign_in(fresh_db: Database) -> None:
    learner = make_client(fresh_db)
    sign_in(learner, "dev")
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    off = admin.post("/admin/users/dev/active", data={"csrf_token": csrf, "active": "0"})
    assert off.status_code == 303
    assert learner.get("/learner").status_code == 303  # the open session ended
    other = make_client(fresh_db)
    token = csrf_of(other)
    refused = other.post(
        "/signin", data={"username": "dev", "password": "zoped-demo", "csrf_token": token}
    )
    assert refused.status_code == 403
    assert "switched off" in refused.text
    assert (
        admin.post(
            "/admin/users/admin/active", data={"csrf_token": csrf, "active": "0"}
        ).status_code
        == 422
    )


def test_classes_people_csv_and_tokens_from_the_pages(fresh_db: Database) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    created = admin.post(
        "/admin/classes",
        data={"csrf_token": csrf, "class_id": "art-1", "name": "Art", "teacher_id": "rivera"},
    )
    assert created.headers["location"].startswith("/admin/classes/art-1")
    csv_text = "username,display_name,role,classes\nnewbie1,Newbie One,learner,art-1\n"
    checked = admin.post(
        "/admin/users/import",
        data={"csrf_token": csrf, "dry_run": "1"},
        files={"users_file": ("people.csv", csv_text.encode(), "text/csv")},
    )
    assert "Checked: this would add 1" in checked.text
    assert "Newbie One" not in admin.get("/admin/classes/art-1").text
    imported = admin.post(
        "/admin/users/import",
        data={"csrf_token": csrf},
        files={"users_file": ("people.csv", csv_text.encode(), "text/csv")},
    )
    assert imported.status_code == 200
    assert "Newbie One" in admin.get("/admin/classes/art-1").text
    broken = admin.post(
        "/admin/users/import",
        data={"csrf_token": csrf},
        files={
            "users_file": ("people.csv", b"username,display_name,role\nx y,,pirate\n", "text/csv")
        },
    )
    assert broken.status_code == 422
    assert "line 2 column role" in broken.text
    token_page = admin.post(
        "/admin/users/rivera/tokens",
        data={"csrf_token": csrf, "name": "gradebook", "scopes": "read:learners", "days": "30"},
    )
    key = re.search(r'id="token-value">(zk_[0-9a-f]+)\.', token_page.text)
    assert key is not None
    assert key.group(1) in admin.get("/admin/tokens").text
    revoked = admin.post(f"/admin/tokens/{key.group(1)}/revoke", data={"csrf_token": csrf})
    assert revoked.status_code == 303
    assert "revoked" in admin.get("/admin/tokens").text


def test_first_run_setup_needs_the_servers_code(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        client = make_client(database)
        assert client.get("/signin").headers["location"] == "/setup"
        token = csrf_of(client, "/setup")
        form = {
            "csrf_token": token,
            "setup_code": "WRONG-CODE-0000",
            "school_id": "hillside",
            "school_name": "Hillside School",
            "admin_name": "Sam Admin",
            "admin_username": "sam",
            "password": "sams-password",
            "repeat_password": "sams-password",
        }
        assert client.post("/setup", data=form).status_code == 403
        form["setup_code"] = auth.setup_code(SECRET).lower()
        done = client.post("/setup", data=form)
        assert done.headers["location"] == "/admin?welcome=1"
        assert "Hillside School" in client.get("/admin").text
        late = make_client(database)
        assert late.get("/setup").headers["location"] == "/signin"
        assert CSRF_RE.search(late.get("/signin").text)
    finally:
        database.dispose()


def test_an_admin_renames_the_school(fresh_db: Database) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    assert admin.post("/admin", data={"csrf_token": csrf, "name": "  "}).status_code == 422
    renamed = admin.post("/admin", data={"csrf_token": csrf, "name": "Riverside Academy"})
    assert renamed.status_code == 303
    assert "<h1>Riverside Academy</h1>" in admin.get("/admin").text
