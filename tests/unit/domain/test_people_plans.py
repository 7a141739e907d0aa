"""People, profiles, plans and log entries refuse what makes no sense."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from zoped.domain.content import Modality
from zoped.domain.people import (
    AccessibilityNeeds,
    ClaimStatus,
    LearnerProfile,
    PriorLearningClaim,
    Role,
    User,
)
from zoped.domain.plans import LearningPlan, LogEntry, PlanComment, PlanGoal
from zoped.errors import InvalidInput

NOW = datetime(2024, 9, 2, tzinfo=UTC)
NAIVE = datetime(2024, 9, 2)  # noqa: DTZ001 - the naive value under test


def test_user_needs_a_way_to_sign_in() -> None:
    assert User("u1", "s1", Role("teacher"), "Ms Lee", username="lee").role is Role.TEACHER
    with pytest.raises(InvalidInput) as error:
        User("", "s1", Role.LEARNER, " ", email="not-an-email")
    assert {p.location for p in error.value.problems} == {"id", "display_name", "email"}


def test_profile_defaults_are_private_and_plain() -> None:
    profile = LearnerProfile(
        # Lists on purpose: the constructor coerces them to tuples at runtime.
        "ada",
        "Ada",
        interests=["music"],  # type: ignore[arg-type]
        preferred_modalities=[Modality.GAME],  # type: ignore[arg-type]
    )
    assert profile.interests == ("music",)
    assert profile.accessibility == AccessibilityNeeds()
    assert profile.languages == ("en",)


def test_prior_learning_claims() -> None:
    claim = PriorLearningClaim("c1", "ada", ("frac.unit",), "I did this at my last school", NOW)
    assert claim.status is ClaimStatus.PENDING
    with pytest.raises(InvalidInput) as error:
        PriorLearningClaim("c2", "ada", (), " ", NAIVE, status=ClaimStatus.ACCEPTED)
    assert {p.location for p in error.value.problems} == {
        "submitted_at",
        "competency_ids",
        "evidence",
        "decided_by",
    }


def test_plan_rules() -> None:
    goal = PlanGoal("g1", "Add fractions", ("frac.add",), target_date=date(2024, 12, 1))
    plan = LearningPlan("p1", "ada", goals=(goal,), strategies=("15 minutes a day",))
    assert plan.version == 1
    with pytest.raises(InvalidInput) as error:
        LearningPlan("p1", "ada", goals=(goal, goal), version=0, updated_at=NAIVE)
    assert {p.location for p in error.value.problems} == {"version", "goals[1].id", "updated_at"}


def test_log_entries_are_private_by_default() -> None:
    entry = LogEntry("l1", "ada", "Fractions clicked today.", NOW)
    assert entry.shared is False
    with pytest.raises(InvalidInput):
        LogEntry("l2", "ada", "text", NAIVE)
    with pytest.raises(InvalidInput):
        PlanComment("c1", "p1", "lee", "", NOW, plan_version=1)
