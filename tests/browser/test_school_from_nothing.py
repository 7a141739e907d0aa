"""Issue 14's done-when, in Chromium, through pages alone: a fresh ``zoped serve`` with an empty
database; the operator sets the school up with the setup code; the admin imports a OneRoster
bundle, imports a course and attaches it to a class; a learner from the bundle signs in with the
bundle's password and practises; their guardian, given a reset code by the admin, sees the
child's roadmap; the admin finds all of it in the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import oneroster_bundles as ob
from tests.browser.conftest import (
    VIEWPORTS,
    ZOPED,
    Server,
    _free_port,
    screenshot,
    start_server,
    stop_server,
)
from tests.browser.test_learner_flow import answer_something
from tests.conftest import REPO
from zoped.services.auth import setup_code

SECRET = "a-browser-test-secret-that-is-long-enough-0123456789"
ANA_PASSWORD = "ana-likes-maths-26"


@pytest.fixture
def empty_server(tmp_path: Path) -> Iterator[Server]:
    """``zoped serve`` on a new, empty SQLite database."""
    env = {"ZOPED_DATABASE_URL": f"sqlite:///{tmp_path / 'school.db'}", "ZOPED_SECRET_KEY": SECRET}
    running = start_server(tmp_path, [ZOPED, "serve", "--port", str(_free_port())], env)
    yield running
    stop_server(running)


def _sign_in(page, url: str, username: str, password: str) -> None:
    page.goto(f"{url}/signin")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_school_set_up_from_nothing_through_pages(browser, empty_server, tmp_path: Path) -> None:
    url = empty_server.url
    assert setup_code(SECRET) in empty_server.logs()  # serve prints it for the operator
    admin = browser.new_context(viewport=VIEWPORTS["desktop"]).new_page()
    admin.set_default_timeout(20_000)

    # 1. The school and its first admin.
    admin.goto(f"{url}/signin")
    admin.get_by_role("heading", name="Set up your school").wait_for()
    admin.get_by_label("Setup code").fill(setup_code(SECRET))
    admin.get_by_label("School name").fill("Hill Elementary")
    admin.get_by_label("Short id for the school").fill("hill")
    admin.get_by_label("Your name").fill("Sam Head")
    admin.get_by_label("Your username").fill("sam")
    admin.get_by_label("Password", exact=True).fill("sams-password-1")
    admin.get_by_label("Password again").fill("sams-password-1")
    admin.get_by_role("button", name="Create the school").click()
    admin.get_by_role("heading", name="Hill Elementary").wait_for()
    screenshot(admin, "school-setup-done")

    # 2. The roster, from a OneRoster bundle written from the specification.
    bundle = tmp_path / "roster.zip"
    bundle.write_bytes(ob.school_bundle(school="hill").zip_bytes())
    admin.get_by_role("link", name="Roster import").click()
    admin.get_by_label("OneRoster bundle (zip)").set_input_files(str(bundle))
    admin.get_by_role("button", name="Import").click()
    admin.get_by_role("heading", name="Imported roster.zip").wait_for()
    screenshot(admin, "school-roster-imported")

    # 3. A course, attached to Ana's class.
    admin.get_by_role("link", name="Courses").click()
    admin.get_by_role("link", name="Import a course file").click()
    admin.get_by_label("Course file").set_input_files(
        str(REPO / "zoped" / "content" / "demo_course.yaml")
    )
    admin.get_by_role("button", name="Import").click()
    admin.get_by_role("link", name="Courses").first.click()
    form = admin.locator(
        "form", has=admin.get_by_role("button", name="Save the courses of Math 5 A")
    )
    form.get_by_role("checkbox").first.check()
    form.get_by_role("button", name="Save the courses of Math 5 A").click()
    admin.get_by_role("heading", name="Courses", exact=True).wait_for()
    form = admin.locator(
        "form", has=admin.get_by_role("button", name="Save the courses of Math 5 A")
    )
    assert form.get_by_role("checkbox").first.is_checked()
    screenshot(admin, "school-course-attached")

    # 4. Ana signs in with the bundle's password and practises.
    learner = browser.new_context(viewport=VIEWPORTS["phone"]).new_page()
    learner.set_default_timeout(20_000)
    _sign_in(learner, url, "ana", ANA_PASSWORD)
    learner.get_by_role("heading", name="My roadmap").wait_for()
    learner.goto(
        url + learner.locator("main a[href^='/learner/practice/']").first.get_attribute("href")
    )
    answer_something(learner)
    learner.get_by_role("button", name="Check my answer").click()
    learner.locator(".feedback").wait_for()
    screenshot(learner, "school-learner-practised")

    # 5. Her guardian gets a reset code from the admin and sees her roadmap.
    admin.goto(f"{url}/admin/users?q=carla")
    admin.get_by_role("link", name="Carla Lopez").click()
    admin.get_by_role("button", name="Give a password reset code").click()
    code = admin.locator("#reset-code").inner_text()
    guardian = browser.new_context(viewport=VIEWPORTS["phone"]).new_page()
    guardian.set_default_timeout(20_000)
    guardian.goto(f"{url}/signin/reset")
    guardian.get_by_label("Username").fill("carla.lopez")
    guardian.get_by_label("Code from your admin").fill(code)
    guardian.get_by_label("New password", exact=True).fill("carlas-password")
    guardian.get_by_label("New password again").fill("carlas-password")
    guardian.get_by_role("button", name="Set my password").click()
    guardian.get_by_role("link", name="Annie Lopez").click()
    guardian.get_by_text("Fractions").first.wait_for()
    screenshot(guardian, "school-guardian-sees-child")

    # 6. The admin sees all of it in the audit log.
    admin.goto(f"{url}/admin/audit?learner=ana")
    log = admin.locator("main").inner_text()
    # Ana's own reads and her answer (a write), and her guardian's look.
    for seen in ("\twrite\t", "Carla Lopez (guardian", "Annie Lopez (learner"):
        assert seen in log, seen
    admin.goto(f"{url}/admin/audit")
    everything = admin.locator("main").inner_text()
    for action in ("roster.import", "sign_in", "password.reset_used"):
        assert action in everything, action
    screenshot(admin, "school-audit")
