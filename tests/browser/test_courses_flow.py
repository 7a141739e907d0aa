"""Browser: an admin attaches a course to a class from the pages, and a learner of that class
switches to it and practises it (issue 14, item 3).

Uses class-6b (Grade 6 · Room 7) and its learner vera, whom the other browser tests leave alone:
the server is shared by the session.
"""

from __future__ import annotations

import re

from tests.browser.conftest import VIEWPORTS, screenshot
from tests.browser.test_learner_flow import answer_something, sign_in

CLASS = "Grade 6 · Room 7"
ALGEBRA = "Early algebra: patterns and expressions"


def test_an_admin_attaches_a_course_and_a_learner_of_the_class_practises_it(server, browser):
    base = server.url
    admin_context = browser.new_context(viewport=VIEWPORTS["desktop"])
    admin = admin_context.new_page()
    admin.set_default_timeout(15_000)
    sign_in(admin, base, "admin")
    admin.goto(f"{base}/admin/courses")
    admin.get_by_role("heading", name="What each class follows").wait_for()
    form = admin.locator("form#class-class-6b")
    form.get_by_role("checkbox", name=re.compile(r"Early algebra")).check()
    form.get_by_label(f"First course of {CLASS}").select_option(label=ALGEBRA)
    form.get_by_role("button", name=f"Save the courses of {CLASS}").click()
    admin.get_by_role("status").filter(has_text=f"Saved the courses of {CLASS}").wait_for()
    assert ALGEBRA in admin.locator("form#class-class-6b legend").inner_text()
    screenshot(admin, "admin-courses")
    admin_context.close()

    learner_context = browser.new_context(viewport=VIEWPORTS["desktop"])
    page = learner_context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, base, "vera")
    page.goto(f"{base}/learner")
    page.get_by_role("heading", name="My roadmap").wait_for()
    switcher = page.get_by_role("navigation", name="My courses")
    assert switcher.get_by_role("link", name=ALGEBRA).get_attribute("aria-current") == "page"
    assert page.locator("p.lead").inner_text().startswith(ALGEBRA)
    screenshot(page, "learner-two-courses")
    # Practise the first open competency of the algebra course.
    link = page.locator("table a[href^='/learner/practice/alg.']").first
    target = link.get_attribute("href")
    assert target is not None
    page.goto(base + target)
    answer_something(page)
    page.get_by_role("button", name="Check my answer").click()
    page.locator(".feedback").wait_for()
    changes = page.locator(".changes li").all_inner_texts()
    assert changes
    assert all("zoped is" in c and "sure" in c for c in changes)
    # The roadmap counts the answer on the algebra course; the fractions course is one click.
    page.goto(f"{base}/learner")
    row = page.locator(f"tr:has(a[href='{target}'])")
    assert (row.locator("td").nth(2).text_content() or "").startswith("1 ("), row.text_content()
    switcher.get_by_role("link", name=re.compile(r"^Fractions")).click()
    page.wait_for_url(re.compile(r".*/learner\?course=fractions-ratios$"))
    assert page.locator("p.lead").inner_text().startswith("Fractions")
    learner_context.close()
