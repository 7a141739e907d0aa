"""The one authorization policy: who may do what to which learner's data.

Reach (which learners an actor can see at all):

* a learner reaches themselves;
* a guardian reaches the learners they are linked to;
* a teacher reaches the learners enrolled in the classes they teach;
* an admin reaches every learner of their own school.

Nobody reaches across schools. Within reach, the relation decides the actions
(:data:`ALLOWED`): a guardian reads, may take a copy (``export``) and may ask for the child's
erasure; a teacher reads, writes, comments and overrides; a learner does everything to their
own data but override and erase at once; an admin does everything in the school.

Erasure (:mod:`zoped.services.erasure`): the learner, a linked guardian or an admin asks for it
(``request_erasure``), and it waits out a grace period during which the learner, a guardian, a
teacher of theirs or an admin may call it off (``cancel_erasure``); only an admin may ``erase``
at once, and no page or API offers that.

The same rules answer both questions: :func:`require_learner_access` ("may this actor do
this to that learner?") and :func:`visible_learner_ids` ("which learners may they list?"), and a
property test checks that they agree. A learner outside reach is :class:`~zoped.errors.NotFound`
(nothing leaks: the answer is the same as for a learner who does not exist); a learner within
reach but an action not allowed is :class:`~zoped.errors.PermissionDenied`. Every allowed
access is written to the audit log.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from zoped.domain.evidence import EvidenceKind
from zoped.domain.people import Role, SchoolClass, User
from zoped.errors import NotFound, PermissionDenied
from zoped.services.audit import record_access, record_accesses
from zoped.store.tables import class_teachers, classes, enrollments, guardian_links, users


def require_school_admin(actor: User | None, school_id: str) -> None:
    """Running a school (its people, classes, courses, tokens and roster) is for an admin of
    that school, or the system (``actor`` None: the command line, a first-run setup).

    Raises:
        PermissionDenied: for anyone else.
    """
    if actor is not None and (actor.role is not Role.ADMIN or actor.school_id != school_id):
        raise PermissionDenied("only an admin of this school may do this")


#: Who may read a school's course content (its items' pictures): its learners, teachers, admins.
COURSE_CONTENT_READERS = frozenset({Role.LEARNER, Role.TEACHER, Role.ADMIN})


def may_read_course_content(actor: User, school_id: str) -> bool:
    """Whether ``actor`` may read the course content of ``school_id``: a learner, teacher or
    admin of that school (a guardian sees progress, not the courses themselves)."""
    return actor.role in COURSE_CONTENT_READERS and actor.school_id == school_id


class Action(StrEnum):
    """What an actor does to a learner's data."""

    READ = "read"
    WRITE = "write"
    COMMENT = "comment"
    OVERRIDE = "override"
    EXPORT = "export"
    #: Ask for the learner's erasure: it happens when the grace period is over.
    REQUEST_ERASURE = "request_erasure"
    #: Call off a pending erasure request.
    CANCEL_ERASURE = "cancel_erasure"
    #: Erase at once (no page or API offers it).
    ERASE = "erase"


class Relation(StrEnum):
    """How an actor reaches a learner."""

    SELF = "self"
    GUARDIAN = "guardian"
    TEACHER = "teacher"
    ADMIN = "admin"


ALLOWED: dict[Relation, frozenset[Action]] = {
    Relation.SELF: frozenset(
        {
            Action.READ,
            Action.WRITE,
            Action.COMMENT,
            Action.EXPORT,
            Action.REQUEST_ERASURE,
            Action.CANCEL_ERASURE,
        }
    ),
    Relation.GUARDIAN: frozenset(
        {Action.READ, Action.EXPORT, Action.REQUEST_ERASURE, Action.CANCEL_ERASURE}
    ),
    Relation.TEACHER: frozenset(
        {Action.READ, Action.WRITE, Action.COMMENT, Action.OVERRIDE, Action.CANCEL_ERASURE}
    ),
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


def _reach(
    session: Session, actor: User, learner_ids: Sequence[str]
) -> dict[str, tuple[User, Relation]]:
    """The learners of ``learner_ids`` in the actor's reach, each with how it reaches them
    (a few queries, however many learners)."""
    ids = list(dict.fromkeys(learner_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(users).where(
            users.c.id.in_(ids),
            users.c.role == str(Role.LEARNER),
            users.c.school_id == actor.school_id,
        )
    ).mappings()
    learners = {
        row["id"]: User(
            id=row["id"],
            school_id=row["school_id"],
            role=Role.LEARNER,
            display_name=row["display_name"],
            email=row["email"],
            username=row["username"],
        )
        for row in rows
    }
    found = list(learners)
    reached: dict[str, Relation] = {}
    if actor.role is Role.LEARNER:
        reached = {actor.id: Relation.SELF} if actor.id in learners else {}
    elif actor.role is Role.ADMIN:
        reached = dict.fromkeys(found, Relation.ADMIN)
    elif actor.role is Role.GUARDIAN:
        linked = session.scalars(
            select(guardian_links.c.learner_id).where(
                guardian_links.c.guardian_id == actor.id, guardian_links.c.learner_id.in_(found)
            )
        )
        reached = dict.fromkeys(linked, Relation.GUARDIAN)
    elif actor.role is Role.TEACHER:
        taught = session.scalars(
            select(enrollments.c.learner_id)
            .join(class_teachers, class_teachers.c.class_id == enrollments.c.class_id)
            .where(class_teachers.c.teacher_id == actor.id, enrollments.c.learner_id.in_(found))
            .distinct()
        )
        reached = dict.fromkeys(taught, Relation.TEACHER)
    return {lid: (learners[lid], how) for lid, how in reached.items()}


def relation(session: Session, *, actor: User, learner_id: str) -> Relation | None:
    """How ``actor`` reaches the learner, or None when the learner is out of reach."""
    found = _reach(session, actor, [learner_id]).get(learner_id)
    return None if found is None else found[1]


def may_access(session: Session, *, actor: User, learner_id: str, action: Action) -> bool:
    """Whether ``actor`` may do ``action`` to the learner (no audit entry; for display)."""
    found = relation(session, actor=actor, learner_id=learner_id)
    return found is not None and action in ALLOWED[found]


def require_learners_access(
    session: Session,
    *,
    actor: User,
    learner_ids: Sequence[str],
    action: Action,
    now: datetime,
) -> dict[str, User]:
    """Check that ``actor`` may do ``action`` to every learner, and audit each access (one
    entry per learner), all or none: nothing is audited when one check fails.

    The audit entries join the caller's transaction (the web layer commits them after a read).

    Returns:
        learner id -> the learner, in the order of ``learner_ids`` (duplicates once).

    Raises:
        NotFound: a learner does not exist or is out of the actor's reach (the first such).
        PermissionDenied: a learner is in reach but the action is not allowed.
    """
    ids = list(dict.fromkeys(learner_ids))
    reach = _reach(session, actor, ids)
    for learner_id in ids:
        if learner_id not in reach:
            raise NotFound(f"no learner {learner_id!r}")
        how = reach[learner_id][1]
        if action not in ALLOWED[how]:
            raise PermissionDenied(f"a {how} may not {action} this learner's data")
    record_accesses(
        session,
        actor=actor,
        action=str(action),
        subject_type="learner",
        subjects={lid: {"relation": str(reach[lid][1])} for lid in ids},
        now=now,
    )
    return {lid: reach[lid][0] for lid in ids}


def require_learner_access(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    action: Action,
    now: datetime,
) -> User:
    """Check that ``actor`` may do ``action`` to the learner, and audit the access:
    :func:`require_learners_access` of one.

    Returns:
        The learner.

    Raises:
        NotFound: the learner does not exist or is out of the actor's reach.
        PermissionDenied: the learner is in reach but the action is not allowed.
    """
    found = require_learners_access(
        session, actor=actor, learner_ids=[learner_id], action=action, now=now
    )
    return found[learner_id]


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
