"""The teacher's evidence rows in words (issue 15, item 6): the answer given for every item
type, overrides by level name, and odd or old payloads shown plainly rather than failing."""

from __future__ import annotations

import pytest

from tests import factories
from zoped.domain.evidence import EvidenceKind
from zoped.services.learner_pages import evidence_rows

COURSE = factories.course()
TITLES = {c.id: c.title for c in COURSE.framework}


def _row(**overrides):
    (row,) = evidence_rows(
        [factories.event(**overrides)], courses=[COURSE], titles=TITLES, names={"t1": "Ms. T"}
    )
    return row


@pytest.mark.parametrize(
    ("item_id", "response", "chosen", "typed"),
    [
        ("q.single", "b", ("1/3",), None),
        ("q.multi", ["a", "c"], ("2/4", "2/3"), None),
        ("q.num", "0.3", (), "0.3"),
        ("q.num", 0.25, (), "0.25"),
        ("q.text", "a half", (), "a half"),
        ("q.order", ["c", "a", "b"], ("1/2", "1/8", "1/4"), None),
    ],
)
def test_the_answer_given_is_in_words_for_every_item_type(item_id, response, chosen, typed):
    row = _row(item_id=item_id, payload={"response": response})
    assert row.question == COURSE.item(item_id).stem
    assert row.chosen == chosen
    assert row.typed == typed
    assert row.ordered is (item_id == "q.order")
    assert row.what == "Answer"


@pytest.mark.parametrize(
    "payload",
    [{}, {"response": None}, {"response": {"a": 1}}, {"response": ["zzz"]}, {"response": 3}],
)
def test_a_missing_or_odd_response_shows_no_answer_and_no_id(payload):
    row = _row(item_id="q.single", payload=payload)
    assert row.question == "What fraction is shaded?"
    assert row.typed is None
    assert "zzz" not in row.chosen
    assert row.result == "right"


def test_an_item_no_longer_in_the_course_has_no_question():
    row = _row(item_id="q.gone", payload={"response": "a"})
    assert row.question is None
    assert row.chosen == ()


@pytest.mark.parametrize(
    ("payload", "result"),
    [
        ({"level": 3}, "set to proficient"),
        ({"level": 4}, "set to mastered"),
        ({"level": 9}, "level set"),
        ({"level": "3"}, "level set"),
        ({}, "level set"),
    ],
)
def test_an_override_reads_as_a_level_name_by_a_teacher_named(payload, result):
    row = _row(
        kind=EvidenceKind.TEACHER_OVERRIDE,
        item_id=None,
        correct=None,
        score=0.75,
        actor_id="t1",
        note="why",
        payload=payload,
        competency_ids=["frac.unit"],
    )
    assert row.result == result
    assert row.by == "Ms. T"
    assert row.competencies == (TITLES["frac.unit"],)
    assert row.what == "Teacher override"


def test_someone_unknown_and_a_competency_of_another_course_are_named_plainly():
    row = _row(actor_id="gone", competency_ids=["elsewhere.x"])
    assert row.by == "someone else"
    assert row.competencies == ("another course's competency",)
