"""The admin's pages in Chromium at both widths: add a person, hand over a reset code that the
person then uses, create a class and put a learner in it (screenshots to look at)."""

from __future__ import annotations

from tests.browser.conftest import VIEWPORTS, screenshot
from tests.browser.test_learner_flow import sign_in


def test_an_admin_adds_a_teacher_who_signs_in_with_a_reset_code(browser, server) -> None:
    page = browser.new_context(viewport=VIEWPORTS["desktop"]).new_page()
    page.set_default_timeout(15_000)
    sign_in(page, server.url, "admin")
    page.get_by_role("heading", name="Riverside Middle School").wait_for()
    screenshot(page, "admin-overview")
    page.get_by_role("link", name="People").click()
    page.get_by_label("Name", exact=True).fill("Mx. Browser")
    page.get_by_label("Username", exact=True).fill("browser.teacher")
    page.get_by_label("Role", exact=True).select_option("teacher")
    page.get_by_role("button", name="Add", exact=True).click()
    page.get_by_text("The user was added.").wait_for()
    page.get_by_role("button", name="Give a password reset code").click()
    code = page.locator("#reset-code").inner_text()
    screenshot(page, "admin-person-reset-code")

    page.get_by_role("link", name="Classes").click()
    page.get_by_label("Name", exact=True).fill("Browser club")
    page.get_by_label("Short id").fill("browser-club")
    page.get_by_label("Teacher").select_option(label="Mx. Browser")
    page.get_by_role("button", name="Create").click()
    page.get_by_text("The class was created.").wait_for()
    page.get_by_label("Add a learner").select_option(index=0)
    page.get_by_role("button", name="Add to the class").click()
    page.get_by_text("The learner joined the class.").wait_for()
    screenshot(page, "admin-class")
    for width, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth") <= size["width"] + 1, width

    teacher = browser.new_context(viewport=VIEWPORTS["phone"]).new_page()
    teacher.set_default_timeout(15_000)
    teacher.goto(f"{server.url}/signin")
    teacher.get_by_role("link", name="I have a reset code from my school").click()
    teacher.get_by_label("Username").fill("browser.teacher")
    teacher.get_by_label("Code from your admin").fill(code)
    teacher.get_by_label("New password", exact=True).fill("browser-secret-1")
    teacher.get_by_label("New password again").fill("browser-secret-2")
    teacher.get_by_role("button", name="Set my password").click()
    teacher.get_by_text("The two passwords are not the same.").wait_for()
    assert teacher.get_by_label("Username").input_value() == "browser.teacher"
    screenshot(teacher, "reset-password-mismatch")
    teacher.get_by_label("Code from your admin").fill(code)
    teacher.get_by_label("New password", exact=True).fill("browser-secret-1")
    teacher.get_by_label("New password again").fill("browser-secret-1")
    teacher.get_by_role("button", name="Set my password").click()
    teacher.get_by_role("link", name="Browser club").wait_for()
