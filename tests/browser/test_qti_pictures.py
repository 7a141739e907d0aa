"""A picture a QTI item shows (docs/qti.md, "Pictures") is on the practice page: the learner sees
it, loaded from /media/, never wider than a phone's screen, and the choice's feedback after
answering."""

from __future__ import annotations

import struct
import uuid
import zlib
from collections.abc import Iterator

import pytest

from tests.browser.conftest import Server, demo_with_qti
from tests.qti.helpers import FIXTURES, package

CHOICE = (FIXTURES / "qti3" / "choice.xml").read_bytes()


def _wide_png(width: int, height: int) -> bytes:
    """A plain PNG wider than a phone (a diagram a question needs)."""
    raw = b"".join(b"\x00" + bytes((40, 110, 200)) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


@pytest.fixture(scope="module")
def picture_server(tmp_path_factory) -> Iterator[Server]:
    """A demo server of its own whose course has the choice example imported with its picture."""
    archive = package({"items/choice.xml": CHOICE, "img/sign.png": _wide_png(900, 300)})
    with demo_with_qti(
        tmp_path_factory.mktemp("picture-server"), archive, "choice,found.equal-parts\n"
    ) as running:
        yield running


def test_the_learner_sees_the_items_picture_within_the_screen(
    browser, picture_server, screenshot
) -> None:
    site = picture_server.url
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.set_default_timeout(15_000)
    page.goto(f"{site}/signin")
    page.get_by_label("Username").fill("amara")
    page.get_by_label("Password").fill("zoped-demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site}/**")
    page.goto(f"{site}/learner/practice/found.equal-parts?item=choice&event={uuid.uuid4()}")
    picture = page.get_by_role("img", name="NEVER LEAVE LUGGAGE UNATTENDED")
    assert picture.is_visible()
    assert (picture.get_attribute("src") or "").startswith("/media/")
    # Loaded (not a broken image), and scaled down to the phone's width.
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 900
    box = picture.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    screenshot(page, "qti-picture")
    page.get_by_label("You must stay with your luggage at all times.").check()
    page.get_by_role("button", name="Check my answer").click()
    assert page.get_by_role("heading", name="Right!").is_visible()
    page.close()
