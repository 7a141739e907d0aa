"""Prior-learning claims: the learner asks, a teacher of theirs decides, only accepted counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import DEMO_NOW
from tests.security.conftest import csrf_of, make_client, sign_in
from zoped.domain.people import ClaimStatus
from zoped.engine.mastery import MasteryLevel
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zoped.services import claims
from zoped.services.pathways import learner_state
from zoped.store.repositories import PeopleRepository

LATER = DEMO_NOW + timedelta(hours=1)


def _below_proficient(database) -> str:
    """A competency amara is not yet proficient at (the claim's target)."""
    with database.session() as session:
        amara = PeopleRepository(session).get_user("amara")
        state = learner_state(session, actor=amara, learner_id="amara", now=LATER)
    return next(c.competency_id for c in state.competencies if c.level < MasteryLevel.PROFICIENT)


def _level(database, competency_id: str) -> str:
    with database.session() as session:
        amara = PeopleRepository(session).get_user("amara")
        # An hour on: the pages' clock starts at DEMO_NOW and runs.
        state = learner_state(session, actor=amara, learner_id="amara", now=LATER)
    return state.get(competency_id).level.label


def _submit(database, target: str, what: str = "We did this at my old school") -> str:
    with database.session() as session:
        amara = PeopleRepository(session).get_user("amara")
        claim = claims.submit_claim(
            session,
            actor=amara,
            learner_id="amara",
            competency_ids=[target],
            what=what,
            where="Northside Primary",
            link="https://example.org/portfolio",
            now=DEMO_NOW,
        )
    return claim.id


def test_only_an_accepted_claim_counts(fresh_db) -> None:
    target = _below_proficient(fresh_db)
    before = _level(fresh_db, target)
    claim_id = _submit(fresh_db, target)
    assert _level(fresh_db, target) == before, "a pending claim is not evidence"
    with fresh_db.session() as session:
        rivera = PeopleRepository(session).get_user("rivera")
        decided = claims.decide_claim(
            session, actor=rivera, learner_id="amara", claim_id=claim_id, accept=True, now=DEMO_NOW
        )
    assert decided.status is ClaimStatus.ACCEPTED
    assert _level(fresh_db, target) == "proficient"
    with fresh_db.session() as session, pytest.raises(Conflict):
        claims.decide_claim(
            session, actor=rivera, learner_id="amara", claim_id=claim_id, accept=False,
            note="changed my mind", now=DEMO_NOW,
        )  # fmt: skip


def test_a_rejected_claim_needs_a_reason_and_changes_nothing(fresh_db) -> None:
    target = _below_proficient(fresh_db)
    before = _level(fresh_db, target)
    claim_id = _submit(fresh_db, target)
    with fresh_db.session() as session:
        rivera = PeopleRepository(session).get_user("rivera")
        with pytest.raises(InvalidInput):
            claims.decide_claim(
                session, actor=rivera, learner_id="amara", claim_id=claim_id, accept=False,
                now=DEMO_NOW,
            )  # fmt: skip
        claims.decide_claim(
            session, actor=rivera, learner_id="amara", claim_id=claim_id, accept=False,
            note="Let's check it together in class first", now=DEMO_NOW,
        )  # fmt: skip
    assert _level(fresh_db, target) == before


def test_who_may_claim_and_decide(fresh_db) -> None:
    target = _below_proficient(fresh_db)
    claim_id = _submit(fresh_db, target)
    with fresh_db.session() as session:
        people = PeopleRepository(session)
        amara, okafor = people.get_user("amara"), people.get_user("okafor")
        guardian, rivera = people.get_user("guardian.amara"), people.get_user("rivera")
        with pytest.raises(PermissionDenied):  # a learner does not judge their own claim
            claims.decide_claim(
                session, actor=amara, learner_id="amara", claim_id=claim_id, accept=True,
                now=DEMO_NOW,
            )  # fmt: skip
        with pytest.raises(NotFound):  # not amara's teacher
            claims.decide_claim(
                session, actor=okafor, learner_id="amara", claim_id=claim_id, accept=True,
                now=DEMO_NOW,
            )  # fmt: skip
        with pytest.raises(PermissionDenied):  # a claim is the learner's own word
            claims.submit_claim(
                session, actor=guardian, learner_id="amara", competency_ids=[target],
                what="she knows it", now=DEMO_NOW,
            )  # fmt: skip
        with pytest.raises(PermissionDenied):
            claims.submit_claim(
                session, actor=rivera, learner_id="amara", competency_ids=[target],
                what="she knows it", now=DEMO_NOW,
            )  # fmt: skip
        with pytest.raises(InvalidInput) as bad:
            claims.submit_claim(
                session, actor=amara, learner_id="amara", competency_ids=["nope"], what=" ",
                link="javascript:alert(1)", now=DEMO_NOW,
            )  # fmt: skip
    assert {p.location for p in bad.value.problems} == {"competency_ids", "what", "link"}
    assert _level(fresh_db, target) != "proficient"


def test_the_claim_flow_through_the_pages(fresh_db) -> None:
    target = _below_proficient(fresh_db)
    learner = make_client(fresh_db)
    token = sign_in(learner, "amara")
    sent = learner.post(
        "/learner/claims",
        data={"competency_id": target, "what": "Unit rates in my maths club", "csrf_token": token},
    )
    assert sent.status_code == 303
    profile = learner.get("/learner/profile").text
    assert "waiting for your teacher" in profile
    teacher = make_client(fresh_db)
    sign_in(teacher, "rivera")
    page = teacher.get("/teacher/learners/amara").text
    assert "Unit rates in my maths club" in page
    action = re.search(r'action="(/teacher/learners/amara/claims/[^"]+)"', page)
    assert action is not None
    csrf = csrf_of(teacher, "/teacher/learners/amara")
    decided = teacher.post(
        action.group(1), data={"decision": "accept", "note": "Well done", "csrf_token": csrf}
    )
    assert decided.status_code == 303
    profile = learner.get("/learner/profile").text
    assert "Your teacher said: Well done" in profile
    assert _level(fresh_db, target) == "proficient"
