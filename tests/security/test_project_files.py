"""Project files up to MAX_FILE_BYTES (a phone's photo of the work): kept beside the evidence
event, not inside its payload; downloaded intact; in the learner's export; gone with an erasure;
a request larger than the page takes is refused before it is read. Files handed in before (as
base64 in the payload) still download."""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
import zipfile

from sqlalchemy import func, select

from tests.conftest import DEMO_NOW
from tests.security.conftest import make_client, sign_in
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.submissions import MAX_FILE_BYTES
from zoped.services.evidence import list_evidence, record_evidence
from zoped.services.privacy import erase_learner, export_learner
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import project_files

PROJECT = "/learner/activity/project.recipe-party"
FILE_LINK = re.compile(r'href="(/learner/files/[0-9a-f-]{36})"')
# A PNG's signature and then bytes no compression flattens: a photo's size, not a toy's.
PHOTO = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * ((MAX_FILE_BYTES - 1_000) // 256)


def _files(db) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(project_files)) or 0)


def _hand_in(client, token: str, data: bytes, name: str = "photo.png"):
    form = {"csrf_token": token, "event_id": str(uuid.uuid4()), "text": "Our recipe"}
    return client.post(f"{PROJECT}/submit", data=form, files={"file": (name, data, "image/png")})


def test_a_photo_of_the_work_is_kept_apart_exported_and_erased(fresh_db) -> None:
    assert len(PHOTO) > 3_000_000
    learner = make_client(fresh_db)
    token = sign_in(learner, "dev")
    sent = _hand_in(learner, token, PHOTO)
    assert sent.status_code == 303, sent.text[:300]
    again = _hand_in(learner, token, PHOTO)  # a second hand-in keeps both
    assert again.status_code == 303
    assert _files(fresh_db) == 2

    page = learner.get(sent.headers["location"]).text
    assert "(4 MB)" in page or "(3.9" in page, "the size in words"
    link = FILE_LINK.search(page)
    assert link is not None
    assert learner.get(link.group(1)).content == PHOTO

    with fresh_db.session() as s:
        events = list_evidence(s, learner_id="dev", kinds=[EvidenceKind.ACTIVITY_COMPLETION])
        handed = [e for e in events if "submission" in e.payload]
        record = handed[-1].payload["submission"]["file"]
        assert "base64" not in record, "the payload names the file, it does not hold it"
        assert record["size_bytes"] == len(PHOTO)
        dev = PeopleRepository(s).get_user("dev")
        exported = export_learner(s, actor=dev, learner_id="dev", now=DEMO_NOW)
    with zipfile.ZipFile(io.BytesIO(exported)) as archive:
        data = json.loads(archive.read("data.json"))
    rows = data["tables"]["project_files"]
    assert len(rows) == 2
    assert base64.b64decode(rows[0]["content"]) == PHOTO

    with fresh_db.session() as s:
        admin = PeopleRepository(s).get_user("admin")
        erase_learner(s, actor=admin, learner_id="dev", now=DEMO_NOW)
    assert _files(fresh_db) == 0


def test_too_large_a_request_is_refused_before_it_is_read(fresh_db) -> None:
    learner = make_client(fresh_db)
    token = sign_in(learner, "dev")
    answer = _hand_in(learner, token, PHOTO + b"\x00" * 200_000)
    assert answer.status_code == 413
    assert "too large" in answer.text
    assert _files(fresh_db) == 0
    # Other pages keep the ordinary limit.
    log = learner.post("/learner/log", data={"csrf_token": token, "body": "x" * 3_000_000})
    assert log.status_code == 413


def test_a_file_kept_in_the_payload_before_still_downloads(fresh_db) -> None:
    old = b"hello from 2026\n"
    event = EvidenceEvent(
        id=uuid.uuid4(),
        learner_id="dev",
        kind=EvidenceKind.ACTIVITY_COMPLETION,
        occurred_at=DEMO_NOW,
        recorded_at=DEMO_NOW,
        source=EvidenceSource.WEB,
        activity_id="project.recipe-party",
        payload={
            "submission": {
                "text": "",
                "link": "",
                "file": {
                    "name": "notes.txt",
                    "media_type": "text/plain",
                    "size_bytes": len(old),
                    "base64": base64.b64encode(old).decode("ascii"),
                },
            }
        },
    )
    with fresh_db.session() as s:
        record_evidence(s, event=event)
    learner = make_client(fresh_db)
    sign_in(learner, "dev")
    page = learner.get(PROJECT).text
    assert f"/learner/files/{event.id}" in page
    got = learner.get(f"/learner/files/{event.id}")
    assert got.status_code == 200
    assert got.content == old
