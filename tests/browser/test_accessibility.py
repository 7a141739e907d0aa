"""Every role's pages at a phone's and a laptop's width have no serious or critical axe-core
violations (WCAG 2.1 A and AA rules), and the learner's practice works by keyboard alone."""

from __future__ import annotations

from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import VIEWPORTS
from tests.browser.test_learner_flow import sign_in

PAGES = {
    "ben": ["/learner", "/learner/placement", "/learner/plan", "/learner/log", "/learner/profile",
            "/learner/activity/act.worked.found.equal-parts", "/privacy", "/privacy/access-log"],
    "rivera": ["/teacher", "/teacher/today", "/teacher/courses/import",
               "/teacher/courses/import-case", "/teacher/courses/import-qti"],
    "guardian.amara": ["/guardian", "/privacy"],
    "admin": ["/admin", "/admin/users", "/admin/users/ben", "/admin/classes", "/admin/tokens",
              "/admin/audit", "/admin/privacy", "/admin/courses", "/admin/roster"],
    None: ["/", "/signin", "/signin/reset"],
}  # fmt: skip
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}


def _serious(results: dict[str, Any]) -> list[str]:
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.get("violations", [])
        if v.get("impact") in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", ["phone", "desktop"])
@pytest.mark.parametrize("username", list(PAGES), ids=lambda u: u or "anonymous")
def test_pages_have_no_serious_accessibility_violations(
    browser, server, username: str | None, width: str
) -> None:
    context = browser.new_context(viewport=VIEWPORTS[width])
    page = context.new_page()
    page.set_default_timeout(15_000)
    if username:
        sign_in(page, server.url, username)
    paths = list(PAGES[username])
    if username == "rivera":  # the teacher's first class and one of its learners
        page.goto(f"{server.url}/teacher")
        paths.append(page.locator("a[href^='/teacher/classes/']").first.get_attribute("href"))
        page.goto(server.url + paths[-1])
        paths.append(page.locator("a[href^='/teacher/learners/']").first.get_attribute("href"))
    if username == "admin":  # a course's framework page, from the courses page
        page.goto(f"{server.url}/admin/courses")
        paths.append(page.locator("a[href$='/framework']").first.get_attribute("href"))
    if username == "guardian.amara":
        paths.append("/guardian/learners/amara")
    axe = Axe()
    found: dict[str, list[str]] = {}
    for path in paths:
        page.goto(server.url + path)
        problems = _serious(axe.run(page, options=AXE_OPTIONS).response)
        if problems:
            found[path] = problems
    context.close()
    assert found == {}, "\n".join(f"{p}: {v}" for p, vs in found.items() for v in vs)


def _tab_to(page, selector: str, limit: int = 300) -> None:
    """Press Tab until the focused element matches ``selector`` (as a keyboard user would)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def _answer_by_keyboard(page) -> None:
    _tab_to(page, "fieldset input")
    kind = page.evaluate("document.activeElement.type")
    if kind in ("radio", "checkbox"):
        page.keyboard.press("Space")
    elif page.evaluate("document.activeElement.classList.contains('rank')"):
        count = page.locator("input.rank").count()
        for position in range(1, count + 1):
            page.keyboard.type(str(position))
            if position < count:
                _tab_to(page, "input.rank")
    else:
        page.keyboard.type("1")


def test_practice_works_by_keyboard_alone(browser, server) -> None:
    page = browser.new_context(viewport=VIEWPORTS["desktop"]).new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/signin")
    _tab_to(page, "#username")
    page.keyboard.type("dev")
    page.keyboard.press("Tab")
    page.keyboard.type("zoped-demo")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="My roadmap").wait_for()
    _tab_to(page, "main a[href^='/learner/practice/']")  # a node of the roadmap
    page.keyboard.press("Enter")
    page.locator("fieldset").wait_for()
    for _ in range(2):
        _answer_by_keyboard(page)
        _tab_to(page, "main button[type=submit]")
        page.keyboard.press("Enter")
        page.locator(".feedback").wait_for()
        _tab_to(page, "a.button-link[href^='/learner/practice/']:not([href*='summary'])")
        page.keyboard.press("Enter")
        page.locator(".feedback").wait_for(state="detached")
    assert page.locator("fieldset").count() == 1
