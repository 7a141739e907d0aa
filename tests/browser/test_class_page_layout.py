"""Browser: the class page's heatmap keeps its header row and name column in view when
scrolled inside its own box, the page itself never scrolls sideways on a laptop, and the trend
chart and the reviews summary are shown. Screenshots at phone and desktop widths go to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

PAGE = "/teacher/classes/class-5a"


def _sign_in(page, site: str) -> None:
    page.goto(f"{site}/signin")
    page.get_by_label("Username").fill("rivera")
    page.get_by_label("Password").fill("zoped-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/**")


def test_heatmap_headers_stay_visible_and_page_fits_a_laptop(browser, base_url, screenshot):
    site = str(base_url).rstrip("/")
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    _sign_in(page, site)
    page.goto(f"{site}{PAGE}")
    # No horizontal scroll of the whole page at 1280 px: the heatmap scrolls in its box.
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
    box = page.locator(".heatmap-wrap")
    overflow = box.evaluate("b => [b.scrollWidth > b.clientWidth, b.scrollHeight > b.clientHeight]")
    assert overflow == [True, True], "the demo heatmap is larger than its box"
    header = page.locator(".heatmap thead th").nth(3)
    name = page.locator(".heatmap tbody th.name-col").first
    top_before = header.bounding_box()["y"]
    left_before = name.bounding_box()["x"]
    box.evaluate("b => { b.scrollTop = 400; b.scrollLeft = 300; }")
    page.wait_for_timeout(100)
    assert abs(header.bounding_box()["y"] - top_before) < 1, "the header row scrolled away"
    assert abs(name.bounding_box()["x"] - left_before) < 1, "the name column scrolled away"
    # What is on top at the header row and the name column, once scrolled, is a header: no
    # scrolled cell paints over them.
    on_top = page.evaluate(
        "() => { const c = document.querySelector('.heatmap thead th.name-col')"
        ".getBoundingClientRect();"
        " const head = document.elementFromPoint(c.right + 12, c.bottom - 6);"
        " const row = document.elementFromPoint(c.left + 6, c.bottom + 30);"
        " return [!!head.closest('thead'), !!row.closest('tbody th.name-col')]; }"
    )
    assert on_top == [True, True], "a scrolled cell paints over a sticky header"
    page.screenshot(path="test-artifacts/screenshots/teacher-class-heatmap-scrolled-desktop.png")
    box.evaluate("b => { b.scrollTop = 0; b.scrollLeft = 0; }")
    # The trend chart, its table, and reviews summarised once.
    assert page.locator("svg.class-trend").is_visible()
    page.get_by_text("Class progress as a table").click()
    assert page.get_by_role("table", name="Class progress at the end of each week").is_visible()
    assert page.get_by_role("heading", name="Reviews due").is_visible()
    assert page.get_by_role("heading", name="Overdue reviews").count() == 0
    screenshot(page, "teacher-class-trend")
    page.close()
