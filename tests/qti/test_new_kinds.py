"""The two item kinds QTI brought (matching, blanks): their rules, their scoring, bad answers
refused, course files that keep them, and the teacher's evidence rows that read them in words."""

from __future__ import annotations

import dataclasses

import pytest

from tests import factories
from tests.qti.helpers import FIXTURES, LIT_COURSE
from zoped.domain.content import Blank, Item, ItemType, Option
from zoped.domain.grading import grade
from zoped.errors import InvalidInput
from zoped.interop.course_file import dump_course, parse_course
from zoped.interop.qti import QtiItem, read_qti
from zoped.services.learner_pages import evidence_rows


def fixture(name: str) -> Item:
    (found,) = read_qti(FIXTURES / "qti3" / name)
    assert isinstance(found, QtiItem)
    return dataclasses.replace(found.item, competencies=("lit.quotes",))


MATCH = fixture("match.xml")
GAPS = fixture("gap_match.xml")
TYPED = Item(
    id="typed",
    type=ItemType.BLANKS,
    stem="Half is [[half]] and a quarter is [[quarter]].",
    competencies=("lit.quotes",),
    blanks=(Blank("half", accepted=("1/2", "one half")), Blank("quarter", accepted=("1/4",))),
)


@pytest.mark.parametrize(
    ("item", "response", "score"),
    [
        (MATCH, ["r", "m", "m", "t"], 1.0),
        (MATCH, ["r", "m", "", ""], 0.5),
        (MATCH, ["m", "r", "t", "r"], 0.0),
        (GAPS, ["w", "su"], 1.0),
        (GAPS, ["w", ""], 0.5),
        (TYPED, ["One Half", " 1/4"], 1.0),
        (TYPED, ["1/3", "1/4"], 0.5),
        (TYPED, ["", ""], 0.0),
    ],
)
def test_the_score_is_the_share_of_parts_right(item, response, score) -> None:
    graded = grade(item, response)
    assert graded.score == score
    assert graded.correct is (score == 1.0)


@pytest.mark.parametrize(
    ("item", "response", "message"),
    [
        (MATCH, "r", "one answer per part"),
        (MATCH, ["r", "m", "m"], "expected 4 texts, one per option"),
        (MATCH, ["r", "m", "m", "x"], "no target 'x'"),
        (MATCH, {"r", "m", "t", "q"}, "one answer per part"),
        (GAPS, ["w", "zz"], "blank 'g2' has no choice 'zz'"),
        (TYPED, ["1/2", 4], "expected 2 texts, one per blank"),
    ],
)
def test_a_malformed_answer_is_refused_plainly(item, response, message) -> None:
    with pytest.raises(InvalidInput) as caught:
        grade(item, response)
    assert message in str(caught.value.problems[0])


def test_the_rules_of_each_kind_are_checked() -> None:
    no_match = dataclasses.replace(
        MATCH, options=(Option("a", "A", match="zz"), *MATCH.options[1:])
    )
    assert [str(p) for p in no_match.problems()] == [
        "options[0].match: must name one of the targets, not 'zz'"
    ]
    two_right = Blank("g1", choices=(Option("a", "A", True), Option("b", "B", True)))
    unmarked = dataclasses.replace(GAPS, stem="no markers", blanks=(two_right,))
    assert [str(p) for p in unmarked.problems()] == [
        "blanks[0].choices: a blank with choices needs exactly one correct choice, not 2",
        "stem: must mark each blank once, in order, as [[id]]: expected g1, found none",
    ]
    assert "blanks: a single_choice item has no blanks" in [
        str(p)
        for p in dataclasses.replace(
            factories.course().item("q.single"), blanks=(two_right,)
        ).problems()
    ]


def test_a_course_file_keeps_both_kinds() -> None:
    course = parse_course({**LIT_COURSE, "items": []})
    with_items = dataclasses.replace(course, items=(MATCH, GAPS, TYPED))
    again = parse_course(dump_course(with_items))
    assert again.items == (MATCH, GAPS, TYPED)
    entry = dump_course(with_items)["items"][0]
    assert entry["options"][0] == {"id": "c", "text": "Capulet", "match": "r"}


def test_a_broken_blank_in_a_course_file_is_located() -> None:
    raw = {
        **LIT_COURSE,
        "items": [
            {
                "id": "b",
                "type": "blanks",
                "stem": "x [[one]]",
                "competencies": ["lit.quotes"],
                "blanks": [{"id": "one", "choices": [{"id": "a", "text": "A"}], "oops": 1}],
            }
        ],
    }
    with pytest.raises(InvalidInput) as caught:
        parse_course(raw)
    assert [str(p) for p in caught.value.problems] == ["items[0].blanks[0]: unknown field(s): oops"]


def test_the_teacher_reads_a_matching_or_blanks_answer_in_words() -> None:
    course = dataclasses.replace(parse_course({**LIT_COURSE, "items": []}), items=(MATCH, GAPS))
    rows = evidence_rows(
        [
            factories.event(item_id="match", payload={"response": ["r", "", "m", "t"]}),
            factories.event(item_id="gapmatch", payload={"response": ["w", "zz"]}),
            factories.event(item_id="gapmatch", payload={"response": "w"}),
        ],
        courses=[course],
        titles={},
        names={},
    )
    assert rows[0].chosen == (
        "Capulet → Romeo and Juliet",
        "Demetrius → (none)",
        "Lysander → A Midsummer-Night's Dream",
        "Prospero → The Tempest",
    )
    assert rows[1].chosen == ("winter", "(none)")
    assert rows[1].question is not None
    assert "Now is the ____ (1) of our discontent" in rows[1].question
    assert rows[2].chosen == ()
