"""Evidence events: every bad field at once, naive datetimes refused, fingerprints."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.errors import InvalidInput

T0 = datetime(2024, 9, 2, 10, 0, tzinfo=UTC)
EVENT_ID = uuid.UUID("12345678-1234-5678-1234-567812345678")


def answer(**changes: object) -> EvidenceEvent:
    base = EvidenceEvent(
        id=EVENT_ID,
        learner_id="ada",
        kind=EvidenceKind.ANSWER,
        occurred_at=T0,
        recorded_at=T0 + timedelta(seconds=2),
        item_id="q.unit.001",
        correct=True,
        duration_s=12.5,
        payload={"response": "a"},
    )
    return replace(base, **changes) if changes else base  # type: ignore[arg-type]


def test_a_valid_answer_round_trips_through_a_dict() -> None:
    event = answer()
    assert EvidenceEvent.from_dict(event.to_dict()) == event


def test_every_bad_field_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as error:
        answer(
            learner_id="",
            occurred_at=datetime(2024, 1, 1),  # noqa: DTZ001 - the naive value under test
            score=1.5,
            duration_s=-1.0,
            hints_used=-2,
            item_id=None,
            correct=None,
            payload={"bad": float("nan")},
            supersedes=EVENT_ID,
        )
    assert {p.location for p in error.value.problems} == {
        "learner_id",
        "occurred_at",
        "score",
        "duration_s",
        "hints_used",
        "item_id",
        "correct",
        "payload",
        "supersedes",
    }


def test_a_teacher_override_needs_who_why_and_a_score() -> None:
    with pytest.raises(InvalidInput) as error:
        EvidenceEvent(
            id=uuid.uuid4(),
            learner_id="ada",
            kind=EvidenceKind.TEACHER_OVERRIDE,
            occurred_at=T0,
            recorded_at=T0,
        )
    assert {p.location for p in error.value.problems} == {
        "competency_ids",
        "score",
        "actor_id",
        "note",
    }


def test_only_answers_are_right_or_wrong() -> None:
    with pytest.raises(InvalidInput, match="correct"):
        EvidenceEvent(
            id=uuid.uuid4(),
            learner_id="ada",
            kind=EvidenceKind.ACTIVITY_COMPLETION,
            occurred_at=T0,
            recorded_at=T0,
            activity_id="act",
            correct=True,
        )


def test_fingerprint_ignores_recording_time_and_time_zone_spelling() -> None:
    event = answer()
    later = answer(recorded_at=T0 + timedelta(days=1))
    other_zone = answer(occurred_at=T0.astimezone(timezone(timedelta(hours=2))))
    assert event.content_fingerprint() == later.content_fingerprint()
    assert event.content_fingerprint() == other_zone.content_fingerprint()


@pytest.mark.parametrize(
    "change",
    [
        {"correct": False},
        {"occurred_at": T0 + timedelta(seconds=1)},
        {"payload": {"response": "b"}},
        {"source": EvidenceSource.API},
        {"hints_used": 1},
    ],
)
def test_fingerprint_changes_with_content(change: dict[str, object]) -> None:
    assert answer(**change).content_fingerprint() != answer().content_fingerprint()


def test_from_dict_reports_unreadable_data() -> None:
    data = answer().to_dict()
    data["occurred_at"] = "yesterday"
    with pytest.raises(InvalidInput):
        EvidenceEvent.from_dict(data)
