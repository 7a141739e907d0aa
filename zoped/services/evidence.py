"""Evidence use cases: record an event idempotently, list a learner's events.

The event id is chosen by the client, so a retry after a lost response is recognised: the
same id with the same content is a no-op, the same id with other content is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoped.domain.evidence import EvidenceEvent, EvidenceKind
from zoped.errors import Conflict, NotFound
from zoped.services import transaction
from zoped.store.evidence_log import EvidenceRepository


class RecordStatus(StrEnum):
    """What :func:`record_evidence` did."""

    RECORDED = "recorded"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class RecordResult:
    """The outcome of recording an event.

    Attributes:
        status: ``recorded`` for a new event, ``duplicate`` for a resubmission.
        event: the stored event (for a duplicate, the first submission, with its
            ``recorded_at``).
    """

    status: RecordStatus
    event: EvidenceEvent


def _compare(stored: tuple[EvidenceEvent, str], event: EvidenceEvent) -> RecordResult:
    stored_event, fingerprint = stored
    if fingerprint != event.content_fingerprint():
        raise Conflict(
            f"event {event.id} was already recorded with different content; "
            "send a new event (it may supersede the old one) instead of reusing its id"
        )
    return RecordResult(RecordStatus.DUPLICATE, stored_event)


def record_evidence(session: Session, *, event: EvidenceEvent) -> RecordResult:
    """Append an event to the log, idempotently by its id: :func:`record_evidence_batch` of
    one.

    Args:
        session: the session; this function commits or rolls back.
        event: a valid event (the domain validated it when it was built).

    Returns:
        ``recorded`` with the event, or ``duplicate`` with the stored one when an event with
        this id and the same content is already in the log.

    Raises:
        Conflict: when the id is taken by an event with different content; nothing changes.
        NotFound: when the learner does not exist.
    """
    return record_evidence_batch(session, events=[event])[0]


def record_evidence_batch(
    session: Session, *, events: Sequence[EvidenceEvent]
) -> list[RecordResult]:
    """Append events to the log all or nothing, each idempotently by its id: one event whose id
    is taken by other content (in the log or earlier in the batch) refuses the whole batch.

    Returns:
        One result per event, in order.

    Raises:
        Conflict: an id taken by an event with different content; nothing is written.
        NotFound: a learner does not exist; nothing is written.
    """
    for attempt in (1, 2):
        try:
            return _record_all(session, events)
        except IntegrityError as error:
            # A concurrent request stored one of these ids (or the learner is gone) between our
            # read and our insert; the transaction is rolled back. Judge again against what it
            # stored: the same content is a duplicate, other content a Conflict.
            if attempt == 2 or not _ids_now_stored(session, events):
                raise NotFound(
                    f"no learner among {sorted({e.learner_id for e in events})}"
                ) from error
    raise AssertionError("unreachable")  # pragma: no cover


def _record_all(session: Session, events: Sequence[EvidenceEvent]) -> list[RecordResult]:
    repo = EvidenceRepository(session)
    results: list[RecordResult] = []
    earlier: dict[uuid.UUID, EvidenceEvent] = {}
    with transaction(session):
        for event in events:
            first = earlier.get(event.id)
            stored = (first, first.content_fingerprint()) if first else repo.get(event.id)
            if stored is not None:
                results.append(_compare(stored, event))
                continue
            repo.add(event)
            earlier[event.id] = event
            results.append(RecordResult(RecordStatus.RECORDED, event))
    return results


def _ids_now_stored(session: Session, events: Sequence[EvidenceEvent]) -> bool:
    with transaction(session):
        repo = EvidenceRepository(session)
        return any(repo.get(event.id) is not None for event in events)


def list_evidence(
    session: Session,
    *,
    learner_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    kinds: Iterable[EvidenceKind] | None = None,
    limit: int | None = None,
) -> list[EvidenceEvent]:
    """A learner's events in the order they occurred.

    Args:
        session: the session (read only).
        learner_id: whose events.
        since: only events that occurred at or after this instant.
        until: only events that occurred before this instant.
        kinds: only these kinds.
        limit: at most this many (the earliest).
    """
    return EvidenceRepository(session).list_for_learner(
        learner_id, since=since, until=until, kinds=kinds, limit=limit
    )
