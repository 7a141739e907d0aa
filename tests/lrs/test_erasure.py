"""Erasing a learner removes what the school's LRS holds about them (statements naming their
zoped id as an account, related ones included, and their documents), and nothing else."""

from __future__ import annotations

import json

from sqlalchemy import select

from tests.conftest import DEMO_NOW
from tests.lrs.conftest import basic
from tests.security.conftest import fresh_db, make_client, seeded_path  # noqa: F401
from zoped.services import privacy, tokens
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import lrs_documents, lrs_statement_refs, lrs_statements


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
