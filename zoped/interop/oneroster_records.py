"""The records of a OneRoster 1.2 bundle as zoped reads them (:mod:`zoped.interop.oneroster`).

One frozen dataclass per kind of record (org, academic session, course, class, user, role,
enrollment), and :class:`RosterBundle`, the records of one bundle with the mode (bulk or delta)
of each file and the warnings of its reading. Reading and checking them is
:mod:`zoped.interop.oneroster`; storing them, :mod:`zoped.services.oneroster`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar

from zoped.errors import Problem
from zoped.interop.oneroster_tables import FileMode, RecordStatus


@dataclass(frozen=True, kw_only=True)
class RosterRecord:
    """What every OneRoster record has.

    Attributes:
        sourced_id: the record's id in the sending system (stable across exports).
        status: active, or tobedeleted.
        date_last_modified: when the sending system last changed it (None in most bulk files).
        source: where it is, ``"users.csv line 7"``, for problems found later.
        data: the values zoped keeps about it, by column name, JSON-ready (what an import
            stores and compares to tell an unchanged record from a changed one).
    """

    KIND: ClassVar[str] = ""

    sourced_id: str
    status: RecordStatus
    date_last_modified: datetime | None
    source: str
    data: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def active(self) -> bool:
        return self.status is RecordStatus.ACTIVE


@dataclass(frozen=True, kw_only=True)
class Org(RosterRecord):
    """An organisation: a school, or a district, department... above or beside it."""

    KIND: ClassVar[str] = "org"
    name: str
    type: str
    parent_sourced_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AcademicSession(RosterRecord):
    """A school year, term, semester or grading period."""

    KIND: ClassVar[str] = "academicSession"
    title: str
    type: str
    start_date: date
    end_date: date
    school_year: int
    parent_sourced_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class RosterCourse(RosterRecord):
    """A course of the roster (a catalogue entry; not a zoped course)."""

    KIND: ClassVar[str] = "course"
    title: str
    org_sourced_id: str
    course_code: str | None = None
    school_year_sourced_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class RosterClass(RosterRecord):
    """A class (a section) of a course, in a school, in one or more terms."""

    KIND: ClassVar[str] = "class"
    title: str
    class_type: str
    course_sourced_id: str
    school_sourced_id: str
    term_sourced_ids: tuple[str, ...]
    class_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class RosterUser(RosterRecord):
    """A person. Their roles come from ``roles.csv`` (or the 1.1 ``role`` column)."""

    KIND: ClassVar[str] = "user"
    username: str
    given_name: str
    family_name: str
    enabled_user: bool
    preferred_given_name: str | None = None
    preferred_family_name: str | None = None
    email: str | None = None
    #: Parents and guardians of a student; the students of a parent or guardian.
    agent_sourced_ids: tuple[str, ...] = ()
    primary_org_sourced_id: str | None = None
    #: A password for the account, when the bundle carries one (never stored as given).
    password: str | None = field(default=None, repr=False)

    @property
    def display_name(self) -> str:
        """The name zoped shows: preferred (or given) name and preferred (or family) name."""
        given = self.preferred_given_name or self.given_name
        family = self.preferred_family_name or self.family_name
        return f"{given} {family}".strip()


@dataclass(frozen=True, kw_only=True)
class RosterRole(RosterRecord):
    """A user's role in an organisation (1.2's ``roles.csv``)."""

    KIND: ClassVar[str] = "role"
    user_sourced_id: str
    role: str
    role_type: str
    org_sourced_id: str

    @property
    def primary(self) -> bool:
        return self.role_type == "primary"


@dataclass(frozen=True, kw_only=True)
class RosterEnrollment(RosterRecord):
    """A user's place in a class: a student in it, or a teacher of it (or another role)."""

    KIND: ClassVar[str] = "enrollment"
    class_sourced_id: str
    school_sourced_id: str
    user_sourced_id: str
    role: str
    primary: bool | None = None


@dataclass(frozen=True)
class RosterBundle:
    """A read bundle: the records of each file it gives as bulk or delta, and the warnings.

    Attributes:
        oneroster_version: ``"1.2"``, or ``"1.1"`` for a bundle in 1.1's layout.
        modes: for each kind of record whose file the bundle gives, bulk or delta. A kind
            not in ``modes`` is absent: an import leaves what it stored of that kind alone.
        warnings: what was ignored or assumed (unknown files and columns, empty manifest
            values...), located like problems.
    """

    oneroster_version: str
    modes: Mapping[str, FileMode]
    orgs: tuple[Org, ...] = ()
    academic_sessions: tuple[AcademicSession, ...] = ()
    courses: tuple[RosterCourse, ...] = ()
    classes: tuple[RosterClass, ...] = ()
    users: tuple[RosterUser, ...] = ()
    roles: tuple[RosterRole, ...] = ()
    enrollments: tuple[RosterEnrollment, ...] = ()
    warnings: tuple[Problem, ...] = ()

    def records(self, kind: str) -> tuple[RosterRecord, ...]:
        """The records of one kind (``"org"``, ``"user"``...), in file order."""
        return {
            "org": self.orgs,
            "academicSession": self.academic_sessions,
            "course": self.courses,
            "class": self.classes,
            "user": self.users,
            "role": self.roles,
            "enrollment": self.enrollments,
        }[kind]

    def school_orgs(self) -> list[Org]:
        """The active orgs of type school."""
        return [o for o in self.orgs if o.active and o.type == "school"]
