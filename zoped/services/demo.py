"""The demo school: seeding it, and the overview its home page shows.

The demo school has two teachers, three classes of twenty learners whose simulated histories
vary the way real classes do (see :mod:`zoped.services.demo_history`), guardians for some
learners, an admin, and two courses: fractions and ratios, which every class follows and the
histories are on, and early algebra, which Grade 7 follows too (its learners switch courses).
Seeding is deterministic for a given seed and reference time.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources

from argon2 import PasswordHasher
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from zoped.domain.content import Modality
from zoped.domain.course import Course
from zoped.domain.people import (
    AccessibilityNeeds,
    Enrollment,
    GuardianLink,
    LearnerProfile,
    Role,
    School,
    SchoolClass,
    User,
)
from zoped.interop.course_file import load_course_file
from zoped.services import transaction
from zoped.services.class_courses import set_class_courses
from zoped.services.courses import import_course
from zoped.services.demo_history import Archetype, archetypes_for, simulate_history
from zoped.services.models import fit_platform_models
from zoped.services.roster import (
    create_class,
    create_school,
    create_user,
    enroll_learner,
    link_guardian,
    save_learner_profile,
)
from zoped.store import tables
from zoped.store.evidence_log import EvidenceRepository

DEMO_SCHOOL_ID = "demo-school"
DEMO_PASSWORD = "zoped-demo"
#: The demo school's time zone: GMT all year, with no summer time, so every figure and time the
#: demo shows (and the tests pin) reads as it did in UTC, whatever the season, while the pages
#: show a school's zone at work ("GMT" after each time).
DEMO_TIME_ZONE = "Atlantic/Reykjavik"
LEARNERS_PER_CLASS = 20

FIRST_NAMES = [
    "Amara",
    "Ben",
    "Chloe",
    "Dev",
    "Elif",
    "Finn",
    "Grace",
    "Hiro",
    "Isla",
    "Jonah",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wes",
    "Xin",
    "Yara",
    "Zane",
    "Aiko",
    "Bruno",
    "Carmen",
    "Dara",
    "Emil",
    "Fatima",
    "Gabe",
    "Hana",
    "Ivan",
    "Jade",
    "Kai",
    "Leila",
    "Milo",
    "Nora",
    "Oscar",
    "Pia",
    "Ravi",
    "Sofia",
    "Theo",
    "Uma",
    "Viktor",
    "Willa",
    "Yusuf",
    "Zara",
    "Arlo",
    "Bea",
    "Cyrus",
    "Dina",
    "Ezra",
    "Freya",
    "Gus",
    "Hugo",
    "Ines",
    "Jules",
]
FAMILY_INITIALS = "ABCDEFGHJKLMNPRSTVWZ"
INTERESTS = ("sports", "cooking", "music", "art", "nature", "games", "building", "money", "space")
ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class DemoSignin:
    """A demo account the home page offers."""

    role: str
    display_name: str
    username: str
    password: str
    note: str = ""


@dataclass(frozen=True)
class SchoolOverview:
    """What the home page says about the school."""

    school_name: str | None
    n_learners: int = 0
    n_teachers: int = 0
    n_classes: int = 0
    n_courses: int = 0
    n_competencies: int = 0
    n_events: int = 0
    signins: list[DemoSignin] = field(default_factory=list)


def is_empty(session: Session) -> bool:
    """True when the database holds no school yet."""
    return session.scalar(select(func.count()).select_from(tables.schools)) == 0


def _count(session: Session, table: Table) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def school_overview(session: Session, *, include_signins: bool) -> SchoolOverview:
    """Counts for the home page, and the demo sign-ins when running the demo."""
    name = session.scalar(select(tables.schools.c.name).order_by(tables.schools.c.id).limit(1))
    if name is None:
        return SchoolOverview(school_name=None)
    users = tables.users
    by_role = {
        str(role): int(count)
        for role, count in session.execute(
            select(users.c.role, func.count()).group_by(users.c.role)
        ).all()
    }
    overview = SchoolOverview(
        school_name=name,
        n_learners=int(by_role.get(str(Role.LEARNER), 0)),
        n_teachers=int(by_role.get(str(Role.TEACHER), 0)),
        n_classes=_count(session, tables.classes),
        n_courses=_count(session, tables.courses),
        n_competencies=_count(session, tables.competencies),
        n_events=_count(session, tables.evidence_events),
    )
    if include_signins:
        overview.signins.extend(_demo_signins(session))
    return overview


def _demo_signins(session: Session) -> list[DemoSignin]:
    users = tables.users
    wanted = ("admin", "rivera", "okafor", "amara", "ben", "dev", "guardian.amara", "guardian.elif")
    rows = session.execute(
        select(users.c.role, users.c.display_name, users.c.username).where(
            users.c.school_id == DEMO_SCHOOL_ID, users.c.username.in_(wanted)
        )
    ).all()
    found = {row.username: row for row in rows}
    return [
        DemoSignin(str(found[u].role), found[u].display_name, u, DEMO_PASSWORD)
        for u in wanted
        if u in found
    ]


def seed_demo_school(
    session: Session,
    *,
    seed: int = 7,
    now: datetime,
    progress: ProgressCallback | None = None,
) -> None:
    """Create the demo school with its course, people and simulated histories.

    Args:
        session: the session; each step commits.
        seed: the seed of every random choice.
        now: the reference time the histories end at.
        progress: called with (learners done, learners in all) as histories are written.
    """
    at = now
    rng = random.Random(seed)
    course, second = (_content_course(name) for name in ("demo_course.yaml", "second_course.yaml"))
    # One hash for every demo account: they share the published demo password anyway.
    password_hash = PasswordHasher().hash(DEMO_PASSWORD)

    school = School(id=DEMO_SCHOOL_ID, name="Riverside Middle School", time_zone=DEMO_TIME_ZONE)
    create_school(session, school=school, now=at)
    for content in (course, second):
        import_course(session, course=content, school_id=DEMO_SCHOOL_ID, now=at)
    staff = [
        ("admin", "Alex Morgan", Role.ADMIN),
        ("rivera", "Ms. Rivera", Role.TEACHER),
        ("okafor", "Mr. Okafor", Role.TEACHER),
    ]
    for username, name, role in staff:
        user = User(
            id=username, school_id=DEMO_SCHOOL_ID, role=role, display_name=name, username=username
        )
        create_user(session, user=user, password_hash=password_hash, now=at)
    classes = [
        SchoolClass("class-5a", DEMO_SCHOOL_ID, "Grade 5 · Room 12", ("rivera",)),
        SchoolClass("class-6b", DEMO_SCHOOL_ID, "Grade 6 · Room 7", ("rivera", "okafor")),
        SchoolClass("class-7c", DEMO_SCHOOL_ID, "Grade 7 · Room 3", ("okafor",)),
    ]
    for school_class in classes:
        create_class(session, school_class=school_class, now=at)
        # Every class follows the fractions course; Grade 7 also follows early algebra (its
        # learners get a course switcher).
        following = [course.id, second.id] if school_class.id == "class-7c" else [course.id]
        set_class_courses(
            session, actor=None, class_id=school_class.id, course_ids=following, now=at
        )

    n_learners = LEARNERS_PER_CLASS * len(classes)
    kinds = archetypes_for(n_learners)
    for index in range(n_learners):
        first = FIRST_NAMES[index]
        learner_id = first.lower()
        display = f"{first} {FAMILY_INITIALS[index % len(FAMILY_INITIALS)]}."
        create_user(
            session,
            user=User(
                id=learner_id,
                school_id=DEMO_SCHOOL_ID,
                role=Role.LEARNER,
                display_name=display,
                username=learner_id,
            ),
            password_hash=password_hash,
            now=at,
        )
        enroll_learner(
            session,
            enrollment=Enrollment(classes[index // LEARNERS_PER_CLASS].id, learner_id),
            now=at,
        )
        save_learner_profile(session, profile=_profile(learner_id, display, rng), now=at)
        if index % 4 == 0:
            guardian_id = f"guardian.{learner_id}"
            create_user(
                session,
                user=User(
                    id=guardian_id,
                    school_id=DEMO_SCHOOL_ID,
                    role=Role.GUARDIAN,
                    display_name=f"{first}'s guardian",
                    username=guardian_id,
                ),
                password_hash=password_hash,
                now=at,
            )
            link_guardian(session, link=GuardianLink(guardian_id, learner_id), now=at)

    repo = EvidenceRepository(session)
    for index, kind in enumerate(kinds):
        learner_id = FIRST_NAMES[index].lower()
        events = simulate_history(course, learner_id, kind, rng=rng, now=at)
        with transaction(session):
            for event in events:
                repo.add(event)
        if progress is not None:
            progress(index + 1, n_learners)
    # The platform's models learn their parameters from the school's own evidence.
    fit_platform_models(session, now=at)


def _content_course(name: str) -> Course:
    """A course shipped in ``zoped/content``."""
    with resources.as_file(resources.files("zoped.content").joinpath(name)) as path:
        return load_course_file(path)


def _profile(learner_id: str, display: str, rng: random.Random) -> LearnerProfile:
    modalities = list(Modality)
    return LearnerProfile(
        learner_id=learner_id,
        display_name=display,
        interests=tuple(sorted(rng.sample(INTERESTS, k=2))),
        preferred_modalities=tuple(rng.sample(modalities, k=2)),
        accessibility=AccessibilityNeeds(
            extra_time=rng.random() < 0.1, larger_text=rng.random() < 0.05
        ),
    )


def demo_archetypes() -> dict[str, Archetype]:
    """The hidden archetype of each demo learner (for tests and the docs, never the pages)."""
    n = LEARNERS_PER_CLASS * 3
    return {FIRST_NAMES[i].lower(): kind for i, kind in enumerate(archetypes_for(n))}
