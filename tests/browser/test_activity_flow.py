"""A learner finishes activities and hands in a project; the teacher scores it with the rubric
and the learner reads the score and the comment (issue 15, item 2; Chromium, both widths)."""

from __future__ import annotations

from tests.browser.conftest import SCREENSHOTS, VIEWPORTS, screenshot
from tests.browser.test_accessibility import AXE_OPTIONS, _serious
from tests.browser.test_learner_flow import sign_in

HANDS_ON = "/learner/activity/act.fair-share-sandwiches"
PROJECT = "/learner/activity/project.recipe-party"


def _axe_clean(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    found: list[str] = []
    for width, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        found += [f"{width}: {p}" for p in _serious(Axe().run(page, options=AXE_OPTIONS).response)]
    page.set_viewport_size(VIEWPORTS["desktop"])
    return found


def test_done_handed_in_scored_and_read_back(browser, server) -> None:
    learner = browser.new_context(viewport=VIEWPORTS["desktop"]).new_page()
    learner.set_default_timeout(15_000)
    sign_in(learner, server.url, "dev")

    learner.goto(server.url + HANDS_ON)
    assert learner.get_by_role("link", name="Practise Equal parts of a whole").is_visible()
    learner.get_by_label("What did you learn or find hard? (optional)").fill(
        "Folding into thirds was the hardest: my parts were not equal at first."
    )
    learner.get_by_role("button", name="Mark as done").click()
    learner.get_by_text("Marked as done.").wait_for()
    work = learner.locator("section.activity-work").inner_text()
    assert "you marked this done on" in work
    assert "Folding into thirds was the hardest" in work
    screenshot(learner, "learner-activity-done")
    assert _axe_clean(learner) == []

    learner.goto(server.url + PROJECT)
    learner.get_by_label("Your work or a note about it").fill(
        "We scaled the recipe for 28 with a factor of 7. Shopping list in the link."
    )
    learner.get_by_label("A link to your work (optional)").fill("https://example.org/our-recipe")
    learner.get_by_label("A file (optional)").set_input_files(
        files=[{"name": "method.txt", "mimeType": "text/plain", "buffer": b"7 x 1/2 cup = 3 1/2"}]
    )
    learner.get_by_role("button", name="Hand in").click()
    learner.get_by_text("Your work is handed in.").wait_for()
    assert learner.get_by_role("link", name="method.txt").is_visible()

    teacher = browser.new_context(viewport=VIEWPORTS["desktop"]).new_page()
    teacher.set_default_timeout(15_000)
    sign_in(teacher, server.url, "rivera")
    teacher.goto(f"{server.url}/teacher/learners/dev")
    project = teacher.locator("section[aria-labelledby=rubric-h] details").filter(
        has_text="Project: scale a recipe for the class party"
    )
    project.locator("summary").click()
    assert "We scaled the recipe for 28" in project.inner_text()
    assert project.get_by_role("link", name="method.txt").is_visible()
    project.locator("input[name='level.scaling'][value='3']").check()
    project.locator("input[name='level.measuring'][value='1']").check()
    project.get_by_label("Comment for the learner").fill("Clear ratio table; simplify 14/4.")
    screenshot(teacher, "teacher-project-to-score")
    for width, size in VIEWPORTS.items():
        teacher.set_viewport_size(size)
        project.screenshot(path=str(SCREENSHOTS / f"teacher-project-to-score-section-{width}.png"))
    teacher.set_viewport_size(VIEWPORTS["desktop"])
    project.get_by_role("button", name="Record scores").click()
    teacher.get_by_text("Project scored").wait_for()

    learner.goto(server.url + PROJECT)
    scores = learner.locator("article.project-score").first.inner_text()
    assert "6 of 8 points" in scores
    assert "Extending" in scores
    assert "Developing" in scores
    assert "Your teacher says: Clear ratio table; simplify 14/4." in scores
    screenshot(learner, "learner-project-scored")
    assert _axe_clean(learner) == []
