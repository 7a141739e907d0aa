"""Erasure requests: asking for a learner's data to be erased, after a grace period.

A request is made by the learner, a linked guardian or an admin of the school. It is
``pending`` until ``due_at`` (the request time plus the school's grace period), during which the
learner, their guardians, their teachers and the school's admins see it and any of them may
cancel it (``cancelled``). Once due, the system erases the learner and marks the request
``done``; the request keeps no personal data from then on (the learner's id is replaced by the
pseudonym the erasure leaves in the audit log).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from zoped.domain.evidence import aware_problems
from zoped.errors import InvalidInput, Problem

#: The grace period when the settings do not say otherwise.
DEFAULT_GRACE_DAYS = 14


class ErasureStatus(StrEnum):
    """Where an erasure request stands."""

    PENDING = "pending"
    CANCELLED = "cancelled"
    DONE = "done"


@dataclass(frozen=True)
class ErasureRequest:
    """A request to erase one learner.

    Attributes:
        id: the request.
        school_id: the learner's school.
        learner_id: the learner; the erasure's pseudonym once it is done.
        requested_by: who asked (a user id, or the pseudonym when the learner asked and was
            erased; None once that user is gone).
        requested_at: when.
        due_at: when the erasure happens unless cancelled.
        status: pending, cancelled or done.
        closed_by: who cancelled it (None: not cancelled, or done by the system).
        closed_at: when it was cancelled or done.
    """

    id: uuid.UUID
    school_id: str
    learner_id: str
    requested_by: str | None
    requested_at: datetime
    due_at: datetime
    status: ErasureStatus
    closed_by: str | None = None
    closed_at: datetime | None = None

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        problems += aware_problems(self.requested_at, "requested_at")
        problems += aware_problems(self.due_at, "due_at")
        if self.closed_at is not None:
            problems += aware_problems(self.closed_at, "closed_at")
        if not problems and self.due_at < self.requested_at:
            problems.append(Problem("due_at", "is before the request"))
        if (self.status is ErasureStatus.PENDING) != (self.closed_at is None):
            problems.append(Problem("closed_at", "is set exactly when the request is closed"))
        if problems:
            raise InvalidInput("invalid erasure request", problems)

    @property
    def pending(self) -> bool:
        """Whether the erasure is still to come."""
        return self.status is ErasureStatus.PENDING

    def is_due(self, now: datetime) -> bool:
        """Whether a pending request's grace period is over at ``now``."""
        return self.pending and self.due_at <= now


def grace_period(days: int) -> timedelta:
    """The grace period of ``days`` whole days (0: erased by the next run of the eraser).

    Raises:
        InvalidInput: a negative number of days.
    """
    if days < 0:
        raise InvalidInput("invalid grace period", [Problem("erasure_grace_days", "must be >= 0")])
    return timedelta(days=days)
