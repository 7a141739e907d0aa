"""Erasure requests on SQLite and PostgreSQL: who may ask and cancel, the grace period, one
request per learner, and a due erasure that leaves nothing of the learner in any table,
including the failed sign-ins, sessions, tokens, reset codes and roster records that no user
column names."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import ColumnElement, Table, func, insert, select
from sqlalchemy.orm import Session

from tests import factories as f
from tests.store.conftest import db_url, engine, roster, session  # noqa: F401 (fixtures)
from zoped.domain import Role
from zoped.domain.erasure import DEFAULT_GRACE_DAYS, ErasureStatus
from zoped.domain.people import Enrollment, GuardianLink, School, SchoolClass, User
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zoped.services import auth, erasure, privacy, tokens, transaction
from zoped.services.evidence import record_evidence
from zoped.services.learning_log import add_entry
from zoped.services.policy import ALLOWED, Action, Relation
from zoped.services.roster import (
    create_class,
    create_school,
    create_user,
    enroll_learner,
    link_guardian,
)
from zoped.store.tables import (
    api_tokens,
    audit_log,
    erasure_requests,
    evidence_events,
    log_entries,
    password_resets,
    roster_records,
    signin_failures,
    users,
    web_sessions,
)

NOW = f.T0 + timedelta(days=1)
GRACE = timedelta(days=DEFAULT_GRACE_DAYS)


@dataclass
class People:
    learner: User
    other: User
    teacher: User
    guardian: User
    admin: User
    unlinked_guardian: User
    other_admin: User


@pytest.fixture
def people(roster: Session) -> People:  # noqa: F811
    """school-1: learner-1 in teacher-1's class, linked to guardian-1; learner-2 in no class;
    guardian-2 linked to nobody. school-2 has admin-2 and learner-9."""
    s = roster
    create_user(s, user=f.user(Role.GUARDIAN, id="guardian-2"), now=f.T0)
    create_class(s, school_class=SchoolClass("class-1", "school-1", "5B", ("teacher-1",)), now=f.T0)
    enroll_learner(s, enrollment=Enrollment("class-1", "learner-1"), now=f.T0)
    link_guardian(s, link=GuardianLink("guardian-1", "learner-1"), now=f.T0)
    create_school(s, school=School("school-2", "Vale School"), now=f.T0)
    create_user(s, user=f.user(Role.ADMIN, id="admin-2", school_id="school-2"), now=f.T0)
    create_user(s, user=f.user(Role.LEARNER, id="learner-9", school_id="school-2"), now=f.T0)

    def u(role: Role, uid: str, school: str = "school-1") -> User:
        return f.user(role, id=uid, school_id=school)

    return People(
        learner=u(Role.LEARNER, "learner-1"),
        other=u(Role.LEARNER, "learner-2"),
        teacher=u(Role.TEACHER, "teacher-1"),
        guardian=u(Role.GUARDIAN, "guardian-1"),
        admin=u(Role.ADMIN, "admin-1"),
        unlinked_guardian=u(Role.GUARDIAN, "guardian-2"),
        other_admin=u(Role.ADMIN, "admin-2", "school-2"),
    )


def _count(s: Session, table: Table, *where: ColumnElement[bool]) -> int:
    return int(s.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def _audited(s: Session, action: str) -> int:
    return _count(s, audit_log, audit_log.c.action == action)


def test_the_policy_says_who_asks_and_who_cancels() -> None:
    asks = {rel for rel, allowed in ALLOWED.items() if Action.REQUEST_ERASURE in allowed}
    cancels = {rel for rel, allowed in ALLOWED.items() if Action.CANCEL_ERASURE in allowed}
    erases_at_once = {rel for rel, allowed in ALLOWED.items() if Action.ERASE in allowed}
    assert asks == {Relation.SELF, Relation.GUARDIAN, Relation.ADMIN}
    assert cancels == set(Relation)
    assert erases_at_once == {Relation.ADMIN}


def test_a_request_is_pending_and_shown_to_everyone_concerned(
    roster: Session,  # noqa: F811
    people: People,
) -> None:
    made = erasure.request_erasure(roster, actor=people.learner, learner_id="learner-1", now=NOW)
    assert made.status is ErasureStatus.PENDING
    assert made.due_at == NOW + GRACE
    assert made.requested_by == "learner-1"
    assert _audited(roster, "request_erasure") == 1
    for viewer in (people.learner, people.guardian, people.teacher, people.admin):
        shown = erasure.pending_erasures(roster, actor=viewer)
        assert [n.request.id for n in shown] == [made.id], viewer.id
        assert shown[0].learner_name == "Learner One"
        assert shown[0].requested_by_role == "learner"
    for outsider in (people.other, people.unlinked_guardian, people.other_admin):
        assert erasure.pending_erasures(roster, actor=outsider) == [], outsider.id
    # Nothing is erased before the grace period is over.
    assert erasure.erase_due(roster, now=NOW + GRACE - timedelta(microseconds=1)).done == []
    assert _count(roster, users, users.c.id == "learner-1") == 1


def test_asking_twice_keeps_one_request_and_its_date(
    roster: Session,  # noqa: F811
    people: People,
) -> None:
    first = erasure.request_erasure(roster, actor=people.guardian, learner_id="learner-1", now=NOW)
    later = NOW + timedelta(days=3)
    again = erasure.request_erasure(roster, actor=people.admin, learner_id="learner-1", now=later)
    assert again.id == first.id
    assert again.due_at == first.due_at
    assert again.requested_by == "guardian-1"
    pending = erasure_requests.c.status == "pending"
    assert _count(roster, erasure_requests, pending) == 1


@pytest.mark.parametrize("who", ["learner", "guardian", "teacher", "admin"])
def test_each_allowed_role_cancels(
    roster: Session,  # noqa: F811
    people: People,
    who: str,
) -> None:
    erasure.request_erasure(roster, actor=people.admin, learner_id="learner-1", now=NOW)
    actor = getattr(people, who)
    cancelled = erasure.cancel_erasure(
        roster, actor=actor, learner_id="learner-1", now=NOW + timedelta(days=1)
    )
    assert cancelled.status is ErasureStatus.CANCELLED
    assert cancelled.closed_by == actor.id
    assert _audited(roster, "cancel_erasure") == 1
    assert erasure.pending_erasures(roster, actor=people.admin) == []
    history = erasure.erasure_history(roster, actor=people.admin)
    assert [(n.request.status, n.closed_by_name) for n in history] == [
        (ErasureStatus.CANCELLED, actor.display_name)
    ]
    assert erasure.erase_due(roster, now=NOW + 2 * GRACE).done == []
    assert _count(roster, users, users.c.id == "learner-1") == 1
    with pytest.raises(Conflict):
        erasure.cancel_erasure(roster, actor=actor, learner_id="learner-1", now=NOW)
    # A new request starts a new grace period.
    renewed = erasure.request_erasure(
        roster, actor=people.learner, learner_id="learner-1", now=NOW + timedelta(days=2)
    )
    assert renewed.due_at == NOW + timedelta(days=2) + GRACE


def test_others_are_refused_and_nothing_is_written(
    roster: Session,  # noqa: F811
    people: People,
) -> None:
    out_of_reach = [
        (people.other, "learner-1"),  # another learner
        (people.unlinked_guardian, "learner-1"),  # not their child
        (people.other_admin, "learner-1"),  # another school
        (people.teacher, "learner-2"),  # not in their class
        (people.admin, "learner-9"),  # another school's learner
        (people.admin, "no-such-learner"),
    ]
    for actor, learner_id in out_of_reach:
        with pytest.raises(NotFound):
            erasure.request_erasure(roster, actor=actor, learner_id=learner_id, now=NOW)
    with pytest.raises(PermissionDenied):  # in reach, but a teacher does not ask
        erasure.request_erasure(roster, actor=people.teacher, learner_id="learner-1", now=NOW)
    with pytest.raises(PermissionDenied):  # erasing at once is an admin's only
        privacy.erase_learner(roster, actor=people.learner, learner_id="learner-1", now=NOW)
    assert _count(roster, erasure_requests) == 0
    assert _audited(roster, "request_erasure") == 0
    erasure.request_erasure(roster, actor=people.learner, learner_id="learner-1", now=NOW)
    for actor, learner_id in out_of_reach[:3]:
        with pytest.raises(NotFound):
            erasure.cancel_erasure(roster, actor=actor, learner_id=learner_id, now=NOW)
    assert len(erasure.pending_erasures(roster, actor=people.admin)) == 1
    with pytest.raises(PermissionDenied):
        erasure.erasure_history(roster, actor=people.teacher)
    with pytest.raises(PermissionDenied):
        erasure.find_learners(roster, actor=people.guardian, query="learner")


def test_the_username_confirms_a_request(
    roster: Session,  # noqa: F811
    people: People,
) -> None:
    with pytest.raises(InvalidInput, match="username"):
        erasure.request_erasure(
            roster, actor=people.learner, learner_id="learner-1", now=NOW, confirm="learner-2"
        )
    assert _count(roster, erasure_requests) == 0
    made = erasure.request_erasure(
        roster, actor=people.learner, learner_id="learner-1", now=NOW, confirm=" learner-1 "
    )
    assert made.pending


@pytest.mark.parametrize("days", [0, 3, 30])
def test_the_grace_period_is_the_setting(
    roster: Session,  # noqa: F811
    people: People,
    days: int,
) -> None:
    made = erasure.request_erasure(
        roster, actor=people.admin, learner_id="learner-1", now=NOW, grace_days=days
    )
    assert made.due_at == NOW + timedelta(days=days)
    if days:
        early = erasure.erase_due(roster, now=made.due_at - timedelta(seconds=1))
        assert early.done == []
        assert _count(roster, users, users.c.id == "learner-1") == 1
    result = erasure.erase_due(roster, now=made.due_at)
    assert [d.request_id for d in result.done] == [made.id]
    assert _count(roster, users, users.c.id == "learner-1") == 0
    assert erasure.erase_due(roster, now=made.due_at + GRACE).done == []  # once only


def test_a_negative_grace_period_is_refused(
    roster: Session,  # noqa: F811
    people: People,
) -> None:
    with pytest.raises(InvalidInput, match="grace"):
        erasure.request_erasure(
            roster, actor=people.admin, learner_id="learner-1", now=NOW, grace_days=-1
        )
    assert _count(roster, erasure_requests) == 0


def _leave_traces(s: Session, learner: User) -> None:
    """Rows about learner-1 in the tables no user column of the erasure's walk finds, and in
    some it does; learner-2 gets the same, to be kept."""
    with transaction(s):
        s.execute(
            users.update()
            .where(users.c.id.in_(["learner-1", "learner-2"]))
            .values(password_hash=auth.hash_password("right one"))
        )
    # With the school given (account, pair and address rows) and, for learner-1, without it
    # (two schools here: an unknown account, so account and pair rows only).
    # The pair rows of an attempt are found by its instant: the attempts are a minute apart.
    for minute, (username, school) in enumerate(
        [("learner-1", "school-1"), ("learner-2", "school-1"), ("learner-1", None)]
    ):
        with pytest.raises(auth.SignInFailed):
            auth.authenticate(
                s, username=username, password="wrong", client_address="10.0.0.7",
                school_id=school, now=NOW + timedelta(minutes=minute),
            )  # fmt: skip
    auth.start_web_session(s, user=learner, now=NOW)
    auth.start_web_session(s, user=f.user(Role.LEARNER, id="learner-2"), now=NOW)
    other = f.user(Role.LEARNER, id="learner-2")
    for who in (learner, other):
        tokens.create_token(s, user=who, name="my tablet", now=NOW)
        record_evidence(s, event=f.event(learner_id=who.id))
        add_entry(s, actor=who, learner_id=who.id, body="I liked fractions", now=NOW)
    with transaction(s):
        s.execute(
            insert(password_resets),
            [
                {
                    "code_digest": uuid.uuid4().hex,
                    "user_id": "learner-1",
                    "created_by": "admin-1",
                    "created_at": NOW,
                    "expires_at": NOW + timedelta(days=1),
                }
            ],
        )
        rows = [
            ("user", "u-1", "learner-1", {"givenName": "Learner", "sourcedId": "u-1"}),
            ("user", "u-2", "learner-2", {"givenName": "Other", "sourcedId": "u-2"}),
            ("enrollment", "e-1", None, {"userSourcedId": "u-1", "classSourcedId": "c-1"}),
            ("enrollment", "e-2", None, {"userSourcedId": "u-2", "classSourcedId": "c-1"}),
            ("class", "c-1", "class-1", {"title": "5B", "sourcedId": "c-1"}),
        ]
        s.execute(
            insert(roster_records),
            [
                {
                    "school_id": "school-1",
                    "kind": kind,
                    "sourced_id": sourced,
                    "local_id": local,
                    "status": "active",
                    "date_last_modified": None,
                    "data": data,
                    "imported_at": NOW,
                }
                for kind, sourced, local, data in rows
            ],
        )


def test_a_due_erasure_leaves_nothing_in_any_table(
    roster: Session,  # noqa: F811
    people: People,
) -> None:
    s = roster
    _leave_traces(s, people.learner)
    failures_before = _count(s, signin_failures)
    assert failures_before == 8
    made = erasure.request_erasure(s, actor=people.guardian, learner_id="learner-1", now=NOW)
    result = erasure.erase_due(s, now=NOW + GRACE + timedelta(hours=1))
    assert result.failed == []
    assert result.checkpointed
    [done] = result.done
    assert done.request_id == made.id
    removed = done.rows_by_table
    for name in ("users", "evidence_events", "log_entries", "web_sessions", "api_tokens"):
        assert removed.get(name, 0) >= 1, name
    assert removed["signin_failures"] == 4  # learner-1's account and pair rows
    assert removed["roster_records"] == 2  # the user record and its enrollment
    assert removed["password_resets"] == 1
    learner_rows = [
        (users, users.c.id),
        (evidence_events, evidence_events.c.learner_id),
        (log_entries, log_entries.c.learner_id),
        (web_sessions, web_sessions.c.user_id),
        (api_tokens, api_tokens.c.user_id),
        (password_resets, password_resets.c.user_id),
        (roster_records, roster_records.c.local_id),
    ]
    for table, column in learner_rows:
        assert _count(s, table, column == "learner-1") == 0, table.name
        if table is not password_resets:
            assert _count(s, table, column == "learner-2") >= 1, table.name  # kept
    assert _count(s, roster_records, roster_records.c.sourced_id == "e-2") == 1
    assert _count(s, roster_records, roster_records.c.sourced_id == "c-1") == 1
    assert _count(s, signin_failures) == failures_before - 4
    kept_scopes = sorted(s.scalars(select(signin_failures.c.scope)))
    assert kept_scopes == ["account", "address", "address", "pair"]  # learner-2's; addresses
    # The request outlives the learner, under the pseudonym the audit log keeps.
    request = s.execute(select(erasure_requests)).mappings().one()
    assert request["status"] == "done"
    assert request["learner_id"] == done.pseudonym
    assert request["closed_at"] is not None
    erased = select(audit_log).where(audit_log.c.action == "erase")
    entry = s.execute(erased.where(audit_log.c.subject_type == "learner")).mappings().one()
    assert entry["subject_id"] == done.pseudonym
    notice = s.execute(erased.where(audit_log.c.subject_type == "school")).mappings().one()
    assert (notice["subject_id"], notice["details"]["learner"]) == ("school-1", done.pseudonym)
    assert entry["actor_id"] is None  # the system
    assert entry["details"]["by"] == "the system"
    assert entry["details"]["requested_by"] == "guardian"
    assert "learner-1" not in str(entry["details"])
    history = erasure.erasure_history(s, actor=people.admin)
    assert [(n.request.learner_id, n.learner_name) for n in history] == [(done.pseudonym, None)]
    # The throttling counters forget the account.
    for school in ("school-1", ""):
        digest = auth._keys(school, "learner-1", None)[0].digest
        assert _count(s, signin_failures, signin_failures.c.key_digest == digest) == 0


def test_a_learner_who_asked_is_named_by_their_pseudonym(
    roster: Session,  # noqa: F811
    people: People,
) -> None:
    erasure.request_erasure(roster, actor=people.learner, learner_id="learner-1", now=NOW)
    [done] = erasure.erase_due(roster, now=NOW + GRACE).done
    request = roster.execute(select(erasure_requests)).mappings().one()
    assert request["learner_id"] == done.pseudonym
    assert request["requested_by"] == done.pseudonym


def test_an_erasure_that_fails_stays_pending_and_the_others_go_ahead(
    roster: Session,  # noqa: F811
    people: People,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    erasure.request_erasure(roster, actor=people.learner, learner_id="learner-1", now=NOW)
    erasure.request_erasure(roster, actor=people.admin, learner_id="learner-2", now=NOW)
    real = privacy.erase_for_request

    def flaky(s: Session, *, learner_id: str, **kwargs: Any) -> privacy.ErasureReport:
        if learner_id == "learner-1":
            raise RuntimeError("disk full")
        return real(s, learner_id=learner_id, **kwargs)

    monkeypatch.setattr(privacy, "erase_for_request", flaky)
    result = erasure.erase_due(roster, now=NOW + GRACE)
    assert len(result.done) == 1
    assert len(result.failed) == 1
    assert _count(roster, users, users.c.id == "learner-1") == 1
    assert _count(roster, users, users.c.id == "learner-2") == 0
    [still] = erasure.pending_erasures(roster, actor=people.admin)
    assert still.request.learner_id == "learner-1"


def test_an_erasure_at_once_closes_the_pending_request(
    roster: Session,  # noqa: F811
    people: People,
) -> None:
    erasure.request_erasure(roster, actor=people.learner, learner_id="learner-1", now=NOW)
    report = privacy.erase_learner(roster, actor=people.admin, learner_id="learner-1", now=NOW)
    request = roster.execute(select(erasure_requests)).mappings().one()
    assert (request["status"], request["learner_id"]) == ("done", report.pseudonym)
    assert erasure.erase_due(roster, now=NOW + GRACE).done == []
