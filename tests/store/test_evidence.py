"""The event log: idempotent by id, append-only, read back exactly as written."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.errors import Conflict, NotFound
from zoped.services.evidence import RecordStatus, list_evidence, record_evidence
from zoped.store.db import session_factory
from zoped.store.evidence_log import EvidenceRepository
from zoped.store.mappers import event_row
from zoped.store.tables import evidence_events


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(evidence_events)) or 0


def test_an_event_round_trips_exactly(roster: Session) -> None:
    event = f.event(
        supersedes=f.event().id,
        actor_id="teacher-1",
        note="typed in from paper",
        source=EvidenceSource.IMPORT,
    )
    assert record_evidence(roster, event=event).status is RecordStatus.RECORDED
    roster.expunge_all()
    [stored] = list_evidence(roster, learner_id="learner-1")
    assert stored == event
    assert stored.occurred_at.tzinfo is not None
    assert stored.payload == {"response": "a", "nested": {"list": [1, 2.5, None]}}
    assert stored.content_fingerprint() == event.content_fingerprint()


def test_same_id_same_content_is_a_duplicate_no_op(roster: Session) -> None:
    event = f.event()
    record_evidence(roster, event=event)
    # Resubmitted later, with its time written in another zone: the same content.
    again = f.event(
        id=event.id,
        occurred_at=event.occurred_at.astimezone(timezone(timedelta(hours=-5))),
        recorded_at=event.recorded_at + timedelta(minutes=3),
    )
    result = record_evidence(roster, event=again)
    assert result.status is RecordStatus.DUPLICATE
    assert result.event.recorded_at == event.recorded_at  # the first submission is kept
    assert count(roster) == 1


def test_same_id_other_content_is_a_conflict_and_changes_nothing(roster: Session) -> None:
    event = f.event()
    record_evidence(roster, event=event)
    with pytest.raises(Conflict, match=str(event.id)):
        record_evidence(roster, event=f.event(id=event.id, correct=False, score=0.0))
    assert count(roster) == 1
    assert list_evidence(roster, learner_id="learner-1") == [event]


def test_unknown_learner_is_not_found_and_writes_nothing(roster: Session) -> None:
    with pytest.raises(NotFound, match="nobody"):
        record_evidence(roster, event=f.event(learner_id="nobody"))
    assert count(roster) == 0


def test_a_race_lost_between_read_and_insert_is_judged_as_a_resubmission(
    roster: Session, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = f.event()
    other = f.event(id=event.id, score=0.5)
    real_get = EvidenceRepository.get
    calls: list[uuid.UUID] = []

    def get_then_lose_the_race(
        self: EvidenceRepository, event_id: uuid.UUID
    ) -> tuple[EvidenceEvent, str] | None:
        calls.append(event_id)
        if len(calls) == 1:
            # Another request stores the same id after our read and before our insert.
            with session_factory(engine)() as rival:
                rival.execute(evidence_events.insert(), [_row(event)])
                rival.commit()
            return None
        return real_get(self, event_id)

    monkeypatch.setattr(EvidenceRepository, "get", get_then_lose_the_race)
    assert record_evidence(roster, event=event).status is RecordStatus.DUPLICATE
    calls.clear()
    with pytest.raises(Conflict):
        record_evidence(roster, event=other)
    assert count(roster) == 1


def _row(event: EvidenceEvent) -> dict[str, Any]:
    return event_row(event)


def test_concurrent_double_submission_leaves_one_row(roster: Session, engine: Engine) -> None:
    event = f.event()
    barrier = threading.Barrier(2)
    results: list[object] = []

    def submit() -> None:
        with session_factory(engine)() as session:
            barrier.wait(timeout=10)
            try:
                results.append(record_evidence(session, event=event).status)
            except Exception as error:  # reported below, with the other thread's result
                results.append(error)

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(str, results)) == ["duplicate", "recorded"]
    assert count(roster) == 1


def test_list_filters_and_orders_by_occurrence(roster: Session) -> None:
    late = f.event(occurred_at=f.T0 + timedelta(hours=2))
    early = f.event(occurred_at=f.T0)
    note = f.event(
        kind=EvidenceKind.SELF_ASSESSMENT,
        occurred_at=f.T0 + timedelta(hours=1),
        item_id=None,
        correct=None,
        score=0.5,
    )
    other_learner = f.event(learner_id="learner-2")
    for event in (late, early, note, other_learner):
        record_evidence(roster, event=event)
    assert list_evidence(roster, learner_id="learner-1") == [early, note, late]
    assert list_evidence(roster, learner_id="learner-1", kinds=[EvidenceKind.ANSWER]) == [
        early,
        late,
    ]
    since = f.T0 + timedelta(minutes=30)
    assert list_evidence(roster, learner_id="learner-1", since=since) == [note, late]
    assert list_evidence(roster, learner_id="learner-1", until=since) == [early]
    assert list_evidence(roster, learner_id="learner-1", limit=1) == [early]


def test_the_repository_has_no_update_or_delete_path() -> None:
    public = {name for name in dir(EvidenceRepository) if not name.startswith("_")}
    # A project's file is added with its event and read back; neither changes once kept.
    assert public == {"add", "add_file", "file_of", "get", "list_for_learner"}


def test_naive_datetimes_are_refused_by_the_column_type(roster: Session) -> None:
    row = _row(f.event())
    row["occurred_at"] = row["occurred_at"].replace(tzinfo=None)
    with pytest.raises(Exception, match="naive datetime"):
        roster.execute(evidence_events.insert(), [row])
    roster.rollback()
    assert count(roster) == 0
