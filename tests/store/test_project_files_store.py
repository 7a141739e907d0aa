"""A project's file is kept beside its event on both databases: the bytes come back intact, and
deleting the learner deletes it."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.submissions import SubmittedFile
from zoped.services import transaction
from zoped.store.evidence_log import EvidenceRepository
from zoped.store.tables import project_files, users

DATA = bytes(range(256)) * 4_000  # every byte value, a megabyte


def test_a_file_round_trips_and_goes_with_its_learner(roster: Session) -> None:
    event = EvidenceEvent(
        id=uuid.uuid4(),
        learner_id="learner-1",
        kind=EvidenceKind.ACTIVITY_COMPLETION,
        occurred_at=f.T0,
        recorded_at=f.T0,
        source=EvidenceSource.WEB,
        activity_id="a1",
        payload={"submission": {"text": "", "link": ""}},
    )
    file = SubmittedFile("work.txt", "text/plain", DATA)
    with transaction(roster):
        repo = EvidenceRepository(roster)
        repo.add(event)
        repo.add_file(event, file)
    with transaction(roster):
        back = EvidenceRepository(roster).file_of(event.id)
        assert EvidenceRepository(roster).file_of(uuid.uuid4()) is None
    assert back == file
    with transaction(roster):
        roster.execute(delete(users).where(users.c.id == "learner-1"))
    with transaction(roster):
        left = roster.scalar(select(func.count()).select_from(project_files))
    assert left == 0
