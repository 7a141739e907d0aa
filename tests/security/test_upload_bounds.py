"""User-controlled sizes are bounded (issue 16, item 3): a course file built to expand through
YAML aliases is refused from its node graph, before anything walks the expanded values, and
the plan form's goal count is bounded and checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import DEMO_NOW
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.domain.plans import (
    MAX_ENTRY,
    MAX_GOALS,
    MAX_LINE,
    MAX_PARAGRAPHS,
    LearningPlan,
    LogEntry,
    PlanComment,
    PlanGoal,
)
from zoped.errors import InvalidInput
from zoped.interop.course_file import MAX_DEPTH, MAX_VALUES, load_course_file
from zoped.services.system import Database


def alias_bomb(levels: int) -> str:
    """A few hundred bytes that stand for 9 ** levels values once the aliases are expanded."""
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for k in range(1, levels + 1):
        refs = ",".join([f"*a{k - 1}"] * 9)
        lines.append(f"a{k}: &a{k} [{refs}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9, 12])
def test_an_alias_bomb_is_refused_without_expanding_it(tmp_path: Path, levels: int) -> None:
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(levels))
    assert path.stat().st_size < 1_000
    with pytest.raises(InvalidInput, match="aliases are expanded") as caught:
        load_course_file(path)
    assert f"{MAX_VALUES:,}" in caught.value.problems[0].message


def test_a_file_nested_past_the_limit_is_refused(tmp_path: Path) -> None:
    for depth in (MAX_DEPTH + 5, 5_000):
        path = tmp_path / f"deep{depth}.yaml"
        path.write_text("a: " + "[" * depth + "]" * depth + "\n")
        with pytest.raises(InvalidInput, match="deep"):
            load_course_file(path)


def test_a_few_aliases_within_the_bounds_still_load(tmp_path: Path) -> None:
    """Anchors are legitimate YAML: the bound is on what they expand to."""
    path = tmp_path / "small.yaml"
    path.write_text(alias_bomb(2))
    with pytest.raises(InvalidInput) as caught:
        load_course_file(path)
    assert "aliases are expanded" not in caught.value.message  # refused as a course, not a bomb


@pytest.mark.parametrize("count", ["3000000", "abc", "-1", "1e9"])
def test_the_plan_form_refuses_a_goal_count_out_of_bounds(fresh_db: Database, count: str) -> None:
    client = make_client(fresh_db)
    sign_in(client, "amara")
    form = {"csrf_token": csrf_of(client, "/learner/plan"), "goal_count": count, "version": "1"}
    response = client.post("/learner/plan", data=form)
    assert response.status_code == 422
    assert re.search(r"goal", response.text, re.IGNORECASE)


def test_a_plan_holds_a_bounded_number_of_goals() -> None:
    goals = [PlanGoal(id=f"g{k}", description=f"goal {k}") for k in range(MAX_GOALS + 1)]
    with pytest.raises(InvalidInput, match="invalid learning plan") as caught:
        LearningPlan(id="p", learner_id="amara", goals=tuple(goals))
    assert caught.value.problems[0].location == "goals"
    LearningPlan(id="p", learner_id="amara", goals=tuple(goals[:MAX_GOALS]))


@pytest.mark.parametrize(
    ("build", "limit"),
    [
        (lambda text: LogEntry("e", "amara", text, DEMO_NOW), MAX_ENTRY),
        (lambda text: PlanComment("c", "p", "amara", text, DEMO_NOW, 1), MAX_PARAGRAPHS),
        (lambda text: LearningPlan("p", "amara", mastery_evidence=text), MAX_PARAGRAPHS),
        (lambda text: LearningPlan("p", "amara", strategies=(text,)), MAX_LINE),
        (lambda text: LearningPlan("p", "amara", goals=(PlanGoal("g", text),)), MAX_LINE),
    ],
)
def test_every_free_text_field_has_a_length_limit(build, limit: int) -> None:
    """Issue 15's 108,000-character log entry: refused with the limit in the message."""
    build("x" * limit)
    with pytest.raises(InvalidInput) as caught:
        build("x" * 108_000)
    assert f"at most {limit:,} characters" in caught.value.problems[0].message


def test_a_108000_character_log_entry_is_refused_on_the_page(fresh_db: Database) -> None:
    client = make_client(fresh_db)
    sign_in(client, "amara")
    form = {"csrf_token": csrf_of(client, "/learner/log"), "body": "x" * 108_000}
    response = client.post("/learner/log", data=form)
    assert response.status_code == 422
    assert "5,000 characters" in response.text
