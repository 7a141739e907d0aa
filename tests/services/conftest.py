"""A small seeded school for the pathway, practice and plan service tests (tmp SQLite)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources

import pytest

from zoped.domain.course import Course
from zoped.domain.people import (
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
from zoped.services.courses import import_course
from zoped.services.demo_history import Archetype, simulate_history
from zoped.services.roster import (
    create_class,
    create_school,
    create_user,
    enroll_learner,
    link_guardian,
    save_learner_profile,
)
from zoped.services.system import Database, open_database
from zoped.store.repositories import EvidenceRepository

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
SCHOOL = "s1"


@dataclass
class SmallSchool:
    db: Database
    course: Course
    learner: User
    other: User
    teacher: User
    guardian: User
    stranger: User


def _course() -> Course:
    path = resources.files("zoped.content").joinpath("demo_course.yaml")
    with resources.as_file(path) as p:
        return load_course_file(p)


@pytest.fixture
def school(tmp_path) -> SmallSchool:
    db = open_database(f"sqlite:///{tmp_path / 'small.db'}")
    course = _course()

    def user(uid: str, role: Role) -> User:
        return User(id=uid, school_id=SCHOOL, role=role, display_name=uid.title(), username=uid)

    learner, other = user("amy", Role.LEARNER), user("bo", Role.LEARNER)
    teacher, guardian = user("teach", Role.TEACHER), user("gua", Role.GUARDIAN)
    stranger = user("zed", Role.LEARNER)
    with db.session() as s:
        create_school(s, school=School(SCHOOL, "Small School"), now=NOW)
        import_course(s, course=course, now=NOW)
        for u in (learner, other, teacher, guardian, stranger):
            create_user(s, user=u, now=NOW)
        create_class(s, school_class=SchoolClass("c1", SCHOOL, "Class 1", ("teach",)), now=NOW)
        for uid in ("amy", "bo"):
            enroll_learner(s, enrollment=Enrollment("c1", uid), now=NOW)
        link_guardian(s, link=GuardianLink("gua", "amy"), now=NOW)
        save_learner_profile(
            s,
            profile=LearnerProfile("amy", "Amy", interests=("cooking",)),
            now=NOW,
        )
        events = simulate_history(course, "bo", Archetype.TYPICAL, rng=random.Random(3), now=NOW)
        with transaction(s):
            repo = EvidenceRepository(s)
            for e in events:
                repo.add(e)
    yield SmallSchool(db, course, learner, other, teacher, guardian, stranger)
    db.dispose()
