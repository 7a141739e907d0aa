"""The append-only evidence log: recording and reading events, and each learner's event count
(kept with every insert, so a stored fold is known to be up to date without counting the log).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import and_, func, insert, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from zoped.domain.evidence import EvidenceEvent, EvidenceKind
from zoped.domain.submissions import SubmittedFile
from zoped.store import mappers
from zoped.store.repositories import upsert_for
from zoped.store.tables import evidence_events, learner_event_counts, project_files


class EvidenceRepository:
    """The append-only event log: insert and read, never update or delete.

    (Erasure of a learner's events, a privacy request, will be the one delete path; it is
    added with the privacy feature.)
    """

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, event_id: uuid.UUID) -> tuple[EvidenceEvent, str] | None:
        """The stored event with this id and its stored fingerprint, or None."""
        stmt = select(evidence_events).where(evidence_events.c.id == event_id)
        found = self.session.execute(stmt).mappings().first()
        if found is None:
            return None
        return mappers.event_from_row(found), found["fingerprint"]

    def add(self, event: EvidenceEvent) -> None:
        """Insert an event (and count it: ``learner_event_counts``) and flush, so a duplicate id
        fails here with an IntegrityError."""
        self.session.execute(insert(evidence_events), [mappers.event_row(event)])
        counted = upsert_for(self.session)(learner_event_counts).values(
            learner_id=event.learner_id, n_events=1
        )
        self.session.execute(
            counted.on_conflict_do_update(
                index_elements=[learner_event_counts.c.learner_id],
                set_={"n_events": learner_event_counts.c.n_events + 1},
            )
        )
        self.session.flush()

    def add_file(self, event: EvidenceEvent, file: SubmittedFile) -> None:
        """Keep the file handed in with ``event`` (added in the same transaction) and flush."""
        record = file.record
        self.session.execute(
            insert(project_files).values(
                event_id=event.id,
                learner_id=event.learner_id,
                name=record.name,
                media_type=record.media_type,
                size_bytes=record.size_bytes,
                sha256=record.sha256,
                content=file.data,
                stored_at=event.recorded_at,
            )
        )
        self.session.flush()

    def file_of(self, event_id: uuid.UUID) -> SubmittedFile | None:
        """The file kept for an event, or None."""
        row = self.session.execute(
            select(project_files.c.name, project_files.c.media_type, project_files.c.content).where(
                project_files.c.event_id == event_id
            )
        ).first()
        return None if row is None else SubmittedFile(row.name, row.media_type, bytes(row.content))

    def list_for_learner(
        self,
        learner_id: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        kinds: Iterable[EvidenceKind] | None = None,
        limit: int | None = None,
    ) -> list[EvidenceEvent]:
        """A learner's events in the order they occurred (ties by id, so the order is stable).

        Args:
            learner_id: whose events.
            since: only events that occurred at or after this instant.
            until: only events that occurred before this instant.
            kinds: only these kinds.
            limit: at most this many (the earliest).
        """
        stmt = select(evidence_events).where(evidence_events.c.learner_id == learner_id)
        if since is not None:
            stmt = stmt.where(evidence_events.c.occurred_at >= since)
        if until is not None:
            stmt = stmt.where(evidence_events.c.occurred_at < until)
        if kinds is not None:
            stmt = stmt.where(evidence_events.c.kind.in_([str(k) for k in kinds]))
        stmt = stmt.order_by(evidence_events.c.occurred_at, evidence_events.c.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        return [mappers.event_from_row(r) for r in self.session.execute(stmt).mappings()]


#: Where an event sits in a learner's log: the log is ordered by (occurred_at, id).
EventKey = tuple[datetime, uuid.UUID]


def list_events_for_learners(
    session: Session,
    learner_ids: Iterable[str],
    *,
    until: datetime | None = None,
    since: datetime | None = None,
    after: Mapping[str, EventKey] | None = None,
    kinds: Iterable[EvidenceKind] | None = None,
) -> dict[str, list[EvidenceEvent]]:
    """Several learners' events in one query: learner id -> events in the order they occurred
    (ties by id), as :meth:`EvidenceRepository.list_for_learner` gives them; every id is a key.

    A function beside the repository, which stays add / get / list (the append-only log).

    Args:
        session: the session (read only).
        learner_ids: whose events.
        until: only events that occurred before this instant.
        since: only events that occurred at or after this instant.
        after: learner id -> only that learner's events after this place in the log (learners
            not in it: all their events).
        kinds: only these kinds.
    """
    out: dict[str, list[EvidenceEvent]] = {lid: [] for lid in learner_ids}
    if not out:
        return out
    ev = evidence_events.c
    marks = after or {}
    whole = [lid for lid in out if lid not in marks]
    wanted: list[ColumnElement[bool]] = [ev.learner_id.in_(whole)] if whole else []
    for lid, (at, event_id) in marks.items():
        if lid in out:
            later = or_(ev.occurred_at > at, and_(ev.occurred_at == at, ev.id > event_id))
            wanted.append(and_(ev.learner_id == lid, later))
    stmt = select(evidence_events).where(or_(*wanted))
    if until is not None:
        stmt = stmt.where(ev.occurred_at < until)
    if since is not None:
        stmt = stmt.where(ev.occurred_at >= since)
    if kinds is not None:
        stmt = stmt.where(ev.kind.in_([str(k) for k in kinds]))
    stmt = stmt.order_by(ev.occurred_at, ev.id)
    for r in session.execute(stmt).mappings():
        out[r["learner_id"]].append(mappers.event_from_row(r))
    return out


def list_work_events(
    session: Session,
    learner_ids: Iterable[str],
    *,
    since: datetime,
    until: datetime,
    item_ids: Iterable[str],
    activity_ids: Iterable[str],
    kinds: Iterable[EvidenceKind],
) -> dict[str, list[EvidenceEvent]]:
    """Several learners' events of these kinds on these items or activities, that occurred in
    [since, until): learner id -> events in the order they occurred; every id is a key. What
    assigned work asks for, read without the rest of the log."""
    out: dict[str, list[EvidenceEvent]] = {lid: [] for lid in learner_ids}
    items, acts = sorted(set(item_ids)), sorted(set(activity_ids))
    if not out or not (items or acts):
        return out
    ev = evidence_events.c
    on: list[ColumnElement[bool]] = []
    if items:
        on.append(ev.item_id.in_(items))
    if acts:
        on.append(ev.activity_id.in_(acts))
    stmt = (
        select(evidence_events)
        .where(
            ev.learner_id.in_(list(out)),
            ev.occurred_at >= since,
            ev.occurred_at < until,
            ev.kind.in_([str(k) for k in kinds]),
            or_(*on),
        )
        .order_by(ev.occurred_at, ev.id)
    )
    for r in session.execute(stmt).mappings():
        out[r["learner_id"]].append(mappers.event_from_row(r))
    return out


def latest_events(
    session: Session,
    learner_id: str,
    *,
    limit: int,
    until: datetime | None = None,
    item_ids: Sequence[str] | None = None,
    kinds: Iterable[EvidenceKind] | None = None,
) -> list[EvidenceEvent]:
    """The learner's latest ``limit`` events (before ``until``; only on these items, of these
    kinds), oldest first: what a page shows of a long log, read without the rest of it."""
    ev = evidence_events.c
    stmt = select(evidence_events).where(ev.learner_id == learner_id)
    if until is not None:
        stmt = stmt.where(ev.occurred_at < until)
    if item_ids is not None:
        stmt = stmt.where(ev.item_id.in_(list(item_ids)))
    if kinds is not None:
        stmt = stmt.where(ev.kind.in_([str(k) for k in kinds]))
    stmt = stmt.order_by(ev.occurred_at.desc(), ev.id.desc()).limit(limit)
    rows = session.execute(stmt).mappings()
    return [mappers.event_from_row(r) for r in rows][::-1]


def count_events_after(session: Session, learner_id: str, after: EventKey) -> int:
    """How many of the learner's events come after ``after`` in the log's order (a count over
    that part of the log only)."""
    ev = evidence_events.c
    at, event_id = after
    later = or_(ev.occurred_at > at, and_(ev.occurred_at == at, ev.id > event_id))
    stmt = (
        select(func.count()).select_from(evidence_events).where(ev.learner_id == learner_id, later)
    )
    return int(session.scalar(stmt) or 0)


def event_counts(session: Session, learner_ids: Iterable[str]) -> dict[str, int]:
    """How many events each learner has (``learner_event_counts``: no count of the log), in
    one query; every id is a key."""
    out = dict.fromkeys(learner_ids, 0)
    if not out:
        return out
    c = learner_event_counts.c
    for learner_id, n in session.execute(
        select(c.learner_id, c.n_events).where(c.learner_id.in_(list(out)))
    ):
        out[learner_id] = int(n)
    return out
