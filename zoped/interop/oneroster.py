"""OneRoster 1.2 CSV bundles: read a folder or a zip, check all of it, and return its records.

A bundle is ``manifest.csv`` and the data files it lists as ``bulk`` or ``delta``. zoped reads
``orgs``, ``academicSessions``, ``courses``, ``classes``, ``users``, ``roles`` and
``enrollments`` (the tables are in :mod:`zoped.interop.oneroster_tables`); other files are
ignored and reported. Reading goes in two steps:

1. :func:`parse_bundle` reads the archive and every file, cell by cell, and collects every
   problem (located as ``users.csv line 7 column givenName``) and every warning;
2. :func:`reference_problems` checks what the records name: a class's course and school, an
   enrollment's class and user, a user's guardians (agents)... against the bundle and, for files
   given as ``delta``, against the sourcedIds an earlier import stored (``known``).

:func:`read_bundle` does both and raises one :class:`~zoped.errors.InvalidInput` listing every
problem, or returns the :class:`RosterBundle` (the records are in
:mod:`zoped.interop.oneroster_records`). Nothing here touches a database: the service
(:mod:`zoped.services.oneroster`) maps the records to zoped's schools, users and classes.

The tolerances for the messy exports of real systems are listed in ``docs/oneroster.md``.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zoped.errors import InvalidInput, Problem
from zoped.interop.oneroster_files import (
    CsvTable,
    Manifest,
    Reading,
    bundle_files,
    json_ready,
    match_header,
    read_cell,
    read_csv,
    read_manifest,
)
from zoped.interop.oneroster_records import (
    AcademicSession,
    Org,
    RosterBundle,
    RosterClass,
    RosterCourse,
    RosterEnrollment,
    RosterRecord,
    RosterRole,
    RosterUser,
)
from zoped.interop.oneroster_tables import (
    MANIFEST_FILE,
    OTHER_FILES,
    TABLE_OF_KIND,
    TABLES,
    FileMode,
    FileTable,
    RecordStatus,
)

__all__ = [
    "MAX_PROBLEMS",
    "AcademicSession",
    "BundleReading",
    "FileMode",
    "Org",
    "RecordStatus",
    "RosterBundle",
    "RosterClass",
    "RosterCourse",
    "RosterEnrollment",
    "RosterRecord",
    "RosterRole",
    "RosterUser",
    "parse_bundle",
    "read_bundle",
    "reference_problems",
    "refused",
]

_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: At most this many problems are listed; the last one says how many more there were.
MAX_PROBLEMS = 1000


# --- records from rows --------------------------------------------------------------------


def _record_values(
    table: CsvTable,
    spec: FileTable,
    positions: dict[str, int],
    mode: FileMode,
    reading: Reading,
    listed: set[str],
) -> list[tuple[int, dict[str, Any]]]:
    """Each row's values by column name, read and checked cell by cell; the sourcedId of
    every row, read cleanly or not, is added to ``listed``."""
    out: list[tuple[int, dict[str, Any]]] = []
    first_line: dict[str, int] = {}
    width = len(table.header)
    # A delta file gives every record's status and the time it changed (the binding, 2.1).
    needed = {"status", "dateLastModified"} if mode is FileMode.DELTA else set()
    for line, cells in table.rows:
        where = f"{spec.file_name} line {line}"
        if len(cells) > width:
            reading.problem(where, f"has {len(cells)} values but the header names {width} columns")
            if "sourcedId" in positions and cells[positions["sourcedId"]].strip():
                listed.add(cells[positions["sourcedId"]].strip())
            continue
        padded = cells + [""] * (width - len(cells))
        values: dict[str, Any] = {}
        ok = True
        for column in spec.columns:
            text = padded[positions[column.name]].strip() if column.name in positions else ""
            if not text:
                if column.required:
                    reading.problem(f"{where} column {column.name}", "is required but empty")
                    ok = False
                elif column.name in needed and column.name in positions:
                    reading.problem(
                        f"{where} column {column.name}", "is required in a delta file but empty"
                    )
                    ok = False
                continue
            try:
                values[column.name] = read_cell(column, text)
            except ValueError as error:
                reading.problem(f"{where} column {column.name}", str(error))
                ok = False
        sourced_id = values.get("sourcedId")
        if isinstance(sourced_id, str):
            if len(sourced_id) > 255:
                reading.problem(f"{where} column sourcedId", "is longer than 255 characters")
                ok = False
            elif sourced_id in first_line:
                reading.problem(
                    f"{where} column sourcedId",
                    f"{sourced_id!r} is also on line {first_line[sourced_id]}",
                )
                ok = False
            else:
                first_line[sourced_id] = line
                listed.add(sourced_id)
        if ok:
            out.append((line, values))
    return out


def _common(spec: FileTable, line: int, values: dict[str, Any]) -> dict[str, Any]:
    status = values.get("status", "active")
    data = {
        c.name: json_ready(values[c.name])
        for c in spec.columns
        if c.kept and c.name in values and c.name not in ("sourcedId", "status", "dateLastModified")
    }
    return {
        "sourced_id": values["sourcedId"],
        "status": RecordStatus(status),
        "date_last_modified": values.get("dateLastModified"),
        "source": f"{spec.file_name} line {line}",
        "data": data,
    }


def _long(reading: Reading, where: str, text: str | None, limit: int) -> bool:
    if text is not None and len(text) > limit:
        reading.problem(where, f"is longer than {limit} characters")
        return True
    return False


def _build(
    spec: FileTable, line: int, values: dict[str, Any], reading: Reading
) -> RosterRecord | None:
    """One typed record from a row's values (None when a rule beyond the cells fails)."""
    common = _common(spec, line, values)
    where = f"{spec.file_name} line {line} column"
    get = values.get
    if spec.kind == "org":
        if _long(reading, f"{where} name", values["name"], 300):
            return None
        return Org(
            **common,
            name=values["name"],
            type=values["type"],
            parent_sourced_id=get("parentSourcedId"),
        )
    if spec.kind == "academicSession":
        if values["endDate"] < values["startDate"]:
            reading.problem(f"{where} endDate", "is before startDate")
            return None
        return AcademicSession(
            **common,
            title=values["title"],
            type=values["type"],
            start_date=values["startDate"],
            end_date=values["endDate"],
            school_year=values["schoolYear"],
            parent_sourced_id=get("parentSourcedId"),
        )
    if spec.kind == "course":
        return RosterCourse(
            **common,
            title=values["title"],
            org_sourced_id=values["orgSourcedId"],
            course_code=get("courseCode"),
            school_year_sourced_id=get("schoolYearSourcedId"),
        )
    if spec.kind == "class":
        if _long(reading, f"{where} title", values["title"], 300):
            return None
        if not values["termSourcedIds"]:
            reading.problem(f"{where} termSourcedIds", "is required but empty")
            return None
        return RosterClass(
            **common,
            title=values["title"],
            class_type=values["classType"],
            course_sourced_id=values["courseSourcedId"],
            school_sourced_id=values["schoolSourcedId"],
            term_sourced_ids=values["termSourcedIds"],
            class_code=get("classCode"),
        )
    if spec.kind == "user":
        return _build_user(common, values, where, reading)
    if spec.kind == "role":
        return RosterRole(
            **common,
            user_sourced_id=values["userSourcedId"],
            role=values["role"],
            role_type=values["roleType"],
            org_sourced_id=values["orgSourcedId"],
        )
    return RosterEnrollment(
        **common,
        class_sourced_id=values["classSourcedId"],
        school_sourced_id=values["schoolSourcedId"],
        user_sourced_id=values["userSourcedId"],
        role=values["role"],
        primary=get("primary"),
    )


def _build_user(
    common: dict[str, Any], values: dict[str, Any], where: str, reading: Reading
) -> RosterUser | None:
    get = values.get
    ok = True
    username = values["username"]
    if not _USERNAME.match(username):
        reading.problem(
            f"{where} username",
            f"{username!r} is not a username zoped accepts (up to 64 letters, digits and . _ @ -, "
            "starting with a letter or digit)",
        )
        ok = False
    email = get("email")
    if email is not None and ("@" not in email or " " in email):
        reading.problem(f"{where} email", f"{email!r} is not an email address")
        ok = False
    ok = not _long(reading, f"{where} email", email, 320) and ok
    password = get("password")
    ok = not _long(reading, f"{where} password", password, 200) and ok
    agents = get("agentSourcedIds", ())
    if common["sourced_id"] in agents:
        reading.problem(f"{where} agentSourcedIds", "names the user themselves")
        ok = False
    user = RosterUser(
        **common,
        username=username,
        given_name=values["givenName"],
        family_name=values["familyName"],
        enabled_user=values["enabledUser"],
        preferred_given_name=get("preferredGivenName"),
        preferred_family_name=get("preferredFamilyName"),
        email=email,
        agent_sourced_ids=agents,
        primary_org_sourced_id=get("primaryOrgSourcedId"),
        password=password,
    )
    ok = not _long(reading, f"{where} givenName", user.display_name, 300) and ok
    return user if ok else None


def _roles_from_users(users: list[tuple[RosterUser, dict[str, Any]]]) -> list[RosterRole]:
    """OneRoster 1.1's ``role`` and ``orgSourcedIds`` columns of users.csv, as role records
    (sourcedId ``<user>#role``). A user with no role there gets none from the bundle."""
    roles = []
    for user, values in users:
        role = values.get("role")
        if role is None:
            continue
        orgs = values.get("orgSourcedIds") or (
            (user.primary_org_sourced_id,) if user.primary_org_sourced_id else ("",)
        )
        data = {"userSourcedId": user.sourced_id, "role": role, "roleType": "primary"}
        if orgs[0]:
            data["orgSourcedId"] = orgs[0]
        roles.append(
            RosterRole(
                sourced_id=f"{user.sourced_id}#role",
                status=user.status,
                date_last_modified=user.date_last_modified,
                source=f"{user.source} column role",
                data=data,
                user_sourced_id=user.sourced_id,
                role=role,
                role_type="primary",
                org_sourced_id=orgs[0],
            )
        )
    return roles


def _unique_users(users: Iterable[RosterUser], reading: Reading) -> None:
    """Two active users of a bundle may not share a username or an email."""
    for attribute, column in (("username", "username"), ("email", "email")):
        seen: dict[str, RosterUser] = {}
        for user in users:
            value = getattr(user, attribute)
            if not user.active or value is None:
                continue
            key = value.casefold() if attribute == "email" else value
            if key in seen:
                reading.problem(
                    f"{user.source} column {column}",
                    f"{value!r} is also the {column} of {seen[key].source}",
                )
            else:
                seen[key] = user


def _line_of(problem: Problem) -> int:
    found = re.search(r" line (\d+)", problem.location)
    return int(found.group(1)) if found else 0


@dataclass(frozen=True)
class BundleReading:
    """What :func:`parse_bundle` found.

    Attributes:
        bundle: the records that read cleanly (to be used only when there are no problems).
        problems: every problem, in file order.
        listed: the sourcedIds each file lists, by kind, including those of rows with
            problems (so that a reference to such a row is not reported as a second problem).
        unreadable: kinds whose file could not be read at all (its manifest line, header or
            text has a problem): references to them are not checked.
    """

    bundle: RosterBundle
    problems: list[Problem]
    listed: Mapping[str, frozenset[str]]
    unreadable: frozenset[str] = frozenset()


def parse_bundle(source: Path | bytes) -> BundleReading:
    """Read a bundle (a folder, a zip file, or a zip's bytes) and check every cell.

    References between records are checked by :func:`reference_problems`.
    """
    reading = Reading()
    files = bundle_files(source, reading)
    empty = RosterBundle("1.2", {}, warnings=())
    if reading.problems:
        return BundleReading(empty, reading.problems, {})
    manifest = read_manifest(files, reading)
    if manifest is None:
        return BundleReading(empty, reading.problems, {})
    _report_other_files(files, manifest, reading)
    records: dict[str, list[RosterRecord]] = {}
    modes: dict[str, FileMode] = {}
    listed: dict[str, frozenset[str]] = {}
    user_values: list[tuple[RosterUser, dict[str, Any]]] = []
    legacy_roles = False
    for spec in TABLES:
        mode = manifest.modes.get(spec.file_name.lower())
        if mode is None:
            continue
        modes[spec.kind] = mode
        table = read_csv(spec.file_name, files[spec.file_name.lower()][1], reading)
        if table is None:
            continue
        positions = match_header(table, spec.columns, reading)
        if positions is None:
            continue
        if spec.kind == "user":
            legacy_roles = "role" in positions
        if mode is FileMode.DELTA:
            for name in ("status", "dateLastModified"):
                if name not in positions:
                    reading.problem(
                        f"{spec.file_name} line 1",
                        f"the column {name!r} is missing (a delta file gives it for every record)",
                    )
        if not table.rows:
            reading.problem(
                spec.file_name,
                "has no records (a file with nothing to say is marked absent in the manifest)",
            )
            continue
        built: list[RosterRecord] = []
        ids: set[str] = set()
        first_problem = len(reading.problems)
        for line, values in _record_values(table, spec, positions, mode, reading, ids):
            record = _build(spec, line, values, reading)
            if record is None:
                continue
            built.append(record)
            if isinstance(record, RosterUser):
                user_values.append((record, values))
        records[spec.kind] = built
        listed[spec.kind] = frozenset(ids)
        reading.problems[first_problem:] = sorted(reading.problems[first_problem:], key=_line_of)
    if legacy_roles and "role" not in modes:
        roles = _roles_from_users(user_values)
        records["role"] = list(roles)
        listed["role"] = frozenset(r.sourced_id for r in roles)
        modes["role"] = modes["user"]
    elif legacy_roles:
        reading.warn(
            "users.csv", "the role column (OneRoster 1.1) is ignored: roles.csv gives the roles"
        )
    _unique_users((u for u, _ in user_values), reading)

    def typed(kind: str, cls: type[Any]) -> tuple[Any, ...]:
        return tuple(r for r in records.get(kind, ()) if isinstance(r, cls))

    bundle = RosterBundle(
        oneroster_version=manifest.oneroster_version,
        modes=modes,
        orgs=typed("org", Org),
        academic_sessions=typed("academicSession", AcademicSession),
        courses=typed("course", RosterCourse),
        classes=typed("class", RosterClass),
        users=typed("user", RosterUser),
        roles=typed("role", RosterRole),
        enrollments=typed("enrollment", RosterEnrollment),
        warnings=tuple(reading.warnings),
    )
    broken = {s.kind for s in TABLES if s.file_name.lower() in manifest.broken}
    unreadable = frozenset(broken | {kind for kind in modes if kind not in listed})
    return BundleReading(bundle, reading.problems, listed, unreadable)


def _report_other_files(
    files: Mapping[str, tuple[str, bytes]], manifest: Manifest, reading: Reading
) -> None:
    """Warn about every file of the bundle that is not read."""
    ours = {spec.file_name.lower() for spec in TABLES}
    others = {name.lower() for name in OTHER_FILES}
    for key, (name, _) in sorted(files.items()):
        if key == MANIFEST_FILE or (key in ours and key in manifest.modes):
            continue
        if key in ours:
            reason = "the manifest does not give it as bulk or delta; ignored"
        elif key in others:
            reason = "zoped does not import this OneRoster file; ignored"
        elif key in manifest.named:
            reason = "not a OneRoster 1.2 file; ignored"
        else:
            reason = "not a file of the manifest; ignored"
        reading.warn(name, reason)


# --- references ---------------------------------------------------------------------------

_LABELS = {
    "org": "org",
    "academicSession": "academic session",
    "course": "course",
    "class": "class",
    "user": "user",
    "role": "role",
    "enrollment": "enrollment",
}


def reference_problems(
    bundle: RosterBundle,
    *,
    known: Mapping[str, Collection[str]] | None = None,
    listed: Mapping[str, Collection[str]] | None = None,
    unreadable: Collection[str] = (),
) -> list[Problem]:
    """Every reference of an active record to a record that is neither in the bundle nor
    (for a kind the bundle does not give in bulk) among ``known``.

    Args:
        bundle: the bundle.
        known: sourcedIds stored by earlier imports, by kind.
        listed: sourcedIds the files list, by kind, including rows with problems of their own
            (:attr:`BundleReading.listed`); the bundle's records when not given.
        unreadable: kinds whose file could not be read (:attr:`BundleReading.unreadable`):
            references to them are not checked, their file's problems being reported.
    """
    known = known or {}
    ids = {kind: {r.sourced_id for r in bundle.records(kind)} for kind in TABLE_OF_KIND}
    for kind, more in (listed or {}).items():
        ids[kind] |= set(more)
    problems: list[Problem] = []
    for spec in TABLES:
        if spec.kind not in bundle.modes:
            continue
        refs = [c for c in spec.columns if c.refers_to is not None]
        for record in bundle.records(spec.kind):
            if not record.active:
                continue
            for column in refs:
                target = column.refers_to
                assert target is not None
                raw = record.data.get(column.name)
                values = raw if isinstance(raw, list) else [raw] if raw else []
                bulk = bundle.modes.get(target) is FileMode.BULK
                if target in unreadable:
                    continue  # that file could not be read: its problems are reported
                for value in values:
                    if value in ids[target] or (not bulk and value in known.get(target, ())):
                        continue
                    file_name = TABLE_OF_KIND[target].file_name
                    where = f"in {file_name}" if bulk else f"in {file_name} or an earlier import"
                    problems.append(
                        Problem(
                            f"{record.source} column {column.name}",
                            f"no {_LABELS[target]} {value!r} {where}",
                        )
                    )
    return problems


def refused(problems: list[Problem]) -> InvalidInput:
    """The error that refuses a bundle, listing at most :data:`MAX_PROBLEMS` problems."""
    shown = list(problems[:MAX_PROBLEMS])
    if len(problems) > MAX_PROBLEMS:
        shown.append(Problem("bundle", f"and {len(problems) - MAX_PROBLEMS} more problems"))
    return InvalidInput("invalid OneRoster bundle; nothing was imported", shown)


def read_bundle(
    source: Path | bytes, *, known: Mapping[str, Collection[str]] | None = None
) -> RosterBundle:
    """Read and check a whole bundle.

    Args:
        source: a folder, a zip file, or the bytes of a zip.
        known: sourcedIds of records stored by earlier imports, by kind, which records of a
            delta bundle may name.

    Raises:
        InvalidInput: listing every problem, each located as ``users.csv line 7 column
            givenName``.
    """
    found = parse_bundle(source)
    problems = found.problems + reference_problems(
        found.bundle, known=known, listed=found.listed, unreadable=found.unreadable
    )
    if problems:
        raise refused(problems)
    return found.bundle
