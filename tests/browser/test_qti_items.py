"""Items imported from QTI are answered on the practice page: a matching item (the QTI 3 match
example), a blanks item with choices (the gap match example) and a blanks item typed (two text
entries), each with labelled fields a keyboard can reach, marked right when answered right."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.browser.conftest import Server, demo_with_qti
from tests.browser.test_accessibility import AXE_OPTIONS, _serious
from tests.qti.helpers import FIXTURES, package

TYPED = """<qti-assessment-item xmlns="http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
  identifier="typed" title="Fractions in words" adaptive="false" time-dependent="false">
  <qti-response-declaration identifier="HALF" cardinality="single" base-type="string">
    <qti-correct-response><qti-value>1/2</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-response-declaration identifier="QUARTER" cardinality="single" base-type="string">
    <qti-correct-response><qti-value>1/4</qti-value></qti-correct-response>
  </qti-response-declaration>
  <qti-item-body><p>One half is <qti-text-entry-interaction response-identifier="HALF"/> and
    one quarter is <qti-text-entry-interaction response-identifier="QUARTER"/>.</p></qti-item-body>
  <qti-response-processing
    template="https://purl.imsglobal.org/spec/qti/v3p0/rptemplates/match_correct.xml"/>
</qti-assessment-item>"""


@pytest.fixture(scope="module")
def qti_server(tmp_path_factory) -> Iterator[Server]:
    """A demo server of its own whose course has three QTI items imported while it runs."""
    archive = package(
        {
            "match.xml": (FIXTURES / "qti3" / "match.xml").read_bytes(),
            "gap.xml": (FIXTURES / "qti3" / "gap_match.xml").read_bytes(),
            "typed.xml": TYPED,
        }
    )
    mapping = "match,found.equal-parts\ngapMatch,found.equal-parts\ntyped,found.equal-parts\n"
    with demo_with_qti(tmp_path_factory.mktemp("qti-server"), archive, mapping) as running:
        yield running


def _open(page, site: str, item: str) -> None:
    page.goto(f"{site}/learner/practice/found.equal-parts?item={item}&event={uuid.uuid4()}")
    axe = pytest.importorskip("axe_playwright_python.sync_playwright").Axe()
    assert _serious(axe.run(page, options=AXE_OPTIONS).response) == []


def test_each_new_kind_is_answered_right_on_the_practice_page(browser, qti_server, screenshot):
    site = qti_server.url
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.set_default_timeout(15_000)
    page.goto(f"{site}/signin")
    page.get_by_label("Username").fill("amara")
    page.get_by_label("Password").fill("zoped-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/**")

    _open(page, site, "match")
    assert page.get_by_text("Match each one with its partner.").is_visible()
    screenshot(page, "qti-matching")
    for left, play in [
        ("Capulet", "Romeo and Juliet"),
        ("Demetrius", "A Midsummer-Night's Dream"),
        ("Lysander", "A Midsummer-Night's Dream"),
        ("Prospero", "The Tempest"),
    ]:
        page.get_by_label(left).select_option(label=play)
    page.get_by_role("button", name="Check my answer").click()
    assert page.get_by_role("heading", name="Right!").is_visible()

    _open(page, site, "gapmatch")
    assert page.get_by_text("Now is the ____ (1) of our discontent").is_visible()
    screenshot(page, "qti-blanks-choices")
    # By keyboard: focus each blank's list and pick by typing.
    page.get_by_label("Blank 1").focus()
    page.keyboard.press("w")
    page.get_by_label("Blank 2").select_option(label="spring")  # wrong on purpose
    page.get_by_role("button", name="Check my answer").click()
    assert page.get_by_role("heading", name="Not quite.").is_visible()
    assert page.get_by_text("The right answers, in order: winter; summer.").is_visible()

    _open(page, site, "typed")
    page.get_by_label("Blank 1").fill("1/2")
    page.keyboard.press("Tab")
    page.keyboard.type(" 1/4 ")
    screenshot(page, "qti-blanks-typed")
    page.get_by_role("button", name="Check my answer").click()
    assert page.get_by_role("heading", name="Right!").is_visible()
    page.close()
