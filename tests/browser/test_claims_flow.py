"""A learner tells their teacher what they already know; the teacher accepts it (Chromium)."""

from __future__ import annotations

from tests.browser.conftest import SCREENSHOTS, screenshot
from tests.browser.test_learner_flow import sign_in


def test_a_claim_goes_from_the_learner_to_the_teacher_and_back(browser, server) -> None:
    learner = browser.new_context().new_page()
    sign_in(learner, server.url, "amara")
    learner.goto(f"{server.url}/learner/profile")
    learner.get_by_label("What I know").select_option(index=3)
    claimed = learner.get_by_label("What I know").locator("option:checked").inner_text()
    learner.get_by_label("How I learned it").fill("We built these in the robotics club")
    learner.get_by_label("Where (optional)").fill("Riverside robotics club")
    learner.get_by_role("button", name="Send to my teacher").click()
    learner.get_by_text("Sent to your teacher.").wait_for()
    assert "waiting for your teacher" in learner.locator(".claims").inner_text()
    screenshot(learner, "learner-profile-claims")

    teacher = browser.new_context().new_page()
    sign_in(teacher, server.url, "rivera")
    teacher.goto(f"{server.url}/teacher/learners/amara")
    claims = teacher.locator("section[aria-labelledby=claims-h]")
    assert "We built these in the robotics club" in claims.inner_text()
    assert claimed in claims.inner_text()
    screenshot(teacher, "teacher-learner-claims")
    claims.screenshot(path=str(SCREENSHOTS / "teacher-learner-claims-section.png"))
    claims.get_by_label("Note (a reason is needed to reject)").first.fill("Show me in class!")
    claims.get_by_role("button", name="Accept: counts as proficient").first.click()
    teacher.get_by_text("Decision recorded").wait_for()

    learner.goto(f"{server.url}/learner/profile")
    text = learner.locator(".claims").inner_text()
    assert "accepted" in text
    assert "Your teacher said: Show me in class!" in text
