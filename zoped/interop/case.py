"""CASE 1.0 and 1.1 competency frameworks (a ``CFPackage`` in JSON): read and check them.

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
3. **Meaning.** Identifiers must be unique.

:mod:`zoped.interop.case_map` then maps a checked package onto competencies (``isChildOf`` the
hierarchy, ``precedes`` the prerequisites, other associations links; the domain's rules, no
cycles, run there) and :mod:`zoped.interop.case_write` writes one back. Nothing here touches the
database: the services decide which course a package updates.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

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
#: The longest competency title zoped keeps (the rest of a long statement is its description).
MAX_TITLE = 300
#: The longest standard code and grade band the store keeps.
MAX_CODE, MAX_GRADE_BAND = 64, 32
_MAX_MESSAGE = 200
_EXAMPLE_UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"
_TYPE_WORDS = {
    "integer": "a whole number",
    "number": "a number",
    "string": "a string",
    "array": "a list",
    "object": "an object",
}

_UUID_SHAPE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
_RFC_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$")
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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
        if DATE_ONLY.match(text):
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
        elif self.version == "1.1" and isinstance(value, str) and not DATE_ONLY.match(value):
            head = value[:10]
            if DATE_ONLY.match(head):
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
        if error.validator_value == "uuid" or "[0-9a-f]{8}" in str(error.validator_value):
            return location, f"{error.instance!r} is not a UUID (like {_EXAMPLE_UUID})"
        return location, f"{error.instance!r} is not a valid {error.validator_value}"
    if error.validator == "type" and isinstance(error.validator_value, str):
        wanted = _TYPE_WORDS.get(error.validator_value, error.validator_value)
        return location, f"{error.instance!r} is not {wanted}"
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
    if _depth(data) > MAX_DEPTH:
        raise InvalidInput(
            f"{source}: nested too deeply",
            [Problem("", f"a CASE package may nest at most {MAX_DEPTH} levels deep")],
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
    return read_package(parse_json(text, str(file)), str(file), version=version)


#: The deepest nesting a package may have: real ones stay under 10 levels.
MAX_DEPTH = 64


def _depth(value: Any) -> int:
    """How deeply ``value`` nests (walked without recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        current, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        if isinstance(current, dict):
            stack += [(v, level + 1) for v in current.values()]
        elif isinstance(current, list):
            stack += [(v, level + 1) for v in current]
    return deepest


def parse_json(text: str, source: str = "<package>") -> Any:
    """The JSON in ``text``.

    Raises:
        InvalidInput: JSON that does not parse (with its line and column), or nests deeper
            than :data:`MAX_DEPTH`.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(
            f"{source}: not a JSON file",
            [Problem(f"line {error.lineno} column {error.colno}", error.msg)],
        ) from None
    except RecursionError:
        data = None
        depth = MAX_DEPTH + 1
    else:
        depth = _depth(data)
    if depth > MAX_DEPTH:
        raise InvalidInput(
            f"{source}: nested too deeply",
            [Problem("", f"a CASE package may nest at most {MAX_DEPTH} levels deep")],
        )
    return data


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


def schema_problems(package: Mapping[str, Any], version: str) -> list[Problem]:
    """What the official schema of ``version`` finds wrong with a package (for tests and the
    export's own check)."""
    return [
        Problem(*_schema_message(error))
        for error in sorted(_validator(version).iter_errors(package), key=_sort_key)
        if not (version == "1.0" and _tolerated(error))
    ]
