"""The admin's audit log in Chromium: the filter narrows the log to a teacher's look at a
learner, a range that ends before it starts is a message on the page, the CSV download holds the
same rows, and paging works (screenshots at both widths)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from tests.browser.conftest import VIEWPORTS, screenshot
from tests.browser.test_learner_flow import sign_in


def test_an_admin_filters_the_audit_log_and_downloads_it(browser, server) -> None:
    teacher = browser.new_context(viewport=VIEWPORTS["desktop"]).new_page()
    teacher.set_default_timeout(15_000)
    sign_in(teacher, server.url, "rivera")
    teacher.goto(f"{server.url}/teacher/learners/amara")
    teacher.get_by_role("heading", level=1).wait_for()

    page = browser.new_context(viewport=VIEWPORTS["desktop"], accept_downloads=True).new_page()
    page.set_default_timeout(15_000)
    sign_in(page, server.url, "admin")
    page.goto(f"{server.url}/admin/audit")
    page.get_by_role("heading", name="Audit log").wait_for()
    page.get_by_label("Who (username or id)").fill("rivera")
    page.get_by_label("About learner or user (username or id)").fill("amara")
    page.get_by_label("Action").select_option("read")
    page.get_by_role("button", name="Filter").click()
    page.get_by_text("entry matches this filter").or_(
        page.get_by_text("entries match this filter")
    ).wait_for()
    query = parse_qs(urlparse(page.url).query)
    assert query["who"] == ["rivera"]
    assert query["learner"] == ["amara"]
    assert query["action"] == ["read"]
    rows = page.locator("tbody tr")
    assert rows.count() >= 1
    first = rows.first.inner_text()
    assert "Ms. Rivera" in first
    assert "Amara" in first
    screenshot(page, "admin-audit-filtered")
    for width, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"] + 1, width
    page.set_viewport_size(VIEWPORTS["desktop"])

    with page.expect_download() as caught:
        page.get_by_role("link", name=re.compile("Download these as CSV")).click()
    saved = Path(caught.value.path())
    table = list(csv.reader(io.StringIO(saved.read_text(encoding="utf-8"))))
    assert table[0][:3] == ["id", "at", "actor_id"]
    assert len(table) - 1 == rows.count()
    assert {(r[2], r[5], r[7]) for r in table[1:]} == {("rivera", "read", "amara")}

    page.get_by_label("From (day)").fill("2030-12-02")
    page.get_by_label("To (day, included)").fill("2030-12-01")
    page.get_by_role("button", name="Filter").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert "is before the start date" in alert.inner_text()
    assert page.get_by_label("Who (username or id)").input_value() == "rivera"
    screenshot(page, "admin-audit-bad-dates")

    page.get_by_role("link", name="Clear").click()
    page.get_by_role("link", name="Older").click()
    assert parse_qs(urlparse(page.url).query) == {"page": ["2"]}
