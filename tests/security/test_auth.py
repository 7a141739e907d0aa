"""Sign-in, sessions, CSRF, throttling, tokens and hardening."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from tests.conftest import DEMO_NOW
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.clock import PinnedClock
from zoped.domain.people import Role
from zoped.services import auth as auth_services
from zoped.services import tokens
from zoped.services.demo import DEMO_PASSWORD
from zoped.settings import Settings
from zoped.store import auth_repository


def test_sign_in_sets_httponly_lax_cookie_and_redirects_by_role(shared_db) -> None:
    client = make_client(shared_db)
    token = csrf_of(client)
    response = client.post(
        "/signin", data={"username": "rivera", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/teacher"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "secure" not in cookie
    page = client.get("/")
    assert "Ms. Rivera" in page.text
    assert 'action="/signout"' in page.text


def test_wrong_password_is_refused_without_saying_which_part(shared_db) -> None:
    client = make_client(shared_db)
    token = csrf_of(client)
    response = client.post(
        "/signin", data={"username": "okafor", "password": "nope", "csrf_token": token}
    )
    assert response.status_code == 401
    assert "do not match" in response.text


def test_post_without_csrf_token_is_refused(shared_db) -> None:
    client = make_client(shared_db)
    client.get("/signin")
    response = client.post("/signin", data={"username": "admin", "password": DEMO_PASSWORD})
    assert response.status_code == 403
    sign_in(client, "amara")
    assert client.post("/signout", data={}).status_code == 403
    assert client.post("/signout", data={"csrf_token": "forged"}).status_code == 403
    assert client.get("/api/v1/me").status_code == 200  # still signed in


def test_sign_out_needs_csrf_and_ends_the_session(shared_db) -> None:
    client = make_client(shared_db)
    token = sign_in(client, "amara")
    assert client.post("/signout", data={"csrf_token": token}).status_code == 303
    assert client.get("/api/v1/me").status_code == 401
    assert client.get("/privacy").status_code == 303


def _fail(session, username: str, address: str, at: datetime) -> None:
    with pytest.raises(auth_services.SignInFailed):
        auth_services.authenticate(
            session, username=username, password="wrong", client_address=address, now=at
        )


def test_failures_from_anywhere_slow_an_account_but_never_lock_its_owner_out(fresh_db) -> None:
    """Issue 16, item 4: fifty wrong passwords for admin from fifty addresses make each further
    attempt wait at most a minute; the real admin signs in then, from her own address, and the
    count survives a restart (a new session)."""
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with fresh_db.session() as session:
        for i in range(50):  # a minute apart: each after the wait the one before set
            _fail(session, "admin", f"10.0.{i}.1", now + timedelta(seconds=61 * i))
        last = now + timedelta(seconds=61 * 49)
    with fresh_db.session() as session:
        with pytest.raises(auth_services.SignInLocked) as locked:
            auth_services.authenticate(
                session, username="admin", password=DEMO_PASSWORD, client_address="10.1.1.1",
                now=last + timedelta(seconds=1),
            )  # fmt: skip
        assert locked.value.retry_after <= auth_services.MAX_DELAY
        user = auth_services.authenticate(
            session, username="admin", password=DEMO_PASSWORD, client_address="10.1.1.1",
            now=last + auth_services.MAX_DELAY + timedelta(seconds=1),
        )  # fmt: skip
        assert user.id == "admin"


def test_one_address_guessing_one_account_is_locked_out_of_that_account(fresh_db) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with fresh_db.session() as session:
        for i in range(auth_services.PAIR_MAX_FAILURES):
            _fail(session, "amara", "10.0.0.7", now + timedelta(minutes=2 * i))
        at = now + timedelta(minutes=2 * auth_services.PAIR_MAX_FAILURES)
        with pytest.raises(auth_services.SignInLocked) as locked:
            auth_services.authenticate(
                session, username="amara", password=DEMO_PASSWORD, client_address="10.0.0.7",
                now=at,
            )  # fmt: skip
        assert locked.value.retry_after >= timedelta(minutes=5)
        # The same account from another address (the real learner at home) is open.
        user = auth_services.authenticate(
            session, username="amara", password=DEMO_PASSWORD, client_address="10.0.0.8", now=at
        )
        assert user.id == "amara"


def test_made_up_names_never_count_against_an_address(fresh_db) -> None:
    """A school behind one NAT address is not locked out by failures with names nobody has."""
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    with fresh_db.session() as session:
        for i in range(3 * auth_services.ADDRESS_SOFT_FAILURES):
            _fail(session, f"nobody{i}", "10.9.9.9", now)
        user = auth_services.authenticate(
            session, username="amara", password=DEMO_PASSWORD, client_address="10.9.9.9", now=now
        )
        assert user.id == "amara"
        stored = session.execute(
            auth_services.repo.signin_failures.select()  # type: ignore[attr-defined]
        ).all()
    assert all("10.9.9.9" not in str(row) and "nobody" not in str(row) for row in stored)


def test_an_address_failing_on_many_real_accounts_is_slowed_not_locked(fresh_db) -> None:
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    names = ["amara", "ben", "elif", "kofi", "umar"]
    with fresh_db.session() as session:
        for i in range(auth_services.ADDRESS_SOFT_FAILURES):
            _fail(session, names[i % len(names)], "10.8.8.8", now + timedelta(seconds=i))
        last = now + timedelta(seconds=auth_services.ADDRESS_SOFT_FAILURES - 1)
        with pytest.raises(auth_services.SignInLocked) as locked:
            auth_services.authenticate(
                session, username="rivera", password=DEMO_PASSWORD, client_address="10.8.8.8",
                now=last,
            )  # fmt: skip
        assert locked.value.retry_after <= auth_services.MAX_DELAY
        user = auth_services.authenticate(
            session, username="rivera", password=DEMO_PASSWORD, client_address="10.8.8.8",
            now=last + auth_services.MAX_DELAY,
        )  # fmt: skip
        assert user.id == "rivera"


def test_locked_sign_in_page_answers_429_until_the_lock_runs_out(fresh_db) -> None:
    clock = PinnedClock(DEMO_NOW)
    client = make_client(fresh_db, clock=clock)
    for _ in range(5):
        token = csrf_of(client)
        client.post("/signin", data={"username": "kofi", "password": "x", "csrf_token": token})
    token = csrf_of(client)
    response = client.post(
        "/signin", data={"username": "kofi", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 429
    clock.advance(timedelta(minutes=16))  # the app's clock, not the machine's, ends the lock
    token = csrf_of(client)
    response = client.post(
        "/signin", data={"username": "kofi", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303


def test_api_tokens_are_scoped_revocable_expiring_and_stored_hashed(fresh_db) -> None:
    clock = PinnedClock(DEMO_NOW)
    with fresh_db.session() as session:
        reader, writer = (
            tokens.create_service_credentials(
                session, role=Role.ADMIN, name=name, scopes=scopes, days=1, now=clock.now()
            )
            for name, scopes in (("dashboard", ["read:learners"]), ("bridge", ["write:evidence"]))
        )
        rows = auth_repository.list_tokens(session)
        assert reader.secret not in str(rows)
    client = make_client(fresh_db, clock=clock)
    auth = {"Authorization": f"Bearer {reader.value}"}
    assert client.get("/api/v1/learners", headers=auth).status_code == 200
    # A valid body: the write is refused for the token's scope, not for what it sends.
    body = {
        "id": "00000000-0000-4000-8000-000000000001",
        "learner_id": "amara",
        "kind": "answer",
        "occurred_at": DEMO_NOW.isoformat(),
        "item_id": "q.found.non-unit.001",
        "competency_ids": ["found.non-unit"],
        "correct": True,
    }
    refused = client.post("/api/v1/evidence", headers=auth, json=body)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "forbidden"
    write_auth = {"Authorization": f"Bearer {writer.value}"}
    assert client.post("/api/v1/evidence", headers=write_auth, json=body).status_code == 201
    wrong = {"Authorization": f"Bearer {reader.key_id}.not-the-secret"}
    assert client.get("/api/v1/me", headers=wrong).status_code == 401
    with fresh_db.session() as session:
        tokens.revoke_token(session, key_id=reader.key_id, now=clock.now())
    assert client.get("/api/v1/me", headers=auth).status_code == 401
    # The other token runs out with the app's clock.
    assert client.get("/api/v1/me", headers=write_auth).status_code == 200
    clock.advance(timedelta(days=1, seconds=1))
    assert client.get("/api/v1/me", headers=write_auth).status_code == 401


def test_production_refuses_default_secret_and_marks_cookies_secure(shared_db) -> None:
    with pytest.raises(ValidationError):
        Settings(environment="production")
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key="short")
    client = make_client(shared_db, environment="production")
    response = client.get("/signin")
    assert "secure" in response.headers["set-cookie"].lower()
    assert "max-age=" in response.headers["strict-transport-security"]
    assert response.headers["x-frame-options"] == "DENY"
    assert "content-security-policy" in response.headers


def test_request_body_over_the_limit_is_413_in_the_error_shape(shared_db) -> None:
    client = make_client(shared_db, max_request_bytes=2048)
    response = client.post(
        "/api/v1/evidence", content=b"x" * 5000, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
