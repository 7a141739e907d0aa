"""Metadata around QTI items: what a content package's manifest says about an item (the
competencies it assesses; zoped's own extras such as hints and feedback) and mapping files that
tag items to competencies. See docs/qti.md.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from zoped.errors import InvalidInput, Problem

#: zoped's own metadata in a manifest (hints, explanation, feedback...): see docs/qti.md.
ZOPED_NS = "https://zoped.org/xsd/qti-extras/v1"
#: 1EdTech Curriculum Standards Metadata, where a package names the standards an item assesses.
CSM_NS = "http://www.imsglobal.org/xsd/imscsmd_v1p0"


@dataclass(frozen=True)
class Extras:
    """What zoped writes beside an item in its own manifest metadata (docs/qti.md)."""

    hints: tuple[str, ...] = ()
    explanation: str = ""
    difficulty: float | None = None
    feedback_correct: str = ""
    feedback_incorrect: str = ""
    tolerance: float = 0.0
    option_feedback: tuple[tuple[str, str], ...] = ()


def read_extras(element: etree._Element | None, source: str) -> Extras:
    """zoped's extras from a manifest resource's metadata (docs/qti.md)."""
    if element is None:
        return Extras()
    found = element.find(f".//{{{ZOPED_NS}}}item")
    if found is None:
        return Extras()

    def texts(name: str) -> list[str]:
        return [(e.text or "") for e in found.findall(f"{{{ZOPED_NS}}}{name}")]

    def number(name: str) -> float | None:
        raw = texts(name)
        if not raw:
            return None
        try:
            return float(raw[0])
        except ValueError:
            raise InvalidInput(
                f"{source}: invalid zoped metadata",
                [Problem(f"{source} line {found.sourceline}", f"{name} {raw[0]!r} is no number")],
            ) from None

    return Extras(
        hints=tuple(texts("hint")),
        explanation=(texts("explanation") or [""])[0],
        difficulty=number("difficulty"),
        feedback_correct=(texts("feedback-correct") or [""])[0],
        feedback_incorrect=(texts("feedback-incorrect") or [""])[0],
        tolerance=number("tolerance") or 0.0,
        option_feedback=tuple(
            (e.get("option", ""), e.text or "")
            for e in found.findall(f"{{{ZOPED_NS}}}option-feedback")
        ),
    )


def _values(metadata: etree._Element | None, wanted: str) -> tuple[str, ...]:
    found: list[str] = []
    for element in metadata.iter() if metadata is not None else ():
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element).localname
        ancestors = {etree.QName(a).localname for a in element.iterancestors()}
        if wanted == "standards" and name == "GUID":
            found.append(element.text or "")
        elif (
            wanted == "classification"
            and "taxon" in ancestors
            and (name == "id" or (name == "string" and "entry" in ancestors))
        ):
            # Real packages list several codes in one entry: "K04-04;K04-01a".
            found += re.split(r"[;,]", element.text or "")
    cleaned = (" ".join(value.split()) for value in found)
    return tuple(dict.fromkeys(value for value in cleaned if value))


def references(metadata: etree._Element | None) -> tuple[str, ...]:
    """The standards a resource's metadata says its item assesses: Curriculum Standards
    Metadata GUIDs (``csm:GUID``)."""
    return _values(metadata, "standards")


def classifications(metadata: etree._Element | None) -> tuple[str, ...]:
    """The LOM classification values of a resource's metadata: taxon ids and entries (entries
    split at ``;`` and ``,``). Packages classify by much besides competencies (sources,
    reviewers), so these only tag an item where they name a competency."""
    return _values(metadata, "classification")


def read_mapping(path: Path) -> dict[str, tuple[str, ...]]:
    """A mapping file: CSV rows of ``item identifier, competency id`` (an optional header row
    starting ``item``; several rows tag an item to several competencies).

    Raises:
        InvalidInput: an unreadable file or rows without two values, located by line.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(
            f"{path.name}: cannot read it", [Problem(path.name, str(error))]
        ) from None
    found: dict[str, list[str]] = {}
    problems: list[Problem] = []
    for number, row in enumerate(csv.reader(text.splitlines()), start=1):
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        if number == 1 and cells[0].lower().startswith("item"):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            problems.append(
                Problem(f"{path.name} line {number}", "expected: item identifier, competency id")
            )
            continue
        found.setdefault(cells[0], []).append(cells[1])
    if problems:
        raise InvalidInput(f"{path.name}: invalid mapping file", problems)
    return {k: tuple(dict.fromkeys(v)) for k, v in found.items()}
