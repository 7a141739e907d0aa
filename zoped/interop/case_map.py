"""CASE packages mapped onto zoped: competencies with stable slugs, the hierarchy from
``isChildOf``, prerequisites from ``precedes`` (A precedes B: A is a prerequisite of B) and every
other association kept as a link. See :mod:`zoped.interop.case` for reading and docs/case.md.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zoped.domain.framework import Competency, framework_problems, is_slug
from zoped.errors import InvalidInput, Problem
from zoped.interop.case import (
    LANGUAGE_TAG,
    MAX_CODE,
    MAX_GRADE_BAND,
    MAX_TITLE,
    PARENT,
    PRECEDES,
    ZOPED_ID,
    CasePackage,
    Quirk,
)


@dataclass(frozen=True)
class CaseLink:
    """A CASE association kept beside the framework (shown and exported again).

    Attributes:
        identifier: the association's CASE identifier.
        type: its ``associationType`` (``isRelatedTo``, ``exactMatchOf``...).
        origin: the CASE identifier of its origin node.
        destination: the CASE identifier of its destination node.
        destination_title: the destination's title as the package names it.
        destination_uri: the destination's URI.
        competency: the zoped id of the competency it starts from, when the origin is one.
    """

    identifier: str
    type: str
    origin: str
    destination: str
    destination_title: str
    destination_uri: str
    competency: str | None = None


@dataclass(frozen=True)
class CaseFramework:
    """A package mapped onto zoped: competencies with slugs, and what CASE keeps beside them.

    Attributes:
        document_id: the CFDocument's identifier.
        version: the CASE version read.
        title: the document's title; description and language likewise (language "en" when
            the document's is not a BCP 47 tag).
        competencies: one per CFItem, in file order, with parent and prerequisites.
        identifiers: the CASE identifier of each competency, by competency id.
        links: the associations that are neither the hierarchy nor prerequisites.
        notes: quirks and mapping decisions to report (a second parent kept as a link...).
        record: what to store to export the framework again: the document, the items and the
            associations as read, and the slug of each item.
    """

    document_id: str
    version: str
    title: str
    description: str
    language: str
    competencies: tuple[Competency, ...]
    identifiers: Mapping[str, str] = field(compare=False)
    links: tuple[CaseLink, ...]
    notes: tuple[Quirk, ...]
    record: dict[str, Any] = field(compare=False)


def slugify(text: str, limit: int = 48) -> str:
    """A slug from free text (``"3.NF.A.1"`` -> ``"3.nf.a.1"``), or "" when nothing is left."""
    slug = re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-._")
    slug = re.sub(r"-{2,}", "-", slug)
    return slug[:limit].rstrip("-._")


def _hex(identifier: str, n: int = 8) -> str:
    return re.sub(r"[^0-9a-f]", "", identifier.lower())[:n] or "x"


def derive_slugs(
    items: Sequence[Mapping[str, Any]],
    *,
    known: Mapping[str, str] | None = None,
    taken: Collection[str] = (),
) -> dict[str, str]:
    """A stable competency id for each CFItem, by CASE identifier.

    An item already imported keeps its id (``known``: identifier -> id). A new one takes, in
    this order, the id zoped wrote in its ``extensions`` when exporting it, a slug of its
    ``humanCodingScheme``, or ``case-`` and the first 8 hex digits of its identifier (then its
    last 12, for identifiers handed out in sequence, then all 32); a code that another item or
    ``taken`` (ids of the school's other courses) holds gets the first 8 digits appended.
    """
    known = known or {}
    slugs: dict[str, str] = {}
    used = set(taken)
    for item in items:
        identifier = item["identifier"]
        if identifier in known and known[identifier] not in used:
            slugs[identifier] = known[identifier]
            used.add(known[identifier])
    for item in items:
        identifier = item["identifier"]
        if identifier in slugs:
            continue
        extension = (item.get("extensions") or {}).get(ZOPED_ID)
        candidates = []
        if isinstance(extension, str) and is_slug(extension) and len(extension) <= MAX_CODE:
            candidates.append(extension)
        code = slugify(str(item.get("humanCodingScheme") or ""))
        if code and is_slug(code):
            candidates += [code, f"{code}-{_hex(identifier)}"]
        digits = _hex(identifier, 32)
        candidates += [f"case-{digits[:8]}", f"case-{digits[-12:]}", f"case-{digits}"]
        chosen = next((c for c in candidates if c not in used), None)
        n = 2
        while chosen is None:  # only when every candidate is someone else's id
            chosen = f"case-{_hex(identifier, 32)}-{n}"
            chosen = None if chosen in used else chosen
            n += 1
        slugs[identifier] = chosen
        used.add(chosen)
    return slugs


#: The longest language tag the store keeps.
MAX_LANGUAGE = 35


def _shortened(text: str) -> str:
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def statement_parts(item: Mapping[str, Any]) -> tuple[str, str]:
    full = str(item.get("fullStatement") or "").strip()
    short = str(item.get("abbreviatedStatement") or "").strip()
    if short:
        title = short if len(short) <= MAX_TITLE else short[: MAX_TITLE - 1] + "…"
        return title, "" if full == title else full
    if len(full) <= MAX_TITLE and "\n" not in full:
        return full, ""
    first_line = full.splitlines()[0].strip() if full else ""
    title = first_line if 0 < len(first_line) <= MAX_TITLE else full[: MAX_TITLE - 1] + "…"
    return title, full


def grade_band_of(item: Mapping[str, Any]) -> str | None:
    levels = [str(v).strip() for v in item.get("educationLevel") or [] if str(v).strip()]
    if not levels:
        return None
    band = levels[0] if len(levels) == 1 else f"{levels[0]}-{levels[-1]}"
    return band[:MAX_GRADE_BAND]


def _ordered(
    associations: Sequence[tuple[int, dict[str, Any]]],
) -> list[tuple[int, dict[str, Any]]]:
    """Associations by sequence number (those without one after), then file order."""
    return sorted(
        associations,
        key=lambda pair: (
            pair[1].get("sequenceNumber") is None,
            pair[1].get("sequenceNumber") or 0,
            pair[0],
        ),
    )


def _sibling_order(
    items: Sequence[Mapping[str, Any]],
    parents: Mapping[str, str],
    sequence_of: Mapping[str, int | None],
) -> list[int]:
    """Item indexes in file order, except that the children of each parent take the places
    their group holds in the file in the order of their ``sequenceNumber`` (those without one
    last, ties by file order). A package written in order comes out unchanged."""
    groups: dict[str | None, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(parents.get(item["identifier"]), []).append(index)
    order = list(range(len(items)))
    for members in groups.values():
        ranked = sorted(
            members,
            key=lambda i: (
                sequence_of.get(items[i]["identifier"]) is None,
                sequence_of.get(items[i]["identifier"]) or 0,
                i,
            ),
        )
        for place, index in zip(members, ranked, strict=True):
            order[place] = index
    return order


def map_framework(
    package: CasePackage,
    *,
    known: Mapping[str, str] | None = None,
    taken: Collection[str] = (),
) -> CaseFramework:
    """Map a checked package onto competencies.

    Args:
        package: a package :func:`read_package` accepted.
        known: competency ids of items imported before, by CASE identifier (a re-import keeps
            them, and so the evidence learners hold on them).
        taken: ids that the school's other courses use (a new item avoids them).

    Returns:
        The framework with its links, notes and the record to store.

    Raises:
        InvalidInput: a prerequisite or parent cycle, or a standard code the store cannot hold,
            each located at the CFItem concerned.
    """
    items = package.items
    document = package.document
    slugs = derive_slugs(items, known=known, taken=taken)
    index_of = {item["identifier"]: i for i, item in enumerate(items)}
    parents: dict[str, str] = {}
    prerequisites: dict[str, list[str]] = {}
    notes: list[Quirk] = list(package.quirks)
    links: list[CaseLink] = []
    sequence_of: dict[str, int | None] = {}  # an item's sequence among its siblings

    def keep(association: dict[str, Any], why: str | None, where: str) -> None:
        origin = association["originNodeURI"]["identifier"]
        destination = association["destinationNodeURI"]
        links.append(
            CaseLink(
                identifier=association["identifier"],
                type=association["associationType"],
                origin=origin,
                destination=destination["identifier"],
                destination_title=destination.get("title") or "",
                destination_uri=destination.get("uri") or "",
                competency=slugs.get(origin),
            )
        )
        if why:
            notes.append(Quirk(where, "kept-as-link", why))

    numbered = list(enumerate(package.associations))
    for position, association in _ordered(numbered):
        where = f"CFAssociations[{position}]"
        kind = association["associationType"]
        origin = association["originNodeURI"]["identifier"]
        target = association["destinationNodeURI"]["identifier"]
        if kind == PARENT:
            if origin not in index_of:
                keep(
                    association, "its origin is not an item of this package: kept as a link", where
                )
            elif target == document["identifier"]:
                sequence_of[origin] = association.get("sequenceNumber")
            elif target not in index_of:
                keep(
                    association, "its parent is not an item of this package: kept as a link", where
                )
            elif origin in parents:
                keep(
                    association,
                    f"item {origin} has a parent already (a competency has one): kept as a link",
                    where,
                )
            else:
                parents[origin] = target
                sequence_of[origin] = association.get("sequenceNumber")
        elif kind == PRECEDES:
            if origin not in index_of or target not in index_of:
                keep(association, "an end is not an item of this package: kept as a link", where)
            elif origin == target or origin in prerequisites.get(target, []):
                keep(association, "repeats a prerequisite (or names itself): kept as a link", where)
            else:
                prerequisites.setdefault(target, []).append(origin)
        else:
            keep(association, None, where)

    problems: list[Problem] = []
    competencies: list[Competency] = []
    order = _sibling_order(items, parents, sequence_of)
    for index in order:
        item = items[index]
        identifier = item["identifier"]
        title, description = statement_parts(item)
        code = str(item.get("humanCodingScheme") or "").strip() or None
        if code is not None and len(code) > MAX_CODE:
            problems.append(
                Problem(
                    f"CFItems[{index}].humanCodingScheme",
                    f"longer than {MAX_CODE} characters: zoped keeps standard codes up to that",
                )
            )
        competencies.append(
            Competency(
                id=slugs[identifier],
                title=title or f"Item {identifier}",
                description=description,
                parent=slugs[parents[identifier]] if identifier in parents else None,
                prerequisites=tuple(slugs[p] for p in prerequisites.get(identifier, [])),
                standard_code=code,
                grade_band=grade_band_of(item),
            )
        )
    problems += framework_problems(competencies, locate=lambda i: f"CFItems[{order[i]}]")
    if problems:
        raise InvalidInput("the CASE package does not make a valid framework", problems)
    language = str(document.get("language") or "en")
    if not LANGUAGE_TAG.match(language) or len(language) > MAX_LANGUAGE:
        notes.append(
            Quirk("CFDocument.language", "language", f"{language!r} is not a BCP 47 tag: 'en' used")
        )
        language = "en"
    record = {
        "format": 1,
        "version": package.version,
        "document": document,
        "items": {item["identifier"]: item for item in items},
        "slugs": {identifier: slugs[identifier] for identifier in index_of},
        "associations": package.associations,
    }
    return CaseFramework(
        document_id=document["identifier"],
        version=package.version,
        title=_shortened(" ".join(str(document["title"]).split()) or "CASE framework"),
        description=str(document.get("description") or ""),
        language=language,
        competencies=tuple(competencies),
        identifiers={slugs[i]: i for i in index_of},
        links=tuple(links),
        notes=tuple(notes),
        record=record,
    )


def links_of(record: Mapping[str, Any], competency_ids: Collection[str]) -> list[CaseLink]:
    """The links a stored record keeps for the competencies still in the framework."""
    slugs: Mapping[str, str] = record.get("slugs") or {}
    document_id = (record.get("document") or {}).get("identifier")
    found: list[CaseLink] = []
    for association in record.get("associations") or []:
        kind = association["associationType"]
        origin = association["originNodeURI"]["identifier"]
        target = association["destinationNodeURI"]["identifier"]
        structural = (
            kind in (PARENT, PRECEDES)
            and origin in slugs
            and (target in slugs or (kind == PARENT and target == document_id))
        )
        competency = slugs.get(origin)
        if structural or (competency is not None and competency not in competency_ids):
            continue
        destination = association["destinationNodeURI"]
        found.append(
            CaseLink(
                identifier=association["identifier"],
                type=kind,
                origin=origin,
                destination=target,
                destination_title=destination.get("title") or "",
                destination_uri=destination.get("uri") or "",
                competency=competency,
            )
        )
    return found
