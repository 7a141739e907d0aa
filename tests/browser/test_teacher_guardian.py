"""Browser: a teacher's dashboard, override and undo; a guardian's view and its limits.

Uses the shared harness in ``tests/browser/conftest.py`` (a server subprocess on the demo
school, Chromium, a screenshot helper).
Screenshots of every teacher and guardian page, at phone and desktop widths, go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import re

import pytest

TEACHER_PAGES = {
    "teacher-classes": "/teacher",
    "teacher-class": "/teacher/classes/class-5a",
    "teacher-learner": "/teacher/learners/amara",
    "teacher-import": "/teacher/courses/import",
}
GUARDIAN_PAGES = {"guardian-children": "/guardian", "guardian-child": "/guardian/learners/amara"}


@pytest.fixture
def site(base_url):
    return str(base_url).rstrip("/")


def sign_in(page, site, username):
    page.goto(f"{site}/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("zoped-demo")
    page.get_by_role("button", name="Sign in").click()


def test_teacher_sees_heatmap_overrides_and_undoes(site, browser):
    page = browser.new_page(viewport={"width": 1366, "height": 900})
    sign_in(page, site, "rivera")
    page.goto(f"{site}/teacher/classes/class-5a")
    heatmap = page.get_by_role("table").first
    assert heatmap.get_by_role("link", name="Amara A.").is_visible()
    assert page.get_by_role("heading", name="Alerts").is_visible()
    page.get_by_role("link", name="Amara A.").first.click()
    page.wait_for_url(re.compile(r".*/teacher/learners/amara$"))
    page.get_by_text("Override a level…").click()
    page.get_by_label("Competency", exact=True).select_option("ratio.unit-rate")
    page.get_by_label("New level", exact=True).select_option("familiar")
    page.get_by_label("Reason", exact=True).fill("could not explain unit rates in class")
    page.get_by_role("button", name="Override level").click()
    assert page.get_by_role("status").inner_text().startswith("Level overridden")
    entry = page.locator(".overrides li", has_text="could not explain unit rates in class")
    assert entry.is_visible()
    assert "Ms. Rivera" in entry.inner_text()
    entry.get_by_role("button", name="Undo override").click()
    assert page.get_by_role("status").inner_text().startswith("Override undone")
    assert "undone" in page.locator(".overrides li").first.inner_text()
    page.close()


def test_guardian_sees_their_child_and_is_refused_another(site, browser):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    sign_in(page, site, "guardian.amara")
    page.goto(f"{site}/guardian")
    page.get_by_role("link", name="Amara A.").click()
    assert page.get_by_role("heading", name="Amara A.").is_visible()
    assert page.get_by_role("heading", name=re.compile("Roadmap")).is_visible()
    response = page.goto(f"{site}/guardian/learners/ben")
    assert response is not None
    assert response.status == 404
    page.close()


def test_screenshots_of_every_page(site, browser, screenshot):
    for username, pages in (("rivera", TEACHER_PAGES), ("guardian.amara", GUARDIAN_PAGES)):
        context = browser.new_context(viewport={"width": 1366, "height": 900})
        page = context.new_page()
        sign_in(page, site, username)
        for name, path in pages.items():
            response = page.goto(f"{site}{path}")
            assert response is not None
            assert response.status == 200, path
            screenshot(page, name)  # the harness saves phone and desktop widths
        context.close()
