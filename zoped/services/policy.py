"""The one authorization policy: who may do what to which learner's data.

Reach (which learners an actor can see at all):

* a learner reaches themselves;
* a guardian reaches the learners they are linked to;
* a teacher reaches the learners enrolled in the classes they teach;
* an admin reaches every learner of their own school.

Nobody reaches across schools. Within reach, the relation decides the actions
(:data:`ALLOWED`): a guardian only reads (and may take a copy, ``export``); a teacher reads,
writes, comments and overrides; a learner does everything to their own data but override;
an admin does everything in the school.

The same rules answer both questions: :func:`require_learner_access` ("may this actor do
this to that learner?") and :func:`visible_learner_ids` ("which learners may they list?"), and a
property test checks that they agree. A learner outside reach is :class:`~zoped.errors.NotFound`
(nothing leaks: the answer is the same as for a learner who does not exist); a learner within
reach but an action not allowed is :class:`~zoped.errors.PermissionDenied`. Every allowed
access is written to the audit log.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoped.domain.evidence import EvidenceKind
from zoped.domain.people import Role, SchoolClass, User
from zoped.errors import NotFound, PermissionDenied
from zoped.services.audit import record_access
from zoped.store.tables import class_teachers, classes, enrollments, guardian_links, users


class Action(StrEnum):
    """What an actor does to a learner's data."""

    READ = "read"
    WRITE = "write"
    COMMENT = "comment"
    OVERRIDE = "override"
    EXPORT = "export"
    ERASE = "erase"


class Relation(StrEnum):
    """How an actor reaches a learner."""

    SELF = "self"
    GUARDIAN = "guardian"
    TEACHER = "teacher"
    ADMIN = "admin"


ALLOWED: dict[Relation, frozenset[Action]] = {
    Relation.SELF: frozenset(
        {Action.READ, Action.WRITE, Action.COMMENT, Action.EXPORT, Action.ERASE}
    ),
    Relation.GUARDIAN: frozenset({Action.READ, Action.EXPORT}),
    Relation.TEACHER: frozenset({Action.READ, Action.WRITE, Action.COMMENT, Action.OVERRIDE}),
    Relation.ADMIN: frozenset(Action),
}


#: The action each kind of evidence needs when it comes in from outside (the JSON API, xAPI).
#: Learners and their devices report answers and activity progress, and their own view of a
#: level (shown, never decisive). A rubric score or accepted prior learning is a teacher's
#: judgement. Overrides and placement answers are recorded only by their own services
#: (:mod:`zoped.services.overrides`, :mod:`zoped.services.practice`), never sent in directly.
EVIDENCE_ACTION: dict[EvidenceKind, Action | None] = {
    EvidenceKind.ANSWER: Action.WRITE,
    EvidenceKind.ACTIVITY_PROGRESS: Action.WRITE,
    EvidenceKind.ACTIVITY_COMPLETION: Action.WRITE,
    EvidenceKind.SELF_ASSESSMENT: Action.WRITE,
    EvidenceKind.RUBRIC_SCORE: Action.OVERRIDE,
    EvidenceKind.PRIOR_LEARNING: Action.OVERRIDE,
    EvidenceKind.TEACHER_OVERRIDE: None,
    EvidenceKind.PLACEMENT_ANSWER: None,
}


def _learner_row(session: Session, learner_id: str) -> User | None:
    row = session.execute(select(users).where(users.c.id == learner_id)).mappings().first()
    if row is None or row["role"] != str(Role.LEARNER):
        return None
    return User(
        id=row["id"],
        school_id=row["school_id"],
        role=Role.LEARNER,
        display_name=row["display_name"],
        email=row["email"],
        username=row["username"],
    )


def relation(session: Session, *, actor: User, learner_id: str) -> Relation | None:
    """How ``actor`` reaches the learner, or None when the learner is out of reach."""
    learner = _learner_row(session, learner_id)
    if learner is None or learner.school_id != actor.school_id:
        return None
    if actor.role is Role.LEARNER:
        return Relation.SELF if actor.id == learner_id else None
    if actor.role is Role.ADMIN:
        return Relation.ADMIN
    if actor.role is Role.GUARDIAN:
        linked = session.scalar(
            select(guardian_links.c.learner_id).where(
                guardian_links.c.guardian_id == actor.id,
                guardian_links.c.learner_id == learner_id,
            )
        )
        return Relation.GUARDIAN if linked is not None else None
    if actor.role is Role.TEACHER:
        taught = session.scalar(
            select(enrollments.c.learner_id)
            .join(class_teachers, class_teachers.c.class_id == enrollments.c.class_id)
            .where(class_teachers.c.teacher_id == actor.id, enrollments.c.learner_id == learner_id)
            .limit(1)
        )
        return Relation.TEACHER if taught is not None else None
    return None


def may_access(session: Session, *, actor: User, learner_id: str, action: Action) -> bool:
    """Whether ``actor`` may do ``action`` to the learner (no audit entry; for display)."""
    found = relation(session, actor=actor, learner_id=learner_id)
    return found is not None and action in ALLOWED[found]


def require_learner_access(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    action: Action,
    now: datetime,
) -> User:
    """Check that ``actor`` may do ``action`` to the learner, and audit the access.

    The audit entry joins the caller's transaction (the web layer commits it after a read).

    Returns:
        The learner.

    Raises:
        NotFound: the learner does not exist or is out of the actor's reach.
        PermissionDenied: the learner is in reach but the action is not allowed.
    """
    found = relation(session, actor=actor, learner_id=learner_id)
    if found is None:
        raise NotFound(f"no learner {learner_id!r}")
    if action not in ALLOWED[found]:
        raise PermissionDenied(f"a {found} may not {action} this learner's data")
    record_access(
        session,
        actor=actor,
        action=str(action),
        subject_type="learner",
        subject_id=learner_id,
        now=now,
        details={"relation": str(found)},
    )
    learner = _learner_row(session, learner_id)
    assert learner is not None  # relation() found it
    return learner


def require_evidence_authority(
    session: Session, *, actor: User, learner_id: str, kind: EvidenceKind, now: datetime
) -> User:
    """Check that ``actor`` may send evidence of ``kind`` about the learner (audited).

    Returns:
        The learner.

    Raises:
        PermissionDenied: the kind is recorded only by its own service, or it needs an action
            the actor does not have for this learner (a learner's rubric score, say).
        NotFound: the learner does not exist or is out of the actor's reach.
    """
    action = EVIDENCE_ACTION[kind]
    if action is None:
        raise PermissionDenied(f"{kind} evidence is recorded only through its own page or API")
    try:
        return require_learner_access(
            session, actor=actor, learner_id=learner_id, action=action, now=now
        )
    except PermissionDenied as error:
        raise PermissionDenied(f"you may not send {kind} evidence for this learner") from error


def visible_learner_ids(session: Session, *, actor: User) -> list[str]:
    """Ids of the learners ``actor`` reaches (and may read), sorted."""
    in_school = select(users.c.id).where(
        users.c.school_id == actor.school_id, users.c.role == str(Role.LEARNER)
    )
    if actor.role is Role.LEARNER:
        stmt = in_school.where(users.c.id == actor.id)
    elif actor.role is Role.ADMIN:
        stmt = in_school
    elif actor.role is Role.GUARDIAN:
        linked = select(guardian_links.c.learner_id).where(guardian_links.c.guardian_id == actor.id)
        stmt = in_school.where(users.c.id.in_(linked))
    elif actor.role is Role.TEACHER:
        taught = (
            select(enrollments.c.learner_id)
            .join(class_teachers, class_teachers.c.class_id == enrollments.c.class_id)
            .where(class_teachers.c.teacher_id == actor.id)
        )
        stmt = in_school.where(users.c.id.in_(taught))
    else:  # pragma: no cover - Role is closed
        return []
    return sorted(set(session.scalars(stmt)))


def visible_class_ids(session: Session, *, actor: User) -> list[str]:
    """Ids of the classes ``actor`` reaches: a teacher's own classes, or all of an admin's
    school; sorted."""
    if actor.role is Role.ADMIN:
        stmt = select(classes.c.id).where(classes.c.school_id == actor.school_id)
    elif actor.role is Role.TEACHER:
        stmt = (
            select(classes.c.id)
            .join(class_teachers, class_teachers.c.class_id == classes.c.id)
            .where(class_teachers.c.teacher_id == actor.id, classes.c.school_id == actor.school_id)
        )
    else:
        return []
    return sorted(set(session.scalars(stmt)))


def require_class_access(
    session: Session,
    *,
    actor: User,
    class_id: str,
    action: Action,
    now: datetime,
) -> SchoolClass:
    """Check that ``actor`` may do ``action`` to a whole class (its roster and their data).

    A teacher of the class may read, write, comment and override; an admin of the school may
    do anything; anyone else does not reach the class.

    Returns:
        The class, with its teachers.

    Raises:
        NotFound: the class does not exist or is out of the actor's reach.
        PermissionDenied: the class is in reach but the action is not allowed.
    """
    if class_id not in visible_class_ids(session, actor=actor):
        raise NotFound(f"no class {class_id!r}")
    rel = Relation.ADMIN if actor.role is Role.ADMIN else Relation.TEACHER
    if action not in ALLOWED[rel]:
        raise PermissionDenied(f"a {rel} may not {action} a whole class")
    record_access(
        session, actor=actor, action=str(action), subject_type="class", subject_id=class_id, now=now
    )
    row = session.execute(select(classes).where(classes.c.id == class_id)).mappings().one()
    teacher_ids = session.scalars(
        select(class_teachers.c.teacher_id)
        .where(class_teachers.c.class_id == class_id)
        .order_by(class_teachers.c.position)
    )
    return SchoolClass(row["id"], row["school_id"], row["name"], tuple(teacher_ids))
