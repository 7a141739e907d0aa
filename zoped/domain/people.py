"""People and their relations: schools, classes, users, guardians, and learner profiles.

Only what the features need is kept (least data): a display name, an optional email or
username to sign in, and the profile a learner fills in to get better recommendations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from zoped.domain.content import Modality
from zoped.domain.evidence import aware_problems
from zoped.errors import InvalidInput, Problem


class Role(StrEnum):
    """What a user is to the platform; permissions follow from it and from relations."""

    LEARNER = "learner"
    GUARDIAN = "guardian"
    TEACHER = "teacher"
    ADMIN = "admin"


#: The time zone of a school that names none (and of every school made before zones existed).
DEFAULT_TIME_ZONE = "UTC"


def time_zone_problems(name: str, location: str = "time_zone") -> list[Problem]:
    """Why ``name`` is not an IANA time zone name such as ``America/New_York`` (empty if it is)."""
    text = name.strip()
    problem = Problem(location, "use a time zone name such as Europe/London or America/New_York")
    # Only names: ZoneInfo would also read a path, and "localtime" is the server's own zone.
    if (
        not text
        or len(text) > 64
        or text.startswith(("/", "."))
        or ".." in text
        or text in ("localtime", "posixrules")
    ):
        return [problem]
    try:
        ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        return [problem]
    return []


@dataclass(frozen=True)
class School:
    """A school (or a family, or a club): the scope of users, classes and courses.

    Attributes:
        time_zone: the IANA name of the school's time zone: due dates end at midnight there,
            and its pages show times there.
    """

    id: str
    name: str
    time_zone: str = DEFAULT_TIME_ZONE

    @property
    def zone(self) -> ZoneInfo:
        """The school's time zone (UTC if this machine lacks the zone's data)."""
        try:
            return ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return ZoneInfo(DEFAULT_TIME_ZONE)


@dataclass(frozen=True)
class SchoolClass:
    """A class in a school, taught by one or more teachers."""

    id: str
    school_id: str
    name: str
    teacher_ids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "teacher_ids", tuple(self.teacher_ids))


@dataclass(frozen=True)
class Enrollment:
    """A learner's membership of a class."""

    class_id: str
    learner_id: str


@dataclass(frozen=True)
class GuardianLink:
    """A guardian's right to see one learner's roadmap, goals and progress (nothing else)."""

    guardian_id: str
    learner_id: str


@dataclass(frozen=True)
class User:
    """Someone who signs in. Sign-in secrets live in the store, never in the domain.

    Raises:
        InvalidInput: for an empty id or display name, or neither email nor username.
    """

    id: str
    school_id: str
    role: Role
    display_name: str
    email: str | None = None
    username: str | None = None
    #: False once an admin (or a roster import) deactivates the user: they cannot sign in or
    #: use a token, and their data is kept.
    active: bool = True
    #: True after an admin set the password: the next sign-in must choose a new one first.
    must_change_password: bool = False

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in ("id", "school_id", "display_name"):
            if not str(getattr(self, name)).strip():
                problems.append(Problem(name, "must not be empty"))
        if not (self.email or self.username):
            problems.append(Problem("email", "a user needs an email or a username"))
        if self.email is not None and "@" not in self.email:
            problems.append(Problem("email", f"{self.email!r} is not an email address"))
        if problems:
            raise InvalidInput("invalid user", problems)


@dataclass(frozen=True)
class AccessibilityNeeds:
    """Adjustments the pages and the timing make for a learner."""

    extra_time: bool = False
    larger_text: bool = False
    screen_reader: bool = False
    reduced_motion: bool = False


class ClaimStatus(StrEnum):
    """Where a prior-learning claim stands."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


@dataclass(frozen=True)
class PriorLearningClaim:
    """A learner's claim to know competencies already, with evidence for a teacher to judge.

    An accepted claim becomes ``prior_learning`` evidence in the event log.
    """

    id: str
    learner_id: str
    competency_ids: tuple[str, ...]
    evidence: str
    submitted_at: datetime
    status: ClaimStatus = ClaimStatus.PENDING
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "competency_ids", tuple(self.competency_ids))
        problems = aware_problems(self.submitted_at, "submitted_at")
        if self.decided_at is not None:
            problems += aware_problems(self.decided_at, "decided_at")
        if not self.competency_ids:
            problems.append(Problem("competency_ids", "claim at least one competency"))
        if not self.evidence.strip():
            problems.append(Problem("evidence", "describe the evidence for the claim"))
        if self.status is not ClaimStatus.PENDING and not self.decided_by:
            problems.append(Problem("decided_by", "a decided claim records who decided"))
        if problems:
            raise InvalidInput("invalid prior-learning claim", problems)


@dataclass(frozen=True)
class LearnerProfile:
    """What a learner tells zoped about themselves, to shape their menu and pages.

    Attributes:
        learner_id: the learner's user id.
        display_name: how the learner is addressed.
        interests: interest tags, matched against activities' tags.
        preferred_modalities: modalities the learner likes, most liked first.
        goals: the learner's own words about what they want to learn.
        strengths: what they are good at, in their (or a teacher's) words.
        needs: what helps them, in their (or a teacher's) words.
        accessibility: adjustments to the pages and timing.
        languages: BCP 47 tags, preferred first.
        prior_learning: claims of what they know already.
    """

    learner_id: str
    display_name: str
    interests: tuple[str, ...] = ()
    preferred_modalities: tuple[Modality, ...] = ()
    goals: tuple[str, ...] = ()
    strengths: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    accessibility: AccessibilityNeeds = field(default_factory=AccessibilityNeeds)
    languages: tuple[str, ...] = ("en",)
    prior_learning: tuple[PriorLearningClaim, ...] = ()

    def __post_init__(self) -> None:
        for name in (
            "interests",
            "preferred_modalities",
            "goals",
            "strengths",
            "needs",
            "languages",
            "prior_learning",
        ):
            object.__setattr__(self, name, tuple(getattr(self, name)))
