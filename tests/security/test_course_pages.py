"""Several courses per school through the pages (issue 14, item 3), on the seeded demo school,
whose classes all follow fractions and ratios and whose Grade 7 (class-7c: oscar, okafor's)
follows early algebra too. Each case of the issue is one test: another school's import of the
demo course's id changes nothing here; an import whose id sorts first moves nobody; a learner
sees their classes' courses with a switcher; the class page of one course answers 200 after an
undo on another; a re-import shows what it removes before it is confirmed; admins choose the
courses of each class."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import yaml
from fastapi.testclient import TestClient

from tests import factories as f
from tests.conftest import DEMO_NOW, REPO
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.domain import Role, School
from zoped.interop.course_file import dump_course, load_course_file
from zoped.services.demo import DEMO_PASSWORD
from zoped.services.roster import create_school, create_user
from zoped.services.system import Database

DEMO_COURSE = REPO / "zoped" / "content" / "demo_course.yaml"
SECOND_COURSE = REPO / "zoped" / "content" / "second_course.yaml"
FRACTIONS = "fractions-ratios"
ALGEBRA = "early-algebra"


def _upload(client: TestClient, text: str, **form: str) -> Any:
    csrf = csrf_of(client, "/teacher/courses/import")
    return client.post(
        "/teacher/courses/import",
        data={"csrf_token": csrf, **form},
        files={"course_file": ("course.yaml", text.encode(), "application/yaml")},
    )


def _title(client: TestClient) -> str:
    """The course title the learner's roadmap shows (its lead line)."""
    found = re.search(r'<p class="lead">([^:<]+):', client.get("/learner").text)
    assert found is not None
    return found.group(1)


def _demo_with_title(title: str) -> str:
    data = dump_course(load_course_file(DEMO_COURSE))
    data["course"]["title"] = title
    return yaml.safe_dump(data, sort_keys=False)


def test_another_schools_import_of_the_demo_course_id_changes_nothing_here(
    fresh_db: Database,
) -> None:
    """The issue's first case: a teacher of another school imports a course with the demo
    course's id (the same file, retitled). It becomes that school's course; the demo's
    learners see their titles unchanged."""
    with fresh_db.session() as session:
        create_school(session, school=School("hill", "Hill School"), now=DEMO_NOW)
        teacher = f.user(Role.TEACHER, id="hill-teacher", school_id="hill", username="ht")
        create_user(session, user=teacher, password_hash=_hash("hill-password"), now=DEMO_NOW)
    amara = _signed_in(fresh_db, "demo-school", "amara", DEMO_PASSWORD)
    before = _title(amara)
    hill = _signed_in(fresh_db, "hill", "ht", "hill-password")
    imported = _upload(hill, _demo_with_title("Hill's fractions"))
    assert imported.status_code == 200, imported.text
    assert "Imported" in imported.text
    assert _title(amara) == before != "Hill's fractions"
    # And the other way round: the demo school re-imports, Hill's course stays Hill's.
    rivera = _signed_in(fresh_db, "demo-school", "rivera", DEMO_PASSWORD)
    assert _upload(rivera, _demo_with_title("Riverside fractions")).status_code == 200
    assert _title(amara) == "Riverside fractions"
    assert "Hill&#39;s fractions" in hill.get("/teacher/courses/import").text


def _signed_in(database: Database, school: str, username: str, password: str) -> TestClient:
    """A client signed in to one of several schools (the form then asks which)."""
    client = make_client(database)
    form = {"school": school, "username": username, "password": password}
    signed = client.post("/signin", data={**form, "csrf_token": csrf_of(client)})
    assert signed.status_code == 303, signed.text
    return client


def _hash(password: str) -> str:
    from argon2 import PasswordHasher

    return PasswordHasher().hash(password)


def test_an_import_whose_id_sorts_first_moves_nobody(fresh_db: Database) -> None:
    amara = make_client(fresh_db)
    sign_in(amara, "amara")
    before = _title(amara)
    rivera = make_client(fresh_db)
    sign_in(rivera, "rivera")
    first = f.course(id="aaa-first", title="Aardvarks", prefix="aaa-")
    response = _upload(rivera, yaml.safe_dump(dump_course(first), sort_keys=False))
    assert response.status_code == 200, response.text
    assert _title(amara) == before
    assert "course-switcher" not in amara.get("/learner").text


def test_a_learner_of_two_courses_switches_between_them(shared_db: Database) -> None:
    oscar = make_client(shared_db)
    sign_in(oscar, "oscar")
    home = oscar.get("/learner").text
    assert 'aria-label="My courses"' in home
    assert "Early algebra" in home
    assert _title(oscar).startswith("Fractions")
    chosen = oscar.get("/learner", params={"course": ALGEBRA})
    assert chosen.status_code == 200
    assert re.search(r'aria-current="page"><strong>Early algebra', chosen.text)
    # The choice is remembered by the other pages.
    assert _title(oscar).startswith("Early algebra")
    assert "Early algebra" in oscar.get("/learner/placement").text
    # A course of no class of theirs is not found; a learner of one course has no switcher.
    assert oscar.get("/learner", params={"course": "no-such-course"}).status_code == 404
    amara = make_client(shared_db)
    sign_in(amara, "amara")
    assert 'aria-label="My courses"' not in amara.get("/learner").text
    assert amara.get("/learner", params={"course": ALGEBRA}).status_code == 404


def test_the_class_page_of_one_course_answers_after_an_undo_on_another(
    fresh_db: Database,
) -> None:
    """The issue's 422: after a teacher undid an override, the class page of any other course
    answered 'invalid mastery events: events[0].undoes: no override'."""
    okafor = make_client(fresh_db)
    csrf = sign_in(okafor, "okafor")
    for competency in ("ratio.unit-rate", "alg.repeating-patterns"):
        made = okafor.post(
            "/teacher/learners/oscar/overrides",
            data={
                "csrf_token": csrf,
                "competency_id": competency,
                "level": "familiar",
                "reason": "seen in class",
            },
        )
        assert made.status_code == 303, made.text
        page = okafor.get("/teacher/learners/oscar").text
        override_id = re.findall(r"/overrides/([0-9a-f-]{36})/undo", page)[0]
        undone = okafor.post(
            f"/teacher/learners/oscar/overrides/{override_id}/undo",
            data={"csrf_token": csrf, "reason": "my mistake"},
        )
        assert undone.status_code == 303, undone.text
        for course in (FRACTIONS, ALGEBRA):
            response = okafor.get("/teacher/classes/class-7c", params={"course": course})
            assert response.status_code == 200, (competency, course, response.text[:500])
        assert ">Early algebra: patterns and expressions</option>" in response.text


def test_a_reimport_shows_what_it_removes_and_waits_for_the_same_file(
    fresh_db: Database,
) -> None:
    rivera = make_client(fresh_db)
    sign_in(rivera, "rivera")
    course = dump_course(load_course_file(DEMO_COURSE))
    dropped = course["items"].pop()
    smaller = yaml.safe_dump(course, sort_keys=False)
    preview = _upload(rivera, smaller)
    assert preview.status_code == 200
    assert "check what changes" in preview.text
    assert f"<code>{dropped['id']}</code>" in preview.text
    assert "Confirm and replace the course" in preview.text
    digest = hashlib.sha256(smaller.encode()).hexdigest()
    assert f'value="{digest}"' in preview.text
    # Nothing was written: the demo course still has the item.
    assert _upload(rivera, _demo_with_title("Fractions and ratios")).status_code == 200
    # Another file under the previewed digest is previewed afresh, not applied.
    other = _upload(rivera, smaller + "\n# edited\n", confirm_digest=digest)
    assert "That is not the file you previewed" in other.text
    done = _upload(rivera, smaller, confirm_digest=digest)
    assert done.status_code == 200
    assert "Replaced" in done.text
    assert "1 removed" in done.text
    again = _upload(rivera, smaller)  # the same file once more: nothing to confirm
    assert "Replaced" in again.text


def test_a_broken_or_clashing_file_writes_nothing(fresh_db: Database) -> None:
    rivera = make_client(fresh_db)
    sign_in(rivera, "rivera")
    broken = _upload(rivera, "format: zoped-course\nversion: 1\ncourse: {}\n")
    assert broken.status_code == 422
    assert "nothing was imported" in broken.text
    clash = dump_course(load_course_file(SECOND_COURSE))
    clash["course"]["id"] = "algebra-again"
    refused = _upload(rivera, yaml.safe_dump(clash, sort_keys=False))
    assert refused.status_code == 409
    assert "ids used by another course of this school" in refused.text
    assert "Traceback" not in refused.text


def test_an_admin_attaches_and_detaches_courses_of_a_class(fresh_db: Database) -> None:
    admin = make_client(fresh_db)
    csrf = sign_in(admin, "admin")
    page = admin.get("/admin/courses")
    assert page.status_code == 200
    assert "Early algebra: patterns and expressions" in page.text
    rivera = make_client(fresh_db)
    sign_in(rivera, "rivera")
    assert rivera.get("/admin/courses").status_code == 403
    amara = make_client(fresh_db)
    sign_in(amara, "amara")
    # Algebra first for Grade 5: amara's pages open on it, with a switcher.
    attached = admin.post(
        "/admin/classes/class-5a/courses",
        data={"csrf_token": csrf, "course_ids": [FRACTIONS, ALGEBRA], "first": ALGEBRA},
    )
    assert attached.status_code == 303
    assert _title(amara).startswith("Early algebra")
    assert 'aria-label="My courses"' in amara.get("/learner").text
    # Detach both: amara is told her classes follow no course.
    detached = admin.post("/admin/classes/class-5a/courses", data={"csrf_token": csrf})
    assert detached.status_code == 303
    assert "No course yet" in amara.get("/learner").text
    assert rivera.get("/teacher/classes/class-5a").status_code == 200
    # Another school's course, or a class that is not the school's, changes nothing.
    unknown = admin.post(
        "/admin/classes/class-5a/courses",
        data={"csrf_token": csrf, "course_ids": ["no-such-course"]},
    )
    assert unknown.status_code == 422
    assert "no course &#39;no-such-course&#39; in this school" in unknown.text
    missing = admin.post(
        "/admin/classes/no-such-class/courses", data={"csrf_token": csrf, "course_ids": []}
    )
    assert missing.status_code == 404
    log = admin.get("/admin/audit").text
    assert "class.courses" in log


def test_guardians_see_every_course_and_teachers_pick_the_learners_course(
    shared_db: Database,
) -> None:
    guardian = make_client(shared_db)
    sign_in(guardian, "guardian.oscar")
    child = guardian.get("/guardian/learners/oscar").text
    assert "Roadmap: Fractions, ratios and proportional reasoning" in child
    assert "Roadmap: Early algebra: patterns and expressions" in child
    okafor = make_client(shared_db)
    sign_in(okafor, "okafor")
    first = okafor.get("/teacher/learners/oscar").text
    assert "Levels on Fractions, ratios and proportional reasoning" in first
    assert f"/teacher/learners/oscar?course={ALGEBRA}" in first
    other = okafor.get("/teacher/learners/oscar", params={"course": ALGEBRA})
    assert other.status_code == 200
    assert "Levels on Early algebra: patterns and expressions" in other.text
    assert okafor.get("/teacher/learners/umar", params={"course": ALGEBRA}).status_code == 404
