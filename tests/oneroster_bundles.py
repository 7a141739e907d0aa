"""OneRoster 1.2 CSV bundles for tests, written the way the specification lays them out.

The headers below are copied from the tables of the 1EdTech *OneRoster 1.2 CSV Binding*
(section 3, column order as given there), not generated from zoped's own tables, so that a test
fails when zoped's reading of the specification drifts from it. :func:`school_bundle` is a small
school: a district and one school, a school year with a term, a course with two classes, a
teacher, two students (one with a password), a parent and an administrator.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# --- the specification's headers (OneRoster 1.2 CSV Binding, section 3) ---------------------

ORGS = ("sourcedId", "status", "dateLastModified", "name", "type", "identifier", "parentSourcedId")
ACADEMIC_SESSIONS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "type",
    "startDate",
    "endDate",
    "parentSourcedId",
    "schoolYear",
)
COURSES = (
    "sourcedId",
    "status",
    "dateLastModified",
    "schoolYearSourcedId",
    "title",
    "courseCode",
    "grades",
    "orgSourcedId",
    "subjects",
    "subjectCodes",
)
CLASSES = (
    "sourcedId",
    "status",
    "dateLastModified",
    "title",
    "grades",
    "courseSourcedId",
    "classCode",
    "classType",
    "location",
    "schoolSourcedId",
    "termSourcedIds",
    "subjects",
    "subjectCodes",
    "periods",
)
USERS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
    "userMasterIdentifier",
    "resourceSourcedIds",
    "preferredGivenName",
    "preferredMiddleName",
    "preferredFamilyName",
    "primaryOrgSourcedId",
    "pronouns",
)
ROLES = (
    "sourcedId",
    "status",
    "dateLastModified",
    "userSourcedId",
    "roleType",
    "role",
    "beginDate",
    "endDate",
    "orgSourcedId",
    "userProfileSourcedId",
)
ENROLLMENTS = (
    "sourcedId",
    "status",
    "dateLastModified",
    "classSourcedId",
    "schoolSourcedId",
    "userSourcedId",
    "role",
    "primary",
    "beginDate",
    "endDate",
)
#: OneRoster 1.1's users.csv (roles inside it, no roles.csv).
USERS_1_1 = (
    "sourcedId",
    "status",
    "dateLastModified",
    "enabledUser",
    "orgSourcedIds",
    "role",
    "username",
    "userIds",
    "givenName",
    "familyName",
    "middleName",
    "identifier",
    "email",
    "sms",
    "phone",
    "agentSourcedIds",
    "grades",
    "password",
)

#: Every file.* property of a 1.2 manifest, in the specification's order.
MANIFEST_FILES = (
    "academicSessions",
    "categories",
    "classes",
    "classResources",
    "courses",
    "courseResources",
    "demographics",
    "enrollments",
    "lineItemLearningObjectiveIds",
    "lineItems",
    "lineItemScoreScales",
    "orgs",
    "resources",
    "resultLearningObjectiveIds",
    "results",
    "resultScoreScales",
    "roles",
    "scoreScales",
    "userProfiles",
    "userResources",
    "users",
)


def csv_text(header: Sequence[str], rows: Sequence[Mapping[str, str]]) -> str:
    """A CSV file: the header, then one line per row (missing columns blank)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        unknown = set(row) - set(header)
        assert not unknown, f"columns not in the header: {unknown}"
        writer.writerow([row.get(name, "") for name in header])
    return out.getvalue()


def manifest_text(modes: Mapping[str, str], *, version: str = "1.2") -> str:
    """A manifest giving each file of ``modes`` (``"users": "bulk"``), the others absent."""
    rows = [
        {"propertyName": "manifest.version", "value": "1.0"},
        {"propertyName": "oneroster.version", "value": version},
    ]
    rows += [
        {"propertyName": f"file.{name}", "value": modes.get(name, "absent")}
        for name in MANIFEST_FILES
    ]
    rows += [
        {"propertyName": "source.systemName", "value": "Test SIS"},
        {"propertyName": "source.systemCode", "value": "TSIS"},
    ]
    return csv_text(("propertyName", "value"), rows)


@dataclass
class Bundle:
    """A bundle's files by name, as text; build variants with :meth:`with_file`."""

    files: dict[str, str] = field(default_factory=dict)

    def with_file(self, name: str, text: str | None) -> Bundle:
        """A copy with ``name`` replaced (or removed, for None)."""
        files = dict(self.files)
        if text is None:
            files.pop(name, None)
        else:
            files[name] = text
        return Bundle(files)

    def edit(self, name: str, old: str, new: str) -> Bundle:
        """A copy with ``old`` replaced by ``new`` in one file (which must contain it)."""
        assert old in self.files[name], f"{old!r} not in {name}"
        return self.with_file(name, self.files[name].replace(old, new))

    def zip_bytes(self, *, folder: str = "") -> bytes:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, text in self.files.items():
                archive.writestr(folder + name, text.encode("utf-8"))
        return buffer.getvalue()

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.files.items():
            (folder / name).write_text(text, encoding="utf-8")
        return folder


MODIFIED = "2026-08-20T08:00:00.000Z"


def school_bundle(*, school: str = "s1", prefix: str = "") -> Bundle:
    """A bulk bundle for one school (``prefix`` makes every sourcedId and username distinct,
    for a second school)."""
    p = prefix
    orgs = [
        {"sourcedId": f"{p}d1", "name": "Springfield District", "type": "district"},
        {
            "sourcedId": school,
            "name": "Hill Elementary",
            "type": "school",
            "identifier": "HE-01",
            "parentSourcedId": f"{p}d1",
        },
    ]
    sessions = [
        {
            "sourcedId": f"{p}y2027",
            "title": "2026-2027",
            "type": "schoolYear",
            "startDate": "2026-08-01",
            "endDate": "2027-06-30",
            "schoolYear": "2027",
        },
        {
            "sourcedId": f"{p}fall",
            "title": "Fall 2026",
            "type": "term",
            "startDate": "2026-08-01",
            "endDate": "2026-12-20",
            "parentSourcedId": f"{p}y2027",
            "schoolYear": "2027",
        },
    ]
    courses = [
        {
            "sourcedId": f"{p}math5",
            "schoolYearSourcedId": f"{p}y2027",
            "title": "Mathematics 5",
            "courseCode": "MA5",
            "grades": "05",
            "orgSourcedId": school,
            "subjects": "Mathematics",
        }
    ]
    classes = [
        {
            "sourcedId": f"{p}math5-a",
            "title": "Math 5 A",
            "grades": "05",
            "courseSourcedId": f"{p}math5",
            "classCode": "MA5-A",
            "classType": "scheduled",
            "location": "Room 12",
            "schoolSourcedId": school,
            "termSourcedIds": f"{p}fall",
            "periods": "1,2",
        },
        {
            "sourcedId": f"{p}math5-b",
            "title": "Math 5 B",
            "courseSourcedId": f"{p}math5",
            "classType": "scheduled",
            "schoolSourcedId": school,
            "termSourcedIds": f"{p}fall",
        },
    ]
    users = [
        {
            "sourcedId": f"{p}u-rivera",
            "enabledUser": "true",
            "username": f"{p}rivera",
            "userIds": "{SIS:T100}",
            "givenName": "Maria",
            "familyName": "Rivera",
            "email": f"{p}rivera@hill.example.org",
            "phone": "555-0100",
            "primaryOrgSourcedId": school,
        },
        {
            "sourcedId": f"{p}u-ana",
            "enabledUser": "true",
            "username": f"{p}ana",
            "givenName": "Ana",
            "familyName": "Lopez",
            "agentSourcedIds": f"{p}u-carla",
            "grades": "05",
            "password": "ana-likes-maths-26",
            "preferredGivenName": "Annie",
            "primaryOrgSourcedId": school,
        },
        {
            "sourcedId": f"{p}u-ben",
            "enabledUser": "true",
            "username": f"{p}ben",
            "givenName": "Ben",
            "familyName": "Okafor",
            "grades": "05",
            "primaryOrgSourcedId": school,
        },
        {
            "sourcedId": f"{p}u-carla",
            "enabledUser": "true",
            "username": f"{p}carla.lopez",
            "givenName": "Carla",
            "familyName": "Lopez",
            "email": f"{p}carla@example.net",
            "agentSourcedIds": f"{p}u-ana",
        },
        {
            "sourcedId": f"{p}u-head",
            "enabledUser": "true",
            "username": f"{p}head",
            "givenName": "Sam",
            "familyName": "Head",
            "primaryOrgSourcedId": school,
        },
    ]
    roles = [
        {"sourcedId": f"{p}r-rivera", "userSourcedId": f"{p}u-rivera", "role": "teacher"},
        {"sourcedId": f"{p}r-ana", "userSourcedId": f"{p}u-ana", "role": "student"},
        {"sourcedId": f"{p}r-ben", "userSourcedId": f"{p}u-ben", "role": "student"},
        {"sourcedId": f"{p}r-carla", "userSourcedId": f"{p}u-carla", "role": "parent"},
        {"sourcedId": f"{p}r-head", "userSourcedId": f"{p}u-head", "role": "siteAdministrator"},
    ]
    for role in roles:
        role.update({"roleType": "primary", "orgSourcedId": school})
    enrollments = [
        (f"{p}e1", f"{p}math5-a", f"{p}u-rivera", "teacher", "true"),
        (f"{p}e2", f"{p}math5-a", f"{p}u-ana", "student", ""),
        (f"{p}e3", f"{p}math5-a", f"{p}u-ben", "student", ""),
        (f"{p}e4", f"{p}math5-b", f"{p}u-rivera", "teacher", "true"),
        (f"{p}e5", f"{p}math5-b", f"{p}u-ben", "student", ""),
    ]
    files = ("orgs", "academicSessions", "courses", "classes", "users", "roles", "enrollments")
    modes = dict.fromkeys(files, "bulk")
    return Bundle(
        {
            "manifest.csv": manifest_text(modes),
            "orgs.csv": csv_text(ORGS, orgs),
            "academicSessions.csv": csv_text(ACADEMIC_SESSIONS, sessions),
            "courses.csv": csv_text(COURSES, courses),
            "classes.csv": csv_text(CLASSES, classes),
            "users.csv": csv_text(USERS, users),
            "roles.csv": csv_text(ROLES, roles),
            "enrollments.csv": csv_text(
                ENROLLMENTS,
                [
                    {
                        "sourcedId": sid,
                        "classSourcedId": cls,
                        "schoolSourcedId": school,
                        "userSourcedId": user,
                        "role": role,
                        "primary": primary,
                    }
                    for sid, cls, user, role, primary in enrollments
                ],
            ),
        }
    )


def delta_bundle(files: Mapping[str, tuple[Sequence[str], Sequence[Mapping[str, str]]]]) -> Bundle:
    """A delta bundle of the given files (name without .csv -> header and rows); every row
    gets ``status`` active and :data:`MODIFIED` unless it says otherwise."""
    out = {"manifest.csv": manifest_text(dict.fromkeys(files, "delta"))}
    for name, (header, rows) in files.items():
        filled = [{"status": "active", "dateLastModified": MODIFIED, **row} for row in rows]
        out[f"{name}.csv"] = csv_text(header, filled)
    return Bundle(out)
