"""Row <-> domain mappers: the only place rows become domain objects and back.

One section per aggregate (course content, people, evidence, plans). Each ``*_row`` function
returns the column values of one table row as a dict; each ``*_from_row`` function takes a row
mapping (plus the rows of its link tables) and returns the domain object. JSON documents go
through :mod:`zoped.store.jsondocs` so that they carry and honour a schema version.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from zoped.domain.content import (
    Activity,
    Blank,
    Criterion,
    Item,
    ItemType,
    Modality,
    Option,
    Rubric,
    RubricLevel,
)
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.framework import Competency
from zoped.domain.people import (
    AccessibilityNeeds,
    ClaimStatus,
    LearnerProfile,
    PriorLearningClaim,
    Role,
    School,
    SchoolClass,
    User,
)
from zoped.domain.plans import LearningPlan, LogEntry, PlanComment, PlanGoal
from zoped.store import jsondocs

Row = Mapping[Any, Any]  # a SQLAlchemy RowMapping or a plain dict

# --- course content -----------------------------------------------------------------------


def competency_row(competency: Competency, *, course_id: str, position: int) -> dict[str, Any]:
    """The ``competencies`` row of a competency (prerequisites go to their own table)."""
    return {
        "id": competency.id,
        "course_id": course_id,
        "position": position,
        "title": competency.title,
        "description": competency.description,
        "parent_id": competency.parent,
        "standard_code": competency.standard_code,
        "grade_band": competency.grade_band,
    }


def competency_from_row(row: Row, prerequisites: Sequence[str]) -> Competency:
    """A competency from its row and its prerequisite ids (in file order)."""
    return Competency(
        id=row["id"],
        title=row["title"],
        description=row["description"],
        parent=row["parent_id"],
        prerequisites=tuple(prerequisites),
        standard_code=row["standard_code"],
        grade_band=row["grade_band"],
    )


def activity_row(activity: Activity, *, course_id: str, position: int) -> dict[str, Any]:
    """The ``activities`` row of an activity (competencies go to a link table)."""
    content = {
        "minutes": activity.minutes,
        "interests": list(activity.interests),
        "body": activity.body,
        "link": activity.link,
        "language": activity.language,
    }
    return {
        "id": activity.id,
        "course_id": course_id,
        "position": position,
        "title": activity.title,
        "modality": str(activity.modality),
        "rubric_id": activity.rubric_id,
        "content": jsondocs.dump("activity", content),
    }


def activity_from_row(row: Row, competencies: Sequence[str]) -> Activity:
    """An activity from its row and its competency ids (in file order)."""
    content = jsondocs.load("activity", row["content"])
    return Activity(
        id=row["id"],
        title=row["title"],
        modality=Modality(row["modality"]),
        competencies=tuple(competencies),
        minutes=content["minutes"],
        interests=tuple(content["interests"]),
        body=content["body"],
        link=content["link"],
        language=content["language"],
        rubric_id=row["rubric_id"],
    )


def _option_doc(option: Option) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": option.id,
        "text": option.text,
        "correct": option.correct,
        "feedback": option.feedback,
    }
    if option.match:
        doc["match"] = option.match
    return doc


def item_row(item: Item, *, course_id: str, position: int) -> dict[str, Any]:
    """The ``items`` row of an item (competencies go to a link table)."""
    content = {
        "stem": item.stem,
        "options": [_option_doc(o) for o in item.options],
        "answer": item.answer,
        "tolerance": item.tolerance,
        "accepted": list(item.accepted),
        "hints": list(item.hints),
        "explanation": item.explanation,
        "feedback_correct": item.feedback_correct,
        "feedback_incorrect": item.feedback_incorrect,
    }
    # Matching and blanks items (issue 17) add their parts; other items' documents are as before.
    if item.targets:
        content["targets"] = [_option_doc(t) for t in item.targets]
    if item.blanks:
        content["blanks"] = [
            {
                "id": b.id,
                "choices": [_option_doc(c) for c in b.choices],
                "accepted": list(b.accepted),
            }
            for b in item.blanks
        ]
    return {
        "id": item.id,
        "course_id": course_id,
        "position": position,
        "kind": str(item.type),
        "difficulty": item.difficulty,
        "content": jsondocs.dump("item", content),
    }


def item_from_row(row: Row, competencies: Sequence[str]) -> Item:
    """An item from its row and its competency ids (in file order)."""
    content = jsondocs.load("item", row["content"])
    return Item(
        id=row["id"],
        type=ItemType(row["kind"]),
        stem=content["stem"],
        competencies=tuple(competencies),
        options=tuple(Option(**option) for option in content["options"]),
        answer=content["answer"],
        tolerance=content["tolerance"],
        accepted=tuple(content["accepted"]),
        hints=tuple(content["hints"]),
        explanation=content["explanation"],
        difficulty=row["difficulty"],
        feedback_correct=content["feedback_correct"],
        feedback_incorrect=content["feedback_incorrect"],
        targets=tuple(Option(**target) for target in content.get("targets", ())),
        blanks=tuple(
            Blank(
                id=blank["id"],
                choices=tuple(Option(**choice) for choice in blank["choices"]),
                accepted=tuple(blank["accepted"]),
            )
            for blank in content.get("blanks", ())
        ),
    )


def rubric_row(rubric: Rubric, *, course_id: str, position: int) -> dict[str, Any]:
    """The ``rubrics`` row of a rubric; criteria and levels live in its JSON document."""
    criteria = [
        {
            "id": c.id,
            "title": c.title,
            "competencies": list(c.competencies),
            "levels": [
                {"title": lv.title, "points": lv.points, "description": lv.description}
                for lv in c.levels
            ],
        }
        for c in rubric.criteria
    ]
    return {
        "id": rubric.id,
        "course_id": course_id,
        "position": position,
        "title": rubric.title,
        "content": jsondocs.dump("rubric", {"criteria": criteria}),
    }


def rubric_from_row(row: Row) -> Rubric:
    """A rubric from its row."""
    content = jsondocs.load("rubric", row["content"])
    criteria = tuple(
        Criterion(
            id=c["id"],
            title=c["title"],
            competencies=tuple(c["competencies"]),
            levels=tuple(RubricLevel(**level) for level in c["levels"]),
        )
        for c in content["criteria"]
    )
    return Rubric(id=row["id"], title=row["title"], criteria=criteria)


# --- people -------------------------------------------------------------------------------


def school_row(school: School, *, created_at: datetime) -> dict[str, Any]:
    """The ``schools`` row of a school."""
    return {
        "id": school.id,
        "name": school.name,
        "created_at": created_at,
        "time_zone": school.time_zone,
    }


def school_from_row(row: Row) -> School:
    """A school from its row."""
    return School(id=row["id"], name=row["name"], time_zone=row["time_zone"])


def user_row(
    user: User, *, created_at: datetime, password_hash: str | None = None
) -> dict[str, Any]:
    """The ``users`` row of a user. The password hash never enters the domain object."""
    return {
        "id": user.id,
        "school_id": user.school_id,
        "role": str(user.role),
        "display_name": user.display_name,
        "username": user.username,
        "email": user.email,
        "password_hash": password_hash,
        "created_at": created_at,
        "active": user.active,
        "must_change_password": user.must_change_password,
    }


def user_from_row(row: Row) -> User:
    """A user from its row (without the password hash)."""
    return User(
        id=row["id"],
        school_id=row["school_id"],
        role=Role(row["role"]),
        display_name=row["display_name"],
        email=row["email"],
        username=row["username"],
        active=bool(row["active"]),
        must_change_password=bool(row["must_change_password"]),
    )


def class_row(school_class: SchoolClass, *, created_at: datetime) -> dict[str, Any]:
    """The ``classes`` row of a class (teachers go to ``class_teachers``)."""
    return {
        "id": school_class.id,
        "school_id": school_class.school_id,
        "name": school_class.name,
        "created_at": created_at,
    }


def class_from_row(row: Row, teacher_ids: Sequence[str]) -> SchoolClass:
    """A class from its row and its teachers' ids (in the order given)."""
    return SchoolClass(
        id=row["id"], school_id=row["school_id"], name=row["name"], teacher_ids=tuple(teacher_ids)
    )


def _claim_doc(claim: PriorLearningClaim) -> dict[str, Any]:
    return {
        "id": claim.id,
        "competency_ids": list(claim.competency_ids),
        "evidence": claim.evidence,
        "submitted_at": claim.submitted_at.isoformat(),
        "status": str(claim.status),
        "decided_by": claim.decided_by,
        "decided_at": claim.decided_at.isoformat() if claim.decided_at else None,
        "decision_note": claim.decision_note,
    }


def _claim_from_doc(doc: Mapping[str, Any], learner_id: str) -> PriorLearningClaim:
    decided_at = doc["decided_at"]
    return PriorLearningClaim(
        id=doc["id"],
        learner_id=learner_id,
        competency_ids=tuple(doc["competency_ids"]),
        evidence=doc["evidence"],
        submitted_at=datetime.fromisoformat(doc["submitted_at"]),
        status=ClaimStatus(doc["status"]),
        decided_by=doc["decided_by"],
        decided_at=datetime.fromisoformat(decided_at) if decided_at else None,
        decision_note=doc["decision_note"],
    )


def profile_row(profile: LearnerProfile, *, updated_at: datetime) -> dict[str, Any]:
    """The ``learner_profiles`` row of a profile; everything but the id is one document."""
    a = profile.accessibility
    details = {
        "display_name": profile.display_name,
        "interests": list(profile.interests),
        "preferred_modalities": [str(m) for m in profile.preferred_modalities],
        "goals": list(profile.goals),
        "strengths": list(profile.strengths),
        "needs": list(profile.needs),
        "accessibility": {
            "extra_time": a.extra_time,
            "larger_text": a.larger_text,
            "screen_reader": a.screen_reader,
            "reduced_motion": a.reduced_motion,
        },
        "languages": list(profile.languages),
        "prior_learning": [_claim_doc(c) for c in profile.prior_learning],
    }
    return {
        "learner_id": profile.learner_id,
        "details": jsondocs.dump("profile", details),
        "updated_at": updated_at,
    }


def profile_from_row(row: Row) -> LearnerProfile:
    """A learner profile from its row."""
    details = jsondocs.load("profile", row["details"])
    learner_id = row["learner_id"]
    return LearnerProfile(
        learner_id=learner_id,
        display_name=details["display_name"],
        interests=tuple(details["interests"]),
        preferred_modalities=tuple(Modality(m) for m in details["preferred_modalities"]),
        goals=tuple(details["goals"]),
        strengths=tuple(details["strengths"]),
        needs=tuple(details["needs"]),
        accessibility=AccessibilityNeeds(**details["accessibility"]),
        languages=tuple(details["languages"]),
        prior_learning=tuple(_claim_from_doc(c, learner_id) for c in details["prior_learning"]),
    )


# --- evidence -----------------------------------------------------------------------------


def event_row(event: EvidenceEvent) -> dict[str, Any]:
    """The ``evidence_events`` row of an event, with its content fingerprint."""
    return {
        "id": event.id,
        "learner_id": event.learner_id,
        "kind": str(event.kind),
        "item_id": event.item_id,
        "activity_id": event.activity_id,
        "competency_ids": jsondocs.dump_ids(event.competency_ids),
        "correct": event.correct,
        "score": event.score,
        "occurred_at": event.occurred_at,
        "recorded_at": event.recorded_at,
        "duration_s": event.duration_s,
        "hints_used": event.hints_used,
        "source": str(event.source),
        "actor_id": event.actor_id,
        "note": event.note,
        "payload": jsondocs.dump("event_payload", {"data": event.payload}),
        "supersedes": event.supersedes,
        "fingerprint": event.content_fingerprint(),
    }


def event_from_row(row: Row) -> EvidenceEvent:
    """An event from its row (validated when it was recorded: not checked again)."""
    return EvidenceEvent.restore(
        id=row["id"] if isinstance(row["id"], uuid.UUID) else uuid.UUID(str(row["id"])),
        learner_id=row["learner_id"],
        kind=EvidenceKind(row["kind"]),
        occurred_at=row["occurred_at"],
        recorded_at=row["recorded_at"],
        source=EvidenceSource(row["source"]),
        item_id=row["item_id"],
        activity_id=row["activity_id"],
        competency_ids=jsondocs.load_ids(row["competency_ids"]),
        correct=row["correct"],
        score=row["score"],
        duration_s=row["duration_s"],
        hints_used=row["hints_used"],
        actor_id=row["actor_id"],
        note=row["note"],
        payload=jsondocs.load("event_payload", row["payload"])["data"],
        supersedes=row["supersedes"],
    )


# --- plans and reflection -----------------------------------------------------------------


def plan_content(plan: LearningPlan) -> dict[str, Any]:
    """The versioned document holding a plan's goals, strategies, resources and evidence."""
    goals = [
        {
            "id": g.id,
            "description": g.description,
            "competency_ids": list(g.competency_ids),
            "target_date": g.target_date.isoformat() if g.target_date else None,
            "achieved": g.achieved,
        }
        for g in plan.goals
    ]
    return jsondocs.dump(
        "plan",
        {
            "goals": goals,
            "strategies": list(plan.strategies),
            "resources": list(plan.resources),
            "mastery_evidence": plan.mastery_evidence,
        },
    )


def plan_row(plan: LearningPlan) -> dict[str, Any]:
    """The ``learning_plans`` row of a plan."""
    return {
        "id": plan.id,
        "learner_id": plan.learner_id,
        "version": plan.version,
        "content": plan_content(plan),
        "updated_at": plan.updated_at,
        "updated_by": plan.updated_by,
    }


def plan_from_row(row: Row) -> LearningPlan:
    """A plan from its ``learning_plans`` row."""
    content = jsondocs.load("plan", row["content"])
    goals = tuple(
        PlanGoal(
            id=g["id"],
            description=g["description"],
            competency_ids=tuple(g["competency_ids"]),
            target_date=date.fromisoformat(g["target_date"]) if g["target_date"] else None,
            achieved=g["achieved"],
        )
        for g in content["goals"]
    )
    return LearningPlan(
        id=row["id"],
        learner_id=row["learner_id"],
        goals=goals,
        strategies=tuple(content["strategies"]),
        resources=tuple(content["resources"]),
        mastery_evidence=content["mastery_evidence"],
        version=row["version"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def comment_row(comment: PlanComment) -> dict[str, Any]:
    """The ``plan_comments`` row of a comment."""
    return {
        "id": comment.id,
        "plan_id": comment.plan_id,
        "author_id": comment.author_id,
        "body": comment.body,
        "created_at": comment.created_at,
        "plan_version": comment.plan_version,
    }


def comment_from_row(row: Row) -> PlanComment:
    """A plan comment from its row."""
    return PlanComment(
        id=row["id"],
        plan_id=row["plan_id"],
        author_id=row["author_id"],
        body=row["body"],
        created_at=row["created_at"],
        plan_version=row["plan_version"],
    )


def log_entry_row(entry: LogEntry) -> dict[str, Any]:
    """The ``log_entries`` row of a learning-log entry."""
    return {
        "id": entry.id,
        "learner_id": entry.learner_id,
        "created_at": entry.created_at,
        "body": entry.body,
        "shared": entry.shared,
        "activity_id": entry.activity_id,
        "competency_ids": jsondocs.dump_ids(entry.competency_ids),
    }


def log_entry_from_row(row: Row) -> LogEntry:
    """A learning-log entry from its row."""
    return LogEntry(
        id=row["id"],
        learner_id=row["learner_id"],
        body=row["body"],
        created_at=row["created_at"],
        competency_ids=jsondocs.load_ids(row["competency_ids"]),
        activity_id=row["activity_id"],
        shared=row["shared"],
    )
