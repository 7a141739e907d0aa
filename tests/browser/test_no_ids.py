"""Browser: no page shows its people internal ids, and learners and guardians read no model
numbers (issue 15, item 4).

Each role signs in and visits its pages at one width (desktop); every ``<details>`` is opened
so that the text behind "The map as a table" counts too. The visible text must show none of:
a dotted competency or item id (``found.equal-parts``, ``q.ops.divide-fractions.002``, or any
id of the demo course), a class id (``class-5a``), a UUID. Learners and guardians also never
read ``P(known)``, a percentage or a percent band: chances are words ("about 9 times in 10").
The teacher's and admin's main pages are checked for ids only (they may keep precise numbers).
"""

from __future__ import annotations

import re
from importlib import resources

import pytest

from tests.browser.test_learner_flow import answer_something, sign_in
from zoped.interop.course_file import load_course_file

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
ID_PATTERNS = {
    "dotted id": r"\b[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9.-]*[a-z0-9]\b",
    "class id": r"\bclass-\d+[a-z]?\b",
    "UUID": UUID,
}
NUMBER_PATTERNS = {
    "P(...)": r"\bP\(\s*(known|correct|success)",
    "percent band": r"%\s*[–-]",
    "percentage": r"\d\s*%",
    "level number": r"\blevel \d",
}


def _demo_ids() -> set[str]:
    """Every competency, item and activity id of the demo's courses."""
    found: set[str] = set()
    for name in ("demo_course.yaml", "second_course.yaml"):
        with resources.as_file(resources.files("zoped.content").joinpath(name)) as path:
            course = load_course_file(path)
        found |= {c.id for c in course.framework.competencies}
        found |= {i.id for i in course.items} | {a.id for a in course.activities}
    return {i for i in found if "." in i or "-" in i}


DEMO_IDS = _demo_ids()


def problems_on(page, *, numbers: bool) -> list[str]:
    """What the visible text of the page shows that it must not (empty when clean)."""
    page.wait_for_load_state("domcontentloaded")
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    text = page.title() + "\n" + page.locator("body").inner_text()
    patterns = {**ID_PATTERNS, **(NUMBER_PATTERNS if numbers else {})}
    found = [
        f"{page.url}: {label} {m.group(0)!r} in …{text[max(0, m.start() - 40) : m.end() + 20]!r}…"
        for label, pattern in patterns.items()
        for m in re.finditer(pattern, text)
    ]
    words = set(re.findall(r"[\w.-]+", text))
    found += [f"{page.url}: demo id {i!r}" for i in sorted(DEMO_IDS & words)]
    return found


def visit_all(page, base: str, paths: list[str], *, numbers: bool) -> list[str]:
    found: list[str] = []
    for path in paths:
        reply = page.goto(base + path)
        assert reply is not None, path
        assert reply.status == 200, (path, reply.status)
        found += problems_on(page, numbers=numbers)
    return found


def first_href(page, selector: str) -> str:
    href = page.locator(selector).first.get_attribute("href")
    assert href, selector
    return str(href)


def test_a_learners_pages_show_no_ids_and_no_model_numbers(page, server) -> None:
    base = server.url
    sign_in(page, base, "dev")
    page.goto(f"{base}/learner")
    page.get_by_role("heading", name="My roadmap").wait_for()
    found = problems_on(page, numbers=True)
    practice = first_href(page, "table a[href^='/learner/practice/']")
    paths = ["/learner?page=1", "/learner/plan", "/learner/log", "/learner/profile"]
    found += visit_all(page, base, paths, numbers=True)

    # An activity picked from the menu.
    page.goto(f"{base}/learner")
    page.locator(".option button").first.click()
    page.wait_for_url(re.compile(r".*/learner/activity/"))
    found += problems_on(page, numbers=True)

    # A practice question, its feedback and the session's summary.
    page.goto(f"{base}{practice}")
    found += problems_on(page, numbers=True)
    answer_something(page)
    page.get_by_role("button", name="Check my answer").click()
    page.locator(".feedback").wait_for()
    found += problems_on(page, numbers=True)
    page.get_by_role("link", name="End this session").click()
    page.get_by_role("heading", name="What changed this session").wait_for()
    found += problems_on(page, numbers=True)

    # The placement check: a question, then its results by name.
    page.goto(f"{base}/learner/placement")
    start = page.get_by_role("button", name="Start the placement check")
    if start.count():
        start.click()
    for _ in range(3):
        if not page.get_by_role("button", name="Next").count():
            break
        found += problems_on(page, numbers=True)
        answer_something(page)
        page.get_by_role("button", name="Next").click()
        page.wait_for_load_state("domcontentloaded")
    finish = page.get_by_role("button", name="Finish the check now")
    if finish.count():
        finish.click()
    page.get_by_text("Your placement check is done").wait_for()
    found += problems_on(page, numbers=True)
    assert not found, "\n".join(found)


def test_a_guardians_pages_show_no_ids_and_no_model_numbers(page, server) -> None:
    base = server.url
    sign_in(page, base, "guardian.amara")
    page.goto(f"{base}/guardian")
    page.get_by_role("heading", name="My children").wait_for()
    found = problems_on(page, numbers=True)
    found += visit_all(
        page, base, [first_href(page, "a[href^='/guardian/learners/']")], numbers=True
    )
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("username", "start", "follow"),
    [
        ("rivera", "/teacher", ["a[href^='/teacher/classes/']"]),
        ("admin", "/admin", []),
        ("rivera", "/teacher/classes/class-5a", ["a[href^='/teacher/learners/']"]),
    ],
)
def test_teacher_and_admin_main_pages_show_no_ids(page, server, username, start, follow) -> None:
    base = server.url
    sign_in(page, base, username)
    page.goto(base + start)
    found = problems_on(page, numbers=False)
    for selector in follow:
        found += visit_all(page, base, [first_href(page, selector)], numbers=False)
    assert not found, "\n".join(found)
