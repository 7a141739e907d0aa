"""The CASE import page (/teacher/courses/import-case) on the seeded demo school: a teacher
imports a framework (quirks listed), the same file again writes nothing and says so, a broken
package lists its located problems and writes nothing, a re-import that removes a competency
is previewed and applied only when the same file is sent back; learners are refused."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from fastapi.testclient import TestClient

from tests.case.packages import fractions
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.interop.case import schema_problems
from zoped.services.courses import school_courses
from zoped.services.system import Database

PAGE = "/teacher/courses/import-case"


def _upload(client: TestClient, data: dict[str, Any], **form: str) -> Any:
    csrf = csrf_of(client, PAGE)
    return client.post(
        PAGE,
        data={"csrf_token": csrf, **form},
        files={"case_file": ("framework.json", json.dumps(data).encode(), "application/json")},
    )


def _codes(database: Database) -> list[str]:
    with database.session() as session:
        return [c.code for c in school_courses(session, school_id="demo-school")]


def test_a_teacher_imports_a_framework_and_the_same_file_again_changes_nothing(
    fresh_db: Database,
) -> None:
    client = make_client(fresh_db)
    sign_in(client, "rivera")
    assert "Import a CASE framework" in client.get(PAGE).text
    data = {"CFPackage": fractions()}
    first = _upload(client, data)
    assert first.status_code == 200, first.text
    assert "Imported <strong>example-mathematics-standards</strong> from CASE 1.0" in first.text
    assert "Tolerated (1)" in first.text  # the CFPackage wrapper
    assert "example-mathematics-standards" in _codes(fresh_db)
    again = _upload(client, data)
    assert again.status_code == 200
    assert "Nothing changed" in again.text


def test_a_broken_package_lists_its_problems_and_writes_nothing(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    sign_in(client, "rivera")
    before = _codes(fresh_db)
    data = fractions()
    data["CFItems"][1]["identifier"] = "x"
    response = _upload(client, data)
    assert response.status_code == 422
    assert "<code>CFItems[1].identifier</code>" in response.text
    assert "nothing was imported" in response.text
    assert _codes(fresh_db) == before
    garbled = client.post(
        PAGE,
        data={"csrf_token": csrf_of(client, PAGE)},
        files={"case_file": ("f.json", b'{"CFDocument": ', "application/json")},
    )
    assert garbled.status_code == 422
    assert "line 1 column 16" in garbled.text


def test_a_reimport_that_removes_a_competency_is_confirmed_first(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    sign_in(client, "rivera")
    assert _upload(client, fractions()).status_code == 200
    smaller = fractions()
    gone = smaller["CFItems"].pop(3)["identifier"]
    smaller["CFAssociations"] = [
        a
        for a in smaller["CFAssociations"]
        if gone not in (a["originNodeURI"]["identifier"], a["destinationNodeURI"]["identifier"])
    ]
    preview = _upload(client, smaller)
    assert preview.status_code == 200
    assert "check what changes" in preview.text
    assert "<code>3.nf.3</code>" in preview.text
    digest = hashlib.sha256(json.dumps(smaller).encode()).hexdigest()
    done = _upload(client, smaller, confirm_digest=digest)
    assert done.status_code == 200, done.text
    assert "Updated <strong>example-mathematics-standards</strong>" in done.text
    assert "1 removed" in done.text


def test_learners_may_not_import(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    sign_in(client, "amara")
    assert client.get(PAGE).status_code in (403, 404)


def test_the_framework_page_shows_case_links_and_downloads_a_valid_package(
    fresh_db: Database,
) -> None:
    client = make_client(fresh_db)
    sign_in(client, "rivera")
    data = fractions()
    assert _upload(client, data).status_code == 200
    page = client.get("/teacher/courses/example-mathematics-standards/framework")
    assert page.status_code == 200
    title = "Compare two fractions with different numerators."
    assert f'aria-label="CASE links of {title}"' in page.text
    assert '<li>related to: <a href="https://case.example.org/' in page.text
    assert "an item of another framework</a></li>" in page.text
    first = "Understand a fraction 1/b as one part of a whole."
    assert f'Needs first: <a href="#c-3.nf.1">{first}</a>' in page.text
    assert data["CFItems"][1]["identifier"] not in page.text  # no internal ids on pages
    for version in ("1.0", "1.1"):
        download = client.get(
            f"/teacher/courses/example-mathematics-standards/case.json?version={version}"
        )
        assert download.status_code == 200
        assert "attachment" in download.headers["content-disposition"]
        assert schema_problems(download.json(), version) == []
    assert (
        client.get(
            "/teacher/courses/example-mathematics-standards/case.json?version=2.0"
        ).status_code
        == 422
    )
    # The demo course (from a course file) has no CASE links, and downloads all the same.
    demo = client.get("/teacher/courses/fractions-ratios/framework")
    assert demo.status_code == 200
    assert "imported from a CASE" not in demo.text
    assert client.get("/teacher/courses/fractions-ratios/case.json").status_code == 200
    learner = make_client(fresh_db)
    sign_in(learner, "amara")
    assert learner.get("/teacher/courses/fractions-ratios/framework").status_code in (403, 404)
    assert client.get("/teacher/courses/nope/framework").status_code == 404


def test_the_admin_courses_page_links_each_course_to_its_framework(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    sign_in(client, "admin")
    page = client.get("/admin/courses")
    assert '<a href="/teacher/courses/fractions-ratios/framework">' in page.text
    assert client.get("/teacher/courses/fractions-ratios/framework").status_code == 200
