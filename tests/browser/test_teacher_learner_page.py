"""Browser: the teacher's page on one learner (issue 15, item 6) opens with a progress chart,
shows an answer as the question and the answer given, and is far shorter than the old page
(about 7,800 px of text on a desktop)."""

from __future__ import annotations

from tests.browser.conftest import VIEWPORTS
from tests.browser.test_learner_flow import answer_something, sign_in


def test_the_teacher_sees_the_question_and_the_answer_on_a_short_page(
    browser, server, screenshot
) -> None:
    base = server.url
    learner = browser.new_context(viewport=VIEWPORTS["phone"]).new_page()
    sign_in(learner, base, "amara")
    learner.goto(f"{base}/learner")
    practice = learner.locator("table a[href^='/learner/practice/']").first.get_attribute("href")
    learner.goto(f"{base}{practice}")
    question = learner.locator(".stem").first.inner_text().strip()
    answer_something(learner)
    learner.get_by_role("button", name="Check my answer").click()
    learner.locator(".feedback").wait_for()
    learner.context.close()

    page = browser.new_context(viewport=VIEWPORTS["desktop"]).new_page()
    sign_in(page, base, "rivera")
    page.goto(f"{base}/teacher/learners/amara")
    page.get_by_role("heading", name="Progress over time").wait_for()
    assert page.locator(".progress-chart").is_visible()
    newest = page.locator("table.timeline tbody tr").first.inner_text()
    assert question.split("\n")[0][:30] in newest, (question, newest)
    assert "Answer given" in newest or "Order given" in newest, newest
    screenshot(page, "teacher-learner")
    # However long the history, 20 answers are shown (the rest behind "Show N earlier").
    assert page.locator("table.timeline tbody tr:visible").count() <= 20
    # About 3,700 px alone; other browser tests on this shared demo server add claims,
    # comments and assignments to Amara's page, so the bound leaves room for them.
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 6000, f"the page is {height} px tall on a desktop (it was ~7,800)"
    page.context.close()
