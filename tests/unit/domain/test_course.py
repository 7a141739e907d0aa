"""Courses check every cross-reference, with locations as in a course file."""

from __future__ import annotations

import pytest

from zoped.domain.content import (
    Activity,
    Criterion,
    Item,
    ItemType,
    Modality,
    Option,
    Rubric,
    RubricLevel,
)
from zoped.domain.course import Course
from zoped.domain.framework import Competency, Framework
from zoped.errors import InvalidInput, NotFound

FRAMEWORK = Framework.build(
    [Competency("unit", "Unit"), Competency("add", "Add", prerequisites=("unit",))]
)
LEVELS = (RubricLevel("low", 1), RubricLevel("high", 2))


def item(iid: str, *competencies: str) -> Item:
    return Item(
        id=iid,
        type=ItemType.SINGLE_CHOICE,
        stem="?",
        competencies=competencies,
        options=(Option("a", "A", correct=True), Option("b", "B")),
    )


def activity(aid: str, *competencies: str, rubric: str | None = None) -> Activity:
    return Activity(
        id=aid,
        title=aid,
        modality=Modality.PROJECT,
        competencies=competencies,
        minutes=30,
        body="Do it",
        rubric_id=rubric,
    )


def test_a_valid_course_indexes_its_content() -> None:
    rubric = Rubric("r", "R", (Criterion("c", "C", ("add",), LEVELS),))
    course = Course(
        id="fractions",
        title="Fractions",
        framework=FRAMEWORK,
        activities=(activity("a1", "unit", rubric="r"),),
        items=(item("q1", "unit", "add"),),
        rubrics=(rubric,),
    )
    assert course.item("q1").competencies == ("unit", "add")
    assert course.items_for("add") == (course.item("q1"),)
    assert course.activities_for("unit") == (course.activity("a1"),)
    assert course.rubric("r") is rubric
    with pytest.raises(NotFound):
        course.item("nope")


def test_every_broken_reference_is_reported() -> None:
    with pytest.raises(InvalidInput) as error:
        Course(
            id="Bad Id",
            title="",
            framework=FRAMEWORK,
            activities=(activity("a1", "ghost", rubric="nope"), activity("a1", "unit")),
            items=(item("q1", "unit", "ghost2"), item("q1", "add")),
            rubrics=(Rubric("r", "R", (Criterion("c", "C", ("ghost3",), LEVELS),)),),
        )
    assert {p.location for p in error.value.problems} == {
        "course.id",
        "course.title",
        "activities[0].competencies[0]",
        "activities[0].rubric",
        "activities[1].id",
        "items[0].competencies[1]",
        "items[1].id",
        "rubrics[0].criteria[0].competencies[0]",
    }
