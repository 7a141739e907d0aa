"""Roster: people and their relations round-trip; clashes change nothing."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests import factories as f
from zoped.domain import Enrollment, GuardianLink, Role
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from zoped.services import roster as svc
from zoped.store.repositories import PeopleRepository
from zoped.store.tables import audit_log, users

NOW = f.T0


def test_users_and_classes_round_trip(roster: Session) -> None:
    repo = PeopleRepository(roster)
    teacher2 = f.user(Role.TEACHER, id="teacher-2", email="t2@example.org", username=None)
    svc.create_user(roster, actor=repo.get_user("admin-1"), user=teacher2, now=NOW)
    cls = f.school_class(teacher_ids=["teacher-2", "teacher-1"])
    svc.create_class(roster, school_class=cls, now=NOW)
    roster.expunge_all()
    assert repo.get_user("teacher-2") == teacher2
    assert repo.get_class("class-1") == cls
    assert repo.get_school("school-1") == f.school()
    assert repo.find_user("school-1", username="learner-2") == f.user(id="learner-2")
    assert [u.id for u in repo.list_users("school-1", role=Role.LEARNER)] == [
        "learner-1",
        "learner-2",
    ]


def test_a_taken_username_is_a_conflict_and_writes_nothing(roster: Session) -> None:
    before = roster.scalar(select(func.count()).select_from(users))
    audits = roster.scalar(select(func.count()).select_from(audit_log))
    with pytest.raises(Conflict):
        svc.create_user(roster, user=f.user(id="learner-9", username="learner-1"), now=NOW)
    assert roster.scalar(select(func.count()).select_from(users)) == before
    assert roster.scalar(select(func.count()).select_from(audit_log)) == audits
    # The same username in another school is fine.
    svc.create_school(roster, school=f.school(id="school-2", name="Other"), now=NOW)
    svc.create_user(
        roster, user=f.user(id="learner-9", username="learner-1", school_id="school-2"), now=NOW
    )


def test_enrollment_and_guardian_links_are_idempotent(roster: Session) -> None:
    svc.create_class(roster, school_class=f.school_class(teacher_ids=["teacher-1"]), now=NOW)
    enrollment = Enrollment(class_id="class-1", learner_id="learner-1")
    assert svc.enroll_learner(roster, enrollment=enrollment, now=NOW) is True
    assert svc.enroll_learner(roster, enrollment=enrollment, now=NOW) is False
    link = GuardianLink(guardian_id="guardian-1", learner_id="learner-1")
    assert svc.link_guardian(roster, link=link, now=NOW) is True
    assert svc.link_guardian(roster, link=link, now=NOW) is False
    repo = PeopleRepository(roster)
    assert repo.learners_in_class("class-1") == ["learner-1"]
    assert repo.learners_of_guardian("guardian-1") == ["learner-1"]


def test_roles_are_checked(roster: Session) -> None:
    svc.create_class(roster, school_class=f.school_class(), now=NOW)
    with pytest.raises(InvalidInput, match="teacher"):
        svc.enroll_learner(roster, enrollment=Enrollment("class-1", "teacher-1"), now=NOW)
    with pytest.raises(PermissionDenied):
        svc.enroll_learner(
            roster,
            actor=f.user(Role.TEACHER),
            enrollment=Enrollment("class-1", "learner-1"),
            now=NOW,
        )
    with pytest.raises(InvalidInput, match="guardian"):
        svc.link_guardian(roster, link=GuardianLink("learner-2", "learner-1"), now=NOW)
    with pytest.raises(NotFound):
        svc.create_class(
            roster, school_class=f.school_class(id="c2", teacher_ids=["ghost"]), now=NOW
        )
    assert PeopleRepository(roster).learners_in_class("class-1") == []


def test_a_profile_round_trips_and_is_replaced(roster: Session) -> None:
    assert svc.get_learner_profile(roster, learner_id="learner-1") is None
    profile = f.profile()
    assert profile.prior_learning
    svc.save_learner_profile(roster, actor=f.user(id="learner-1"), profile=profile, now=NOW)
    roster.expunge_all()
    # A learner's save cannot write prior-learning claims (only services.claims does) ...
    unclaimed = dataclasses.replace(profile, prior_learning=())
    assert svc.get_learner_profile(roster, learner_id="learner-1") == unclaimed
    # ... the system (an import) can.
    svc.save_learner_profile(roster, profile=profile, now=NOW)
    assert svc.get_learner_profile(roster, learner_id="learner-1") == profile
    changed = f.profile(interests=["chess"], prior_learning=[])
    svc.save_learner_profile(roster, profile=changed, now=NOW)
    assert svc.get_learner_profile(roster, learner_id="learner-1") == changed
    with pytest.raises(PermissionDenied):
        svc.save_learner_profile(roster, actor=f.user(id="learner-2"), profile=f.profile(), now=NOW)
