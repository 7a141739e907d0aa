"""Property tests of the authorization policy on random rosters: the answer to "may this actor
read that learner?" always agrees with "which learners may this actor list?"."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zoped.domain.people import Enrollment, GuardianLink, Role, School, SchoolClass, User
from zoped.errors import NotFound, PermissionDenied
from zoped.services.policy import (
    ALLOWED,
    Action,
    may_access,
    relation,
    require_learner_access,
    visible_learner_ids,
)
from zoped.services.system import open_database
from zoped.store.repositories import PeopleRepository

AT = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    db = open_database(f"sqlite:///{tmp_path_factory.mktemp('policy') / 'p.db'}")
    yield db
    db.dispose()


rosters = st.fixed_dictionaries(
    {
        "learners": st.integers(1, 5),
        "teachers": st.integers(1, 3),
        "guardians": st.integers(0, 3),
        "classes": st.integers(1, 3),
        "teaches": st.sets(st.tuples(st.integers(0, 2), st.integers(0, 2)), max_size=6),
        "enrolled": st.sets(st.tuples(st.integers(0, 4), st.integers(0, 2)), max_size=10),
        "links": st.sets(st.tuples(st.integers(0, 2), st.integers(0, 4)), max_size=5),
    }
)


def _build(session, roster) -> list[User]:
    """Two schools with the same roster shape; returns every user."""
    people = PeopleRepository(session)
    everyone: list[User] = []
    for _ in range(2):
        prefix = uuid.uuid4().hex[:8]
        school = School(f"s-{prefix}", "School")
        people.add_school(school, at=AT)

        def user(role: Role, i: int, prefix: str = prefix, school: School = school) -> User:
            made = User(
                f"{prefix}-{role}-{i}", school.id, role, f"{role} {i}", username=f"{role}{i}"
            )
            people.add_user(made, at=AT)
            everyone.append(made)
            return made

        learners = [user(Role.LEARNER, i) for i in range(roster["learners"])]
        teachers = [user(Role.TEACHER, i) for i in range(roster["teachers"])]
        guardians = [user(Role.GUARDIAN, i) for i in range(roster["guardians"])]
        user(Role.ADMIN, 0)
        class_ids = [f"{prefix}-c{i}" for i in range(roster["classes"])]
        for c, cid in enumerate(class_ids):
            tids = tuple(t.id for t_i, t in enumerate(teachers) if (t_i, c) in roster["teaches"])
            people.add_class(SchoolClass(cid, school.id, cid, tids), at=AT)
        for li, ci in roster["enrolled"]:
            if li < len(learners) and ci < len(class_ids):
                people.add_enrollment(Enrollment(class_ids[ci], learners[li].id), at=AT)
        for gi, li in roster["links"]:
            if gi < len(guardians) and li < len(learners):
                people.add_guardian_link(GuardianLink(guardians[gi].id, learners[li].id), at=AT)
    session.commit()
    return everyone


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(roster=rosters, action=st.sampled_from(list(Action)))
def test_may_access_agrees_with_visible_learner_ids(database, roster, action) -> None:
    with database.session() as session:
        everyone = _build(session, roster)
        learners = [u for u in everyone if u.role is Role.LEARNER]
        for actor in everyone:
            visible = set(visible_learner_ids(session, actor=actor))
            assert all(v.startswith(actor.id.split("-")[0]) for v in visible)  # own school
            for learner in learners:
                reachable = learner.id in visible
                assert (
                    may_access(session, actor=actor, learner_id=learner.id, action=Action.READ)
                    == reachable
                )
                rel = relation(session, actor=actor, learner_id=learner.id)
                try:
                    require_learner_access(
                        session, actor=actor, learner_id=learner.id, action=action, now=AT
                    )
                    outcome = "allowed"
                except NotFound:
                    outcome = "hidden"
                except PermissionDenied:
                    outcome = "denied"
                if not reachable:
                    assert outcome == "hidden"
                else:
                    assert rel is not None
                    assert outcome == ("allowed" if action in ALLOWED[rel] else "denied")
                if actor.role is Role.GUARDIAN and outcome == "allowed":
                    assert action in {
                        Action.READ,
                        Action.EXPORT,
                        Action.REQUEST_ERASURE,
                        Action.CANCEL_ERASURE,
                    }
                if action is Action.ERASE and outcome == "allowed":
                    assert actor.role is Role.ADMIN  # nobody else erases at once
                if action is Action.REQUEST_ERASURE and outcome == "allowed":
                    assert actor.role is not Role.TEACHER
        session.rollback()
