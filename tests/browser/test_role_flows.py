"""Each role's main flow, walked at a phone's (390×844) and a laptop's (1280×800) width: every
page on the way, including a refused form with its problems beside the fields, has no serious or
critical axe-core violation, and is saved as a screenshot of that width
(``test-artifacts/screenshots/flow-<role>-<step>-<width>.png``) for a person to look at."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.browser.conftest import SCREENSHOTS, VIEWPORTS
from tests.browser.test_accessibility import AXE_OPTIONS, _serious
from tests.browser.test_learner_flow import answer_something, sign_in

WIDTHS = ["phone", "desktop"]


class Walk:
    """One role's walk at one width: each step is checked by axe and saved as a screenshot."""

    def __init__(self, browser, role: str, width: str) -> None:
        self.context = browser.new_context(viewport=VIEWPORTS[width])
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.role, self.width = role, width
        self.axe = Axe()
        self.problems: dict[str, list[str]] = {}

    def step(self, name: str) -> None:
        page = self.page
        page.wait_for_load_state("networkidle")
        found = _serious(self.axe.run(page, options=AXE_OPTIONS).response)
        if found:
            self.problems[f"{name} ({page.url})"] = found
        # Nothing sticks out sideways at this width (a phone would have to scroll).
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 1:
            self.problems[f"{name} ({page.url})"] = [f"{overflow}px wider than the screen"]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOTS / f"flow-{self.role}-{name}-{self.width}.png"
        page.screenshot(path=str(shot), full_page=True)

    def finish(self) -> None:
        self.context.close()
        assert self.problems == {}, "\n".join(
            f"{where}: {p}" for where, found in self.problems.items() for p in found
        )


@pytest.mark.parametrize("width", WIDTHS)
def test_learner_flow_at_each_width(browser, server, width: str) -> None:
    walk = Walk(browser, "learner", width)
    page = walk.page
    sign_in(page, server.url, "dev")
    page.get_by_role("heading", name="My roadmap").wait_for()
    walk.step("home")

    page.locator(".option button").first.click()
    page.wait_for_load_state()
    walk.step("chosen")

    page.goto(f"{server.url}/learner")
    page.goto(
        server.url + page.locator("table a[href^='/learner/practice/']").first.get_attribute("href")
    )
    page.locator("fieldset").wait_for()
    walk.step("question")
    answer_something(page)
    page.get_by_role("button", name="Check my answer").click()
    page.locator(".feedback").wait_for()
    walk.step("feedback")
    page.get_by_role("link", name="End this session").click()
    page.get_by_role("heading", name="What changed this session").wait_for()
    walk.step("summary")

    page.goto(f"{server.url}/learner/log")
    page.get_by_label("New entry").fill("x" * 5_001)
    page.locator("form[action='/learner/log'] button[type=submit]").click()
    page.locator(".error").first.wait_for()
    walk.step("log-refused")
    page.goto(f"{server.url}/learner/plan")
    walk.step("plan")
    walk.finish()


@pytest.mark.parametrize("width", WIDTHS)
def test_teacher_flow_at_each_width(browser, server, width: str) -> None:
    walk = Walk(browser, "teacher", width)
    page = walk.page
    sign_in(page, server.url, "rivera")
    page.goto(f"{server.url}/teacher/today")
    walk.step("today")
    page.goto(f"{server.url}/teacher")
    page.locator("a[href^='/teacher/classes/']").first.click()
    page.locator("#heatmap-h, h1").first.wait_for()
    walk.step("class")
    page.locator("a[href^='/teacher/learners/']").first.click()
    page.locator("#assign-h").wait_for()
    walk.step("learner")

    # A refused assignment: the page again, the date kept and its problem beside it.
    form = page.locator("section[aria-labelledby='assign-h'] form")
    form.get_by_label("Note for the learner (why this)").fill("Before the quiz")
    form.get_by_label("Due (optional)").fill("2020-01-01")
    form.get_by_role("button", name="Assign").click()
    page.get_by_text("that date has passed").wait_for()
    assert form.get_by_label("Note for the learner (why this)").input_value() == "Before the quiz"
    walk.step("assign-refused")
    form.get_by_label("Due (optional)").fill("")
    form.get_by_role("button", name="Assign").click()
    page.wait_for_url(re.compile(r"done=assigned"))
    walk.step("assigned")
    walk.finish()


@pytest.mark.parametrize("width", WIDTHS)
def test_guardian_flow_at_each_width(browser, server, width: str) -> None:
    walk = Walk(browser, "guardian", width)
    page = walk.page
    sign_in(page, server.url, "guardian.amara")
    page.get_by_role("heading", name="My children").wait_for()
    walk.step("children")
    page.locator("a[href^='/guardian/learners/']").first.click()
    page.get_by_role("heading", name="Recent progress").wait_for()
    walk.step("child")
    walk.finish()


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_flow_at_each_width(browser, server, width: str) -> None:
    walk = Walk(browser, "admin", width)
    page = walk.page
    sign_in(page, server.url, "admin")
    page.goto(f"{server.url}/admin")
    walk.step("overview")
    page.goto(f"{server.url}/admin/users")
    walk.step("users")
    add = page.locator("form[action='/admin/users#add']")
    add.get_by_label("Name", exact=True).fill("Zoe Example")
    add.get_by_label("Username", exact=True).fill("not a valid name!")
    add.get_by_role("button", name="Add").click()
    page.locator("#add ~ form .error, .error").first.wait_for()
    assert add.get_by_label("Name", exact=True).input_value() == "Zoe Example"
    walk.step("add-refused")
    page.goto(f"{server.url}/admin/classes")
    walk.step("classes")
    walk.finish()
