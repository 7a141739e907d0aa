"""The tables of the OneRoster 1.2 CSV binding that zoped reads: files, columns, enumerations.

Written from the 1EdTech *OneRoster 1.2 CSV Binding* (section 3, one table per file: the column
order, which columns are required, their data types and enumerations) and checked against its
examples. Where 1.1 differs, the difference is noted: 1.2 moved a user's role and organisations
out of ``users.csv`` into ``roles.csv`` (with ``userProfiles.csv`` beside it) and added
``userMasterIdentifier``, ``preferred*Name``, ``primaryOrgSourcedId`` and ``pronouns`` to
``users.csv``. zoped also reads the 1.1 ``role`` and ``orgSourcedIds`` columns of ``users.csv``
(a documented tolerance, see ``docs/oneroster.md``).

Data only: :mod:`zoped.interop.oneroster` reads bundles with these tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ColumnType(StrEnum):
    """How a cell is read."""

    TEXT = "text"
    #: One value of :attr:`Column.values` (or an ``ext:`` extension value where allowed).
    ENUM = "enum"
    #: ``true`` or ``false``.
    BOOLEAN = "boolean"
    #: A calendar date, ``YYYY-MM-DD``.
    DATE = "date"
    #: An instant, ``YYYY-MM-DDTHH:MM:SS.sssZ``.
    DATETIME = "datetime"
    #: A four-digit year, ``YYYY``.
    YEAR = "year"
    #: A comma-separated list of texts (quoted in the file when it holds a comma).
    LIST = "list"
    #: The sourcedId of a record of :attr:`Column.refers_to`.
    REF = "ref"
    #: A comma-separated list of sourcedIds of records of :attr:`Column.refers_to`.
    REFS = "refs"


@dataclass(frozen=True)
class Column:
    """One column of a OneRoster CSV file.

    Attributes:
        name: the header, as the specification spells it.
        required: whether every record must give a value.
        type: how the cell is read.
        values: the permitted values of an enumeration.
        extensible: whether ``ext:...`` values are allowed (the spec's extensible enumerations).
        refers_to: the kind of record a REF or REFS column names.
        kept: whether zoped keeps the value in its record of the import (least data: contact
            details and identifiers zoped does not use are read, checked and dropped).
    """

    name: str
    required: bool = False
    type: ColumnType = ColumnType.TEXT
    values: tuple[str, ...] = ()
    extensible: bool = False
    refers_to: str | None = None
    kept: bool = True


@dataclass(frozen=True)
class FileTable:
    """One data file: its name, the kind of record each row is, and its columns in order."""

    file_name: str
    kind: str
    columns: tuple[Column, ...]

    @property
    def manifest_property(self) -> str:
        """The manifest property that says whether the file is bulk, delta or absent."""
        return "file." + self.file_name.removesuffix(".csv")

    def column(self, name: str) -> Column:
        """The column named ``name`` (as the specification spells it)."""
        return next(c for c in self.columns if c.name == name)


class FileMode(StrEnum):
    """How the manifest gives a file: everything (``bulk``) or only changes (``delta``)."""

    BULK = "bulk"
    DELTA = "delta"


class RecordStatus(StrEnum):
    """A record's status: blank (active) in a bulk file, given in a delta file."""

    ACTIVE = "active"
    TO_BE_DELETED = "tobedeleted"


# --- enumerations -------------------------------------------------------------------------

#: Status of a record (section 4 of the binding): blank in a bulk file, given in a delta file.
STATUS_VALUES = ("active", "tobedeleted")
#: OrgType.
ORG_TYPES = ("department", "school", "district", "local", "state", "national")
#: SessionType.
SESSION_TYPES = ("gradingPeriod", "semester", "schoolYear", "term")
#: ClassType.
CLASS_TYPES = ("homeroom", "scheduled")
#: RoleType of roles.csv (1.2).
ROLE_TYPES = ("primary", "secondary")
#: RoleEnum of roles.csv (1.2), plus 1.1's ``administrator`` (users.csv ``role`` in 1.1).
USER_ROLES = (
    "administrator",
    "aide",
    "counselor",
    "districtAdministrator",
    "guardian",
    "parent",
    "principal",
    "proctor",
    "relative",
    "siteAdministrator",
    "student",
    "systemAdministrator",
    "teacher",
)
#: RoleEnum of enrollments.csv: 1.2's four values and 1.1's others.
ENROLLMENT_ROLES = (
    "administrator",
    "aide",
    "guardian",
    "parent",
    "proctor",
    "relative",
    "student",
    "teacher",
)

# --- the files ----------------------------------------------------------------------------

_SOURCED_ID = Column("sourcedId", required=True)
_STATUS = Column("status", type=ColumnType.ENUM, values=STATUS_VALUES)
_MODIFIED = Column("dateLastModified", type=ColumnType.DATETIME)
_HEAD = (_SOURCED_ID, _STATUS, _MODIFIED)

ORGS = FileTable(
    "orgs.csv",
    "org",
    (
        *_HEAD,
        Column("name", required=True),
        Column("type", required=True, type=ColumnType.ENUM, values=ORG_TYPES, extensible=True),
        Column("identifier"),
        Column("parentSourcedId", type=ColumnType.REF, refers_to="org"),
    ),
)

ACADEMIC_SESSIONS = FileTable(
    "academicSessions.csv",
    "academicSession",
    (
        *_HEAD,
        Column("title", required=True),
        Column("type", required=True, type=ColumnType.ENUM, values=SESSION_TYPES, extensible=True),
        Column("startDate", required=True, type=ColumnType.DATE),
        Column("endDate", required=True, type=ColumnType.DATE),
        Column("parentSourcedId", type=ColumnType.REF, refers_to="academicSession"),
        Column("schoolYear", required=True, type=ColumnType.YEAR),
    ),
)

COURSES = FileTable(
    "courses.csv",
    "course",
    (
        *_HEAD,
        Column("schoolYearSourcedId", type=ColumnType.REF, refers_to="academicSession"),
        Column("title", required=True),
        Column("courseCode"),
        Column("grades", type=ColumnType.LIST),
        Column("orgSourcedId", required=True, type=ColumnType.REF, refers_to="org"),
        Column("subjects", type=ColumnType.LIST),
        Column("subjectCodes", type=ColumnType.LIST),
    ),
)

CLASSES = FileTable(
    "classes.csv",
    "class",
    (
        *_HEAD,
        Column("title", required=True),
        Column("grades", type=ColumnType.LIST),
        Column("courseSourcedId", required=True, type=ColumnType.REF, refers_to="course"),
        Column("classCode"),
        Column(
            "classType", required=True, type=ColumnType.ENUM, values=CLASS_TYPES, extensible=True
        ),
        Column("location"),
        Column("schoolSourcedId", required=True, type=ColumnType.REF, refers_to="org"),
        Column("termSourcedIds", required=True, type=ColumnType.REFS, refers_to="academicSession"),
        Column("subjects", type=ColumnType.LIST),
        Column("subjectCodes", type=ColumnType.LIST),
        Column("periods", type=ColumnType.LIST),
    ),
)

USERS = FileTable(
    "users.csv",
    "user",
    (
        *_HEAD,
        Column("enabledUser", required=True, type=ColumnType.BOOLEAN),
        Column("username", required=True),
        Column("userIds", type=ColumnType.LIST, kept=False),
        Column("givenName", required=True),
        Column("familyName", required=True),
        Column("middleName"),
        Column("identifier", kept=False),
        Column("email"),
        Column("sms", kept=False),
        Column("phone", kept=False),
        Column("agentSourcedIds", type=ColumnType.REFS, refers_to="user"),
        Column("grades", type=ColumnType.LIST),
        # Never kept in the record of the import: it becomes an Argon2 hash on the account.
        Column("password", kept=False),
        Column("userMasterIdentifier", kept=False),
        Column("resourceSourcedIds", type=ColumnType.LIST, kept=False),
        Column("preferredGivenName"),
        Column("preferredMiddleName"),
        Column("preferredFamilyName"),
        Column("primaryOrgSourcedId", type=ColumnType.REF, refers_to="org"),
        Column("pronouns", kept=False),
        # OneRoster 1.1's columns, read when the bundle has no roles.csv.
        Column("orgSourcedIds", type=ColumnType.REFS, refers_to="org"),
        Column("role", type=ColumnType.ENUM, values=USER_ROLES, extensible=True),
    ),
)

ROLES = FileTable(
    "roles.csv",
    "role",
    (
        *_HEAD,
        Column("userSourcedId", required=True, type=ColumnType.REF, refers_to="user"),
        Column("roleType", required=True, type=ColumnType.ENUM, values=ROLE_TYPES),
        Column("role", required=True, type=ColumnType.ENUM, values=USER_ROLES, extensible=True),
        Column("beginDate", type=ColumnType.DATE),
        Column("endDate", type=ColumnType.DATE),
        Column("orgSourcedId", required=True, type=ColumnType.REF, refers_to="org"),
        Column("userProfileSourcedId", kept=False),
    ),
)

ENROLLMENTS = FileTable(
    "enrollments.csv",
    "enrollment",
    (
        *_HEAD,
        Column("classSourcedId", required=True, type=ColumnType.REF, refers_to="class"),
        Column("schoolSourcedId", required=True, type=ColumnType.REF, refers_to="org"),
        Column("userSourcedId", required=True, type=ColumnType.REF, refers_to="user"),
        Column(
            "role", required=True, type=ColumnType.ENUM, values=ENROLLMENT_ROLES, extensible=True
        ),
        Column("primary", type=ColumnType.BOOLEAN),
        Column("beginDate", type=ColumnType.DATE),
        Column("endDate", type=ColumnType.DATE),
    ),
)

#: The files zoped imports, in the order they are applied (what a file refers to comes first).
TABLES: tuple[FileTable, ...] = (
    ORGS,
    ACADEMIC_SESSIONS,
    COURSES,
    USERS,
    ROLES,
    CLASSES,
    ENROLLMENTS,
)
TABLE_OF_KIND: dict[str, FileTable] = {t.kind: t for t in TABLES}

#: The other files of the 1.2 binding: read by nobody here, reported as ignored.
OTHER_FILES = (
    "categories.csv",
    "classResources.csv",
    "courseResources.csv",
    "demographics.csv",
    "lineItemLearningObjectiveIds.csv",
    "lineItems.csv",
    "lineItemScoreScales.csv",
    "resources.csv",
    "resultLearningObjectiveIds.csv",
    "results.csv",
    "resultScoreScales.csv",
    "scoreScales.csv",
    "userProfiles.csv",
    "userResources.csv",
)

MANIFEST_FILE = "manifest.csv"
MANIFEST_COLUMNS = ("propertyName", "value")
#: The manifest's own properties and the values this reader understands.
MANIFEST_VERSIONS = ("1.0",)
ONEROSTER_VERSIONS = ("1.1", "1.2")
FILE_MODES = ("bulk", "delta", "absent")
