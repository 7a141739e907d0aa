"""Grading each item kind, item rules, and rubric scoring."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from zoped.domain.content import (
    Activity,
    Criterion,
    Item,
    ItemType,
    Modality,
    Option,
    Rubric,
    RubricLevel,
    normalise_text,
    score,
)
from zoped.domain.grading import grade, parse_number
from zoped.errors import InvalidInput


def choice(kind: ItemType, *correct: str, ids: str = "abc") -> Item:
    return Item(
        id="q1",
        type=kind,
        stem="Pick",
        competencies=("c",),
        options=tuple(
            Option(id=i, text=i.upper(), correct=i in correct, feedback=f"fb-{i}") for i in ids
        ),
    )


def test_single_choice_uses_option_feedback() -> None:
    item = choice(ItemType.SINGLE_CHOICE, "b")
    assert grade(item, "b") == grade(item, "b")
    right, wrong = grade(item, "b"), grade(item, "a")
    assert (right.correct, right.score, right.feedback) == (True, 1.0, "fb-b")
    assert (wrong.correct, wrong.score, wrong.feedback) == (
        False,
        0.0,
        "fb-a. The right answer: B.",
    )


@pytest.mark.parametrize(
    ("picked", "correct", "credit"),
    [({"a", "b"}, True, 1.0), ({"a"}, False, 0.5), ({"a", "c"}, False, 0.0), ({"c"}, False, 0.0)],
)
def test_multiple_choice_partial_credit(picked: set[str], correct: bool, credit: float) -> None:
    result = grade(choice(ItemType.MULTIPLE_CHOICE, "a", "b"), picked)
    assert (result.correct, result.score) == (correct, credit)


def test_numeric_tolerance_and_strings() -> None:
    item = Item(
        id="n",
        type=ItemType.NUMERIC,
        stem="1/4?",
        competencies=("c",),
        answer=0.25,
        tolerance=0.01,
        feedback_correct="Yes",
        feedback_incorrect="No",
    )
    assert grade(item, 0.255).correct
    assert grade(item, " 0,25 ").correct
    assert grade(item, "0.3") == grade(item, 0.3)
    assert grade(item, 0.3).feedback == "No. The right answer: 0.25."
    exact = Item(id="e", type=ItemType.NUMERIC, stem="?", competencies=("c",), answer=0.3)
    assert grade(exact, 0.1 + 0.2).correct  # float noise is not a wrong answer


def test_short_text_ignores_case_and_spacing() -> None:
    item = Item(
        id="s",
        type=ItemType.SHORT_TEXT,
        stem="?",
        competencies=("c",),
        accepted=("1/4", "one quarter"),
    )
    assert grade(item, " ONE   Quarter ").correct
    assert grade(item, "1 / 4").correct
    assert not grade(item, "1/3").correct
    assert normalise_text("Ｏｎｅ") == "one"  # full-width letters fold too


def test_ordering_gives_pairwise_credit() -> None:
    item = choice(ItemType.ORDERING, ids="abcd")
    assert grade(item, ["a", "b", "c", "d"]).correct
    swapped = grade(item, ["b", "a", "c", "d"])
    assert not swapped.correct
    assert swapped.score == pytest.approx(5 / 6)
    assert grade(item, ["d", "c", "b", "a"]).score == 0.0


@pytest.mark.parametrize(
    ("kind", "response"),
    [
        (ItemType.SINGLE_CHOICE, "z"),
        (ItemType.SINGLE_CHOICE, ["a"]),
        (ItemType.MULTIPLE_CHOICE, "a"),
        (ItemType.MULTIPLE_CHOICE, ["a", "a"]),
        (ItemType.MULTIPLE_CHOICE, ["a", "zz"]),
        (ItemType.ORDERING, ["a", "b"]),
        (ItemType.ORDERING, {"a", "b", "c"}),
        (ItemType.ORDERING, ["a", "b", "b"]),
    ],
)
def test_malformed_responses_are_refused(kind: ItemType, response: object) -> None:
    item = choice(kind, "a") if kind is not ItemType.ORDERING else choice(kind)
    with pytest.raises(InvalidInput):
        grade(item, response)  # type: ignore[arg-type]


@pytest.mark.parametrize("response", ["abc", True, float("nan"), None])
def test_malformed_numbers_are_refused(response: object) -> None:
    item = Item(id="n", type=ItemType.NUMERIC, stem="?", competencies=("c",), answer=1.0)
    with pytest.raises(InvalidInput):
        grade(item, response)  # type: ignore[arg-type]


def test_item_rules_report_every_problem() -> None:
    bad = Item(
        id="Q 1",
        type=ItemType.SINGLE_CHOICE,
        stem=" ",
        competencies=(),
        options=(Option("a", "A", correct=True), Option("a", "B", correct=True)),
        difficulty=2.0,
    )
    assert {p.location for p in bad.problems()} == {
        "id",
        "stem",
        "competencies",
        "difficulty",
        "options[1].id",
        "options",
    }
    with pytest.raises(InvalidInput):
        bad.validate()


@pytest.mark.parametrize(
    ("item", "location"),
    [
        (choice(ItemType.MULTIPLE_CHOICE), "options"),
        (choice(ItemType.ORDERING, ids="a"), "options"),
        (choice(ItemType.ORDERING, "a"), "options"),
        (Item(id="s", type=ItemType.SHORT_TEXT, stem="?", competencies=("c",)), "accepted"),
        (Item(id="n", type=ItemType.NUMERIC, stem="?", competencies=("c",)), "answer"),
        (
            Item(
                id="n", type=ItemType.NUMERIC, stem="?", competencies=("c",), answer=1, tolerance=-1
            ),
            "tolerance",
        ),
        (
            Item(id="n", type=ItemType.NUMERIC, stem="?", competencies=("c",), answer=float("inf")),
            "answer",
        ),
    ],
)
def test_answer_rules(item: Item, location: str) -> None:
    assert location in {p.location for p in item.problems()}


def test_activity_needs_body_or_link_and_positive_minutes() -> None:
    activity = Activity(id="a", title="A", modality=Modality.HANDS_ON, competencies=(), minutes=0)
    assert {p.location for p in activity.problems()} == {"competencies", "minutes", "body"}
    assert Modality("hands-on") is Modality.HANDS_ON


@pytest.fixture
def rubric() -> Rubric:
    levels = (RubricLevel("Beginning", 1), RubricLevel("Developing", 2), RubricLevel("Secure", 4))
    return Rubric(
        id="r",
        title="Recipe",
        criteria=(
            Criterion("accuracy", "Accurate", ("ratio",), levels),
            Criterion("explain", "Explains", ("ratio", "comm"), levels[:2]),
        ),
    )


def test_rubric_score_weighs_criteria_by_points(rubric: Rubric) -> None:
    assert rubric.problems() == []
    scores = score(rubric, {"accuracy": 2, "explain": "Beginning"})
    assert scores == {"ratio": pytest.approx((4 + 1) / (4 + 2)), "comm": pytest.approx(0.5)}
    assert score(rubric, {"accuracy": "Secure"}) == {"ratio": 1.0}


def test_rubric_score_refuses_unknown_criteria_and_levels(rubric: Rubric) -> None:
    with pytest.raises(InvalidInput) as error:
        score(rubric, {"nope": 0, "accuracy": 9, "explain": "Expert"})
    assert len(error.value.problems) == 3
    with pytest.raises(InvalidInput):
        score(rubric, {})


def test_rubric_rules() -> None:
    bad = Rubric(
        id="r",
        title="R",
        criteria=(
            Criterion("c", "C", (), (RubricLevel("x", 2), RubricLevel("y", 2))),
            Criterion("c", "D", ("k",), (RubricLevel("only", 0),)),
        ),
    )
    assert {p.location for p in bad.problems()} == {
        "criteria[0].competencies",
        "criteria[0].levels[1].points",
        "criteria[1].id",
        "criteria[1].levels",
    }


@pytest.mark.parametrize(
    ("typed", "value"),
    [
        ("0.75", 0.75),
        ("0,75", 0.75),
        ("3/4", 0.75),
        (" 3 / 4 ", 0.75),
        ("¾", 0.75),
        ("1 1/2", 1.5),
        ("1½", 1.5),
        ("1 ½", 1.5),
        ("-3/4", -0.75),
        ("\u22121/2", -0.5),
        ("7\u20448", 0.875),
        ("2⅔", 2 + 2 / 3),
        (".5", 0.5),
        ("12", 12.0),
        ("1e3", 1000.0),
    ],
)
def test_numbers_are_read_as_learners_type_them(typed: str, value: float) -> None:
    assert parse_number(typed) == pytest.approx(value)


@pytest.mark.parametrize("typed", ["", "abc", "1/0", "3/", "1/2/3", "1..2", "nan", "inf", "½½"])
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked by grade's caller
        parse_number(typed)


@given(st.integers(0, 99), st.integers(0, 99), st.integers(1, 99))
def test_a_mixed_number_is_its_whole_part_plus_its_fraction(
    whole: int, top: int, bottom: int
) -> None:
    assert parse_number(f"{whole} {top}/{bottom}") == pytest.approx(whole + top / bottom)
    assert parse_number(f"-{top}/{bottom}") == pytest.approx(-top / bottom)


def test_a_fraction_answer_scores_like_its_decimal() -> None:
    item = Item(id="f", type=ItemType.NUMERIC, stem="?", competencies=("c",), answer=0.75)
    for typed in ("3/4", "¾", "0.75", "6/8"):
        assert grade(item, typed).correct, typed
    with pytest.raises(InvalidInput, match="below the line"):
        grade(item, "3/0")


def test_a_wrong_order_is_shown_the_right_one() -> None:
    steps = tuple(Option(id=f"s{i}", text=f"step {i}") for i in range(1, 4))
    item = Item(id="o", type=ItemType.ORDERING, stem="?", competencies=("c",), options=steps)
    wrong = grade(item, ["s2", "s1", "s3"])
    assert not wrong.correct
    assert "The right order: 1. step 1; 2. step 2; 3. step 3." in wrong.feedback
    assert "right order" not in grade(item, ["s1", "s2", "s3"]).feedback


def test_every_wrong_answer_is_shown_the_right_one_and_right_answers_are_not() -> None:
    """Issue 15: after a wrong answer the right one is shown; feedback agrees with the verdict."""
    choice = Item(
        id="c", type=ItemType.SINGLE_CHOICE, stem="?", competencies=("c",),
        options=(Option(id="a", text="one half", correct=True), Option(id="b", text="one third")),
    )  # fmt: skip
    picks = Item(
        id="m", type=ItemType.MULTIPLE_CHOICE, stem="?", competencies=("c",),
        options=(Option(id="a", text="2/4", correct=True), Option(id="b", text="3/6", correct=True),
                 Option(id="c", text="2/3")),
    )  # fmt: skip
    text = Item(id="t", type=ItemType.SHORT_TEXT, stem="?", competencies=("c",), accepted=("1/4",))
    number = Item(id="n", type=ItemType.NUMERIC, stem="?", competencies=("c",), answer=0.5)
    cases = [
        (choice, "b", "a", "The right answer: one half."),
        (picks, ["a", "c"], ["a", "b"], "The right answers: 2/4; 3/6."),
        (text, "1/3", "1/4", "The right answer: 1/4."),
        (number, "3/4", "1/2", "The right answer: 0.5."),
    ]
    for item, wrong, right, shown in cases:
        missed = grade(item, wrong)
        assert not missed.correct
        assert missed.feedback.endswith(shown), missed.feedback
        assert "right answer" not in grade(item, right).feedback.lower()
