"""The shipped course files: counts, ids, references, DAG shape and answer rules.

These checks read the YAML directly, so they hold even without the course-file validator; when
``zoped.interop.course_file`` exists, the files must also load through it.
"""

from __future__ import annotations

import importlib.util
import itertools
import math
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from zoped.domain.grading import grade, right_response
from zoped.interop.course_file import load_course_file

REPO = Path(__file__).resolve().parents[2]
CONTENT = REPO / "zoped" / "content"
SCRIPT = REPO / "scripts" / "gen_demo_course.py"
DEMO = CONTENT / "demo_course.yaml"
SECOND = CONTENT / "second_course.yaml"

# file -> (leaf competencies, items, activities, rubrics)
MINIMUMS = {
    "demo_course.yaml": (30, 200, 60, 2),
    "second_course.yaml": (15, 60, 15, 1),
}
MODALITIES = {
    "practice",
    "video",
    "reading",
    "hands-on",
    "project",
    "discussion",
    "game",
    "simulation",
}
CHOICE_TYPES = {"single_choice", "multiple_choice"}


def _load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_demo_course", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["gen_demo_course"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=[DEMO, SECOND], ids=lambda p: p.name)
def course(request: pytest.FixtureRequest) -> tuple[str, dict[str, Any]]:
    path: Path = request.param
    return path.name, _load(path)


def _ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in rows]


def _assert_unique(ids: list[str], what: str) -> None:
    dupes = [i for i, n in Counter(ids).items() if n > 1]
    assert not dupes, f"duplicate {what} ids: {dupes}"


def _find_cycle(edges: dict[str, list[str]]) -> list[str] | None:
    """Return the nodes of one cycle, or None if the graph is acyclic."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in edges.get(node, []):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in edges:
        if node not in state and (found := visit(node)):
            return found
    return None


def test_header_and_course(course: tuple[str, dict[str, Any]]) -> None:
    _, data = course
    assert data["format"] == "zoped-course"
    assert data["version"] == 1
    assert data["course"]["language"] == "en"
    assert data["course"]["title"]


def test_minimum_counts(course: tuple[str, dict[str, Any]]) -> None:
    name, data = course
    min_leaves, min_items, min_acts, min_rubrics = MINIMUMS[name]
    parents = {c.get("parent") for c in data["competencies"]}
    leaves = [c for c in data["competencies"] if c["id"] not in parents]
    assert len(leaves) >= min_leaves
    assert len(data["items"]) >= min_items
    assert len(data["activities"]) >= min_acts
    assert len(data["rubrics"]) >= min_rubrics
    modalities = {a["modality"] for a in data["activities"]}
    assert modalities <= MODALITIES
    assert len(modalities) >= 5
    types = Counter(i["type"] for i in data["items"])
    assert set(types) == {"single_choice", "multiple_choice", "numeric", "short_text", "ordering"}


def test_ids_unique(course: tuple[str, dict[str, Any]]) -> None:
    _, data = course
    for kind in ("competencies", "activities", "items", "rubrics"):
        _assert_unique(_ids(data[kind]), kind)
    for item in data["items"]:
        if "options" in item:
            _assert_unique(_ids(item["options"]), f"option of {item['id']}")
    for rubric in data["rubrics"]:
        _assert_unique(_ids(rubric["criteria"]), f"criterion of {rubric['id']}")


def test_every_reference_resolves(course: tuple[str, dict[str, Any]]) -> None:
    _, data = course
    comps = set(_ids(data["competencies"]))
    rubrics = set(_ids(data["rubrics"]))
    for c in data["competencies"]:
        assert c.get("parent") is None or c["parent"] in comps, c["id"]
        assert set(c["prerequisites"]) <= comps, c["id"]
    for row in data["activities"] + data["items"]:
        assert row["competencies"], row["id"]
        assert set(row["competencies"]) <= comps, row["id"]
    for rubric in data["rubrics"]:
        for crit in rubric["criteria"]:
            assert crit["competencies"], crit["id"]
            assert set(crit["competencies"]) <= comps, crit["id"]
    used = set()
    for act in data["activities"]:
        if act.get("rubric") is not None:
            assert act["rubric"] in rubrics, act["id"]
            assert act["modality"] == "project", act["id"]
            used.add(act["rubric"])
    assert used == rubrics, "every rubric is used by a project activity"


def test_framework_shape(course: tuple[str, dict[str, Any]]) -> None:
    _, data = course
    comps = data["competencies"]
    prereqs = {c["id"]: list(c["prerequisites"]) for c in comps}
    assert _find_cycle(prereqs) is None
    parents = {c["id"]: [c["parent"]] for c in comps if c.get("parent")}
    assert _find_cycle(parents) is None
    groups = {c.get("parent") for c in comps} - {None}
    leaves = [c for c in comps if c["id"] not in groups]
    roots = [c for c in leaves if not c["prerequisites"]]
    joins = [c for c in leaves if len(c["prerequisites"]) >= 2]
    assert len(roots) >= 2, "several roots"
    assert len(joins) >= 4, "competencies with two or more prerequisites"
    for c in comps:
        assert c["title"], c["id"]
        assert c["description"], c["id"]
        assert c["grade_band"], c["id"]


def test_items_answer_rules(course: tuple[str, dict[str, Any]]) -> None:
    _, data = course
    for item in data["items"]:
        iid, kind = item["id"], item["type"]
        assert item["stem"].strip(), iid
        assert len(item["hints"]) == 2, iid
        assert all(h.strip() for h in item["hints"]), iid
        assert item["explanation"].strip(), iid
        assert 0 <= item["difficulty"] <= 1, iid
        if kind in CHOICE_TYPES:
            options = item["options"]
            assert len(options) >= 2, iid
            assert len({o["text"] for o in options}) == len(options), iid
            n_correct = sum(1 for o in options if o["correct"])
            if kind == "single_choice":
                assert n_correct == 1, iid
            else:
                assert 1 <= n_correct < len(options), iid
            assert all(o["feedback"].strip() for o in options), iid
        elif kind == "numeric":
            assert isinstance(item["answer"], int | float), iid
            assert math.isfinite(item["answer"]), iid
            assert item["tolerance"] >= 0, iid
        elif kind == "short_text":
            assert item["accepted"], iid
            assert all(a.strip() for a in item["accepted"]), iid
        elif kind == "ordering":
            assert len(item["options"]) >= 2, iid
            assert len({o["text"] for o in item["options"]}) == len(item["options"]), iid
        else:
            pytest.fail(f"{iid}: unknown type {kind}")


def test_multi_skill_items_exist(course: tuple[str, dict[str, Any]]) -> None:
    _, data = course
    multi = [i for i in data["items"] if len(i["competencies"]) >= 2]
    assert len(multi) >= 5


def test_activities(course: tuple[str, dict[str, Any]]) -> None:
    _, data = course
    for act in data["activities"]:
        assert act["minutes"] > 0, act["id"]
        assert act.get("body") or act.get("link"), act["id"]
        link = act.get("link")
        assert link is None or (link.startswith("/") and "//" not in link), act["id"]


def test_rubrics(course: tuple[str, dict[str, Any]]) -> None:
    _, data = course
    for rubric in data["rubrics"]:
        assert 1 <= len(rubric["criteria"]) <= 4
        for crit in rubric["criteria"]:
            points = [lvl["points"] for lvl in crit["levels"]]
            assert len(points) >= 2
            assert all(a < b for a, b in itertools.pairwise(points)), crit["id"]
            assert all(lvl["description"] for lvl in crit["levels"])


def test_demo_course_has_enough_per_competency() -> None:
    data = _load(DEMO)
    parents = {c.get("parent") for c in data["competencies"]}
    for comp in data["competencies"]:
        if comp["id"] in parents:
            continue
        n_items = sum(1 for i in data["items"] if comp["id"] in i["competencies"])
        n_acts = sum(1 for a in data["activities"] if comp["id"] in a["competencies"])
        assert n_items >= 5, comp["id"]
        assert n_acts >= 2, comp["id"]


def test_generator_is_deterministic_and_matches_committed_files(tmp_path: Path) -> None:
    gen = _generator()
    first = [p.read_bytes() for p in gen.write_courses(tmp_path / "a")]
    second = [p.read_bytes() for p in gen.write_courses(tmp_path / "b")]
    assert first == second
    assert first == [DEMO.read_bytes(), SECOND.read_bytes()], (
        "the committed course files are stale: run python scripts/gen_demo_course.py"
    )


@pytest.mark.parametrize("path", [DEMO, SECOND], ids=lambda p: p.name)
def test_course_file_validator_accepts(path: Path) -> None:
    load_course_file(path)


@pytest.mark.parametrize("path", [DEMO, SECOND], ids=lambda p: p.name)
def test_right_response_is_graded_right_for_every_item(path: Path) -> None:
    course = load_course_file(path)
    assert course.items
    for item in course.items:
        assert grade(item, right_response(item)).correct, item.id
