"""Ordering items are shown shuffled per attempt, never already in the right order (issue 15,
item 3: typing 1-2-3-4 always scored)."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader

from tests.conftest import REPO
from zoped.domain.content import Option, shown_order
from zoped.interop.course_file import load_course_file
from zoped.web.markdown import render_inline


@given(st.integers(2, 8), st.text(min_size=1, max_size=12))
def test_the_steps_are_a_permutation_never_in_the_right_order(n: int, seed: str) -> None:
    options = [Option(f"s{k}", f"step {k}") for k in range(n)]
    shown = shown_order(options, seed)
    assert sorted(o.id for o in shown) == sorted(o.id for o in options)
    assert [o.id for o in shown] != [o.id for o in options]
    assert shown == shown_order(options, seed), "a reload shows the same order"


def test_the_practice_page_shows_an_ordering_item_shuffled() -> None:
    course = load_course_file(REPO / "zoped" / "content" / "demo_course.yaml")
    item = next(i for i in course.items if i.type.value == "ordering")
    env = Environment(loader=FileSystemLoader(Path(REPO / "zoped" / "web" / "templates")))
    env.filters["shown_order"] = shown_order
    env.filters["markdown_inline"] = render_inline
    html = env.get_template("learner/_item.html").render(item=item, event_id="attempt-1")
    shown = re.findall(r'name="rank_([^"]+)"', html)
    assert sorted(shown) == sorted(o.id for o in item.options)
    assert shown != [o.id for o in item.options]


def test_a_partly_right_multi_select_is_told_what_is_wrong_only() -> None:
    """Issue 15, item 3: "Not quite." then "Yes: × 3 on top and bottom." no more."""
    from zoped.domain.content import Item, ItemType
    from zoped.domain.grading import grade

    item = Item(
        id="q.m", type=ItemType.MULTIPLE_CHOICE, stem="Which equal 1/2?", competencies=("c",),
        options=(
            Option("a", "2/4", correct=True, feedback="Yes: × 2 on top and bottom."),
            Option("b", "3/6", correct=True, feedback="Yes: × 3 on top and bottom."),
            Option("c", "2/3", correct=False, feedback="2/3 is more than a half."),
        ),
    )  # fmt: skip
    partly = grade(item, ["b", "c"])
    assert not partly.correct
    assert "Yes" not in partly.feedback
    assert "2/3 is more than a half." in partly.feedback
    assert "One right answer is missing." in partly.feedback
    missing = grade(item, ["a"])
    assert "Yes" not in missing.feedback
    assert "One right answer is missing." in missing.feedback
    right = grade(item, ["a", "b"])
    assert right.correct
    assert "Yes: × 2" in right.feedback
