"""Course Markdown on the learner's pages: rendered (issue 15: learners saw "## Worked
example" and "**Question.**"), and sanitized (see tests/unit/web/test_markdown.py)."""

from __future__ import annotations

from tests.security.conftest import make_client, sign_in
from zoped.services.system import Database


def test_course_markdown_is_rendered_not_printed(fresh_db: Database) -> None:
    learner = make_client(fresh_db)
    sign_in(learner, "amara")
    page = learner.get("/learner/activity/act.worked.found.equal-parts")
    assert page.status_code == 200
    assert "<h3>Worked example: equal parts of a whole</h3>" in page.text
    assert "<strong>Question.</strong>" in page.text
    assert "## Worked" not in page.text
