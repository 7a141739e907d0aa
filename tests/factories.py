"""Builders of valid domain objects and small interaction logs for tests, built when called.

Every domain builder takes keyword overrides, so a test states only what it cares about.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from zoped.domain import (
    AccessibilityNeeds,
    Activity,
    ClaimStatus,
    Competency,
    Course,
    Criterion,
    EvidenceEvent,
    EvidenceKind,
    Framework,
    Item,
    ItemType,
    LearnerProfile,
    Modality,
    Option,
    PriorLearningClaim,
    Role,
    Rubric,
    RubricLevel,
    School,
    SchoolClass,
    User,
)
from zoped.engine.base import InteractionLog

T0 = datetime(2026, 9, 1, 8, 0, tzinfo=UTC)


def school(**overrides: Any) -> School:
    return School(**{"id": "school-1", "name": "Hill School", **overrides})


def user(role: Role = Role.LEARNER, **overrides: Any) -> User:
    uid = overrides.pop("id", f"{role}-1")
    fields = {
        "id": uid,
        "school_id": "school-1",
        "role": role,
        "display_name": f"{role.title()} One",
        "username": uid,
        **overrides,
    }
    return User(**fields)


def school_class(**overrides: Any) -> SchoolClass:
    return SchoolClass(**{"id": "class-1", "school_id": "school-1", "name": "5B", **overrides})


def competencies(prefix: str = "") -> list[Competency]:
    """A small framework: a group with three children, a chain of prerequisites."""
    p = prefix
    return [
        Competency(id=f"{p}frac", title="Fractions"),
        Competency(
            id=f"{p}frac.unit",
            title="Unit fractions",
            description="1/b as one of b equal parts.",
            parent=f"{p}frac",
            standard_code="3.NF.A.1",
            grade_band="3-4",
        ),
        Competency(
            id=f"{p}frac.equiv",
            title="Equivalent fractions",
            parent=f"{p}frac",
            prerequisites=(f"{p}frac.unit",),
        ),
        Competency(
            id=f"{p}frac.add",
            title="Add fractions",
            parent=f"{p}frac",
            # Listed out of file order on purpose: the store must keep this order.
            prerequisites=(f"{p}frac.equiv", f"{p}frac.unit"),
        ),
    ]


def items(prefix: str = "") -> list[Item]:
    """One item of every type; one of them multi-skill."""
    p = prefix
    return [
        Item(
            id=f"{p}q.single",
            type=ItemType.SINGLE_CHOICE,
            stem="What fraction is shaded?",
            competencies=(f"{p}frac.unit",),
            options=(
                Option("a", "1/4", correct=True, feedback="Yes."),
                Option("b", "1/3", feedback="Count all parts."),
            ),
            hints=("Count the parts.", "One of four."),
            explanation="Four parts, one shaded.",
            difficulty=0.2,
        ),
        Item(
            id=f"{p}q.multi",
            type=ItemType.MULTIPLE_CHOICE,
            stem="Which equal 1/2?",
            competencies=(f"{p}frac.equiv", f"{p}frac.unit"),
            options=(Option("a", "2/4", True), Option("b", "3/6", True), Option("c", "2/3")),
        ),
        Item(
            id=f"{p}q.num",
            type=ItemType.NUMERIC,
            stem="1/4 as a decimal?",
            competencies=(f"{p}frac.unit",),
            answer=0.25,
            tolerance=0.001,
            feedback_correct="Right.",
            feedback_incorrect="Divide 1 by 4.",
        ),
        Item(
            id=f"{p}q.text",
            type=ItemType.SHORT_TEXT,
            stem="Name 1/4 in words.",
            competencies=(f"{p}frac.unit",),
            accepted=("one quarter", "a quarter"),
        ),
        Item(
            id=f"{p}q.order",
            type=ItemType.ORDERING,
            stem="Smallest first.",
            competencies=(f"{p}frac.equiv",),
            options=(Option("a", "1/8"), Option("b", "1/4"), Option("c", "1/2")),
        ),
    ]


def rubric(prefix: str = "") -> Rubric:
    p = prefix
    return Rubric(
        id=f"{p}rubric.recipe",
        title="Scale a recipe",
        criteria=(
            Criterion(
                id="accuracy",
                title="Accurate scaling",
                competencies=(f"{p}frac.add",),
                levels=(
                    RubricLevel("Beginning", 1, "Some errors."),
                    RubricLevel("Secure", 2.5, "All right."),
                ),
            ),
        ),
    )


def activities(prefix: str = "") -> list[Activity]:
    p = prefix
    return [
        Activity(
            id=f"{p}act.strips",
            title="Fold paper strips",
            modality=Modality.HANDS_ON,
            competencies=(f"{p}frac.unit",),
            minutes=15,
            interests=("art", "crafts"),
            body="Fold a strip into four.",
        ),
        Activity(
            id=f"{p}act.recipe",
            title="Scale a recipe",
            modality=Modality.PROJECT,
            competencies=(f"{p}frac.add", f"{p}frac.equiv"),
            minutes=60,
            link="https://example.org/recipe",
            language="fr",
            rubric_id=f"{p}rubric.recipe",
        ),
    ]


def course(**overrides: Any) -> Course:
    """A valid course using every kind of content. ``prefix`` renames every content id."""
    prefix = overrides.pop("prefix", "")
    fields: dict[str, Any] = {
        "id": "fractions",
        "title": "Fractions",
        "description": "Parts of a whole.",
        "language": "en",
        "grade_band": "3-5",
        "framework": Framework.build(competencies(prefix)),
        "activities": activities(prefix),
        "items": items(prefix),
        "rubrics": [rubric(prefix)],
    }
    fields.update(overrides)
    return Course(**fields)


def event(**overrides: Any) -> EvidenceEvent:
    """An answer event by ``learner-1``; ``id`` is random unless given."""
    fields: dict[str, Any] = {
        "id": uuid.uuid4(),
        "learner_id": "learner-1",
        "kind": EvidenceKind.ANSWER,
        "occurred_at": T0,
        "recorded_at": T0 + timedelta(seconds=2),
        "item_id": "q.single",
        "competency_ids": ["frac.unit"],
        "correct": True,
        "score": 1.0,
        "duration_s": 12.5,
        "hints_used": 1,
        "payload": {"response": "a", "nested": {"list": [1, 2.5, None]}},
    }
    fields.update(overrides)
    return EvidenceEvent(**fields)


def profile(**overrides: Any) -> LearnerProfile:
    fields: dict[str, Any] = {
        "learner_id": "learner-1",
        "display_name": "Ada",
        "interests": ["music", "football"],
        "preferred_modalities": [Modality.GAME, Modality.VIDEO],
        "goals": ["Bake for my family"],
        "strengths": ["patient"],
        "needs": ["short sessions"],
        "accessibility": AccessibilityNeeds(extra_time=True, reduced_motion=True),
        "languages": ["fr", "en"],
        "prior_learning": [
            PriorLearningClaim(
                id="claim-1",
                learner_id="learner-1",
                competency_ids=("frac.unit",),
                evidence="Did this last year.",
                submitted_at=T0,
                status=ClaimStatus.ACCEPTED,
                decided_by="teacher-1",
                decided_at=T0 + timedelta(days=1),
                decision_note="Checked the workbook.",
            )
        ],
    }
    fields.update(overrides)
    return LearnerProfile(**fields)


# Interaction logs for the ability models (Elo, IRT, logistic) and their properties.


def sig(z: float) -> float:
    """The logistic function."""
    return 1.0 / (1.0 + math.exp(-z))


def make_log(
    learner: list[int],
    item: list[int],
    skills: Sequence[tuple[int, ...]],
    correct: list[int],
    n_items: int | None = None,
    n_skills: int | None = None,
) -> InteractionLog:
    """A log from parallel lists, one row per answer, in the order given."""
    ptr = np.concatenate(([0], np.cumsum([len(s) for s in skills]))).astype(np.int64)
    idx = np.array([k for s in skills for k in s], dtype=np.int64)
    n_l = max(learner) + 1
    return InteractionLog(
        learner=np.array(learner, np.int64),
        item=np.array(item, np.int64),
        skill_ptr=ptr,
        skill_idx=idx,
        correct=np.array(correct, np.int8),
        order=np.arange(len(learner), dtype=np.float64),
        learner_ids=np.arange(n_l),
        skill_ids=np.arange(n_skills or int(idx.max()) + 1),
        item_ids=np.arange(n_items or max(item) + 1),
    )


def synthetic(
    seed: int, n_learners: int = 60, n_items: int = 12, n_skills: int = 4, length: int = 25
) -> tuple[InteractionLog, np.ndarray]:
    """Learners of normal ability answering items of normal difficulty; some 2-skill items.

    The items are the same for every seed (their own RNG); the seed draws the learners.
    """
    b = np.random.default_rng(1234).normal(size=n_items)
    rng = np.random.default_rng(seed)
    theta = rng.normal(size=n_learners)
    item_skills = [
        (i % n_skills,) if i % 3 else (i % n_skills, (i + 1) % n_skills) for i in range(n_items)
    ]
    learner: list[int] = []
    item: list[int] = []
    skills: list[tuple[int, ...]] = []
    correct: list[int] = []
    for u in range(n_learners):
        for it in rng.integers(0, n_items, size=length):
            learner.append(u)
            item.append(int(it))
            skills.append(item_skills[it])
            correct.append(int(rng.random() < sig(theta[u] - b[it])))
    return make_log(learner, item, skills, correct, n_items, n_skills), b
