"""The storage side of issue 16's protections, on SQLite and PostgreSQL: server-side sessions,
all-or-nothing evidence batches, throttling counters, and export and erasure of a deeply
nested stored document."""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain import Role
from zoped.domain.evidence import EvidenceEvent
from zoped.errors import Conflict
from zoped.services import auth, privacy, transaction
from zoped.services.evidence import list_evidence, record_evidence, record_evidence_batch
from zoped.store import auth_repository, mappers
from zoped.store.tables import evidence_events

NOW = f.T0 + timedelta(days=1)


def test_a_session_ends_on_the_server(roster: Session) -> None:
    learner = f.user(Role.LEARNER, id="learner-1")
    first = auth.start_web_session(roster, user=learner, now=NOW)
    second = auth.start_web_session(roster, user=learner, now=NOW)
    assert auth.web_session_user(roster, session_id=first) == learner
    auth.end_web_session(roster, session_id=first, now=NOW)
    assert auth.web_session_user(roster, session_id=first) is None
    assert auth.web_session_user(roster, session_id=second) == learner
    assert auth.web_session_user(roster, session_id="made-up") is None


def test_a_batch_with_a_conflict_keeps_nothing(roster: Session) -> None:
    taken = f.event(learner_id="learner-1")
    record_evidence(roster, event=taken)
    fresh = f.event(learner_id="learner-1")
    clash = EvidenceEvent.restore(**{**taken.__dict__, "hints_used": taken.hints_used + 1})
    with pytest.raises(Conflict):
        record_evidence_batch(roster, events=[fresh, clash])
    ids = {e.id for e in list_evidence(roster, learner_id="learner-1")}
    assert ids == {taken.id}


def test_throttling_counts_the_pair_and_never_made_up_names(roster: Session) -> None:
    with transaction(roster):
        auth_repository.set_password_hash(
            roster, user_id="learner-1", password_hash=auth.hash_password("right one")
        )
    for i in range(3 * auth.ADDRESS_SOFT_FAILURES):
        with pytest.raises(auth.SignInFailed):
            auth.authenticate(
                roster, username=f"nobody{i}", password="x", client_address="10.9.9.9", now=NOW
            )
    for i in range(auth.PAIR_MAX_FAILURES):
        with pytest.raises(auth.SignInFailed):
            auth.authenticate(
                roster, username="learner-1", password="wrong", client_address="10.0.0.7",
                now=NOW + timedelta(minutes=2 * i),
            )  # fmt: skip
    later = NOW + timedelta(minutes=2 * auth.PAIR_MAX_FAILURES)
    with pytest.raises(auth.SignInLocked):
        auth.authenticate(
            roster, username="learner-1", password="right one", client_address="10.0.0.7",
            now=later,
        )  # fmt: skip
    user = auth.authenticate(
        roster, username="learner-1", password="right one", client_address="10.9.9.9", now=later
    )
    assert user.id == "learner-1"


def test_a_deep_stored_document_survives_export_and_erasure(roster: Session) -> None:
    value: object = "x"
    for level in range(300):
        value = {"a": value} if level % 2 else [value]
    deep = EvidenceEvent.restore(**{**f.event(learner_id="learner-2").__dict__,
                                    "payload": {"v": value}, "id": uuid.uuid4()})  # fmt: skip
    with transaction(roster):
        roster.execute(evidence_events.insert(), [mappers.event_row(deep)])
    admin = f.user(Role.ADMIN, id="admin-1")
    data = privacy.export_learner(roster, actor=admin, learner_id="learner-2", now=NOW)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert b'"v"' in archive.read("data.json")
    privacy.erase_learner(roster, actor=admin, learner_id="learner-1", now=NOW)
    privacy.erase_learner(roster, actor=admin, learner_id="learner-2", now=NOW)
