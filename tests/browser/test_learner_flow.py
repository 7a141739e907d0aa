"""A learner signs in, takes the placement check, practises, sees mastery move and the menu."""

from __future__ import annotations

import re

from tests.browser.conftest import screenshot

DEMO_PASSWORD = "zoped-demo"


def p_known_moved(change: str) -> bool:
    """Whether a "…: zoped is more/less sure you know it now" line says the model moved (the
    learner reads words, not P(known): ``zoped.domain.words.change_in_words``)."""
    found = re.search(r"zoped is (more sure|less sure|as sure as before)", change)
    assert found is not None, change
    assert "P(known)" not in change, change
    return found.group(1) != "as sure as before"


def sign_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def answer_something(page) -> None:
    """Give some answer to whatever item the page shows (right or wrong does not matter).

    The caller has waited for the item's page, so its fields are there to be counted.
    """
    page.locator("fieldset input").first.wait_for()
    radios = page.locator("input[type=radio][name=response]")
    boxes = page.locator("input[type=checkbox][name=response]")
    ranks = page.locator("input.rank")
    if radios.count():
        radios.first.check()
    elif boxes.count():
        boxes.first.check()
    elif ranks.count():
        for i in range(ranks.count()):
            ranks.nth(i).fill(str(i + 1))
    else:
        page.get_by_label("Your answer").fill("1")


def test_learner_flow(page, server):
    from zoped.services.demo import DEMO_PASSWORD as published

    assert published == DEMO_PASSWORD
    base = server.url
    sign_in(page, base, "ben")
    page.goto(f"{base}/learner")
    page.get_by_role("heading", name="My roadmap").wait_for()
    screenshot(page, "learner-home")
    first_menu = page.locator(".option h3").all_inner_texts()
    assert first_menu, "the menu is empty"
    assert all(r.strip() for r in page.locator(".option .reason").all_inner_texts())

    # Placement check: start, answer two questions, pause, resume, finish.
    page.get_by_role("link", name="Placement check").first.click()
    screenshot(page, "learner-placement-start")
    page.get_by_role("button", name="Start the placement check").click()
    for question in (1, 2):
        # Counting fields on the page being left would answer the wrong item type.
        page.get_by_text(re.compile(rf"Question {question} of")).wait_for()
        answer_something(page)
        page.get_by_role("button", name="Next").click()
    screenshot(page, "learner-placement-question")
    page.goto(f"{base}/learner")
    page.goto(f"{base}/learner/placement")
    page.get_by_text(re.compile(r"Question 3 of")).wait_for()
    page.get_by_role("button", name="Finish the check now").click()
    page.get_by_text("Your placement check is done").wait_for()
    screenshot(page, "learner-placement-done")

    # Practise the first open competency from the table, answering until the level moves.
    page.goto(f"{base}/learner")
    link = page.locator("table a[href^='/learner/practice/']").first
    target = link.get_attribute("href")
    page.goto(base + target)
    screenshot(page, "learner-practice")
    page.get_by_role("link", name="Show a hint").click()
    page.locator(".hints li").first.wait_for()
    moved = False
    for _ in range(6):
        answer_something(page)
        page.get_by_role("button", name="Check my answer").click()
        page.locator(".feedback").wait_for()
        changes = page.locator(".changes li").all_inner_texts()
        assert changes
        assert all("zoped is" in c for c in changes)
        if not moved:
            screenshot(page, "learner-feedback")
        moved = moved or any(p_known_moved(c) for c in changes)
        page.get_by_role("link", name="Next question").click()
        page.locator(".feedback").wait_for(state="detached")
    assert moved, "zoped never became more or less sure"
    page.get_by_role("link", name="End this session").click()
    page.get_by_role("heading", name="What changed this session").wait_for()
    screenshot(page, "learner-summary")
    page.get_by_label("What did you learn? What was hard?").fill("Hints helped me.")
    page.get_by_role("button", name="Save to my log").click()
    page.get_by_text("Hints helped me.").wait_for()
    screenshot(page, "learner-log")

    # The menu is recomputed from the new evidence.
    page.goto(f"{base}/learner")
    later_menu = page.locator(".option").all_inner_texts()
    page.get_by_role("link", name="Show me other options").click()
    other = page.locator(".option").all_inner_texts()
    assert later_menu
    assert other

    for name, path in (("learner-plan", "/learner/plan"), ("learner-profile", "/learner/profile")):
        page.goto(base + path)
        screenshot(page, name)
    page.get_by_label("Larger text").check()
    page.get_by_role("button", name="Save my profile").click()
    page.get_by_text("Saved.").wait_for()
    assert "larger-text" in (page.locator("body").get_attribute("class") or "")
