"""The teacher's page on one learner (issue 15, item 6): evidence as the question and the answer
given in words, classes and people by name, overrides by level name, a progress chart, and a
page kept short (the latest evidence shown, the rest behind "show more")."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from tests.conftest import DEMO_NOW
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.clock import PinnedClock
from zoped.domain.content import Item, ItemType
from zoped.services import practice
from zoped.services.courses import courses_of_learner, get_course
from zoped.store.repositories import PeopleRepository

LATER = DEMO_NOW + timedelta(hours=1)


def _first(items: list[Item], kind: ItemType) -> Item:
    return next(i for i in items if i.type is kind and i.stem.strip())


def _answer(db, item: Item, response, at) -> None:
    with db.session() as s:
        amara = PeopleRepository(s).get_user("amara")
        practice.submit_answer(
            s,
            actor=amara,
            learner_id="amara",
            item_id=item.id,
            response=response,
            event_id=uuid.uuid4(),
            hints_used=1,
            now=at,
        )


def _course_items(db) -> list[Item]:
    with db.session() as s:
        info = courses_of_learner(s, learner_id="amara")[0]
        return list(get_course(s, course_id=info.key).items)


def _evidence(page: str) -> str:
    start = page.index('id="timeline-h"')
    return page[start : page.index("</section>", start)]


def test_evidence_shows_the_question_and_the_answer_given_never_an_item_id(fresh_db) -> None:
    items = _course_items(fresh_db)
    choice = _first(items, ItemType.SINGLE_CHOICE)
    wrong = next(o for o in choice.options if not o.correct)
    number = _first(items, ItemType.NUMERIC)
    order = _first(items, ItemType.ORDERING)
    given_order = [o.id for o in reversed(order.options)]
    _answer(fresh_db, choice, wrong.id, LATER - timedelta(minutes=3))
    _answer(fresh_db, number, "12345", LATER - timedelta(minutes=2))
    _answer(fresh_db, order, given_order, LATER - timedelta(minutes=1))

    teacher = make_client(fresh_db, clock=PinnedClock(LATER))
    sign_in(teacher, "rivera")
    reply = teacher.get("/teacher/learners/amara")
    assert reply.status_code == 200
    evidence = _evidence(reply.text)
    rows = re.findall(r"<tr>.*?</tr>", evidence, flags=re.S)
    newest = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)) for r in rows[1:4]]
    # Newest first: the order, the number, the chosen option; each with its question.
    assert "Order given" in newest[0]
    assert " → " in newest[0]
    texts = [re.sub(r"<[^>]+>", "", o.text).replace("*", "") for o in reversed(order.options)]
    assert texts[0].split()[0] in newest[0]
    assert "“12345”" in newest[1]
    assert "Answer given" in newest[2]
    assert "wrong" in newest[2]
    assert "30 November 2026" in newest[2]
    assert f"Answer given: {wrong.text.split()[0].strip('*_`')}" in newest[2]
    for item in (choice, number, order):
        assert item.id not in reply.text.replace(f'value="{item.id}"', "")
    assert "q.ops" not in evidence
    assert not re.search(r"<code>", evidence)
    # Hints used are shown for answers.
    assert "<td>1 hint</td>" in rows[1]


def test_crumbs_name_classes_overrides_name_levels_and_teachers(fresh_db) -> None:
    teacher = make_client(fresh_db)
    sign_in(teacher, "rivera")
    csrf = csrf_of(teacher, "/teacher/learners/amara")
    done = teacher.post(
        "/teacher/learners/amara/overrides",
        data={
            "competency_id": "ratio.unit-rate",
            "level": "proficient",
            "reason": "explained unit rates well",
            "csrf_token": csrf,
        },
    )
    assert done.status_code == 303
    page = teacher.get("/teacher/learners/amara").text
    crumbs = re.search(r'<p class="crumbs">(.*?)</p>', page, flags=re.S)
    assert crumbs is not None
    assert "class-5a" not in re.sub(r'href="[^"]*"', "", crumbs.group(1))
    with fresh_db.session() as s:
        name = PeopleRepository(s).get_class("class-5a").name
    assert name in crumbs.group(1)
    evidence = _evidence(page)
    assert "set to proficient" in evidence
    assert not re.search(r"level \d", page)
    assert "Ms. Rivera" in evidence
    assert "(rivera)" not in page


def test_the_page_opens_with_a_progress_chart_and_shows_only_the_latest_evidence(
    shared_db,
) -> None:
    teacher = make_client(shared_db)
    sign_in(teacher, "rivera")
    page = teacher.get("/teacher/learners/amara").text
    chart = page.find('class="progress-chart"')
    assert 0 < chart < page.find('id="state-h"')
    evidence = _evidence(page)
    shown, _, more = evidence.partition('<details class="more-evidence">')
    assert len(re.findall(r"<tr><td>", shown)) == 20
    assert more, "the earlier evidence is behind 'show more'"
    assert re.search(r"<summary>Show \d+ earlier</summary>", more)
    assert "The latest 20 of" in shown


def test_a_learner_with_no_evidence_gets_a_plain_page(fresh_db) -> None:
    with fresh_db.session() as s:
        learners = PeopleRepository(s).learners_in_class("class-5a")
    teacher = make_client(fresh_db)
    sign_in(teacher, "rivera")
    for lid in learners:
        reply = teacher.get(f"/teacher/learners/{lid}")
        assert reply.status_code == 200
        assert "Traceback" not in reply.text
