"""CASE 1.0 and 1.1 competency frameworks (a ``CFPackage`` in JSON): read, check, map and write.

Reading goes in three steps, and every problem of a step is reported, never just the first:

1. **Quirks.** Real packages bend the specification in known ways. Each tolerated bend is
   straightened in a copy of the document and recorded as a :class:`Quirk` (the import summary
   lists them): a package wrapped in ``{"CFPackage": ...}``, numbers written as strings
   (``"sequenceNumber": "3"``), timestamps without a zone (read as UTC), dates where the
   version wants a date-time (and back), upper-case identifiers, a missing ``uri`` or
   ``lastChangeDateTime`` on an item or an association, a missing title on a node link, a
   1.0-only field inside a 1.1 package, and identifiers in the UUID shape whose version or
   variant digit is not RFC 4122's.
2. **Schema.** The straightened document is checked against the official JSON schema of its
   version (vendored in ``zoped/interop/schemas``, see ``SOURCE.md`` there). Every error is
   located as a path into the package (``CFItems[12].identifier``).
3. **Meaning.** Identifiers must be unique; ``isChildOf`` builds the hierarchy, ``precedes``
   the prerequisites (A precedes B: A is a prerequisite of B) and every other association is
   kept as a link. :func:`map_framework` turns the package into competencies with stable
   slugs, the CASE identifier kept beside each; the domain's rules (no cycles) run there.

Writing (:func:`write_package`) is the reverse: a framework, with the CASE record kept from its
import if there is one, becomes a package of either version that validates against its schema.
Nothing here touches the database: the services decide which course a package updates.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from zoped.domain.framework import Competency, framework_problems, is_slug
from zoped.errors import InvalidInput, Problem

#: The CASE versions read and written.
CASE_VERSIONS = ("1.0", "1.1")
#: The official package schema of each version (files in zoped/interop/schemas).
SCHEMA_FILES = {"1.0": "case-v1p0-cfpackage-schema.json", "1.1": "case-v1p1-cfpackage-schema.json"}
#: Association types that build the framework; every other type is kept as a link.
PARENT, PRECEDES = "isChildOf", "precedes"
#: Association types the 1.0 schema allows (1.1 adds ``isTranslationOf`` and ``ext:`` types).
TYPES_1_0 = (
    "isChildOf",
    "isPeerOf",
    "isPartOf",
    "exactMatchOf",
    "precedes",
    "isRelatedTo",
    "replacedBy",
    "exemplar",
    "hasSkillLevel",
)
#: The key under ``extensions`` where zoped writes a competency's id (and a course's code).
ZOPED_ID = "zopedId"
#: Identifiers zoped mints for what it exports are UUIDv5 in this namespace.
NAMESPACE = uuid.UUID("6f1d9c3e-4b7a-5e2f-9a0c-2d8e7f6a5b41")
#: The longest competency title zoped keeps (the rest of a long statement is its description).
MAX_TITLE = 300
#: The longest standard code and grade band the store keeps.
MAX_CODE, MAX_GRADE_BAND = 64, 32
_MAX_MESSAGE = 200

_UUID_SHAPE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_RFC_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: Fields that hold a date-time, by the section that holds them.
_TIMESTAMP = "lastChangeDateTime"
_SECTIONS = ("CFItems", "CFAssociations")
_DEFINITIONS = ("CFConcepts", "CFSubjects", "CFLicenses", "CFItemTypes", "CFAssociationGroupings")


@cache
def case_schema(version: str) -> dict[str, Any]:
    """The official CFPackage JSON schema of a CASE version ("1.0" or "1.1")."""
    text = resources.files("zoped.interop").joinpath("schemas", SCHEMA_FILES[version])
    schema: dict[str, Any] = json.loads(text.read_text("utf-8"))
    return schema


def _validator(version: str) -> jsonschema.protocols.Validator:
    schema = case_schema(version)
    cls = jsonschema.Draft201909Validator if version == "1.1" else jsonschema.Draft4Validator
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@dataclass(frozen=True)
class Quirk:
    """One tolerated departure from the specification, straightened before the schema check.

    Attributes:
        location: where it is, as a path into the package (``CFAssociations[3].sequenceNumber``).
        kind: a short name of the kind of quirk (``number-as-string``), for counting.
        message: what was found and what zoped did with it.
    """

    location: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


@dataclass(frozen=True)
class CasePackage:
    """A checked CFPackage: the official schema of ``version`` accepts ``data``.

    Attributes:
        version: "1.0" or "1.1".
        data: the package (``CFDocument``, ``CFItems``, ``CFAssociations``...), quirks
            straightened and identifiers in lower case.
        quirks: what was straightened, in document order.
    """

    version: str
    data: dict[str, Any] = field(compare=False)
    quirks: tuple[Quirk, ...] = ()

    @property
    def document(self) -> dict[str, Any]:
        """The ``CFDocument``."""
        document: dict[str, Any] = self.data["CFDocument"]
        return document

    @property
    def items(self) -> list[dict[str, Any]]:
        """The ``CFItems``, in file order."""
        return list(self.data.get("CFItems") or [])

    @property
    def associations(self) -> list[dict[str, Any]]:
        """The ``CFAssociations``, in file order."""
        return list(self.data.get("CFAssociations") or [])


# ----------------------------------------------------------------------------- reading


def _location(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def detect_version(data: Mapping[str, Any]) -> str:
    """The CASE version a package says it is: 1.1 when its document has ``caseVersion`` "1.1"
    or its URI names ``v1p1``, else 1.0."""
    document = data.get("CFDocument")
    if isinstance(document, Mapping):
        if document.get("caseVersion") == "1.1":
            return "1.1"
        if "/v1p1/" in str(document.get("uri", "")):
            return "1.1"
    return "1.0"


class _Straighten:
    """Straightens the known quirks of a package copy in place, recording each one."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.quirks: list[Quirk] = []
        self.problems: list[Problem] = []
        self.fallback_time: str | None = None

    def note(self, path: Sequence[str | int], kind: str, message: str) -> None:
        self.quirks.append(Quirk(_location(path), kind, message))

    def timestamp(self, record: dict[str, Any], path: tuple[str | int, ...]) -> None:
        value = record.get(_TIMESTAMP)
        where = (*path, _TIMESTAMP)
        if value is None:
            if self.fallback_time is not None:
                record[_TIMESTAMP] = self.fallback_time
                self.note(where, "missing-field", "missing: the document's time is used")
            return
        if not isinstance(value, str):
            return  # the schema reports it
        text = value.strip()
        if _DATE_ONLY.match(text):
            record[_TIMESTAMP] = f"{text}T00:00:00Z"
            self.note(where, "date-for-date-time", f"{value!r} is a date: read as midnight UTC")
            return
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1))
        except ValueError:
            self.problems.append(
                Problem(_location(where), f"{value!r} is not a date-time (ISO 8601)")
            )
            return
        if moment.tzinfo is None:
            record[_TIMESTAMP] = moment.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
            self.note(where, "timestamp-without-zone", f"{value!r} has no zone: read as UTC")
        elif text != value or " " in text:
            record[_TIMESTAMP] = moment.isoformat()
            self.note(where, "timestamp-form", f"{value!r} rewritten as {record[_TIMESTAMP]!r}")

    def identifier(self, record: dict[str, Any], key: str, path: tuple[str | int, ...]) -> None:
        value = record.get(key)
        if isinstance(value, str) and _UUID_SHAPE.match(value.strip()):
            lowered = value.strip().lower()
            if lowered != value:
                record[key] = lowered
                self.note((*path, key), "identifier-case", f"{value!r} written in lower case")
            if not _RFC_UUID.match(lowered):
                self.note(
                    (*path, key),
                    "identifier-not-rfc4122",
                    f"{lowered!r} has the UUID shape but not an RFC 4122 version or variant "
                    "digit: kept as it is",
                )

    def integer(self, record: dict[str, Any], key: str, path: tuple[str | int, ...]) -> None:
        value = record.get(key)
        if isinstance(value, str) and _INTEGER.match(value):
            record[key] = int(value)
            self.note((*path, key), "number-as-string", f"the string {value!r} read as a number")

    def date_field(self, record: dict[str, Any], key: str, path: tuple[str | int, ...]) -> None:
        value = record.get(key)
        if value is None and key in record:
            del record[key]
            self.note((*path, key), "null-field", "null: left out")
        elif self.version == "1.1" and isinstance(value, str) and not _DATE_ONLY.match(value):
            head = value[:10]
            if _DATE_ONLY.match(head):
                record[key] = head
                self.note((*path, key), "date-time-for-date", f"{value!r}: its date {head!r} kept")

    def as_list(self, record: dict[str, Any], key: str, path: tuple[str | int, ...]) -> None:
        value = record.get(key)
        if isinstance(value, str):
            record[key] = [value]
            self.note((*path, key), "string-for-list", f"the string {value!r} read as a list")
        elif value is None and key in record:
            del record[key]
            self.note((*path, key), "null-field", "null: left out")

    def drop(self, record: dict[str, Any], key: str, path: tuple[str | int, ...]) -> None:
        if key in record:
            del record[key]
            self.note(
                (*path, key), "field-of-another-version", f"not a {self.version} field: left out"
            )

    def node_link(self, record: dict[str, Any], key: str, path: tuple[str | int, ...]) -> None:
        link = record.get(key)
        if not isinstance(link, dict):
            return
        self.identifier(link, "identifier", (*path, key))
        if link.get("title") is None and "identifier" in link and "uri" in link:
            link["title"] = ""
            self.note((*path, key, "title"), "missing-field", "missing: an empty title is used")
        if "uri" not in link and isinstance(link.get("identifier"), str):
            link["uri"] = f"urn:uuid:{link['identifier']}"
            self.note(
                (*path, key, "uri"), "missing-field", "missing: urn:uuid:<identifier> is used"
            )

    def record(self, record: dict[str, Any], path: tuple[str | int, ...]) -> None:
        self.identifier(record, "identifier", path)
        if "uri" not in record and isinstance(record.get("identifier"), str):
            record["uri"] = f"urn:uuid:{record['identifier']}"
            self.note((*path, "uri"), "missing-field", "missing: urn:uuid:<identifier> is used")
        self.timestamp(record, path)
        for key in ("statusStartDate", "statusEndDate"):
            self.date_field(record, key, path)


def _straighten(data: dict[str, Any], version: str) -> tuple[list[Quirk], list[Problem]]:
    fix = _Straighten(version)
    document = data.get("CFDocument")
    if isinstance(document, dict):
        fix.record(document, ("CFDocument",))
        stamp = document.get(_TIMESTAMP)
        fix.fallback_time = stamp if isinstance(stamp, str) else None
        if version == "1.1":
            fix.as_list(document, "subject", ("CFDocument",))
            fix.drop(document, "CFPackageURI", ("CFDocument",))
        if document.get("licenseURI", 0) is None:
            fix.date_field(document, "licenseURI", ("CFDocument",))
    for section in _SECTIONS:
        entries = data.get(section)
        if not isinstance(entries, list):
            continue
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                continue
            path: tuple[str | int, ...] = (section, index)
            fix.record(entry, path)
            if version == "1.1":
                fix.drop(entry, "CFDocumentURI", path)
            if section == "CFItems":
                for key in ("educationLevel", "conceptKeywords"):
                    fix.as_list(entry, key, path)
                if entry.get("conceptKeywordsURI", 0) is None:
                    fix.date_field(entry, "conceptKeywordsURI", path)
            else:
                fix.integer(entry, "sequenceNumber", path)
                for key in ("originNodeURI", "destinationNodeURI"):
                    fix.node_link(entry, key, path)
                if entry.get("CFAssociationGroupingURI", 0) is None:
                    fix.date_field(entry, "CFAssociationGroupingURI", path)
    definitions = data.get("CFDefinitions")
    if isinstance(definitions, dict):
        for name in _DEFINITIONS:
            for index, entry in enumerate(definitions.get(name) or []):
                if isinstance(entry, dict):
                    path = ("CFDefinitions", name, index)
                    fix.identifier(entry, "identifier", path)
                    fix.timestamp(entry, path)
    return fix.quirks, fix.problems


def _schema_message(error: ValidationError) -> tuple[str, str]:
    path = list(error.absolute_path)
    location = _location(path)
    if error.validator == "required":
        missing = re.match(r"'([^']+)'", error.message)
        return _location([*path, missing.group(1) if missing else "?"]), "is required"
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = (
            set((error.schema or {}).get("properties", {}))
            if isinstance(error.schema, dict)
            else set()
        )
        extra = sorted(str(k) for k in error.instance if k not in known)
        return location, f"unknown field(s): {', '.join(extra)}"
    if error.validator == "enum":
        choices = ", ".join(str(v) for v in error.validator_value or ())  # type: ignore[union-attr]
        return location, f"{error.instance!r} is not one of: {choices}"
    if error.validator in ("pattern", "format") and isinstance(error.instance, str):
        return location, f"{error.instance!r} is not a valid {error.validator_value}"
    message = error.message
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 3] + "..."
    return location, message


def _tolerated(error: ValidationError) -> bool:
    """A 1.0 UUID pattern error on an identifier of the UUID shape (reported as a quirk)."""
    return (
        error.validator == "pattern"
        and isinstance(error.instance, str)
        and bool(_UUID_SHAPE.match(error.instance))
    )


def _sort_key(error: ValidationError) -> list[tuple[int, int, str]]:
    return [(0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in error.absolute_path]


def read_package(
    data: Any, source: str = "<package>", *, version: str | None = None
) -> CasePackage:
    """Check a CFPackage (already parsed from JSON) against the official schema of its version.

    Args:
        data: the package: ``{"CFDocument": ..., "CFItems": [...], ...}``, or the same wrapped
            in ``{"CFPackage": ...}`` as the REST binding answers it.
        source: a name for messages, usually the file name.
        version: "1.0" or "1.1"; None reads it from the package (:func:`detect_version`).

    Returns:
        The checked package with the quirks it straightened.

    Raises:
        InvalidInput: every problem, each located as a path into the package.
    """
    quirks: list[Quirk] = []
    if (
        isinstance(data, dict)
        and set(data) == {"CFPackage"}
        and isinstance(data["CFPackage"], dict)
    ):
        data = data["CFPackage"]
        quirks.append(
            Quirk("CFPackage", "wrapped", "the package is wrapped in CFPackage: unwrapped")
        )
    if not isinstance(data, dict):
        raise InvalidInput(
            f"{source}: not a CASE package",
            [Problem("", f"expected a JSON object at the top, not {type(data).__name__}")],
        )
    if version is None:
        version = detect_version(data)
    elif version not in CASE_VERSIONS:
        raise InvalidInput(
            f"{source}: unknown CASE version",
            [Problem("version", f"{version!r} is not one of: {', '.join(CASE_VERSIONS)}")],
        )
    data = copy.deepcopy(data)
    found, problems = _straighten(data, version)
    quirks += found
    for error in sorted(_validator(version).iter_errors(data), key=_sort_key):
        if version == "1.0" and _tolerated(error):
            continue
        location, message = _schema_message(error)
        problems.append(Problem(location, message))
    if not problems:
        problems += _meaning_problems(data)
    if problems:
        raise InvalidInput(f"{source}: invalid CASE {version} package", problems)
    return CasePackage(version, data, tuple(quirks))


def load_package_file(path: str | Path, *, version: str | None = None) -> CasePackage:
    """Read and check the CFPackage in a JSON file (see :func:`read_package`).

    Raises:
        InvalidInput: for an unreadable file, JSON that does not parse (with its line and
            column) or every problem in the package.
    """
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidInput(f"{file}: cannot read the file", [Problem("", str(error))]) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{file}: not a JSON file",
            [Problem(f"line {error.lineno} column {error.colno}", error.msg)],
        ) from None
    return read_package(data, str(file), version=version)


def _meaning_problems(data: dict[str, Any]) -> list[Problem]:
    """Duplicate identifiers and associations that cannot be read: what the schema allows but
    a framework cannot hold."""
    problems: list[Problem] = []
    first: dict[str, str] = {}
    document_id = data["CFDocument"]["identifier"]
    first[document_id] = "CFDocument"
    for section in _SECTIONS:
        for index, entry in enumerate(data.get(section) or []):
            where = f"{section}[{index}]"
            identifier = entry["identifier"]
            if identifier in first:
                problems.append(
                    Problem(
                        f"{where}.identifier",
                        f"duplicate identifier {identifier!r} (first at {first[identifier]})",
                    )
                )
            else:
                first[identifier] = where
    return problems


# ----------------------------------------------------------------------------- mapping


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
    ``humanCodingScheme``, or ``case-`` and the first 8 hex digits of its identifier; a
    candidate that another item or ``taken`` (ids of the school's other courses) holds gets
    those 8 digits appended, then all 32 of them.
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
        candidates += [f"case-{_hex(identifier)}", f"case-{_hex(identifier, 32)}"]
        chosen = next((c for c in candidates if c not in used), None)
        n = 2
        while chosen is None:  # only when every candidate is someone else's id
            chosen = f"case-{_hex(identifier, 32)}-{n}"
            chosen = None if chosen in used else chosen
            n += 1
        slugs[identifier] = chosen
        used.add(chosen)
    return slugs


def _title_and_description(item: Mapping[str, Any]) -> tuple[str, str]:
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


def _grade_band(item: Mapping[str, Any]) -> str | None:
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
        title, description = _title_and_description(item)
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
                grade_band=_grade_band(item),
            )
        )
    problems += framework_problems(competencies, locate=lambda i: f"CFItems[{order[i]}]")
    if problems:
        raise InvalidInput("the CASE package does not make a valid framework", problems)
    language = str(document.get("language") or "en")
    if not _LANGUAGE.match(language):
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
        title=" ".join(str(document["title"]).split()) or "CASE framework",
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


# ----------------------------------------------------------------------------- writing


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
        and _DATE_ONLY.match(value[:10])
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
        stored_title, stored_description = _title_and_description(item) if item else ("", "")
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
        if _grade_band(item) != comp.grade_band:
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


def schema_problems(package: Mapping[str, Any], version: str) -> list[Problem]:
    """What the official schema of ``version`` finds wrong with a package (for tests and the
    export's own check)."""
    return [
        Problem(*_schema_message(error))
        for error in sorted(_validator(version).iter_errors(package), key=_sort_key)
        if not (version == "1.0" and _tolerated(error))
    ]
