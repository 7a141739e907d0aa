"""Reading a OneRoster bundle's files: the archive, its CSV files, their headers and cells.

The tolerances for real exports live here (see ``docs/oneroster.md``): headers matched
ignoring case, spaces and a byte-order mark, in any order; a zipped folder read from inside
the folder; dates checked strictly, ambiguous ones refused rather than guessed.
:mod:`zoped.interop.oneroster` builds the records.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path, PurePosixPath
from typing import Any

from zoped.errors import Problem
from zoped.interop.oneroster_tables import (
    FILE_MODES,
    MANIFEST_FILE,
    MANIFEST_VERSIONS,
    ONEROSTER_VERSIONS,
    Column,
    ColumnType,
    FileMode,
)

#: Limits on what a bundle may hold (uncompressed), so that a zip bomb is refused unread.
MAX_BUNDLE_BYTES = 64 * 1024 * 1024
MAX_FILE_BYTES = 32 * 1024 * 1024
MAX_ENTRIES = 200
MAX_RECORDS_PER_FILE = 100_000

_EXTENSION_VALUE = re.compile(r"^ext:[A-Za-z0-9._-]+$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ISO_DATE_PARTS = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_YEAR_FIRST = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_YEAR_LAST = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_YEAR = re.compile(r"^\d{4}$")
_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)


# --- reading the archive ------------------------------------------------------------------


@dataclass
class Reading:
    """What reading has found so far."""

    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def problem(self, location: str, message: str) -> None:
        self.problems.append(Problem(location, message))

    def warn(self, location: str, message: str) -> None:
        self.warnings.append(Problem(location, message))


def _unsafe(name: str) -> bool:
    """A path that could leave the folder it is unpacked into."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part == ".." for part in re.split(r"[/\\]", name))


def _zip_files(data: bytes | Path, reading: Reading) -> dict[str, bytes]:
    """The files of a zip archive, by their path inside it (checked against the limits)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data) if isinstance(data, bytes) else data)
    except (zipfile.BadZipFile, OSError) as error:
        reading.problem("bundle", f"not a zip archive ({error})")
        return {}
    with archive:
        entries = [i for i in archive.infolist() if not i.is_dir()]
        if len(entries) > MAX_ENTRIES:
            reading.problem("bundle", f"holds {len(entries)} files; at most {MAX_ENTRIES}")
            return {}
        if sum(i.file_size for i in entries) > MAX_BUNDLE_BYTES:
            reading.problem("bundle", f"unpacks to more than {MAX_BUNDLE_BYTES // 2**20} MB")
            return {}
        files: dict[str, bytes] = {}
        for info in entries:
            name = info.filename
            if _unsafe(name):
                reading.problem(name, "a path that leaves the archive's folder is refused")
                continue
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if parts[0] == "__MACOSX" or parts[-1].startswith("."):
                continue  # macOS resource forks and hidden files
            try:
                with archive.open(info) as handle:
                    content = handle.read(MAX_FILE_BYTES + 1)
            except (zipfile.BadZipFile, RuntimeError, OSError, EOFError, ValueError) as error:
                reading.problem(name, f"cannot be unpacked ({error})")
                continue
            if len(content) > MAX_FILE_BYTES:
                reading.problem(name, f"is larger than {MAX_FILE_BYTES // 2**20} MB")
                continue
            files["/".join(parts)] = content
        return files


def _folder_files(folder: Path, reading: Reading) -> dict[str, bytes]:
    """The files directly in a folder (checked against the limits)."""
    paths = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if len(paths) > MAX_ENTRIES:
        reading.problem(str(folder), f"holds {len(paths)} files; at most {MAX_ENTRIES}")
        return {}
    if sum(p.stat().st_size for p in paths) > MAX_BUNDLE_BYTES:
        reading.problem(str(folder), f"holds more than {MAX_BUNDLE_BYTES // 2**20} MB")
        return {}
    files: dict[str, bytes] = {}
    for path in paths:
        if path.stat().st_size > MAX_FILE_BYTES:
            reading.problem(path.name, f"is larger than {MAX_FILE_BYTES // 2**20} MB")
            continue
        files[path.name] = path.read_bytes()
    return files


def bundle_files(source: Path | bytes, reading: Reading) -> dict[str, tuple[str, bytes]]:
    """The bundle's files by lower-cased name, each with its name as given.

    A zip whose files all sit in one folder (the way a zipped folder unpacks) is read from
    that folder. Files in deeper folders are ignored and reported.
    """
    if isinstance(source, bytes):
        found = _zip_files(source, reading)
    elif source.is_dir():
        found = _folder_files(source, reading)
    elif source.is_file():
        if source.stat().st_size > MAX_BUNDLE_BYTES:
            reading.problem(source.name, f"is larger than {MAX_BUNDLE_BYTES // 2**20} MB")
            return {}
        found = _zip_files(source, reading)
    else:
        reading.problem(str(source), "no such file or folder")
        return {}
    tops = {name.split("/")[0] for name in found if "/" in name}
    root = ""
    if not any("/" not in name for name in found) and len(tops) == 1:
        root = f"{tops.pop()}/"
    files: dict[str, tuple[str, bytes]] = {}
    for name, content in found.items():
        inside = name.removeprefix(root)
        if "/" in inside:
            reading.warn(name, "in a sub-folder of the bundle; ignored")
            continue
        key = inside.lower()
        if key in files:
            reading.problem(inside, f"the bundle also holds {files[key][0]!r}; names must differ")
            continue
        files[key] = (inside, content)
    return files


# --- CSV ----------------------------------------------------------------------------------


@dataclass
class CsvTable:
    """A CSV file read: its header and its rows, each with its line number."""

    file_name: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def _decode(name: str, content: bytes, reading: Reading) -> str | None:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError:
            reading.problem(name, "is neither UTF-8 nor UTF-16 text")
            return None
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        reading.problem(
            f"{name} line {line}",
            "is not UTF-8 text (save the file as CSV UTF-8; the specification requires it)",
        )
        return None


def read_csv(name: str, content: bytes, reading: Reading) -> CsvTable | None:
    text = _decode(name, content, reading)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    try:
        for cells in reader:
            if header is None:
                header = cells
                continue
            if not any(cell.strip() for cell in cells):
                continue  # a blank line (often the last one)
            if len(rows) >= MAX_RECORDS_PER_FILE:
                reading.problem(name, f"holds more than {MAX_RECORDS_PER_FILE} records")
                return None
            rows.append((reader.line_num, cells))
    except csv.Error as error:
        reading.problem(f"{name} line {reader.line_num}", f"is not well-formed CSV ({error})")
        return None
    if header is None or not any(cell.strip() for cell in header):
        reading.problem(name, "is empty: the first line must name the columns")
        return None
    return CsvTable(name, header, rows)


def _normalise(header: str) -> str:
    return header.replace("\ufeff", "").strip().casefold()


def match_header(
    table: CsvTable, columns: tuple[Column, ...], reading: Reading
) -> dict[str, int] | None:
    """Map each known column to its position in the file; None when the header is unusable.

    Headers are matched ignoring case and surrounding spaces; the order of the columns does
    not matter. A header close to exactly one missing column is a problem that names it;
    ``metadata.*`` columns (the specification's extensions) are allowed; other headers are
    ignored with a warning.
    """
    by_key = {c.name.casefold(): c for c in columns}
    positions: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    usable = True
    for index, raw in enumerate(table.header):
        key = _normalise(raw)
        if key in seen:
            reading.problem(
                f"{table.file_name} line 1 column {raw.strip()}",
                f"the column is named twice (columns {seen[key] + 1} and {index + 1})",
            )
            usable = False
            continue
        seen[key] = index
        if key in by_key:
            positions[by_key[key].name] = index
        elif key.startswith("metadata.") or not key:
            continue
        else:
            unknown.append((index, raw.strip()))
    missing = [c for c in columns if c.name not in positions]
    suggested: set[str] = set()
    for _, raw in unknown:
        close = difflib.get_close_matches(
            raw.casefold(), [c.name.casefold() for c in missing], n=2, cutoff=0.75
        )
        location = f"{table.file_name} line 1 column {raw}"
        if len(close) == 1:
            intended = by_key[close[0]].name
            suggested.add(intended)
            reading.problem(location, f"unknown column {raw!r}: did you mean {intended!r}?")
            usable = False
        else:
            reading.warn(location, f"not a column of {table.file_name}; ignored")
    for column in missing:
        if column.required and column.name not in suggested:
            reading.problem(
                f"{table.file_name} line 1", f"the required column {column.name!r} is missing"
            )
            usable = False
    return positions if usable else None


# --- cells --------------------------------------------------------------------------------


def parse_date(text: str) -> date:
    """A calendar date: ``YYYY-MM-DD`` (or ``YYYY/MM/DD``, or a date and time at midnight).

    Raises:
        ValueError: with a message for the file's reader, for any other form; ``9/1/2026`` is
            refused as ambiguous (1 September or 9 January) rather than guessed.
    """
    value = text.strip()
    found = _YEAR_FIRST.match(value) or _ISO_DATE_PARTS.match(value)
    if found:
        year, month, day = (int(g) for g in found.groups())
        try:
            return date(year, month, day)
        except ValueError:
            raise ValueError(f"{value!r} is not a date that exists") from None
    found = _YEAR_LAST.match(value.split(" ")[0].split("T")[0])
    if found:
        first, second, year = (int(g) for g in found.groups())
        readings = []
        for day, month in ((second, first), (first, second)):
            try:
                readings.append(date(year, month, day))
            except ValueError:
                continue
        if len(readings) == 2 and readings[0] != readings[1]:
            a, b = readings
            raise ValueError(
                f"{value!r} is ambiguous ({a.day} {_MONTHS[a.month - 1]} or "
                f"{b.day} {_MONTHS[b.month - 1]} {year}?); write dates as YYYY-MM-DD"
            )
        if readings:
            raise ValueError(
                f"{value!r} is not in the form YYYY-MM-DD (write {readings[0].isoformat()})"
            )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date in the form YYYY-MM-DD") from None
    if moment.time() != time(0):
        raise ValueError(f"{value!r} is a date and time; this column takes a date (YYYY-MM-DD)")
    return moment.date()


def parse_datetime(text: str) -> datetime:
    """An instant in ISO 8601 (``2026-09-01T08:00:00.000Z``), aware, in UTC.

    A date alone is midnight UTC, and a time without a zone is read as UTC (the specification's
    times are UTC).

    Raises:
        ValueError: for any other form (with the reason).
    """
    value = text.strip()
    if _ISO_DATE.match(value):
        return datetime.combine(date.fromisoformat(value), time(0), tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        try:
            parse_date(value)
        except ValueError as error:
            if "ambiguous" in str(error):
                raise
        raise ValueError(
            f"{value!r} is not an ISO 8601 date and time (like 2026-09-01T08:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value!r} is not an instant that exists in UTC") from None


def _enum_value(column: Column, text: str) -> str:
    for value in column.values:
        if value.casefold() == text.casefold():
            return value
    if column.extensible and _EXTENSION_VALUE.match(text):
        return text
    allowed = ", ".join(column.values)
    close = difflib.get_close_matches(text, column.values, n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ValueError(f"{text!r} is not one of: {allowed}{hint}")


def read_cell(column: Column, text: str) -> Any:
    """The value of one non-empty cell. Raises: ValueError with the reason."""
    kind = column.type
    if kind is ColumnType.ENUM:
        return _enum_value(column, text)
    if kind is ColumnType.BOOLEAN:
        if text.casefold() in ("true", "false"):
            return text.casefold() == "true"
        raise ValueError(f"{text!r} is not true or false")
    if kind is ColumnType.DATE:
        return parse_date(text)
    if kind is ColumnType.DATETIME:
        return parse_datetime(text)
    if kind is ColumnType.YEAR:
        if _YEAR.match(text):
            return int(text)
        raise ValueError(f"{text!r} is not a year (YYYY, the year the school year ends)")
    if kind in (ColumnType.LIST, ColumnType.REFS):
        return tuple(item.strip() for item in text.split(",") if item.strip())
    return text


def json_ready(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


# --- the manifest -------------------------------------------------------------------------


@dataclass
class Manifest:
    oneroster_version: str = "1.2"
    #: file name (lower case) -> bulk or delta
    modes: dict[str, FileMode] = field(default_factory=dict)
    #: file name (lower case) -> the manifest's line, for files it names at all
    named: dict[str, int] = field(default_factory=dict)
    #: files (lower case) the manifest gives with a problem (a wrong mode, a missing file)
    broken: set[str] = field(default_factory=set)


_MANIFEST_COLUMNS = (Column("propertyName", required=True), Column("value", required=True))


def read_manifest(files: Mapping[str, tuple[str, bytes]], reading: Reading) -> Manifest | None:
    found = files.get(MANIFEST_FILE)
    if found is None:
        reading.problem(
            MANIFEST_FILE, "the bundle has no manifest.csv (every OneRoster bundle starts with one)"
        )
        return None
    table = read_csv(MANIFEST_FILE, found[1], reading)
    if table is None:
        return None
    positions = match_header(table, _MANIFEST_COLUMNS, reading)
    if positions is None:
        return None
    properties: dict[str, tuple[str, str, int]] = {}
    for line, cells in table.rows:
        padded = cells + [""] * (len(table.header) - len(cells))
        name = padded[positions["propertyName"]].strip()
        value = padded[positions["value"]].strip()
        if not name:
            reading.problem(f"{MANIFEST_FILE} line {line} column propertyName", "is empty")
            continue
        key = name.casefold()
        if key in properties:
            reading.problem(
                f"{MANIFEST_FILE} line {line} column propertyName",
                f"{name!r} is also on line {properties[key][2]}",
            )
            continue
        properties[key] = (name, value, line)
    manifest = Manifest()
    for prop, allowed, default in (
        ("manifest.version", MANIFEST_VERSIONS, "1.0"),
        ("oneroster.version", ONEROSTER_VERSIONS, "1.2"),
    ):
        given = properties.get(prop)
        if given is None or not given[1]:
            where = f"{MANIFEST_FILE} line {given[2]}" if given else MANIFEST_FILE
            reading.warn(where, f"{prop} is not given; read as {default}")
            value = default
        elif given[1] not in allowed:
            reading.problem(
                f"{MANIFEST_FILE} line {given[2]} column value",
                f"{prop} {given[1]!r} is not supported (zoped reads {', '.join(allowed)})",
            )
            continue
        else:
            value = given[1]
        if prop == "oneroster.version":
            manifest.oneroster_version = value
    for key, (name, value, line) in properties.items():
        if not key.startswith("file."):
            if not key.startswith(("manifest.", "oneroster.", "source.")):
                reading.warn(f"{MANIFEST_FILE} line {line}", f"unknown property {name!r}; ignored")
            continue
        file_name = key.removeprefix("file.") + ".csv"
        manifest.named[file_name] = line
        mode = value.casefold()
        if not mode:
            mode = "absent"
            if file_name in files:
                reading.warn(
                    f"{MANIFEST_FILE} line {line} column value",
                    f"{name} has no value: read as absent, so {files[file_name][0]} is ignored",
                )
        if mode not in FILE_MODES:
            reading.problem(
                f"{MANIFEST_FILE} line {line} column value",
                f"{name} is {value!r}; it must be bulk, delta or absent",
            )
            manifest.broken.add(file_name)
            continue
        if mode == "absent":
            continue
        if file_name not in files:
            reading.problem(
                f"{MANIFEST_FILE} line {line} column value",
                f"{name} is {mode} but the bundle has no {name.split('.', 1)[1]}.csv",
            )
            manifest.broken.add(file_name)
            continue
        manifest.modes[file_name] = FileMode(mode)
    return manifest
