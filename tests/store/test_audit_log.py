"""The audit log on SQLite and PostgreSQL: one row per access, the admin's filtered view of
their own school, the CSV export read in keyset pages, and the retention prune."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain import Role, School
from zoped.errors import InvalidInput, PermissionDenied
from zoped.services.audit import (
    AuditFilter,
    audit_actions,
    audit_csv,
    iter_audit,
    list_audit,
    prune_audit,
    read_audit_filter,
    record_access,
    safe_cell,
)
from zoped.services.policy import Action, require_learner_access, require_learners_access
from zoped.services.roster import create_school, create_user
from zoped.store.db import session_factory
from zoped.store.tables import audit_log

NOW = f.T0 + timedelta(days=1)
DAY_0 = date(2026, 9, 2)
ADMIN = f.user(Role.ADMIN, id="admin-1")


def _rows(session: Session, **where: object) -> list[tuple[object, ...]]:
    stmt = select(
        audit_log.c.actor_id, audit_log.c.action, audit_log.c.subject_type, audit_log.c.subject_id
    )
    for column, value in where.items():
        stmt = stmt.where(audit_log.c[column] == value)
    return [tuple(row) for row in session.execute(stmt.order_by(audit_log.c.id))]


# --- one row per access --------------------------------------------------------------------


def test_the_same_access_at_the_same_instant_is_one_row(roster: Session) -> None:
    for _ in range(3):  # as three services of one page would
        require_learner_access(
            roster, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=NOW
        )
    roster.commit()
    require_learner_access(roster, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=NOW)
    roster.commit()
    assert _rows(roster, action="read") == [("admin-1", "read", "learner", "learner-1")]
    # A later instant (the next request) is another access.
    later = NOW + timedelta(seconds=1)
    require_learner_access(
        roster, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=later
    )
    roster.commit()
    assert len(_rows(roster, action="read")) == 2


def test_only_identical_entries_are_merged(roster: Session) -> None:
    require_learner_access(roster, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=NOW)
    require_learner_access(
        roster, actor=ADMIN, learner_id="learner-1", action=Action.WRITE, now=NOW
    )
    require_learners_access(
        roster,
        actor=ADMIN,
        learner_ids=["learner-1", "learner-2"],
        action=Action.READ,
        now=NOW,
    )
    for count in (1, 2):
        record_access(
            roster,
            actor=ADMIN,
            action="list",
            subject_type="learner_list",
            subject_id=None,
            details={"count": count},
            now=NOW,
        )
    roster.commit()
    assert _rows(roster, actor_id="admin-1") == [
        ("admin-1", "read", "learner", "learner-1"),
        ("admin-1", "write", "learner", "learner-1"),
        ("admin-1", "read", "learner", "learner-2"),
        ("admin-1", "list", "learner_list", None),
        ("admin-1", "list", "learner_list", None),
    ]


def test_an_access_rolled_back_is_written_again(roster: Session) -> None:
    require_learner_access(roster, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=NOW)
    roster.rollback()  # a service failed after the check: its transaction took the row with it
    assert _rows(roster, action="read") == []
    require_learner_access(roster, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=NOW)
    roster.commit()
    assert _rows(roster, action="read") == [("admin-1", "read", "learner", "learner-1")]


def test_an_access_never_committed_is_written_again(roster: Session) -> None:
    require_learner_access(roster, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=NOW)
    roster.close()
    require_learner_access(roster, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=NOW)
    roster.commit()
    assert _rows(roster, action="read") == [("admin-1", "read", "learner", "learner-1")]


def test_another_session_at_the_same_instant_is_another_access(
    roster: Session, engine: Engine
) -> None:
    require_learner_access(roster, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=NOW)
    roster.commit()
    with session_factory(engine)() as other:
        require_learner_access(
            other, actor=ADMIN, learner_id="learner-1", action=Action.READ, now=NOW
        )
        other.commit()
    assert len(_rows(roster, action="read")) == 2


# --- the admin's view: filters and schools -------------------------------------------------


@pytest.fixture
def two_schools(roster: Session) -> Session:
    """school-1 (roster's) and school-2, each with an admin and a learner; accesses over four
    days, several at the same instant."""
    create_school(roster, school=School("school-2", "Vale School"), now=f.T0)
    for role, uid in [(Role.ADMIN, "admin-2"), (Role.LEARNER, "learner-9")]:
        create_user(roster, user=f.user(role, id=uid, school_id="school-2"), now=f.T0)
    teacher = f.user(Role.TEACHER, id="teacher-1")
    admin_2 = f.user(Role.ADMIN, id="admin-2", school_id="school-2")
    for day in range(4):  # the last second of four days, UTC
        at = datetime.combine(DAY_0 + timedelta(days=day), datetime.max.time(), tzinfo=UTC)
        for learner in ("learner-1", "learner-2"):
            require_learner_access(
                roster, actor=ADMIN, learner_id=learner, action=Action.READ, now=at
            )
        record_access(
            roster, actor=teacher, action="sign_in", subject_type="user",
            subject_id="teacher-1", now=at,
        )  # fmt: skip
        require_learner_access(
            roster, actor=admin_2, learner_id="learner-9", action=Action.READ, now=at
        )
        roster.commit()
    return roster


def test_an_admin_sees_only_their_schools_entries(two_schools: Session) -> None:
    school_1 = {"school-1", "admin-1", "teacher-1", "learner-1", "learner-2", "guardian-1"}
    school_2 = {"school-2", "admin-2", "learner-9"}
    views = {}
    admin_2 = f.user(Role.ADMIN, id="admin-2", school_id="school-2")
    for admin, school in ((ADMIN, "school-1"), (admin_2, "school-2")):
        found = list_audit(two_schools, actor=admin, limit=1000)
        assert found.total == len(found.entries)
        views[school] = {e.actor_id for e in found.entries} | {e.subject_id for e in found.entries}
        # Newest first, by time then id.
        keys = [(e.at, e.id) for e in found.entries]
        assert keys == sorted(keys, reverse=True)
    assert school_1 <= views["school-1"] | {"guardian-1"}
    assert views["school-1"] & school_2 == set()
    assert school_2 <= views["school-2"]
    assert views["school-2"] & school_1 == set()


def test_filters_select_in_sql(two_schools: Session) -> None:
    def total(**filters: object) -> int:
        found = list_audit(two_schools, actor=ADMIN, filters=AuditFilter(**filters), limit=1000)  # type: ignore[arg-type]
        assert found.total == len(found.entries)
        return found.total

    assert total(actor="teacher-1") == 4  # their sign-ins (being created was someone else's)
    assert total(actor="teacher-1", action="sign_in") == 4
    assert total(actor="admin-1", action="read") == 8
    assert total(learner="learner-2", action="read") == 4
    assert total(learner="learner-9") == 0  # another school's learner
    assert total(actor="admin-2") == 0  # another school's admin
    assert total(actor="nobody") == 0
    day = DAY_0 + timedelta(days=1)
    # Whole days in UTC, both ends included (the accesses are at 23:59).
    assert total(action="read", since=day, until=day) == 2
    assert total(action="read", since=day) == 6
    assert total(action="read", until=day) == 4
    assert total(action="read", since=date.max) == 0
    assert total(action="read", until=date.max) == 8


def test_usernames_name_the_admins_own_school(two_schools: Session) -> None:
    create_user(
        two_schools,
        user=f.user(Role.LEARNER, id="learner-7", username="sam", display_name="Sam"),
        now=f.T0,
    )
    create_user(
        two_schools,
        user=f.user(Role.LEARNER, id="learner-8", school_id="school-2", username="sam"),
        now=f.T0,
    )
    require_learners_access(
        two_schools,
        actor=ADMIN,
        learner_ids=["learner-7"],
        action=Action.READ,
        now=NOW,
    )
    two_schools.commit()
    found = list_audit(two_schools, actor=ADMIN, filters=AuditFilter(learner="sam", action="read"))
    assert [(e.subject_id, e.subject_name) for e in found.entries] == [("learner-7", "Sam")]


def test_the_actions_that_occur_are_the_choices(two_schools: Session) -> None:
    actions = audit_actions(two_schools, actor=ADMIN)
    assert {"read", "sign_in", "user.create", "school.create"} <= set(actions)
    assert actions == sorted(actions)


def test_only_an_admin_reads_the_log(two_schools: Session) -> None:
    teacher = f.user(Role.TEACHER, id="teacher-1")
    with pytest.raises(PermissionDenied):
        list_audit(two_schools, actor=teacher)
    with pytest.raises(PermissionDenied):
        list(audit_csv(two_schools, actor=teacher, filters=AuditFilter()))


def test_an_export_reads_in_keyset_pages_and_misses_nothing(two_schools: Session) -> None:
    everything = list_audit(two_schools, actor=ADMIN, limit=1000).entries
    for batch in (1, 2, 3, 7, 1000):
        streamed = list(
            iter_audit(two_schools, actor=ADMIN, filters=AuditFilter(), batch_size=batch)
        )
        assert [e.id for e in streamed] == [e.id for e in everything], batch


def test_the_csv_has_a_header_iso_times_and_no_formulas(two_schools: Session) -> None:
    create_user(
        two_schools,
        user=f.user(Role.TEACHER, id="teacher-5", display_name='=HYPERLINK("http://x")'),
        now=f.T0,
    )
    record_access(
        two_schools,
        actor=f.user(Role.TEACHER, id="teacher-5"),
        action="@sum",
        subject_type="user",
        subject_id="learner-1",
        details={"note": "+1"},
        now=NOW,
    )
    two_schools.commit()
    chunks = list(audit_csv(two_schools, actor=ADMIN, filters=AuditFilter(), batch_size=4))
    assert len(chunks) > 3, "one chunk per batch, not one string"
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0] == [
        "id", "at", "actor_id", "actor_name", "actor_role", "action",
        "subject_type", "subject_id", "subject_name", "details",
    ]  # fmt: skip
    assert len(rows) - 1 == list_audit(two_schools, actor=ADMIN).total
    formula = next(r for r in rows if r[2] == "teacher-5")
    assert formula[3] == '\'=HYPERLINK("http://x")'
    assert formula[5] == "'@sum"
    assert formula[1] == NOW.isoformat()
    assert formula[9] == '{"note":"+1"}'
    for row in rows[1:]:
        assert not row[3].startswith(("=", "+", "-", "@")), row
        assert row[1].endswith("+00:00")


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
     ("a=b", "a=b"), ("", "")],
)  # fmt: skip
def test_safe_cell(cell: str, shown: str) -> None:
    assert safe_cell(cell) == shown


# --- reading a filter ------------------------------------------------------------------------


def test_a_filter_is_read_from_text() -> None:
    found = read_audit_filter(actor=" rivera ", learner="", action="read", since="2026-11-01")
    assert found == AuditFilter("rivera", None, "read", date(2026, 11, 1), None)
    assert found.params() == {"who": "rivera", "action": "read", "from": "2026-11-01"}
    assert read_audit_filter() == AuditFilter()


@pytest.mark.parametrize(
    ("since", "until", "where", "says"),
    [
        ("2026-13-01", None, "from", "is not a date"),
        ("yesterday", None, "from", "YYYY-MM-DD"),
        (None, "2026-02-30", "to", "is not a date"),
        ("20261101", None, "from", "is not a date"),
        ("2026-11-02", "2026-11-01", "to", "before the start date"),
    ],
)
def test_a_bad_date_is_located(since: str | None, until: str | None, where: str, says: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        read_audit_filter(since=since, until=until)
    assert [p.location for p in caught.value.problems] == [where]
    assert says in caught.value.problems[0].message


# --- retention -------------------------------------------------------------------------------


def test_prune_deletes_what_is_older_than_the_retention_and_says_so(roster: Session) -> None:
    def at(days_ago: int) -> None:
        record_access(
            roster, actor=ADMIN, action="read", subject_type="learner",
            subject_id=f"learner-{days_ago}", now=NOW - timedelta(days=days_ago),
        )  # fmt: skip
        roster.commit()

    for days_ago in (800, 731, 729, 1):
        at(days_ago)
    before = roster.scalar(select(func.count()).select_from(audit_log)) or 0
    done = prune_audit(roster, retention_days=730, now=NOW)
    assert done.pruned == 2
    assert done.cutoff == NOW - timedelta(days=730)
    left = {r[3] for r in _rows(roster, action="read")}
    assert left == {"learner-729", "learner-1"}
    assert roster.scalar(select(func.count()).select_from(audit_log)) == before - 2 + 1
    note = roster.execute(
        select(audit_log.c.actor_id, audit_log.c.details).where(audit_log.c.action == "audit.prune")
    ).one()
    assert note.actor_id is None
    assert note.details["pruned"] == 2
    assert note.details["retention_days"] == 730
    # The admin sees that it happened.
    assert "audit.prune" in {e.action for e in list_audit(roster, actor=ADMIN).entries}


def test_a_retention_of_zero_keeps_everything(roster: Session) -> None:
    before = roster.scalar(select(func.count()).select_from(audit_log))
    assert prune_audit(roster, retention_days=0, now=NOW).pruned == 0
    assert roster.scalar(select(func.count()).select_from(audit_log)) == before
    with pytest.raises(InvalidInput):
        prune_audit(roster, retention_days=-1, now=NOW)
    assert roster.scalar(select(func.count()).select_from(audit_log)) == before
