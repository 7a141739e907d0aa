"""One long unbroken word no longer makes a page wider than the screen (issue 15, item 7: the
plan page was 47,444 px wide), at a phone's width and a laptop's (Chromium)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import VIEWPORTS, screenshot
from tests.browser.test_learner_flow import sign_in


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_a_long_word_in_a_comment_wraps(browser, server, width: str) -> None:
    page = browser.new_context(viewport=VIEWPORTS[width]).new_page()
    sign_in(page, server.url, "ben")
    page.goto(f"{server.url}/learner/plan")
    word = "W" * 1_500
    page.locator("#comment-body").fill(word)
    page.get_by_role("button", name="Comment").click()
    page.goto(f"{server.url}/learner/plan")
    assert page.get_by_text(word).count() >= 1
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= VIEWPORTS[width]["width"] + 1, page_width
    screenshot(page, f"plan-long-word-{width}")
