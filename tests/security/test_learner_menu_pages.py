"""The learner's home on the seeded demo school (issue 15, items 4 and 5): "Show me other
options" shows other options, the menu and the roadmap table speak in words (no P(known), no
percentages), and a tampered page number is a clear 422 that changes nothing."""

from __future__ import annotations

import re

from tests.security.conftest import make_client, sign_in
from zoped.services.system import Database

OPTION = re.compile(r'<li class="option">\s*<h3>(.*?) <span', re.S)
REASON = re.compile(r'<p class="reason">(.*?)</p>', re.S)
CHANCE = re.compile(r"right (about \d+ times? in 10|nearly every time|hardly ever)")


def test_other_options_are_other_options_in_words(shared_db: Database) -> None:
    client = make_client(shared_db)
    sign_in(client, "ben")
    first = client.get("/learner")
    assert first.status_code == 200
    shown = OPTION.findall(first.text)
    assert len(shown) >= 2
    assert 'href="/learner?page=1">Show me other options' in first.text
    other = client.get("/learner?page=1")
    assert other.status_code == 200
    assert set(OPTION.findall(other.text)) != set(shown)
    for page in (first.text, other.text):
        assert "P(known)" not in page
        for reason in REASON.findall(page):
            assert "%" not in reason, reason
            assert CHANCE.search(reason), reason


def test_a_bad_menu_page_is_a_clear_error(shared_db: Database) -> None:
    client = make_client(shared_db)
    sign_in(client, "ben")
    for bad in ("-1", "x", "100001"):
        reply = client.get(f"/learner?page={bad}")
        assert reply.status_code == 422, (bad, reply.status_code)
        assert "Traceback" not in reply.text
