"""Erasing a learner removes what the school's LRS holds about them (statements naming their
zoped id as an account, related ones included, the attachment contents only those statements
listed, and their documents), and nothing else."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy import select

from tests.conftest import DEMO_NOW
from tests.lrs.conftest import Lrs, basic
from tests.lrs.test_attachments import BOUNDARY, attachment, multipart
from tests.security.conftest import fresh_db, make_client, seeded_path  # noqa: F401
from zoped.services import privacy, tokens, transaction
from zoped.store import lrs_repository
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import lrs_attachments, lrs_documents, lrs_statement_refs, lrs_statements


def agent(name: str) -> dict[str, object]:
    return {"objectType": "Agent", "account": {"homePage": "https://sims.example", "name": name}}


def about(actor: dict[str, object], **more: object) -> dict[str, object]:
    return {
        "actor": actor,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "http://sims.example/levers"},
        **more,
    }


def test_erasure_removes_the_learners_lrs_records(fresh_db) -> None:  # noqa: F811
    with fresh_db.session() as session:
        issued = tokens.create_lrs_credentials(session, name="sims", now=DEMO_NOW)
    client = make_client(fresh_db)
    headers = basic(issued)
    sent = [
        about(agent("amara")),
        about(agent("ben"), context={"instructor": agent("amara")}),
        about(agent("ben")),
    ]
    ids = client.post("/xapi/statements", json=sent, headers=headers).json()
    state = client.put(
        "/xapi/activities/state",
        params={
            "activityId": "http://sims.example/levers",
            "agent": json.dumps(agent("amara")),
            "stateId": "progress",
        },
        json={"level": 3},
        headers=headers,
    )
    assert state.status_code == 204
    with fresh_db.session() as session:
        admin = PeopleRepository(session).get_user("admin")
        report = privacy.erase_learner(session, actor=admin, learner_id="amara", now=DEMO_NOW)
    assert report.rows_by_table["lrs_statements"] == 2
    with fresh_db.session() as session:
        left = list(session.scalars(select(lrs_statements.c.id)))
        keys = list(session.scalars(select(lrs_statement_refs.c.key)))
        documents = list(session.scalars(select(lrs_documents.c.agent_key)))
    assert left == [ids[2]], "ben's own statement stays"
    assert not [key for key in keys if "amara" in key]
    assert documents == []


def _with_attachments(actor: dict[str, object], *contents: bytes) -> tuple[Any, list[Any]]:
    sent = about(actor, attachments=[attachment(c) for c in contents])
    parts = [("text/plain", c, hashlib.sha256(c).hexdigest()) for c in contents]
    return sent, parts


def _kept(database: Any, school: str) -> set[bytes]:
    with database.session() as session:
        found = session.scalars(
            select(lrs_attachments.c.content).where(lrs_attachments.c.school_id == school)
        )
        return {bytes(c) for c in found}


def test_erasure_deletes_the_attachments_only_the_learners_statements_listed(lrs: Lrs) -> None:
    hers, shared = b"amara's essay", b"the class worksheet"
    for actor, contents, school in (
        (agent("amara"), (hers, shared), lrs.north),
        (agent("ben"), (shared,), lrs.north),
        (agent("chen"), (hers,), lrs.south),
    ):
        sent, parts = _with_attachments(actor, *contents)
        headers = {**school, "Content-Type": f'multipart/mixed; boundary="{BOUNDARY}"'}
        posted = lrs.client.post(
            "/xapi/statements", content=multipart(sent, parts), headers=headers
        )
        assert posted.status_code == 200, posted.text
    assert _kept(lrs.database, "north") == {hers, shared}
    with lrs.database.session() as session, transaction(session):
        removed = lrs_repository.delete_account_records(
            session, school_id="north", account_name="amara"
        )
    assert (removed.statements, removed.attachments) == (1, 1)
    assert _kept(lrs.database, "north") == {shared}, "ben's statement still lists the worksheet"
    assert _kept(lrs.database, "south") == {hers}, "another school's copy stays"
    with lrs.database.session() as session, transaction(session):
        removed = lrs_repository.delete_account_records(
            session, school_id="north", account_name="ben"
        )
    assert (removed.statements, removed.attachments) == (1, 1)
    assert _kept(lrs.database, "north") == set()


def test_the_erasure_report_counts_the_learners_attachments(fresh_db) -> None:  # noqa: F811
    with fresh_db.session() as session:
        issued = tokens.create_lrs_credentials(session, name="sims", now=DEMO_NOW)
    client = make_client(fresh_db)
    sent, parts = _with_attachments(agent("amara"), b"amara's notes")
    headers = {**basic(issued), "Content-Type": f'multipart/mixed; boundary="{BOUNDARY}"'}
    posted = client.post("/xapi/statements", content=multipart(sent, parts), headers=headers)
    assert posted.status_code == 200, posted.text
    with fresh_db.session() as session:
        admin = PeopleRepository(session).get_user("admin")
        report = privacy.erase_learner(session, actor=admin, learner_id="amara", now=DEMO_NOW)
    assert report.rows_by_table["lrs_attachments"] == 1
    with fresh_db.session() as session:
        assert list(session.scalars(select(lrs_attachments.c.sha2))) == []
