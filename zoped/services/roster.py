"""Roster use cases: schools, users, classes, enrollments, guardian links, learner profiles.

An ``actor`` of None is the system (the CLI, the demo, a roster import run by an operator);
otherwise admins roster their own school, and a learner may edit their own profile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoped.domain.people import (
    Enrollment,
    GuardianLink,
    LearnerProfile,
    Role,
    School,
    SchoolClass,
    User,
    time_zone_problems,
)
from zoped.errors import Conflict, InvalidInput, PermissionDenied, Problem
from zoped.services import transaction
from zoped.services.policy import require_school_admin
from zoped.store.repositories import PeopleRepository, append_audit


def _audit(
    session: Session, *, at: datetime, actor: User | None, action: str, subject: tuple[str, str]
) -> None:
    append_audit(
        session,
        at=at,
        actor_id=actor.id if actor else None,
        action=action,
        subject_type=subject[0],
        subject_id=subject[1],
    )


def create_school(
    session: Session, *, actor: User | None = None, school: School, now: datetime
) -> School:
    """Create a school. Only the system creates schools.

    Raises:
        PermissionDenied: for any actor but the system.
        Conflict: when the id is taken.
        InvalidInput: an unknown time zone (nothing is written).
    """
    if actor is not None:
        raise PermissionDenied("schools are created by the operator")
    problems = time_zone_problems(school.time_zone)
    if problems:
        raise InvalidInput("invalid school", problems)
    school = dataclasses.replace(school, time_zone=school.time_zone.strip())
    at = now
    try:
        with transaction(session):
            PeopleRepository(session).add_school(school, at=at)
            _audit(
                session, at=at, actor=actor, action="school.create", subject=("school", school.id)
            )
    except IntegrityError as error:
        raise Conflict(f"a school with id {school.id!r} exists") from error
    return school


def create_user(
    session: Session,
    *,
    actor: User | None = None,
    user: User,
    password_hash: str | None = None,
    now: datetime,
) -> User:
    """Add a user to a school.

    Args:
        session: the session; this function commits or rolls back.
        actor: an admin of the user's school, or None for the system.
        user: the user.
        password_hash: an already hashed password (authentication hashes); None until the
            user sets one.
        now: the creation time.

    Raises:
        PermissionDenied: when the actor is not an admin of the school.
        Conflict: when the id, or the username or email within the school, is taken.
    """
    require_school_admin(actor, user.school_id)
    at = now
    repo = PeopleRepository(session)
    try:
        with transaction(session):
            repo.get_school(user.school_id)
            repo.add_user(user, at=at, password_hash=password_hash)
            session.flush()
            _audit(session, at=at, actor=actor, action="user.create", subject=("user", user.id))
    except IntegrityError as error:
        raise Conflict(
            f"user {user.id!r} clashes with an existing user (same id, or the same username or "
            "email in this school)"
        ) from error
    return user


def _user_with_role(repo: PeopleRepository, user_id: str, role: Role, location: str) -> User:
    user = repo.get_user(user_id)
    if user.role is not role:
        raise InvalidInput(
            "wrong kind of user", [Problem(location, f"{user_id!r} is a {user.role}, not a {role}")]
        )
    return user


def create_class(
    session: Session,
    *,
    actor: User | None = None,
    school_class: SchoolClass,
    now: datetime,
) -> SchoolClass:
    """Create a class with its teachers.

    Raises:
        PermissionDenied: when the actor is not an admin of the school.
        NotFound: for an unknown school or teacher.
        InvalidInput: when a listed teacher is not a teacher of this school.
        Conflict: when the class id is taken.
    """
    require_school_admin(actor, school_class.school_id)
    at = now
    repo = PeopleRepository(session)
    try:
        with transaction(session):
            repo.get_school(school_class.school_id)
            for index, teacher_id in enumerate(school_class.teacher_ids):
                teacher = _user_with_role(repo, teacher_id, Role.TEACHER, f"teacher_ids[{index}]")
                if teacher.school_id != school_class.school_id:
                    raise InvalidInput(
                        "teacher of another school",
                        [Problem(f"teacher_ids[{index}]", f"{teacher_id!r} is in another school")],
                    )
            repo.add_class(school_class, at=at)
            session.flush()
            _audit(
                session,
                at=at,
                actor=actor,
                action="class.create",
                subject=("class", school_class.id),
            )
    except IntegrityError as error:
        raise Conflict(f"a class with id {school_class.id!r} exists") from error
    return school_class


def enroll_learner(
    session: Session,
    *,
    actor: User | None = None,
    enrollment: Enrollment,
    now: datetime,
) -> bool:
    """Enroll a learner in a class; enrolling twice is harmless.

    Returns:
        True if the learner was enrolled now, False if they already were.

    Raises:
        PermissionDenied: when the actor is not an admin of the class's school.
        NotFound: for an unknown class or learner.
        InvalidInput: when the user is not a learner of the class's school.
    """
    repo = PeopleRepository(session)
    at = now
    with transaction(session):
        school_class = repo.get_class(enrollment.class_id)
        require_school_admin(actor, school_class.school_id)
        learner = _user_with_role(repo, enrollment.learner_id, Role.LEARNER, "learner_id")
        if learner.school_id != school_class.school_id:
            raise InvalidInput(
                "learner of another school", [Problem("learner_id", "not in the class's school")]
            )
        if repo.is_enrolled(enrollment):
            return False
        repo.add_enrollment(enrollment, at=at)
        _audit(
            session,
            at=at,
            actor=actor,
            action="class.enroll",
            subject=("class", enrollment.class_id),
        )
    return True


def link_guardian(
    session: Session,
    *,
    actor: User | None = None,
    link: GuardianLink,
    now: datetime,
) -> bool:
    """Let a guardian see a learner's progress; linking twice is harmless.

    Returns:
        True if the link was made now, False if it existed.

    Raises:
        PermissionDenied: when the actor is not an admin of the learner's school.
        NotFound: for an unknown user.
        InvalidInput: when the users are not a guardian and a learner.
    """
    repo = PeopleRepository(session)
    at = now
    with transaction(session):
        learner = _user_with_role(repo, link.learner_id, Role.LEARNER, "learner_id")
        require_school_admin(actor, learner.school_id)
        _user_with_role(repo, link.guardian_id, Role.GUARDIAN, "guardian_id")
        if repo.has_guardian_link(link):
            return False
        repo.add_guardian_link(link, at=at)
        _audit(
            session, at=at, actor=actor, action="guardian.link", subject=("user", link.learner_id)
        )
    return True


#: A learner's interests: how many, and how long each (they are tags, matched to activities').
MAX_INTERESTS = 20
MAX_INTEREST = 40


def interest_problems(interests: Sequence[str]) -> list[Problem]:
    """Why these interests cannot be saved (too many, or one too long), or nothing."""
    if len(interests) > MAX_INTERESTS:
        return [Problem("interests", f"at most {MAX_INTERESTS} interests")]
    long = [i for i in interests if len(i) > MAX_INTEREST]
    if long:
        return [Problem("interests", f"keep each interest to {MAX_INTEREST} characters")]
    return []


def save_learner_profile(
    session: Session,
    *,
    actor: User | None = None,
    profile: LearnerProfile,
    now: datetime,
) -> LearnerProfile:
    """Create or replace a learner's profile.

    Prior-learning claims are kept as stored when a user saves the profile: only
    :mod:`zoped.services.claims` submits and decides them (the system, ``actor=None``, may set
    them, as an import does).

    Raises:
        PermissionDenied: unless the actor is the learner, an admin of their school, or the
            system.
        NotFound: for an unknown learner.
        InvalidInput: more than ``MAX_INTERESTS`` interests, or one longer than
            ``MAX_INTEREST`` characters.
    """
    problems = interest_problems(profile.interests)
    if problems:
        raise InvalidInput("invalid profile", problems)
    repo = PeopleRepository(session)
    at = now
    with transaction(session):
        learner = _user_with_role(repo, profile.learner_id, Role.LEARNER, "learner_id")
        if actor is not None and actor.id != learner.id:
            require_school_admin(actor, learner.school_id)
        if actor is not None:
            stored = repo.get_profile(learner.id)
            claims = stored.prior_learning if stored is not None else ()
            profile = dataclasses.replace(profile, prior_learning=claims)
        repo.save_profile(profile, at=at)
        _audit(session, at=at, actor=actor, action="profile.save", subject=("user", learner.id))
    return profile


def get_learner_profile(session: Session, *, learner_id: str) -> LearnerProfile | None:
    """A learner's profile, or None when they have none yet."""
    return PeopleRepository(session).get_profile(learner_id)
