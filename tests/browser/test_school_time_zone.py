"""The admin's time-zone form in Chromium: an unknown zone is refused beside the field, with
what was typed kept and the saved zone unchanged (screenshots at both widths)."""

from __future__ import annotations

from tests.browser.conftest import screenshot
from tests.browser.test_learner_flow import sign_in
from zoped.services.demo import DEMO_TIME_ZONE


def test_an_unknown_time_zone_is_refused_beside_the_field(page, server) -> None:
    sign_in(page, server.url, "admin")
    page.goto(f"{server.url}/admin")
    field = page.get_by_label("Time zone")
    assert field.input_value() == DEMO_TIME_ZONE
    field.fill("Mars/Olympus")
    page.get_by_role("button", name="Save time zone").click()
    error = page.locator("#time_zone-error")
    error.wait_for()
    assert "a time zone name such as" in error.inner_text()
    assert page.get_by_label("Time zone").input_value() == "Mars/Olympus"
    assert page.get_by_label("Time zone").get_attribute("aria-invalid") == "true"
    screenshot(page, "admin-time-zone-refused")

    page.goto(f"{server.url}/admin")
    assert page.get_by_label("Time zone").input_value() == DEMO_TIME_ZONE  # nothing changed
    page.get_by_role("button", name="Save time zone").click()
    page.get_by_text("The school's time zone is saved.").wait_for()
