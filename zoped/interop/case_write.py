"""CASE packages written from zoped frameworks (``zoped export case``): a course's framework,
with the CASE record kept from its import if there is one, as a CFPackage of either version
that validates against its schema and reads back to the same framework. See docs/case.md.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from zoped.domain.framework import Competency
from zoped.errors import InvalidInput, Problem
from zoped.interop.case import (
    CASE_VERSIONS,
    DATE_ONLY,
    PARENT,
    PRECEDES,
    TYPES_1_0,
    ZOPED_ID,
)
from zoped.interop.case_map import grade_band_of, links_of, statement_parts

#: Identifiers zoped mints for what it exports are UUIDv5 in this namespace.
NAMESPACE = uuid.UUID("6f1d9c3e-4b7a-5e2f-9a0c-2d8e7f6a5b41")


def minted(*parts: str) -> str:
    """A stable identifier zoped mints for something it exports (UUIDv5 of ``parts``)."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _link(identifier: str, title: str, uri: str) -> dict[str, str]:
    return {"title": title, "identifier": identifier, "uri": uri}


_DOCUMENT_FIELDS = (
    "identifier",
    "uri",
    "creator",
    "title",
    "lastChangeDateTime",
    "officialSourceURL",
    "publisher",
    "description",
    "subject",
    "language",
    "version",
    "adoptionStatus",
    "statusStartDate",
    "statusEndDate",
    "notes",
)
_ITEM_FIELDS = (
    "identifier",
    "uri",
    "fullStatement",
    "alternativeLabel",
    "CFItemType",
    "humanCodingScheme",
    "listEnumeration",
    "abbreviatedStatement",
    "conceptKeywords",
    "notes",
    "language",
    "educationLevel",
    "statusStartDate",
    "statusEndDate",
    "lastChangeDateTime",
)


def _fit_date(value: Any, version: str) -> Any:
    if (
        version == "1.1"
        and isinstance(value, str)
        and len(value) > 10
        and DATE_ONLY.match(value[:10])
    ):
        return value[:10]
    return value


def _kept(source: Mapping[str, Any], fields: Sequence[str], version: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in fields:
        value = source.get(key)
        if value is None or value == "" or value == []:
            continue
        if key in ("statusStartDate", "statusEndDate"):
            value = _fit_date(value, version)
        if key in ("subject", "educationLevel", "conceptKeywords") and isinstance(value, str):
            value = [value]
        out[key] = copy.deepcopy(value)
    return out


def write_package(
    *,
    code: str,
    key: str,
    title: str,
    description: str,
    language: str,
    competencies: Sequence[Competency],
    changed_at: datetime,
    record: Mapping[str, Any] | None = None,
    version: str = "1.1",
) -> tuple[dict[str, Any], list[str]]:
    """A course's framework as a CFPackage of ``version``.

    What the framework's import recorded (``record``) is written again: the document's fields,
    each item's identifier and fields, the identifiers of the associations that still hold, and
    the links whose competency is still there. What zoped adds is minted: identifiers are
    UUIDv5 of the course key and the competency id (the same every time), URIs are
    ``urn:uuid:`` URIs and times are ``changed_at``. Each CFItem carries its competency id in
    ``extensions`` (the 1.1 schema's place for it; the 1.0 schema accepts it too), so a
    re-import into another school gets the same ids.

    Returns:
        The package, and one line for each link the version cannot hold (left out).
    """
    if version not in CASE_VERSIONS:
        raise InvalidInput(
            "unknown CASE version", [Problem("version", f"{version!r} is not one of: 1.0, 1.1")]
        )
    record = record or {}
    stamp = _stamp(changed_at)
    stored_items: Mapping[str, Any] = record.get("items") or {}
    slugs: Mapping[str, str] = record.get("slugs") or {}
    identifier_of = {slug: identifier for identifier, slug in slugs.items()}
    stored_document: Mapping[str, Any] = record.get("document") or {}
    document = _kept(stored_document, _DOCUMENT_FIELDS, version)
    document_id = document.get("identifier") or minted("course", key)
    document.update(
        identifier=document_id,
        uri=document.get("uri") or f"urn:uuid:{document_id}",
        creator=document.get("creator") or "zoped",
        title=title,
        lastChangeDateTime=document.get("lastChangeDateTime") or stamp,
    )
    if description:
        document["description"] = description
    else:
        document.pop("description", None)
    document["language"] = language
    if version == "1.1":
        document["caseVersion"] = "1.1"
    document["extensions"] = {ZOPED_ID: code}
    doc_link = _link(document_id, title, document["uri"])

    ids: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    for comp in competencies:
        identifier = identifier_of.get(comp.id) or minted("course", key, "competency", comp.id)
        ids[comp.id] = identifier
        item = _kept(stored_items.get(identifier) or {}, _ITEM_FIELDS, version)
        full = comp.description or comp.title
        stored_title, stored_description = statement_parts(item) if item else ("", "")
        if (stored_title, stored_description) != (comp.title, comp.description):
            item["fullStatement"] = full
            if comp.description:
                item["abbreviatedStatement"] = comp.title
            else:
                item.pop("abbreviatedStatement", None)
        if comp.standard_code:
            item["humanCodingScheme"] = comp.standard_code
        else:
            item.pop("humanCodingScheme", None)
        if grade_band_of(item) != comp.grade_band:
            if comp.grade_band:
                item["educationLevel"] = [comp.grade_band]
            else:
                item.pop("educationLevel", None)
        item.update(
            identifier=identifier,
            uri=item.get("uri") or f"urn:uuid:{identifier}",
            lastChangeDateTime=item.get("lastChangeDateTime") or stamp,
        )
        item["extensions"] = {ZOPED_ID: comp.id}
        items.append({"identifier": identifier, "uri": item["uri"], **item})

    stored_by_edge: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for association in record.get("associations") or []:
        edge = (
            association["associationType"],
            association["originNodeURI"]["identifier"],
            association["destinationNodeURI"]["identifier"],
        )
        stored_by_edge.setdefault(edge, association)
    by_id = {c.id: c for c in competencies}
    associations: list[dict[str, Any]] = []

    def add_edge(kind: str, origin: str, target: dict[str, str], sequence: int | None) -> None:
        edge = (kind, origin, target["identifier"])
        stored = stored_by_edge.get(edge) or {}
        identifier = stored.get("identifier") or minted("association", *edge)
        entry: dict[str, Any] = {
            "identifier": identifier,
            "associationType": kind,
            "uri": stored.get("uri") or f"urn:uuid:{identifier}",
            "originNodeURI": _link(origin, by_title[origin], uri_of[origin]),
            "destinationNodeURI": target,
            "lastChangeDateTime": stored.get("lastChangeDateTime") or stamp,
        }
        if sequence is not None:
            entry["sequenceNumber"] = sequence
        associations.append(entry)

    uri_of = {item["identifier"]: item["uri"] for item in items}
    by_title = {ids[c.id]: c.title for c in competencies}
    sibling: dict[str | None, int] = {}
    for comp in competencies:
        parent = comp.parent
        sibling[parent] = sibling.get(parent, 0) + 1
        if parent is None:
            target = doc_link
        else:
            target = _link(ids[parent], by_id[parent].title, uri_of[ids[parent]])
        add_edge(PARENT, ids[comp.id], target, sibling[parent])
    for comp in competencies:
        for prereq in comp.prerequisites:
            source = ids[prereq]
            add_edge(PRECEDES, source, _link(ids[comp.id], comp.title, uri_of[ids[comp.id]]), None)

    left_out: list[str] = []
    for link in links_of(record, set(by_id)):
        stored = next(
            a for a in record.get("associations") or [] if a["identifier"] == link.identifier
        )
        if link.competency is not None:
            origin_title = by_id[link.competency].title
        else:
            origin_title = stored["originNodeURI"].get("title") or ""
        if version == "1.0" and link.type not in TYPES_1_0:
            left_out.append(f"link {link.identifier} ({link.type}): CASE 1.0 has no such type")
            continue
        entry = {
            "identifier": link.identifier,
            "associationType": link.type,
            "uri": stored.get("uri") or f"urn:uuid:{link.identifier}",
            "originNodeURI": _link(
                link.origin,
                origin_title,
                stored["originNodeURI"].get("uri") or f"urn:uuid:{link.origin}",
            ),
            "destinationNodeURI": _link(
                link.destination,
                link.destination_title,
                link.destination_uri or f"urn:uuid:{link.destination}",
            ),
            "lastChangeDateTime": stored.get("lastChangeDateTime") or stamp,
        }
        if isinstance(stored.get("sequenceNumber"), int):
            entry["sequenceNumber"] = stored["sequenceNumber"]
        if version == "1.1" and isinstance(stored.get("notes"), str):
            entry["notes"] = stored["notes"]
        associations.append(entry)
    return (
        {"CFDocument": document, "CFItems": items, "CFAssociations": associations},
        left_out,
    )
