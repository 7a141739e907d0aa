"""Course files (format ``zoped-course``): read, check, upgrade and write them.

Reading goes in four steps, and problems from every step are collected, never just the first:

1. parse the YAML (or JSON) text, noting the line of every node and any duplicate keys;
2. check ``format`` and ``version``: a newer version is refused, an older one is upgraded
   step by step (:data:`UPGRADES`) to :data:`FORMAT_VERSION`;
3. check the JSON Schema (``docs/course.schema.json``; the package carries a copy);
4. build domain objects from every entry the schema accepted and run the domain's rules
   (:func:`zoped.domain.course.course_problems`): unique ids, references, cycles, answers.

Any problem raises one :class:`~zoped.errors.InvalidInput` listing them all, each located as a
path into the file (``items[12].options[1].id``), with its line number when read from a file.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import yaml
from jsonschema.exceptions import ValidationError, best_match

from zoped.domain.content import (
    OPTION_TYPES,
    Activity,
    Blank,
    Criterion,
    Item,
    ItemType,
    Modality,
    Option,
    Rubric,
    RubricLevel,
)
from zoped.domain.course import Course, course_problems
from zoped.domain.framework import Competency, Framework
from zoped.errors import InvalidInput, Problem

#: The value of the ``format`` key.
FORMAT_NAME = "zoped-course"
#: The newest format version this reader understands (and the one :func:`dump_course` writes).
FORMAT_VERSION = 1

#: ``UPGRADES[n]`` turns a version-``n`` document into a version-``n + 1`` one (a new dict).
#: Empty while only version 1 exists; a version 2 adds ``UPGRADES[1]``.
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {}

_T = TypeVar("_T")
_SECTIONS = ("competencies", "activities", "items", "rubrics")
_MAX_MESSAGE = 200


@cache
def course_schema() -> dict[str, Any]:
    """The JSON Schema of the current format version (the copy shipped in the package)."""
    text = resources.files("zoped.domain").joinpath("course.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _location(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


# --------------------------------------------------------------------------- step 1: text


def _node_lines(
    node: yaml.Node, path: tuple[str | int, ...], lines: dict[str, int], problems: list[Problem]
) -> None:
    """Record the 1-based line of every node by location, and report duplicate keys.

    PyYAML silently keeps the last of two equal keys; in a course file that hides a mistake
    (two ``options:`` lists), so it is reported.
    """
    lines.setdefault(_location(path), node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                line = key_node.start_mark.line + 1
                problems.append(
                    Problem(
                        f"{_location(child)} (line {line})",
                        f"the key {key!r} appears twice in this mapping",
                    )
                )
            seen.add(key)
            _node_lines(value_node, child, lines, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, value_node in enumerate(node.value):
            _node_lines(value_node, (*path, index), lines, problems)


#: The most values a course file may hold once its YAML aliases are expanded, and the deepest
#: nesting: a real course is far below both, and a file built to expand (an "alias bomb": a
#: few hundred bytes that stand for billions of values) is refused before anything walks it.
MAX_VALUES = 200_000
MAX_DEPTH = 64


def _expanded_size(node: yaml.Node, sizes: dict[int, tuple[int, int]]) -> tuple[int, int]:
    """(values, depth) of ``node`` with every alias expanded, computed once per distinct node
    (an alias is the same node object again), so the count costs what the file does."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    sizes[id(node)] = (MAX_VALUES + 1, MAX_DEPTH + 1)  # a node that contains itself
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [part for pair in node.value for part in pair]
    values, depth = 1, 0
    for child in children:
        n, d = _expanded_size(child, sizes)
        values, depth = min(values + n, MAX_VALUES + 1), max(depth, d)
        if values > MAX_VALUES:
            break
    sizes[id(node)] = (values, depth + 1)
    return sizes[id(node)]


def _compose_bounded(text: str, source: str) -> tuple[yaml.Node | None, Any]:
    """The file's node graph and its data, refused when it expands past :data:`MAX_VALUES`
    values or nests deeper than :data:`MAX_DEPTH` (checked on the graph, before building)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        values, depth = _expanded_size(node, {})
        if values > MAX_VALUES or depth > MAX_DEPTH:
            raise InvalidInput(
                f"{source}: too large once its YAML aliases are expanded",
                [
                    Problem(
                        "",
                        f"a course file may hold at most {MAX_VALUES:,} values nested at most "
                        f"{MAX_DEPTH} deep (aliases counted as often as they are used)",
                    )
                ],
            )
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def _read_text(text: str, source: str) -> tuple[Any, dict[str, int], list[Problem]]:
    problems: list[Problem] = []
    lines: dict[str, int] = {}
    try:
        node, data = _compose_bounded(text, source)
    except RecursionError:
        raise InvalidInput(
            f"{source}: nested too deeply",
            [Problem("", f"a course file may nest at most {MAX_DEPTH} levels deep")],
        ) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        detail = getattr(error, "problem", None) or str(error)
        raise InvalidInput(
            f"{source}: not a readable YAML or JSON file", [Problem(where, str(detail))]
        ) from None
    if node is not None:
        _node_lines(node, (), lines, problems)
    return data, lines, problems


def _with_lines(problems: list[Problem], lines: dict[str, int]) -> list[Problem]:
    """Add the line of the nearest enclosing node to each problem's location."""
    located = []
    for problem in problems:
        where = problem.location
        line = None
        while True:
            line = lines.get(where)
            if line is not None or not where:
                break
            where = re.sub(r"(\.[^.\[\]]+|\[\d+\])$", "", where)
            if where == problem.location:  # pragma: no cover - defensive, cannot shrink
                break
        if line is not None and problem.location:
            located.append(Problem(f"{problem.location} (line {line})", problem.message))
        else:
            located.append(problem)
    return located


# --------------------------------------------------------------------- step 2: versions


def _upgrade(data: dict[str, Any], source: str) -> dict[str, Any]:
    """Check ``format`` and ``version`` and upgrade older versions step by step.

    Raises:
        InvalidInput: for a wrong format name, a version that is not a positive integer, or a
            version newer than this reader.
    """
    problems: list[Problem] = []
    if data.get("format") != FORMAT_NAME:
        problems.append(Problem("format", f"must be {FORMAT_NAME!r}, not {data.get('format')!r}"))
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        problems.append(Problem("version", f"must be a whole number >= 1, not {version!r}"))
    elif version > FORMAT_VERSION:
        problems.append(
            Problem(
                "version",
                f"this file uses course format version {version}, but this zoped reads versions "
                f"up to {FORMAT_VERSION}; upgrade zoped to read it",
            )
        )
    if problems:
        raise InvalidInput(f"{source}: not a course file this zoped can read", problems)
    assert isinstance(version, int)
    while version < FORMAT_VERSION:
        data = UPGRADES[version](data)
        version += 1
        data["version"] = version
    return data


# ----------------------------------------------------------------------- step 3: schema


def _schema_message(error: ValidationError) -> tuple[str, str]:
    """A location and a short message for one schema error."""
    path = list(error.absolute_path)
    location = _location(path)
    kind = error.validator
    if kind == "required":
        missing = re.match(r"'([^']+)'", error.message)
        name = missing.group(1) if missing else "?"
        return _location([*path, name]), "is required"
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, dict) else {}
        known = set(schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in known)
        return location, f"unknown field(s): {', '.join(extra)}"
    if kind == "anyOf" and path and path[0] == "activities" and len(path) == 2:
        return location, "an activity needs a body or a link"
    if kind in ("anyOf", "oneOf") and error.context:
        return _schema_message(best_match(error.context))
    if kind == "pattern":
        if error.validator_value == course_schema()["$defs"]["slug"]["pattern"]:
            return location, (
                f"{error.instance!r} is not a valid id (lower-case letters, digits, '.', '_' "
                "and '-', starting with a letter or digit)"
            )
        return location, f"{error.instance!r} is not a valid language tag (like en or pt-BR)"
    if kind == "enum" and isinstance(error.validator_value, list):
        choices = ", ".join(str(v) for v in error.validator_value)
        return location, f"{error.instance!r} is not one of: {choices}"
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return location, message


def _schema_problems(data: dict[str, Any]) -> list[Problem]:
    validator = jsonschema.Draft202012Validator(course_schema())
    problems = []

    def by_path(error: ValidationError) -> list[tuple[int, int, str]]:
        # Indexes sort as numbers (items[2] before items[10]); keys as text.
        return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.path]

    for error in sorted(validator.iter_errors(data), key=by_path):
        location, message = _schema_message(error)
        problems.append(Problem(location, message))
    return problems


# ---------------------------------------------------------------- step 4: domain objects


def _competency(raw: dict[str, Any]) -> Competency:
    return Competency(
        id=raw["id"],
        title=raw["title"],
        description=raw.get("description") or "",
        parent=raw.get("parent"),
        prerequisites=tuple(raw.get("prerequisites") or ()),
        standard_code=raw.get("standard_code"),
        grade_band=raw.get("grade_band"),
    )


def _activity(raw: dict[str, Any]) -> Activity:
    return Activity(
        id=raw["id"],
        title=raw["title"],
        modality=Modality(raw["modality"]),
        competencies=tuple(raw["competencies"]),
        minutes=int(raw["minutes"]),
        interests=tuple(raw.get("interests") or ()),
        body=raw.get("body"),
        link=raw.get("link"),
        language=raw.get("language"),
        rubric_id=raw.get("rubric"),
    )


def _option(raw: dict[str, Any]) -> Option:
    return Option(
        id=raw["id"],
        text=raw["text"],
        correct=bool(raw.get("correct", False)),
        feedback=raw.get("feedback") or "",
        match=raw.get("match") or "",
    )


def _item(raw: dict[str, Any]) -> Item:
    feedback = raw.get("feedback") or {}
    answer = raw.get("answer")
    difficulty = raw.get("difficulty")
    return Item(
        id=raw["id"],
        type=ItemType(raw["type"]),
        stem=raw["stem"],
        competencies=tuple(raw["competencies"]),
        options=tuple(_option(o) for o in raw.get("options") or ()),
        targets=tuple(_option(t) for t in raw.get("targets") or ()),
        blanks=tuple(
            Blank(
                id=b["id"],
                choices=tuple(_option(c) for c in b.get("choices") or ()),
                accepted=tuple(b.get("accepted") or ()),
            )
            for b in raw.get("blanks") or ()
        ),
        answer=None if answer is None else float(answer),
        tolerance=float(raw.get("tolerance", 0.0)),
        accepted=tuple(raw.get("accepted") or ()),
        hints=tuple(raw.get("hints") or ()),
        explanation=raw.get("explanation") or "",
        difficulty=None if difficulty is None else float(difficulty),
        feedback_correct=feedback.get("correct") or "",
        feedback_incorrect=feedback.get("incorrect") or "",
    )


def _rubric(raw: dict[str, Any]) -> Rubric:
    return Rubric(
        id=raw["id"],
        title=raw["title"],
        criteria=tuple(
            Criterion(
                id=c["id"],
                title=c["title"],
                competencies=tuple(c["competencies"]),
                levels=tuple(
                    RubricLevel(
                        title=lv["title"],
                        points=float(lv["points"]),
                        description=lv.get("description") or "",
                    )
                    for lv in c["levels"]
                ),
            )
            for c in raw["criteria"]
        ),
    )


def _build_section(
    entries: list[Any],
    section: str,
    broken: set[tuple[str, int]],
    build: Callable[[dict[str, Any]], _T],
) -> tuple[list[_T | None], set[str]]:
    """Domain objects for the entries the schema accepted; ``None`` (and the id) for others."""
    built: list[_T | None] = []
    unreadable: set[str] = set()
    for index, raw in enumerate(entries):
        if (section, index) in broken or not isinstance(raw, dict):
            built.append(None)
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                unreadable.add(raw["id"])
        else:
            built.append(build(raw))
    return built, unreadable


def parse_course(data: Any, source: str = "<course>") -> Course:
    """Check a course document (already parsed from YAML or JSON) and build the course.

    Args:
        data: the document, a dict with ``format``, ``version``, ``course``, ``competencies``...
        source: a name for messages, usually the file name.

    Returns:
        The course, valid by construction.

    Raises:
        InvalidInput: with every problem found, each with its location in the document.
    """
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{source}: not a course file",
            [Problem("", f"expected a mapping at the top, not {type(data).__name__}")],
        )
    data = _upgrade(data, source)
    problems = _schema_problems(data)
    broken = {
        (str(p.location.split("[")[0]), int(m.group(1)))
        for p in problems
        if (m := re.match(r"^[a-z]+\[(\d+)\]", p.location))
    }
    header_ok = not any(p.location.startswith("course") for p in problems)
    sections = {
        name: data.get(name) if isinstance(data.get(name), list) else [] for name in _SECTIONS
    }
    competencies, lost_competencies = _build_section(
        sections["competencies"], "competencies", broken, _competency
    )
    activities, _ = _build_section(sections["activities"], "activities", broken, _activity)
    items, _ = _build_section(sections["items"], "items", broken, _item)
    rubrics, lost_rubrics = _build_section(sections["rubrics"], "rubrics", broken, _rubric)
    problems += course_problems(
        competencies,
        activities,
        items,
        rubrics,
        unreadable_competency_ids=lost_competencies,
        unreadable_rubric_ids=lost_rubrics,
    )
    if problems or not header_ok:
        raise InvalidInput(f"{source}: invalid course file", problems)
    header = data["course"]
    return Course(
        id=header["id"],
        title=header["title"],
        description=header.get("description") or "",
        language=header.get("language") or "en",
        grade_band=header.get("grade_band"),
        framework=Framework.build(c for c in competencies if c is not None),
        activities=tuple(a for a in activities if a is not None),
        items=tuple(i for i in items if i is not None),
        rubrics=tuple(r for r in rubrics if r is not None),
    )


def load_course_file(path: str | Path) -> Course:
    """Read, check and build the course in a YAML or JSON file.

    Raises:
        InvalidInput: for an unreadable file or every problem in it, each location followed by
            its line number, e.g. ``items[3].answer (line 42)``.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(
            f"{file}: cannot read the course file", [Problem("", str(error))]
        ) from None
    data, lines, problems = _read_text(text, str(file))
    try:
        course = parse_course(data, str(file))
    except InvalidInput as error:
        raise InvalidInput(error.message, problems + _with_lines(error.problems, lines)) from None
    if problems:  # duplicate keys only, which carry their own line
        raise InvalidInput(f"{file}: invalid course file", problems)
    return course


# ------------------------------------------------------------------------------- writing


def _drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """Leave out fields at their defaults, so dumped files stay as short as hand-written ones."""
    return {k: v for k, v in data.items() if v not in (None, "", [], {})}


def _number(value: float) -> float | int:
    # Write 3 rather than 3.0 where the value is whole, as a person would.
    return int(value) if math.isfinite(value) and value == int(value) else value


def dump_course(course: Course) -> dict[str, Any]:
    """The course as a current-version course document (JSON and YAML safe).

    ``parse_course(dump_course(course)) == course`` holds for every course.
    """
    competencies = [
        _drop_empty(
            {
                "id": c.id,
                "title": c.title,
                "description": c.description,
                "parent": c.parent,
                "prerequisites": list(c.prerequisites),
                "standard_code": c.standard_code,
                "grade_band": c.grade_band,
            }
        )
        for c in course.framework.competencies
    ]
    activities = [
        _drop_empty(
            {
                "id": a.id,
                "title": a.title,
                "modality": str(a.modality),
                "competencies": list(a.competencies),
                "interests": list(a.interests),
                "minutes": a.minutes,
                "body": a.body,
                "link": a.link,
                "language": a.language,
                "rubric": a.rubric_id,
            }
        )
        for a in course.activities
    ]

    def option(o: Option, *, with_correct: bool = True) -> dict[str, Any]:
        return _drop_empty(
            {
                "id": o.id,
                "text": o.text,
                "correct": o.correct if with_correct else None,
                "feedback": o.feedback,
                "match": o.match,
            }
        )

    items = []
    for item in course.items:
        with_correct = item.type not in (ItemType.ORDERING, ItemType.MATCHING)
        entry: dict[str, Any] = {
            "id": item.id,
            "type": str(item.type),
            "stem": item.stem,
            "competencies": list(item.competencies),
            "difficulty": item.difficulty,
            "hints": list(item.hints),
            "explanation": item.explanation,
            "accepted": list(item.accepted),
            "feedback": _drop_empty(
                {"correct": item.feedback_correct, "incorrect": item.feedback_incorrect}
            ),
        }
        if item.type in OPTION_TYPES:
            entry["options"] = [option(o, with_correct=with_correct) for o in item.options]
        if item.targets:
            entry["targets"] = [option(t, with_correct=False) for t in item.targets]
        if item.blanks:
            entry["blanks"] = [
                _drop_empty(
                    {
                        "id": b.id,
                        "choices": [option(c) for c in b.choices],
                        "accepted": list(b.accepted),
                    }
                )
                for b in item.blanks
            ]
        if item.answer is not None:
            entry["answer"] = _number(item.answer)
            entry["tolerance"] = _number(item.tolerance)
        items.append(_drop_empty(entry))
    rubrics = [
        {
            "id": r.id,
            "title": r.title,
            "criteria": [
                {
                    "id": c.id,
                    "title": c.title,
                    "competencies": list(c.competencies),
                    "levels": [
                        _drop_empty(
                            {
                                "title": lv.title,
                                "points": _number(lv.points),
                                "description": lv.description,
                            }
                        )
                        for lv in c.levels
                    ],
                }
                for c in r.criteria
            ],
        }
        for r in course.rubrics
    ]
    header = _drop_empty(
        {
            "id": course.id,
            "title": course.title,
            "description": course.description,
            "language": course.language,
            "grade_band": course.grade_band,
        }
    )
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "course": header,
        "competencies": competencies,
        "activities": activities,
        "items": items,
        "rubrics": rubrics,
    }
