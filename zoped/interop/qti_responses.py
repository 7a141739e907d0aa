"""QTI response declarations and response processing, as zoped reads them (docs/qti.md,
"Response processing"): each declaration's correct response and mapping, and the template by the
last segment of its URI (``match_correct`` or ``map_response``; anything else is refused by
name)."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from zoped.interop.qti_body import ItemReader
from zoped.interop.qti_names import attr, children


@dataclass(frozen=True)
class Declaration:
    """A response declaration: its cardinality, base type, correct values and mapping."""

    identifier: str
    cardinality: str
    base_type: str
    correct: tuple[str, ...]
    mapping: tuple[tuple[str, float], ...]

    def positive_keys(self) -> list[str]:
        """Mapped keys worth more than nothing, best first (file order among equals)."""
        ranked = sorted(
            ((v, i, k) for i, (k, v) in enumerate(self.mapping) if v > 0),
            key=lambda t: (-t[0], t[1]),
        )
        return [k for _, _, k in ranked]


def declarations(reader: ItemReader) -> dict[str, Declaration]:
    found: dict[str, Declaration] = {}
    for decl in children(reader.root, "response-declaration"):
        correct: list[str] = []
        for block in children(decl, "correct-response"):
            correct += [" ".join((v.text or "").split()) for v in children(block, "value")]
        mapping: list[tuple[str, float]] = []
        for block in children(decl, "mapping"):
            for entry in children(block, "map-entry"):
                raw = attr(entry, "mapped-value")
                try:
                    value = float(raw)
                except ValueError:
                    reader.problem(entry, f"has a mapped-value {raw!r} that is not a number")
                    continue
                mapping.append((" ".join(attr(entry, "map-key").split()), value))
        identifier = attr(decl, "identifier")
        found[identifier] = Declaration(
            identifier,
            attr(decl, "cardinality", "single"),
            attr(decl, "base-type"),
            tuple(correct),
            tuple(mapping),
        )
    return found


def response_template(reader: ItemReader) -> str | None:
    """``match_correct`` or ``map_response`` (by the template URI's last path segment), or None
    when the item has no response processing. Problems for anything else."""
    blocks = children(reader.root, "response-processing")
    if not blocks:
        return None
    block = blocks[0]
    uri = attr(block, "template") or attr(block, "template-location")
    if not uri:
        reader.problem(block, "uses custom response processing: not supported")
        return "custom"
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    name = name[:-4] if name.lower().endswith(".xml") else name
    if name not in ("match_correct", "map_response"):
        reader.problem(
            block,
            f"uses the response processing template {name!r}: not supported "
            "(zoped reads match_correct and map_response)",
        )
        return "custom"
    return name


def declaration_for(
    reader: ItemReader, decls: dict[str, Declaration], interaction: etree._Element
) -> Declaration | None:
    identifier = attr(interaction, "response-identifier")
    decl = decls.get(identifier)
    if decl is None:
        reader.problem(interaction, f"has no response declaration {identifier!r}")
    return decl


def right_values(decl: Declaration, template: str | None) -> list[str]:
    """The right values: the correct response, else (map_response) the keys worth something."""
    if decl.correct:
        return list(decl.correct)
    if template == "map_response":
        return decl.positive_keys()
    return []


def pairs_of(
    reader: ItemReader, element: etree._Element, values: list[str]
) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        parts = value.split()
        if len(parts) != 2:
            reader.problem(element, f"has {value!r} where a pair of identifiers belongs")
            continue
        pairs.append((parts[0], parts[1]))
    return pairs
