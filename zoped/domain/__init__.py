"""The domain: plain frozen dataclasses and the rules about them; standard library only, no I/O.

The most used names are re-exported here; each module documents its own.
"""

from zoped.domain.content import (
    Activity,
    Criterion,
    Item,
    ItemType,
    Modality,
    Option,
    Rubric,
    RubricLevel,
    score,
)
from zoped.domain.course import Course, course_problems
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.framework import Competency, Framework, framework_problems
from zoped.domain.grading import Grade, grade
from zoped.domain.people import (
    AccessibilityNeeds,
    ClaimStatus,
    Enrollment,
    GuardianLink,
    LearnerProfile,
    PriorLearningClaim,
    Role,
    School,
    SchoolClass,
    User,
)
from zoped.domain.plans import LearningPlan, LogEntry, PlanComment, PlanGoal

__all__ = [
    "AccessibilityNeeds",
    "Activity",
    "ClaimStatus",
    "Competency",
    "Course",
    "Criterion",
    "Enrollment",
    "EvidenceEvent",
    "EvidenceKind",
    "EvidenceSource",
    "Framework",
    "Grade",
    "GuardianLink",
    "Item",
    "ItemType",
    "LearnerProfile",
    "LearningPlan",
    "LogEntry",
    "Modality",
    "Option",
    "PlanComment",
    "PlanGoal",
    "PriorLearningClaim",
    "Role",
    "Rubric",
    "RubricLevel",
    "School",
    "SchoolClass",
    "User",
    "course_problems",
    "framework_problems",
    "grade",
    "score",
]
