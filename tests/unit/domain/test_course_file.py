"""Reading course files: schema and rules, every problem located, versions, round trips."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import REPO
from zoped.errors import InvalidInput
from zoped.interop import course_file
from zoped.interop.course_file import dump_course, load_course_file, parse_course

VALID_YAML = """\
format: zoped-course
version: 1
course:
  id: fractions
  title: Fractions
  grade_band: "4-7"
competencies:
  - {id: frac, title: Fractions}
  - {id: frac.unit, title: Unit fractions, parent: frac}
  - {id: frac.add, title: Adding, parent: frac, prerequisites: [frac.unit]}
activities:
  - id: act.strips
    title: Fold paper strips
    modality: hands-on
    competencies: [frac.unit]
    minutes: 15
    body: Fold a strip into four.
  - id: act.recipe
    title: Scale a recipe
    modality: project
    competencies: [frac.add]
    minutes: 60
    link: https://example.org/recipe
    rubric: rubric.recipe
items:
  - id: q.1
    type: single_choice
    stem: What is shaded?
    competencies: [frac.unit]
    options:
      - {id: a, text: "1/4", correct: true, feedback: "Yes"}
      - {id: b, text: "1/3", correct: false}
  - {id: q.2, type: numeric, stem: "1/4 as a decimal?", competencies: [frac.unit], answer: 0.25}
  - {id: q.3, type: short_text, stem: "Name 1/4", competencies: [frac.unit], accepted: [a quarter]}
  - id: q.4
    type: ordering
    stem: Order them
    competencies: [frac.unit, frac.add]
    options: [{id: a, text: "1/8"}, {id: b, text: "1/4"}]
  - id: q.5
    type: multiple_choice
    stem: Which equal 1/2?
    competencies: [frac.add]
    options: [{id: a, text: "2/4", correct: true}, {id: b, text: "3/4"}]
rubrics:
  - id: rubric.recipe
    title: Scale a recipe
    criteria:
      - id: accuracy
        title: Accurate scaling
        competencies: [frac.add]
        levels: [{title: Beginning, points: 1}, {title: Secure, points: 3}]
"""


@pytest.fixture
def valid() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(VALID_YAML)
    return data


def problems_of(data: Any) -> dict[str, str]:
    with pytest.raises(InvalidInput) as error:
        parse_course(data, "test.yaml")
    return {p.location: p.message for p in error.value.problems}


def test_a_valid_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "course.yaml"
    path.write_text(VALID_YAML, encoding="utf-8")
    course = load_course_file(path)
    assert course.id == "fractions"
    assert course.framework.prerequisites_of("frac.add") == ("frac.unit",)
    assert course.activity("act.recipe").rubric_id == "rubric.recipe"
    assert course.item("q.2").answer == 0.25
    assert course.language == "en"


def test_json_files_load_too(tmp_path: Path, valid: dict[str, Any]) -> None:
    path = tmp_path / "course.json"
    path.write_text(json.dumps(valid), encoding="utf-8")
    assert load_course_file(path).id == "fractions"


def test_schema_and_rule_problems_are_all_reported_together(valid: dict[str, Any]) -> None:
    data = copy.deepcopy(valid)
    data["competencies"][1]["prerequisites"] = ["frac.add"]  # cycle unit <-> add
    data["activities"][0]["competencies"] = ["frac.ghost"]  # dangling
    data["items"][0]["options"][1]["id"] = "a"  # duplicate option id
    data["items"][0]["options"][1]["correct"] = True  # two correct in single choice
    data["items"][1]["answer"] = "a quarter"  # schema: not a number
    data["items"][2]["colour"] = "red"  # schema: unknown field
    data["rubrics"][0]["criteria"][0]["levels"][1]["points"] = 1  # not increasing
    problems = problems_of(data)
    assert set(problems) == {
        "competencies[1].prerequisites",
        "competencies[2].prerequisites",
        "activities[0].competencies[0]",
        "items[0].options[1].id",
        "items[0].options",
        "items[1].answer",
        "items[2]",
        "rubrics[0].criteria[0].levels[1].points",
    }
    assert "cycle" in problems["competencies[1].prerequisites"]
    assert problems["items[2]"] == "unknown field(s): colour"


def test_missing_fields_and_bad_ids_are_located(valid: dict[str, Any]) -> None:
    data = copy.deepcopy(valid)
    del data["items"][0]["options"]
    del data["competencies"][0]["title"]
    data["course"]["id"] = "Fractions!"
    data["activities"][0]["modality"] = "hands_on"
    del data["activities"][0]["body"]
    problems = problems_of(data)
    assert problems["items[0].options"] == "is required"
    assert problems["competencies[0].title"] == "is required"
    assert "not a valid id" in problems["course.id"]
    assert problems["activities[0].modality"].startswith("'hands_on' is not one of")
    assert problems["activities[0]"] == "an activity needs a body or a link"


def test_an_unreadable_competency_does_not_make_references_to_it_dangle(
    valid: dict[str, Any],
) -> None:
    data = copy.deepcopy(valid)
    data["competencies"][1]["title"] = 42  # frac.unit is broken, but it exists
    assert set(problems_of(data)) == {"competencies[1].title"}


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        ({"version": 2}, "version 2, but this zoped reads versions up to 1"),
        ({"version": "1"}, "whole number"),
        ({"format": "moodle"}, "zoped-course"),
    ],
)
def test_versions_and_format(valid: dict[str, Any], change: dict[str, Any], needle: str) -> None:
    with pytest.raises(InvalidInput) as error:
        parse_course({**valid, **change}, "test.yaml")
    assert needle in str(error.value)


def test_older_versions_are_upgraded_step_by_step(
    valid: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pretend this reader is at version 2 and version 1 files rename nothing but are marked.
    seen: list[int] = []

    def upgrade_1_to_2(data: dict[str, Any]) -> dict[str, Any]:
        seen.append(data["version"])
        return {**data}

    monkeypatch.setattr(course_file, "FORMAT_VERSION", 2)
    monkeypatch.setattr(course_file, "UPGRADES", {1: upgrade_1_to_2})
    upgraded = course_file._upgrade(copy.deepcopy(valid), "test.yaml")
    assert seen == [1]
    assert upgraded["version"] == 2


def test_not_a_mapping() -> None:
    assert problems_of(["a list"]) == {"": "expected a mapping at the top, not list"}


def test_yaml_problems_carry_line_numbers(tmp_path: Path) -> None:
    text = VALID_YAML.replace("  - {id: q.2, type: numeric,", "  - {id: q.2, type: numerik,")
    text = text.replace('  grade_band: "4-7"\n', '  grade_band: "4-7"\n  title: Again\n')
    path = tmp_path / "course.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as error:
        load_course_file(path)
    located = [p.location for p in error.value.problems]
    assert "course.title (line 7)" in located  # the duplicate key, where it repeats
    q2_line = text.splitlines().index(next(x for x in text.splitlines() if "q.2" in x)) + 1
    assert f"items[1].type (line {q2_line})" in located


def test_unparsable_yaml_is_one_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("format: zoped-course\ncourse: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="not a readable YAML"):
        load_course_file(path)
    with pytest.raises(InvalidInput, match="cannot read"):
        load_course_file(tmp_path / "missing.yaml")


def test_dump_round_trips_the_example(valid: dict[str, Any]) -> None:
    course = parse_course(valid)
    dumped = dump_course(course)
    assert parse_course(json.loads(json.dumps(dumped))) == course
    assert parse_course(yaml.safe_load(yaml.safe_dump(dumped))) == course
    assert dumped["items"][1] == {
        "id": "q.2",
        "type": "numeric",
        "stem": "1/4 as a decimal?",
        "competencies": ["frac.unit"],
        "answer": 0.25,
        "tolerance": 0,
    }


def test_the_packaged_schema_is_the_documented_one() -> None:
    docs = (REPO / "docs" / "course.schema.json").read_text(encoding="utf-8")
    packaged = (REPO / "zoped" / "domain" / "course.schema.json").read_text(encoding="utf-8")
    assert packaged == docs
    assert course_file.course_schema() == json.loads(docs)


@pytest.mark.parametrize("name", ["demo_course.yaml", "second_course.yaml"])
def test_shipped_courses_are_valid_and_round_trip(name: str) -> None:
    path = REPO / "zoped" / "content" / name
    course = load_course_file(path)
    assert len(course.framework) > 0
    assert parse_course(dump_course(course)) == course
