"""The learner's plan: goals, strategies, resources and how mastery will be shown.

The learner and their teachers co-edit it; guardians read it. Every save bumps the version and
keeps the old one in ``learning_plan_versions``; a save that names an older version than the
stored one is refused with :class:`~zoped.errors.Conflict` (someone else saved in between), so
no edit is silently lost. Comments (learner, teacher, guardian) note the version they were
written against.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from zoped.domain.people import User
from zoped.domain.plans import LearningPlan, PlanComment, PlanGoal
from zoped.errors import Conflict, InvalidInput, Problem
from zoped.services import transaction
from zoped.services.policy import Action, require_learner_access
from zoped.store.learning_repositories import PlanRepository
from zoped.store.repositories import PeopleRepository, append_audit


@dataclass(frozen=True)
class PlanVersion:
    """One saved version of a plan."""

    version: int
    saved_at: datetime
    saved_by: str | None


@dataclass(frozen=True)
class CommentView:
    """A comment with its author's name."""

    comment: PlanComment
    author_name: str


@dataclass(frozen=True)
class PlanView:
    """A plan with its comments and version history (newest first); ``names`` gives the
    display name of each user who saved a version (pages show names, never user ids)."""

    plan: LearningPlan
    comments: list[CommentView] = field(default_factory=list)
    versions: list[PlanVersion] = field(default_factory=list)
    stored: bool = False
    names: dict[str, str] = field(default_factory=dict)


def _row(session: Session, learner_id: str) -> LearningPlan | None:
    return PlanRepository(session).get_for_learner(learner_id)


def _view(session: Session, learner_id: str) -> PlanView:
    plan = _row(session, learner_id)
    if plan is None:
        return PlanView(LearningPlan(id=f"plan-{learner_id}", learner_id=learner_id, version=1))
    repo = PlanRepository(session)
    comments = [CommentView(c, name) for c, name in repo.comments(plan.id)]
    versions = [PlanVersion(*v) for v in repo.versions(plan.id)]
    savers = [plan.updated_by, *(v.saved_by for v in versions)]
    found = PeopleRepository(session).get_users(u for u in savers if u)
    names = {uid: user.display_name for uid, user in found.items()}
    return PlanView(plan, comments, versions, stored=True, names=names)


def get_plan(session: Session, *, actor: User, learner_id: str, now: datetime) -> PlanView:
    """The learner's plan (an empty version-1 plan when none is saved yet).

    Raises:
        NotFound: the learner is out of reach.
        PermissionDenied: the actor may not read it.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        return _view(session, learner_id)


def save_plan(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    base_version: int,
    goals: list[PlanGoal],
    strategies: list[str],
    resources: list[str],
    mastery_evidence: str,
    now: datetime,
) -> LearningPlan:
    """Save a new version of the plan, edited from ``base_version``.

    Raises:
        Conflict: the stored plan is newer than ``base_version`` (reload and edit again).
        InvalidInput: a bad goal (empty description, duplicate id).
        NotFound / PermissionDenied: as for writing the learner's data.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
        current = _row(session, learner_id)
        stored_version = current.version if current is not None else 0
        if current is not None and base_version != stored_version:
            raise Conflict(
                f"the plan was changed by someone else (version {stored_version}, "
                f"you edited version {base_version}): reload it and make your change again"
            )
        if current is None and base_version not in (0, 1):
            raise Conflict("the plan does not exist yet: reload it")
        plan = LearningPlan(
            id=current.id if current is not None else f"plan-{learner_id}",
            learner_id=learner_id,
            goals=tuple(goals),
            strategies=tuple(s.strip() for s in strategies if s.strip()),
            resources=tuple(r.strip() for r in resources if r.strip()),
            mastery_evidence=mastery_evidence.strip(),
            version=stored_version + 1,
            updated_at=now,
            updated_by=actor.id,
        )
        repo = PlanRepository(session)
        if current is None:
            repo.add(plan)
        elif not repo.update(plan, expected_version=stored_version):
            raise Conflict("the plan was changed by someone else: reload it")
        repo.add_version(plan, saved_at=now, saved_by=actor.id)
        append_audit(
            session,
            at=now,
            actor_id=actor.id,
            action="plan.save",
            subject_type="learner",
            subject_id=learner_id,
            details={"version": plan.version},
        )
    return plan


def parse_goal(
    description: str, competency_ids: list[str], target_date: str, index: int
) -> PlanGoal:
    """A goal from form fields (``target_date`` as YYYY-MM-DD or empty).

    Raises:
        InvalidInput: an unreadable date.
    """
    when = None
    if target_date.strip():
        try:
            when = date.fromisoformat(target_date.strip())
        except ValueError:
            raise InvalidInput(
                "invalid goal", [Problem(f"goals[{index}].target_date", "use YYYY-MM-DD")]
            ) from None
    return PlanGoal(
        id=f"g{index + 1}",
        description=description.strip(),
        competency_ids=tuple(c for c in competency_ids if c),
        target_date=when,
    )


def add_comment(
    session: Session, *, actor: User, learner_id: str, body: str, now: datetime
) -> PlanComment:
    """Comment on the learner's plan (learner, teacher; guardians are refused by the policy).

    Raises:
        InvalidInput: an empty comment.
        NotFound / PermissionDenied: as for commenting on the learner's data.
    """
    if not body.strip():
        raise InvalidInput("empty comment", [Problem("body", "write something")])
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.COMMENT, now=now
        )
        plan = _row(session, learner_id)
        if plan is None:
            plan = LearningPlan(
                id=f"plan-{learner_id}",
                learner_id=learner_id,
                version=1,
                updated_at=now,
                updated_by=actor.id,
            )
            PlanRepository(session).add(plan)
            PlanRepository(session).add_version(plan, saved_at=now, saved_by=actor.id)
        comment = PlanComment(
            id=str(uuid.uuid4()),
            plan_id=plan.id,
            author_id=actor.id,
            body=body.strip(),
            created_at=now,
            plan_version=plan.version,
        )
        PlanRepository(session).add_comment(comment)
    return comment


def mark_goal(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    goal_id: str,
    achieved: bool,
    base_version: int,
    now: datetime,
) -> LearningPlan:
    """Mark one goal reached (or not) as a new version of the plan.

    Raises:
        Conflict: a stale ``base_version``.
        InvalidInput: no such goal.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        plan = _row(session, learner_id)
    if plan is None or goal_id not in {g.id for g in plan.goals}:
        raise InvalidInput("unknown goal", [Problem("goal_id", goal_id)])
    goals = [replace(g, achieved=achieved) if g.id == goal_id else g for g in plan.goals]
    return save_plan(
        session,
        actor=actor,
        learner_id=learner_id,
        base_version=base_version,
        goals=goals,
        strategies=list(plan.strategies),
        resources=list(plan.resources),
        mastery_evidence=plan.mastery_evidence,
        now=now,
    )
