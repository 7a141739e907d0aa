"""Running a school's accounts on SQLite and PostgreSQL: users one by one and from CSV,
deactivation, one-time reset codes with a forced change, classes and guardian links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain import Role
from zoped.domain.people import Enrollment, GuardianLink, School, SchoolClass, User
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zoped.services import accounts, auth, tokens, users_csv
from zoped.services.roster import (
    create_class,
    create_school,
    create_user,
    enroll_learner,
    link_guardian,
)
from zoped.store import auth_repository
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import audit_log, enrollments, guardian_links, users

NOW = f.T0 + timedelta(days=1)
ADDRESS = "192.0.2.10"


def _admin(session: Session) -> User:
    return PeopleRepository(session).get_user("admin-1")


def _count(session: Session, table: Table) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_an_admin_adds_a_user_who_must_change_the_password_at_first_sign_in(
    roster: Session,
) -> None:
    user = accounts.add_user(
        roster,
        actor=_admin(roster),
        school_id="school-1",
        username="maya",
        display_name="Maya K.",
        role=Role.LEARNER,
        password="first-password",
        now=NOW,
    )
    assert user.must_change_password
    signed_in = auth.authenticate(
        roster, username="maya", password="first-password", client_address=ADDRESS, now=NOW
    )
    assert signed_in.must_change_password
    auth.change_password(
        roster,
        user=signed_in,
        current_password="first-password",
        new_password="my-own-secret",
        now=NOW,
    )
    again = auth.authenticate(
        roster, username="maya", password="my-own-secret", client_address=ADDRESS, now=NOW
    )
    assert not again.must_change_password


def test_bad_new_users_are_refused_with_located_problems_and_nothing_written(
    roster: Session,
) -> None:
    before = _count(roster, users)
    with pytest.raises(InvalidInput) as refused:
        accounts.add_user(
            roster,
            actor=_admin(roster),
            school_id="school-1",
            username="has space",
            display_name="X",
            role=Role.LEARNER,
            password="short",
            now=NOW,
        )
    assert {p.location for p in refused.value.problems} == {"username", "password"}
    with pytest.raises(Conflict):
        accounts.add_user(
            roster,
            actor=_admin(roster),
            school_id="school-1",
            username="learner-1",
            display_name="Twin",
            role=Role.LEARNER,
            now=NOW,
        )
    assert _count(roster, users) == before


def test_only_an_admin_of_the_school_runs_its_accounts(roster: Session) -> None:
    teacher = PeopleRepository(roster).get_user("teacher-1")
    with pytest.raises(PermissionDenied):
        accounts.add_user(
            roster,
            actor=teacher,
            school_id="school-1",
            username="x1",
            display_name="X",
            role=Role.LEARNER,
            now=NOW,
        )
    create_school(roster, school=School(id="school-2", name="Hill"), now=NOW)
    create_user(roster, user=f.user(Role.ADMIN, id="admin-2", school_id="school-2"), now=NOW)
    other_admin = PeopleRepository(roster).get_user("admin-2")
    with pytest.raises(NotFound):  # another school's learner does not exist for this admin
        accounts.issue_reset_code(roster, actor=other_admin, user_id="learner-1", now=NOW)
    with pytest.raises(NotFound):
        accounts.set_user_active(
            roster, actor=other_admin, user_id="learner-1", active=False, now=NOW
        )


def test_a_deactivated_user_cannot_sign_in_or_use_a_session_or_token_until_reactivated(
    roster: Session,
) -> None:
    learner = PeopleRepository(roster).get_user("learner-1")
    password_hash = auth.hash_password("learner-password")
    auth_repository.set_password_hash(roster, user_id="learner-1", password_hash=password_hash)
    roster.commit()
    web = auth.start_web_session(roster, user=learner, now=NOW)
    token = tokens.create_token(roster, user=learner, name="tablet", days=30, now=NOW)
    accounts.set_user_active(
        roster, actor=_admin(roster), user_id="learner-1", active=False, now=NOW
    )
    assert auth.web_session_user(roster, session_id=web) is None
    assert tokens.authenticate_token(roster, value=token.value, now=NOW) is None
    with pytest.raises(auth.AccountDeactivated):
        auth.authenticate(
            roster,
            username="learner-1",
            password="learner-password",
            client_address=ADDRESS,
            now=NOW,
        )
    with pytest.raises(auth.SignInFailed) as wrong:  # a wrong password learns nothing more
        auth.authenticate(
            roster, username="learner-1", password="not-it", client_address=ADDRESS, now=NOW
        )
    assert not isinstance(wrong.value, auth.AccountDeactivated)
    accounts.set_user_active(
        roster, actor=_admin(roster), user_id="learner-1", active=True, now=NOW
    )
    assert auth.authenticate(
        roster, username="learner-1", password="learner-password", client_address=ADDRESS, now=NOW
    ).active
    assert tokens.authenticate_token(roster, value=token.value, now=NOW) is not None
    with pytest.raises(InvalidInput):
        accounts.set_user_active(
            roster, actor=_admin(roster), user_id="admin-1", active=False, now=NOW
        )


def test_a_reset_code_works_once_before_it_expires_and_only_the_newest(roster: Session) -> None:
    admin = _admin(roster)
    first = accounts.issue_reset_code(roster, actor=admin, user_id="learner-1", now=NOW)
    second = accounts.issue_reset_code(roster, actor=admin, user_id="learner-1", now=NOW)
    with pytest.raises(auth.SignInFailed):  # the newer code replaced it
        auth.redeem_reset_code(
            roster,
            username="learner-1",
            code=first.code,
            new_password="a-new-secret",
            client_address=ADDRESS,
            now=NOW,
        )
    with pytest.raises(InvalidInput):  # a bad new password uses nothing up
        auth.redeem_reset_code(
            roster,
            username="learner-1",
            code=second.code,
            new_password="short",
            client_address=ADDRESS,
            now=NOW,
        )
    typed = second.code.lower().replace("-", " ")  # however it is typed
    user = auth.redeem_reset_code(
        roster,
        username="learner-1",
        code=typed,
        new_password="a-new-secret",
        client_address=ADDRESS,
        now=NOW,
    )
    assert user.id == "learner-1"
    assert auth.authenticate(
        roster, username="learner-1", password="a-new-secret", client_address=ADDRESS, now=NOW
    )
    with pytest.raises(auth.SignInFailed):  # used
        auth.redeem_reset_code(
            roster,
            username="learner-1",
            code=second.code,
            new_password="another-secret",
            client_address=ADDRESS,
            now=NOW,
        )
    late = accounts.issue_reset_code(roster, actor=admin, user_id="learner-1", now=NOW)
    with pytest.raises(auth.SignInFailed):  # expired
        auth.redeem_reset_code(
            roster,
            username="learner-1",
            code=late.code,
            new_password="another-secret",
            client_address=ADDRESS,
            now=late.expires_at + timedelta(seconds=1),
        )
    actions = set(roster.scalars(select(audit_log.c.action)))
    assert {"password.reset_issued", "password.reset_used"} <= actions


USERS_CSV = """username,display_name,role,email,password,classes,guardian_of
nora,Nora N.,learner,,,class-1,
omar,Omar O.,learner,omar@example.org,first-pass-1,class-1;class-2,
pat,Pat's guardian,guardian,pat@example.org,,,nora;omar
teach2,Ms. Two,teacher,,,class-2,
"""


def _classes(session: Session) -> None:
    create_class(
        session, school_class=SchoolClass(id="class-1", school_id="school-1", name="5A"), now=NOW
    )
    create_class(
        session, school_class=SchoolClass(id="class-2", school_id="school-1", name="5B"), now=NOW
    )


def test_a_users_csv_creates_enrolls_and_links_and_a_second_run_changes_nothing(
    roster: Session,
) -> None:
    _classes(roster)
    admin = _admin(roster)
    dry = users_csv.import_users_csv(
        roster, actor=admin, school_id="school-1", text=USERS_CSV, dry_run=True, now=NOW
    )
    assert dry.created == ("nora", "omar", "pat", "teach2")
    assert _count(roster, enrollments) == 0  # a dry run writes nothing
    done = users_csv.import_users_csv(
        roster, actor=admin, school_id="school-1", text=USERS_CSV, now=NOW
    )
    assert done.created == dry.created
    assert (done.enrollments, done.guardian_links) == (4, 2)
    assert _count(roster, guardian_links) == 2
    repo = PeopleRepository(roster)
    assert repo.get_class("class-2").teacher_ids == ("teach2",)
    omar = repo.find_user("school-1", username="omar")
    assert omar is not None
    assert omar.must_change_password
    again = users_csv.import_users_csv(
        roster,
        actor=admin,
        school_id="school-1",
        text=USERS_CSV.replace("first-pass-1", ""),
        now=NOW,
    )
    assert again.created == ()
    assert again.updated == ()
    assert (again.enrollments, again.guardian_links) == (0, 0)


def test_a_broken_users_csv_names_every_problem_and_writes_nothing(roster: Session) -> None:
    _classes(roster)
    broken = (
        "username,display_name,role,colour\n"
        "ok1,Fine,learner,red\n"
        "bad name,X,learner,\n"
        "ok2,,wizard,\n"
        "ok1,Again,learner,\n"
        "learner-1,Clash,teacher,\n"
    )
    before = _count(roster, users)
    with pytest.raises(InvalidInput) as refused:
        users_csv.import_users_csv(
            roster, actor=_admin(roster), school_id="school-1", text=broken, now=NOW
        )
    located = {p.location for p in refused.value.problems}
    assert located == {
        "line 1",
        "line 3 column username",
        "line 4 column display_name",
        "line 4 column role",
        "line 5 column username",
        "line 6 column role",
    }
    assert _count(roster, users) == before


def test_classes_get_teachers_and_lose_learners_and_guardians_are_unlinked(roster: Session) -> None:
    _classes(roster)
    admin = _admin(roster)
    edited = accounts.edit_class(
        roster, actor=admin, class_id="class-1", name="5A maths", teacher_ids=["teacher-1"], now=NOW
    )
    assert PeopleRepository(roster).get_class("class-1") == edited
    with pytest.raises(InvalidInput):
        accounts.edit_class(
            roster, actor=admin, class_id="class-1", name="5A", teacher_ids=["learner-1"], now=NOW
        )
    enrollment = Enrollment(class_id="class-1", learner_id="learner-1")
    enroll_learner(roster, actor=admin, enrollment=enrollment, now=NOW)
    assert accounts.unenroll_learner(roster, actor=admin, enrollment=enrollment, now=NOW)
    assert not accounts.unenroll_learner(roster, actor=admin, enrollment=enrollment, now=NOW)
    link = GuardianLink(guardian_id="guardian-1", learner_id="learner-1")
    link_guardian(roster, actor=admin, link=link, now=NOW)
    assert accounts.unlink_guardian(roster, actor=admin, link=link, now=NOW)
    assert _count(roster, guardian_links) == 0
