"""Error pages know who is signed in (issue 15: a bad form sent a signed-in user to a page whose
header said "Sign in"), keep their way out (the sign-out form works), and list what was wrong."""

from __future__ import annotations

import re

from tests.security.conftest import make_client, sign_in
from zoped.services.system import Database


def test_an_error_page_shows_the_signed_in_user_and_a_working_sign_out(
    shared_db: Database,
) -> None:
    client = make_client(shared_db)
    csrf = sign_in(client, "amara")
    for path, status in (("/learner/practice/no-such-competency", 404), ("/no-such-page", 404)):
        page = client.get(path)
        assert page.status_code == status, path
        assert "Signed in as <strong>Amara A.</strong>" in page.text, path
        assert f'name="csrf_token" value="{csrf}"' in page.text, path
    refused = client.post("/learner/log", data={"csrf_token": "forged", "body": "x"})
    assert refused.status_code == 403
    assert "Signed in as <strong>Amara A.</strong>" in refused.text
    unreadable = client.post("/learner/plan", data={"csrf_token": csrf, "goal_count": "abc"})
    assert unreadable.status_code == 422
    assert "Signed in as" in unreadable.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', unreadable.text)
    assert token is not None
    assert client.post("/signout", data={"csrf_token": token.group(1)}).status_code == 303
    assert client.get("/learner").status_code == 303  # signed out


def test_an_anonymous_error_page_offers_sign_in(shared_db: Database) -> None:
    page = make_client(shared_db).get("/no-such-page")
    assert page.status_code == 404
    assert ">Sign in</a>" in page.text
    assert "Signed in as" not in page.text


def test_refused_learner_forms_keep_what_was_typed_with_the_problem_beside_it(
    fresh_db: Database,
) -> None:
    """Issue 15, item 7: a bad field sent the learner to a bare error page that lost the text."""
    client = make_client(fresh_db)
    csrf = sign_in(client, "ben")
    long_entry = "Today I learnt fractions. " * 250  # over the 5,000-character limit
    log = client.post("/learner/log", data={"csrf_token": csrf, "body": long_entry})
    assert log.status_code == 422
    assert long_entry.strip() in log.text
    assert 'aria-describedby="body-error"' in log.text
    assert "at most 5,000 characters" in log.text
    plan = client.get("/learner/plan")
    version = re.search(r'name="version" value="(\d+)"', plan.text)
    assert version is not None
    strategies = "\n".join(f"strategy {n}" for n in range(40))  # over the 30-line limit
    saved = client.post(
        "/learner/plan",
        data={"csrf_token": csrf, "version": version.group(1), "goal_count": "0",
              "strategies": strategies, "resources": "the library"},
    )  # fmt: skip
    assert saved.status_code == 422
    assert "strategy 39" in saved.text
    assert "the library" in saved.text
    assert 'aria-describedby="strategies-error"' in saved.text
    comment = client.post("/learner/plan/comment", data={"csrf_token": csrf, "body": "C" * 2_500})
    assert comment.status_code == 422
    assert "C" * 2_500 in comment.text
    assert 'aria-describedby="comment-error"' in comment.text
