"""The learner's learning log: reflections, private unless the learner shares them.

Only the learner writes entries and decides what is shared. Their teachers (and admins) read the
shared entries; guardians and everyone else read none. The learner reads them all.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from zoped.domain.people import Role, User
from zoped.domain.plans import LogEntry
from zoped.errors import NotFound, PermissionDenied
from zoped.services import transaction
from zoped.services.policy import Action, require_learner_access
from zoped.store.learning_repositories import LogEntryRepository


def _only_the_learner(actor: User, learner_id: str) -> None:
    if actor.id != learner_id:
        raise PermissionDenied("only the learner writes and shares their learning log")


def add_entry(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    body: str,
    now: datetime,
    shared: bool = False,
    competency_ids: tuple[str, ...] = (),
    activity_id: str | None = None,
) -> LogEntry:
    """Write a reflection (private by default).

    Raises:
        InvalidInput: an empty body.
        PermissionDenied: anyone but the learner.
    """
    _only_the_learner(actor, learner_id)
    entry = LogEntry(
        id=str(uuid.uuid4()),
        learner_id=learner_id,
        body=body.strip(),
        created_at=now,
        competency_ids=competency_ids,
        activity_id=activity_id,
        shared=shared,
    )
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
        LogEntryRepository(session).add(entry)
    return entry


def set_shared(
    session: Session, *, actor: User, learner_id: str, entry_id: str, shared: bool, now: datetime
) -> None:
    """Share an entry with the learner's teachers, or take it back.

    Raises:
        PermissionDenied: anyone but the learner.
        NotFound: no such entry of this learner.
    """
    _only_the_learner(actor, learner_id)
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
        if not LogEntryRepository(session).set_shared(learner_id, entry_id, shared):
            raise NotFound(f"no log entry {entry_id!r}")


def list_entries(
    session: Session, *, actor: User, learner_id: str, now: datetime
) -> list[LogEntry]:
    """The entries the actor may read, newest first: all for the learner, shared ones for
    their teachers and admins, none for guardians.

    Raises:
        NotFound / PermissionDenied: as for reading the learner's data.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        if actor.role is Role.GUARDIAN:
            return []
        return LogEntryRepository(session).list_for_learner(
            learner_id, shared_only=actor.id != learner_id
        )
