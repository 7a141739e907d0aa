"""The QTI import page (/teacher/courses/import-qti) on the seeded demo school: a teacher
imports items into a course, the same file again writes nothing and says so, a broken file lists
its located problems and writes nothing, a change to items already there is previewed and applied
only when the same files are sent back; learners are refused."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.qti.helpers import FIXTURES, package
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.services.courses import get_course
from zoped.services.system import Database

PAGE = "/teacher/courses/import-qti"
COURSE = "fractions-ratios"
MATCH = (FIXTURES / "qti3" / "match.xml").read_bytes()
MAPPING = b"match,found.equal-parts\nITM-text_entry,found.equal-parts\n"


def _upload(client: TestClient, qti: bytes, *, name: str = "items.zip", mapping=MAPPING, **form):
    files: dict[str, Any] = {"qti_file": (name, qti, "application/zip")}
    if mapping is not None:
        files["mapping_file"] = ("map.csv", mapping, "text/csv")
    csrf = csrf_of(client, PAGE)
    return client.post(PAGE, data={"csrf_token": csrf, "course": COURSE, **form}, files=files)


def _items(database: Database) -> dict[str, Any]:
    with database.session() as session:
        return {i.id: i for i in get_course(session, course_id=COURSE).items}


def test_a_teacher_imports_items_and_the_same_file_again_changes_nothing(
    fresh_db: Database,
) -> None:
    client = make_client(fresh_db)
    sign_in(client, "rivera")
    page = client.get(PAGE).text
    assert "Import QTI items" in page
    assert f'<option value="{COURSE}"' in page
    archive = package({"match.xml": MATCH})
    first = _upload(client, archive)
    assert first.status_code == 200, first.text
    assert f"Imported items.zip into <strong>{COURSE}</strong>: 1 added" in first.text
    assert _items(fresh_db)["match"].competencies == ("found.equal-parts",)
    again = _upload(client, archive)
    assert again.status_code == 200
    assert "Nothing changed" in again.text


def test_a_broken_file_lists_located_problems_and_writes_nothing(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    sign_in(client, "okafor")
    before = _items(fresh_db)
    broken = MATCH.replace(b"map_response.xml", b"map_response_point.xml")
    response = _upload(client, broken, name="match.xml")
    assert response.status_code == 422
    assert "match.xml: 1 problem; nothing was imported" in response.text
    assert "<code>match.xml line 36 &lt;qti-response-processing&gt;</code>" in response.text
    untagged = _upload(client, package({"match.xml": MATCH}), mapping=None)
    assert untagged.status_code == 422
    assert "item match is tagged to no competency" in untagged.text
    assert _items(fresh_db) == before


def test_changing_items_already_there_is_previewed_then_confirmed(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    sign_in(client, "rivera")
    assert _upload(client, package({"match.xml": MATCH})).status_code == 200
    changed = package({"match.xml": MATCH.replace(b"Capulet", b"Juliet's father")})
    preview = _upload(client, changed)
    assert preview.status_code == 200
    assert "check what changes" in preview.text
    assert _items(fresh_db)["match"].options[0].text == "Capulet"
    digest = preview.text.split('name="confirm_digest" value="')[1].split('"')[0]
    other = _upload(client, package({"match.xml": MATCH}), confirm_digest=digest)
    assert "Nothing changed" in other.text  # the original again: nothing to confirm
    done = _upload(client, changed, confirm_digest=digest)
    assert done.status_code == 200
    assert "1 updated" in done.text
    assert _items(fresh_db)["match"].options[0].text == "Juliet's father"


def test_a_learner_may_not_use_the_page(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    sign_in(client, "amara")
    assert client.get(PAGE).status_code == 403
