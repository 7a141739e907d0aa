"""Browser: a teacher uploads a broken CASE package on /teacher/courses/import-case and sees
every problem with its path, then opens the demo course's framework page, at phone and desktop
widths. Nothing is written, so the shared demo server is left as the other browser tests expect
it."""

from __future__ import annotations

import json

from tests.browser.conftest import VIEWPORTS, screenshot
from tests.browser.test_learner_flow import sign_in
from tests.case.packages import fractions


def test_a_broken_package_lists_its_problems(server, browser, tmp_path):
    data = fractions()
    data["CFItems"][2]["identifier"] = "not-a-uuid"
    del data["CFItems"][3]["fullStatement"]
    data["CFAssociations"][0]["sequenceNumber"] = "first"
    path = tmp_path / "broken-framework.json"
    path.write_text(json.dumps(data), "utf-8")
    context = browser.new_context(viewport=VIEWPORTS["desktop"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, server.url, "rivera")
    page.goto(f"{server.url}/teacher/courses/import")
    page.get_by_role("link", name="Import a CASE framework").click()
    page.get_by_role("heading", name="Import a CASE framework").wait_for()
    page.get_by_label("CASE package (JSON)").set_input_files(str(path))
    page.get_by_role("button", name="Import").click()
    alert = page.get_by_role("alert")
    alert.get_by_role(
        "heading", name="broken-framework.json: 3 problems; nothing was imported"
    ).wait_for()
    text = alert.inner_text()
    assert "CFItems[2].identifier: 'not-a-uuid' is not a UUID" in text
    assert "CFItems[3].fullStatement: is required" in text
    assert "CFAssociations[0].sequenceNumber: 'first' is not a whole number" in text
    screenshot(page, "case-import-problems")
    # A course's framework page: the hierarchy, with its CASE downloads.
    page.goto(f"{server.url}/teacher/courses/fractions-ratios/framework")
    page.get_by_role("link", name="CASE 1.1").wait_for()
    assert page.locator("ol.framework > li").count() == 45
    screenshot(page, "course-framework")
    context.close()
