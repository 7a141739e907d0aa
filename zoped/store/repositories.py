"""Repositories: read and write aggregates through a session they are given.

Repositories never commit or roll back: the calling service owns the transaction, so a use
case that touches several aggregates succeeds or fails as a whole. They flush where a later
statement (or the caller) needs to see a constraint violation early.

The event log and the audit log are append-only: their repositories have no update or delete.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from zoped.domain.people import (
    Enrollment,
    GuardianLink,
    LearnerProfile,
    Role,
    School,
    SchoolClass,
    User,
)
from zoped.errors import NotFound
from zoped.store import jsondocs, mappers
from zoped.store.tables import (
    audit_log,
    class_teachers,
    classes,
    enrollments,
    guardian_links,
    learner_profiles,
    schools,
    users,
)

# --- people -------------------------------------------------------------------------------


class PeopleRepository:
    """Schools, users, classes, enrollments, guardian links and learner profiles."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add_school(self, school: School, *, at: datetime) -> None:
        """Insert a school."""
        self.session.execute(insert(schools), [mappers.school_row(school, created_at=at)])

    def rename_school(self, school_id: str, name: str) -> None:
        """Change a school's name."""
        self.session.execute(update(schools).where(schools.c.id == school_id).values(name=name))

    def set_school_time_zone(self, school_id: str, time_zone: str) -> None:
        """Change a school's time zone (an IANA name the caller checked)."""
        stmt = update(schools).where(schools.c.id == school_id).values(time_zone=time_zone)
        self.session.execute(stmt)

    def get_school(self, school_id: str) -> School:
        """The school. Raises: NotFound."""
        row = self.session.execute(select(schools).where(schools.c.id == school_id)).mappings()
        found = row.first()
        if found is None:
            raise NotFound(f"no school {school_id!r}")
        return mappers.school_from_row(found)

    def add_user(self, user: User, *, at: datetime, password_hash: str | None = None) -> None:
        """Insert a user; a taken username or email surfaces as an IntegrityError on flush."""
        row = mappers.user_row(user, created_at=at, password_hash=password_hash)
        self.session.execute(insert(users), [row])

    def update_user(self, user: User) -> None:
        """Replace a user's name, username, email and flags (id, school and role stay);
        a taken username or email surfaces as an IntegrityError on flush."""
        self.session.execute(
            update(users)
            .where(users.c.id == user.id)
            .values(
                display_name=user.display_name,
                username=user.username,
                email=user.email,
                active=user.active,
                must_change_password=user.must_change_password,
            )
        )

    def get_user(self, user_id: str) -> User:
        """The user. Raises: NotFound."""
        found = self.session.execute(select(users).where(users.c.id == user_id)).mappings().first()
        if found is None:
            raise NotFound(f"no user {user_id!r}")
        return mappers.user_from_row(found)

    def get_users(self, user_ids: Iterable[str]) -> dict[str, User]:
        """The users of ``user_ids`` that exist, by id, in one query."""
        ids = list(dict.fromkeys(user_ids))
        if not ids:
            return {}
        rows = self.session.execute(select(users).where(users.c.id.in_(ids))).mappings()
        return {row["id"]: mappers.user_from_row(row) for row in rows}

    def find_user(self, school_id: str, *, username: str) -> User | None:
        """The user of a school with this username, if any."""
        stmt = select(users).where(users.c.school_id == school_id, users.c.username == username)
        found = self.session.execute(stmt).mappings().first()
        return None if found is None else mappers.user_from_row(found)

    def list_users(self, school_id: str, *, role: Role | None = None) -> list[User]:
        """The users of a school, optionally of one role, by display name."""
        stmt = select(users).where(users.c.school_id == school_id)
        if role is not None:
            stmt = stmt.where(users.c.role == str(role))
        stmt = stmt.order_by(users.c.display_name, users.c.id)
        return [mappers.user_from_row(r) for r in self.session.execute(stmt).mappings()]

    def learner_ids(self) -> list[str]:
        """Every learner's id, in every school, sorted."""
        stmt = select(users.c.id).where(users.c.role == str(Role.LEARNER)).order_by(users.c.id)
        return list(self.session.scalars(stmt))

    def add_class(self, school_class: SchoolClass, *, at: datetime) -> None:
        """Insert a class with its teachers."""
        self.session.execute(insert(classes), [mappers.class_row(school_class, created_at=at)])
        if school_class.teacher_ids:
            self.session.execute(
                insert(class_teachers),
                [
                    {"class_id": school_class.id, "teacher_id": tid, "position": i}
                    for i, tid in enumerate(school_class.teacher_ids)
                ],
            )

    def update_class(self, school_class: SchoolClass) -> None:
        """Replace a class's name and its teachers (in order)."""
        self.session.execute(
            update(classes).where(classes.c.id == school_class.id).values(name=school_class.name)
        )
        self.session.execute(
            delete(class_teachers).where(class_teachers.c.class_id == school_class.id)
        )
        if school_class.teacher_ids:
            self.session.execute(
                insert(class_teachers),
                [
                    {"class_id": school_class.id, "teacher_id": tid, "position": i}
                    for i, tid in enumerate(school_class.teacher_ids)
                ],
            )

    def list_classes(self, school_id: str) -> list[SchoolClass]:
        """The classes of a school with their teachers, by name."""
        rows = self.session.execute(
            select(classes).where(classes.c.school_id == school_id).order_by(classes.c.name)
        ).mappings()
        found = list(rows)
        teachers: dict[str, list[str]] = {row["id"]: [] for row in found}
        if found:
            links = self.session.execute(
                select(class_teachers.c.class_id, class_teachers.c.teacher_id)
                .where(class_teachers.c.class_id.in_(list(teachers)))
                .order_by(class_teachers.c.class_id, class_teachers.c.position)
            )
            for class_id, teacher_id in links:
                teachers[class_id].append(teacher_id)
        return [mappers.class_from_row(row, teachers[row["id"]]) for row in found]

    def get_class(self, class_id: str) -> SchoolClass:
        """The class with its teachers. Raises: NotFound."""
        found = self.session.execute(select(classes).where(classes.c.id == class_id)).mappings()
        row = found.first()
        if row is None:
            raise NotFound(f"no class {class_id!r}")
        teacher_ids = self.session.scalars(
            select(class_teachers.c.teacher_id)
            .where(class_teachers.c.class_id == class_id)
            .order_by(class_teachers.c.position)
        )
        return mappers.class_from_row(row, list(teacher_ids))

    def add_enrollment(self, enrollment: Enrollment, *, at: datetime) -> None:
        """Insert an enrollment."""
        self.session.execute(
            insert(enrollments),
            [
                {
                    "class_id": enrollment.class_id,
                    "learner_id": enrollment.learner_id,
                    "enrolled_at": at,
                }
            ],
        )

    def remove_enrollment(self, enrollment: Enrollment) -> bool:
        """Take a learner out of a class; whether they were in it."""
        result = self.session.execute(
            delete(enrollments).where(
                enrollments.c.class_id == enrollment.class_id,
                enrollments.c.learner_id == enrollment.learner_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))  # a DELETE's result is a CursorResult

    def is_enrolled(self, enrollment: Enrollment) -> bool:
        """Whether this learner is in this class."""
        stmt = select(enrollments.c.learner_id).where(
            enrollments.c.class_id == enrollment.class_id,
            enrollments.c.learner_id == enrollment.learner_id,
        )
        return self.session.scalar(stmt) is not None

    def learners_in_class(self, class_id: str) -> list[str]:
        """Ids of the learners enrolled in a class, sorted."""
        stmt = (
            select(enrollments.c.learner_id)
            .where(enrollments.c.class_id == class_id)
            .order_by(enrollments.c.learner_id)
        )
        return list(self.session.scalars(stmt))

    def add_guardian_link(self, link: GuardianLink, *, at: datetime) -> None:
        """Insert a guardian link."""
        self.session.execute(
            insert(guardian_links),
            [{"guardian_id": link.guardian_id, "learner_id": link.learner_id, "created_at": at}],
        )

    def remove_guardian_link(self, link: GuardianLink) -> bool:
        """End a guardian link; whether it existed."""
        result = self.session.execute(
            delete(guardian_links).where(
                guardian_links.c.guardian_id == link.guardian_id,
                guardian_links.c.learner_id == link.learner_id,
            )
        )
        return bool(getattr(result, "rowcount", 0))  # a DELETE's result is a CursorResult

    def has_guardian_link(self, link: GuardianLink) -> bool:
        """Whether this guardian is linked to this learner."""
        stmt = select(guardian_links.c.learner_id).where(
            guardian_links.c.guardian_id == link.guardian_id,
            guardian_links.c.learner_id == link.learner_id,
        )
        return self.session.scalar(stmt) is not None

    def learners_of_guardian(self, guardian_id: str) -> list[str]:
        """Ids of the learners a guardian is linked to, sorted."""
        stmt = (
            select(guardian_links.c.learner_id)
            .where(guardian_links.c.guardian_id == guardian_id)
            .order_by(guardian_links.c.learner_id)
        )
        return list(self.session.scalars(stmt))

    def guardians_of_learner(self, learner_id: str) -> list[str]:
        """Ids of a learner's linked guardians, sorted."""
        stmt = (
            select(guardian_links.c.guardian_id)
            .where(guardian_links.c.learner_id == learner_id)
            .order_by(guardian_links.c.guardian_id)
        )
        return list(self.session.scalars(stmt))

    def save_profile(self, profile: LearnerProfile, *, at: datetime) -> None:
        """Insert or replace a learner's profile."""
        row = mappers.profile_row(profile, updated_at=at)
        exists = self.session.scalar(
            select(learner_profiles.c.learner_id).where(
                learner_profiles.c.learner_id == profile.learner_id
            )
        )
        if exists is None:
            self.session.execute(insert(learner_profiles), [row])
        else:
            self.session.execute(
                update(learner_profiles)
                .where(learner_profiles.c.learner_id == profile.learner_id)
                .values(details=row["details"], updated_at=at)
            )

    def get_profile(self, learner_id: str) -> LearnerProfile | None:
        """The learner's profile, or None if they have not filled one in."""
        stmt = select(learner_profiles).where(learner_profiles.c.learner_id == learner_id)
        found = self.session.execute(stmt).mappings().first()
        return None if found is None else mappers.profile_from_row(found)


def upsert_for(session: Session) -> Any:
    """The dialect's INSERT that takes ``on_conflict_do_update`` (SQLite or PostgreSQL)."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


# --- audit --------------------------------------------------------------------------------


def append_audit(
    session: Session,
    *,
    at: datetime,
    actor_id: str | None,
    action: str,
    subject_type: str,
    subject_id: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log (append-only: there is no update or delete)."""
    append_audits(
        session,
        at=at,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subjects={subject_id: details or {}},
    )


def append_audits(
    session: Session,
    *,
    at: datetime,
    actor_id: str | None,
    action: str,
    subject_type: str,
    subjects: Mapping[str | None, Mapping[str, Any]],
) -> None:
    """Append one entry per subject (subject id -> details) to the audit log, in one
    statement (append-only: there is no update or delete)."""
    if not subjects:
        return
    session.execute(
        insert(audit_log),
        [
            {
                "at": at,
                "actor_id": actor_id,
                "action": action,
                "subject_type": subject_type,
                "subject_id": subject_id,
                "details": jsondocs.dump("audit_details", dict(details)),
            }
            for subject_id, details in subjects.items()
        ],
    )
