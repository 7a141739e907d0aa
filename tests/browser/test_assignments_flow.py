"""Browser: a teacher opens "Today", assigns an activity to a learner with a note and a due
date; the learner finds it on their home ("From your teacher") and opens it; the teacher sees
the learner's status on the class page. Screenshots at phone and desktop widths; the new parts
are axe clean (no serious or critical violation)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.conftest import SCREENSHOTS, VIEWPORTS

AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
NOTE = "So you are ready for Friday's quiz"


def _serious(results: dict[str, Any]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.get("violations", [])
        if v.get("impact") in ("serious", "critical")
    ]


def _axe(page, context: str | None = None) -> list[str]:
    axe_sync = pytest.importorskip("axe_playwright_python.sync_playwright")
    return _serious(axe_sync.Axe().run(page, context=context, options=AXE_OPTIONS).response)


def _shoot_part(page, locator, name: str) -> None:
    """Screenshots of one part of a page at phone and desktop widths (beside the full ones)."""
    for label, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        locator.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"))
    page.set_viewport_size(VIEWPORTS["desktop"])


def _sign_in(page, site: str, username: str) -> None:
    page.goto(f"{site}/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("zoped-demo")
    page.get_by_role("button", name="Sign in").click()


def test_an_assignment_goes_from_teacher_to_learner_and_back(browser, base_url, screenshot):
    site = str(base_url).rstrip("/")
    # A due date a few days after the server's today (whatever day the test runs).
    due = datetime.now(UTC).date() + timedelta(days=4)
    teacher = browser.new_context(viewport={"width": 1280, "height": 800}).new_page()
    _sign_in(teacher, site, "rivera")
    teacher.goto(f"{site}/teacher")
    teacher.get_by_role("link", name="Today", exact=True).click()
    teacher.wait_for_url(re.compile(r".*/teacher/today$"))
    assert teacher.get_by_role("heading", name="Today", level=1).is_visible()
    assert teacher.get_by_role("heading", name="Grade 5 · Room 12").is_visible()
    assert teacher.get_by_text(re.compile(r"learners have something to review")).first.is_visible()
    assert _axe(teacher) == []
    screenshot(teacher, "teacher-today")

    teacher.goto(f"{site}/teacher/learners/amara")
    chosen = teacher.locator("#assign-activity")
    title = chosen.locator("option").nth(1).inner_text().strip()
    chosen.select_option(label=title)
    teacher.get_by_label("Note for the learner (why this)").fill(NOTE)
    teacher.get_by_label("Due (optional)").fill(due.isoformat())
    teacher.get_by_role("button", name="Assign", exact=True).click()
    assert teacher.get_by_role("status").inner_text().startswith("Assigned")
    mine = teacher.locator("section", has=teacher.locator("#assign-h"))
    assert f"{title}: not started, due {due:%A}" in mine.inner_text()

    learner = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    _sign_in(learner, site, "amara")
    learner.goto(f"{site}/learner")
    card = learner.locator(".assigned-item", has_text=title).first
    assert learner.get_by_role("heading", name="From your teacher").is_visible()
    assert card.get_by_role("heading", name=title).is_visible()
    assert f"Why: {NOTE}" in card.inner_text()
    assert f"Due {due:%A} {due.day} {due:%B}" in card.inner_text()
    assert _axe(learner, ".assigned") == []
    learner.locator(".assigned").scroll_into_view_if_needed()
    screenshot(learner, "learner-from-your-teacher")
    _shoot_part(learner, learner.locator(".assigned"), "learner-from-your-teacher-part")
    card.get_by_role("link", name=re.compile(rf"^Start\W.*{re.escape(title)}")).click()
    learner.wait_for_url(re.compile(r".*/learner/activity/.+"))
    assert learner.get_by_role("heading", name=title).first.is_visible()

    teacher.goto(f"{site}/teacher/classes/class-5a")
    report = teacher.locator(".assignment-reports > li", has_text=title).first
    assert report.get_by_role("row", name=re.compile(r"Amara A\.")).is_visible()
    assert "not started" in report.get_by_role("row", name=re.compile(r"Amara A\.")).inner_text()
    assert _axe(teacher, ".assignment-reports") == []
    report.scroll_into_view_if_needed()
    screenshot(teacher, "teacher-class-assignments")
    _shoot_part(teacher, report, "teacher-class-assignments-part")
    teacher.context.close()
    learner.context.close()
