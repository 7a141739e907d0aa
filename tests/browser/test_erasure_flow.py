"""In the browser: a learner asks for erasure on their privacy page and sees the date; the admin
finds the request on the export and erasure page and cancels it; the learner sees the form
again. Nothing is erased (the grace period is 14 days)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_learner_flow import sign_in


def test_a_request_is_shown_to_the_admin_and_cancelled(browser, server, screenshot) -> None:
    learner = browser.new_context().new_page()
    learner.set_default_timeout(15_000)
    sign_in(learner, server.url, "ben")
    learner.goto(f"{server.url}/privacy")
    learner.get_by_label(re.compile("Type your username")).fill("ben")
    learner.get_by_role("button", name="Ask for erasure").click()
    expect(learner.get_by_role("status").first).to_contain_text("Erasure requested")
    expect(learner.get_by_text(re.compile("Your data will be erased on"))).to_be_visible()
    screenshot(learner, "erasure-requested")

    admin = browser.new_context().new_page()
    admin.set_default_timeout(15_000)
    sign_in(admin, server.url, "admin")
    admin.goto(f"{server.url}/admin/privacy")
    pending = admin.get_by_role("region", name="Pending erasures")
    expect(pending).to_contain_text("Ben")
    screenshot(admin, "erasure-admin")
    pending.get_by_role("button", name=re.compile("Cancel the erasure of")).click()
    expect(admin.get_by_role("status").first).to_contain_text("The erasure is cancelled")
    expect(admin.get_by_role("region", name="Pending erasures")).to_contain_text(
        "No erasure is pending."
    )

    learner.reload()
    expect(learner.get_by_role("button", name="Ask for erasure")).to_be_visible()
    expect(learner.get_by_text(re.compile("will be erased on"))).to_have_count(0)
    learner.context.close()
    admin.context.close()
