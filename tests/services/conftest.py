"""A small seeded school for the pathway, practice and plan service tests (tmp SQLite)."""

from __future__ import annotations

import functools
import random
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest

from tests.conftest import DEMO_NOW
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
from zoped.services.class_courses import set_class_courses
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
from zoped.store.evidence_log import EvidenceRepository

NOW = DEMO_NOW
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


@functools.cache
def _course() -> Course:
    path = resources.files("zoped.content").joinpath("demo_course.yaml")
    with resources.as_file(path) as p:
        return load_course_file(p)


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded database file, built once; each test gets a copy."""
    path = tmp_path_factory.mktemp("small") / "small.db"
    db = open_database(f"sqlite:///{path}")
    _seed(db, _course())
    db.dispose()
    return path


@pytest.fixture
def school(_template: Path, tmp_path: Path) -> Iterator[SmallSchool]:
    path = tmp_path / "small.db"
    shutil.copy(_template, path)
    db = open_database(f"sqlite:///{path}", migrate=False)
    course = _course()
    users = _users()
    yield SmallSchool(db, course, *users)
    db.dispose()


def _users() -> tuple[User, User, User, User, User]:
    def user(uid: str, role: Role) -> User:
        return User(id=uid, school_id=SCHOOL, role=role, display_name=uid.title(), username=uid)

    return (
        user("amy", Role.LEARNER),
        user("bo", Role.LEARNER),
        user("teach", Role.TEACHER),
        user("gua", Role.GUARDIAN),
        user("zed", Role.LEARNER),
    )


def _seed(db: Database, course: Course) -> None:

    learner, other, teacher, guardian, stranger = _users()
    with db.session() as s:
        create_school(s, school=School(SCHOOL, "Small School"), now=NOW)
        import_course(s, course=course, school_id=SCHOOL, now=NOW)
        for u in (learner, other, teacher, guardian, stranger):
            create_user(s, user=u, now=NOW)
        create_class(s, school_class=SchoolClass("c1", SCHOOL, "Class 1", ("teach",)), now=NOW)
        # The stranger is in a class of the school that the teacher does not teach.
        create_class(s, school_class=SchoolClass("c2", SCHOOL, "Class 2", ()), now=NOW)
        for class_id in ("c1", "c2"):
            set_class_courses(s, actor=None, class_id=class_id, course_ids=[course.id], now=NOW)
        for class_id, uid in (("c1", "amy"), ("c1", "bo"), ("c2", "zed")):
            enroll_learner(s, enrollment=Enrollment(class_id, uid), now=NOW)
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
