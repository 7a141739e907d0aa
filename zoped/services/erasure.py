"""Erasure requests: a learner's data is erased when the grace period after the request is over.

The learner, a linked guardian or an admin of the school asks (:func:`request_erasure`); the
request is due ``erasure_grace_days`` later (a setting, 14 days by default). Until then it is
shown to the learner, their guardians, their teachers and the school's admins
(:func:`pending_erasures`), and any of them may cancel it (:func:`cancel_erasure`). When it is
due, :func:`erase_due` erases the learner everywhere
(:func:`zoped.services.privacy.erase_for_request`) and marks the request done; the request then
names only the erasure's pseudonym.

:func:`erase_due` runs from ``zoped privacy erase-due`` (for cron) and inside the app
(:class:`DueErasureRunner`, a background thread started by the app's lifespan). Two runs at
once (two app processes, or the app and cron) erase each learner once: a request is claimed by
an update that only a pending request passes.

Every request, cancellation and erasure is audited: the first two by the policy's entry
(``request_erasure``, ``cancel_erasure``), the erasure by its own entry under the pseudonym.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from zoped.domain.erasure import DEFAULT_GRACE_DAYS, ErasureRequest, ErasureStatus, grace_period
from zoped.domain.people import Role, User
from zoped.errors import Conflict, InvalidInput, PermissionDenied, Problem
from zoped.services import privacy, transaction
from zoped.services.policy import Action, require_learner_access, visible_learner_ids
from zoped.services.system import Database
from zoped.store import erasure_repository as repo

log = logging.getLogger("zoped.erasure")

#: How often the app looks for due erasures (and once at start).
ERASE_DUE_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class ErasureNotice:
    """An erasure request as the pages show it.

    Attributes:
        request: the request.
        learner_name: the learner's display name (None once erased).
        requested_by_name: who asked, by name (None once that user is gone).
        requested_by_role: their role (None once gone).
        closed_by_name: who cancelled it, by name (None: not cancelled, done, or gone).
    """

    request: ErasureRequest
    learner_name: str | None
    requested_by_name: str | None
    requested_by_role: str | None
    closed_by_name: str | None = None


@dataclass(frozen=True)
class DueErasure:
    """One learner erased because their request was due."""

    request_id: uuid.UUID
    pseudonym: str
    rows_by_table: dict[str, int]


@dataclass(frozen=True)
class DueErasures:
    """What a run of :func:`erase_due` did.

    Attributes:
        done: the learners erased.
        failed: requests whose erasure failed (logged; they stay pending and are tried again).
        checkpointed: on SQLite, whether the write-ahead log was emptied afterwards.
    """

    done: list[DueErasure]
    failed: list[uuid.UUID]
    checkpointed: bool = True


def _notices(session: Session, requests: Sequence[ErasureRequest]) -> list[ErasureNotice]:
    people = repo.names_of(
        session,
        [r.learner_id for r in requests]
        + [r.requested_by for r in requests]
        + [r.closed_by for r in requests],
    )

    def name(user_id: str | None) -> str | None:
        found = people.get(user_id or "")
        return found.display_name if found is not None else None

    return [
        ErasureNotice(
            request=r,
            learner_name=name(r.learner_id),
            requested_by_name=name(r.requested_by),
            requested_by_role=(
                str(people[r.requested_by].role) if r.requested_by in people else None
            ),
            closed_by_name=name(r.closed_by),
        )
        for r in requests
    ]


def request_erasure(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    now: datetime,
    grace_days: int = DEFAULT_GRACE_DAYS,
    confirm: str | None = None,
) -> ErasureRequest:
    """Ask for the learner's erasure, due ``grace_days`` from ``now``; asking while a request is
    pending returns that request (its date does not move).

    Args:
        session: the session; this service commits.
        actor: the learner, a linked guardian or an admin of the school.
        learner_id: whose data.
        now: when.
        grace_days: the grace period (the ``erasure_grace_days`` setting).
        confirm: what the person typed to confirm (the pages ask for the learner's username);
            None when the caller confirmed otherwise (the API).

    Raises:
        InvalidInput: a negative grace period, or ``confirm`` is not the learner's username.
        NotFound: the learner is out of the actor's reach.
        PermissionDenied: the actor may not ask (a teacher).
    """
    grace = grace_period(grace_days)
    with transaction(session):
        learner = require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.REQUEST_ERASURE, now=now
        )
        if confirm is not None and confirm.strip() != (learner.username or learner.id):
            raise InvalidInput(
                "Type the username exactly to confirm the erasure.",
                [Problem("confirm", "does not match the learner's username")],
            )
        return repo.add_if_none_pending(
            session,
            school_id=learner.school_id,
            learner_id=learner_id,
            requested_by=actor.id,
            at=now,
            due_at=now + grace,
        )


def cancel_erasure(
    session: Session, *, actor: User, learner_id: str, now: datetime
) -> ErasureRequest:
    """Call off the learner's pending erasure request.

    Args:
        session: the session; this service commits.
        actor: the learner, a linked guardian, a teacher of theirs or an admin of the school.
        learner_id: whose request.
        now: when.

    Returns:
        The request, cancelled.

    Raises:
        NotFound: the learner is out of the actor's reach.
        PermissionDenied: the actor may not cancel.
        Conflict: no request is pending (never made, cancelled or carried out meanwhile).
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.CANCEL_ERASURE, now=now
        )
        pending = repo.pending_for_learners(session, [learner_id])
        if not pending or not repo.close(
            session,
            request_id=pending[0].id,
            status=ErasureStatus.CANCELLED,
            closed_by=actor.id,
            at=now,
        ):
            raise Conflict("no erasure request is pending for this learner")
        return dataclasses.replace(
            pending[0], status=ErasureStatus.CANCELLED, closed_by=actor.id, closed_at=now
        )


def pending_erasures(
    session: Session, *, actor: User, learner_ids: Sequence[str] | None = None
) -> list[ErasureNotice]:
    """The pending erasure requests of the learners the actor reaches (or of those among
    ``learner_ids``), the soonest due first: for the learner, their guardians, teachers and
    admins to see (no audit entry: it shows only that a request is pending)."""
    visible = visible_learner_ids(session, actor=actor)
    ids = visible if learner_ids is None else sorted(set(learner_ids) & set(visible))
    return _notices(session, repo.pending_for_learners(session, ids))


def erasure_history(session: Session, *, actor: User, limit: int = 50) -> list[ErasureNotice]:
    """The school's cancelled and done requests, the latest first (done ones name only the
    pseudonym), for an admin.

    Raises:
        PermissionDenied: the actor is not an admin.
    """
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("only an admin reads the school's erasure requests")
    return _notices(session, repo.closed_in_school(session, school_id=actor.school_id, limit=limit))


def find_learners(session: Session, *, actor: User, query: str, limit: int = 50) -> list[User]:
    """The admin's school's learners whose name, username, email or id contains ``query``.

    Raises:
        PermissionDenied: the actor is not an admin.
    """
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("only an admin looks up the school's learners here")
    return repo.search_learners(session, school_id=actor.school_id, query=query, limit=limit)


def erase_due(session: Session, *, now: datetime) -> DueErasures:
    """Erase every learner whose erasure request is due at ``now`` and mark the requests done,
    one transaction per learner; then, on SQLite, empty the write-ahead log.

    A request cancelled (or carried out by another run) after it was read is skipped. An
    erasure that fails is logged, rolled back and left pending for the next run; the others go
    ahead.
    """
    with transaction(session):
        due = repo.due(session, at=now)
    done: list[DueErasure] = []
    failed: list[uuid.UUID] = []
    for request in due:
        try:
            with transaction(session):
                claimed = repo.close(
                    session,
                    request_id=request.id,
                    status=ErasureStatus.DONE,
                    closed_by=None,
                    at=now,
                )
                if not claimed:
                    continue
                requester = repo.names_of(session, [request.requested_by])
                asked_by = requester.get(request.requested_by or "")
                why = {
                    "by": "the system",
                    "request": str(request.id),
                    "requested_by": str(asked_by.role) if asked_by is not None else "unknown",
                    "requested_at": request.requested_at.isoformat(),
                    "due_at": request.due_at.isoformat(),
                }
                report = privacy.erase_for_request(
                    session, learner_id=request.learner_id, now=now, why=why
                )
        except Exception:
            log.exception("the due erasure of request %s failed; it stays pending", request.id)
            failed.append(request.id)
            continue
        done.append(DueErasure(request.id, report.pseudonym, report.rows_by_table))
    checkpointed = privacy.checkpoint(session) if done else True
    return DueErasures(done, failed, checkpointed)


class DueErasureRunner:
    """Runs :func:`erase_due` in a background thread of the app: once at start, then every
    ``every``, reading the time from ``now`` (the app's clock). Never in the event loop.

    Attributes:
        passes: runs completed (failed or not).
    """

    def __init__(
        self,
        database: Database,
        now: Callable[[], datetime],
        *,
        every: timedelta = ERASE_DUE_EVERY,
    ) -> None:
        self.database = database
        self.now = now
        self.every = every
        self.passes = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> DueErasures | None:
        """One run; None when it failed (logged)."""
        try:
            with self.database.session() as session:
                result = erase_due(session, now=self.now())
        except Exception:
            log.exception("looking for due erasures failed")
            return None
        finally:
            self.passes += 1
        if result.done:
            log.info("erased %d learner(s) whose erasure was due", len(result.done))
        return result

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.every.total_seconds())

    def start(self) -> None:
        """Start the thread (a daemon: it never keeps the process alive)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="zoped-erasure", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Stop the thread, letting a run in progress finish (up to ``timeout_s``)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None
