"""A learner's "what next" menu, built on their replayed state, and the learner's pick.

:func:`recommend_for` asks :func:`zoped.engine.recommend.recommend_next` for a short menu, with
the learner's interests, preferred modalities, plan goals, due reviews and unfinished
activities, and logs the decision (candidates and scores) in ``recommendation_decisions``, so
that policies can be evaluated offline. :func:`choose_option` records which option was picked.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy.orm import Session

from zoped.domain.people import User
from zoped.engine.learner_view import read_states
from zoped.engine.recommend import LearnerSnapshot, MenuOption, recommend_next
from zoped.errors import InvalidInput, NotFound, Problem
from zoped.services import transaction
from zoped.services.accounts import user_zone
from zoped.services.pathways import fold_learners, learner_course
from zoped.services.policy import Action, require_learner_access
from zoped.services.roster import get_learner_profile
from zoped.store.learning_repositories import DecisionRepository, PlanRepository

POLICY = "zoped-menu-v1"


@dataclass(frozen=True)
class Menu:
    """A menu of next steps, each with its reason, and the id of the logged decision.

    Attributes:
        decision_id: the ``recommendation_decisions`` row (what "pick" refers to).
        options: up to k options, best first.
        seed: the seed used (breaks ties).
        empty_reason: why there are no options, when there are none.
        page: which menu of the ranked candidates this is (ask for other options with the
            next page).
    """

    decision_id: uuid.UUID
    options: list[MenuOption]
    seed: int
    empty_reason: str = ""
    page: int = 0


def recommend_for(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    k: int = 4,
    seed: int,
    now: datetime,
    course_id: str | None = None,
    page: int = 0,
) -> Menu:
    """A short menu of next activities for the learner, logged with every candidate's scores.

    Raises:
        NotFound: the learner is out of reach, or no course.
        PermissionDenied: the actor may not read this learner's data.
        InvalidInput: ``k`` below 1, or ``page`` below 0.
    """
    if k < 1:
        raise InvalidInput("bad menu size", [Problem("k", f"must be >= 1, got {k}")])
    if page < 0:
        raise InvalidInput("bad menu page", [Problem("page", f"must be >= 0, got {page}")])
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        course = learner_course(session, learner_id, course_id)
        rep = fold_learners(session, [learner_id], course=course, now=now).fold
        state = read_states(rep, course, now=now)[learner_id]
        graph = rep.graph
        profile = get_learner_profile(session, learner_id=learner_id)
        goal_ids = PlanRepository(session).goal_competency_ids(learner_id)
        trail = rep.activities[0]
        reached = rep.tracker.proficient_at_s[0].copy()
        snapshot = LearnerSnapshot(
            levels=np.array([int(c.level) for c in state.competencies], dtype=np.int64),
            p_known=rep.p_known()[0],
            p_correct=rep.p_correct()[0],
            retrievability=rep.retrievability(now.timestamp())[0],
            reached_at_s=reached,
            goals=frozenset(graph.code(g) for g in goal_ids if g in graph.ids),
            interests=frozenset(profile.interests if profile else ()),
            preferred_modalities=frozenset(
                str(m) for m in (profile.preferred_modalities if profile else ())
            ),
            recent_activities=tuple(trail.recent),
            unfinished=frozenset(trail.unfinished),
            rechecks=rep.tracker.rechecks(0),
        )
        activities = [a for a in course.activities if all(c in graph.ids for c in a.competencies)]
        # The reasons name days ("on Monday") of the learner's school's time zone.
        zone = user_zone(session, user_id=learner_id)
        decision = recommend_next(
            graph,
            activities,
            snapshot,
            k=k,
            seed=seed,
            page=page,
            now_s=now.timestamp(),
            zone=zone,
            learner_id=learner_id,
        )
        decision_id = uuid.uuid4()
        DecisionRepository(session).add(
            decision_id,
            learner_id=learner_id,
            decided_at=now,
            policy=POLICY,
            candidates={"course_id": course.id, **decision.to_dict()},
        )
    empty = ""
    if not decision.options:
        empty = "Everything open to you is mastered. Well done: ask your teacher what is next."
    return Menu(decision_id, decision.options, seed, empty, page)


def choose_option(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    decision_id: uuid.UUID,
    activity_id: str,
    now: datetime,
) -> str:
    """Record which option the learner picked from a logged menu; returns the activity id.

    Raises:
        NotFound: no such decision for this learner, or the activity was not on its menu.
        PermissionDenied: the actor may not act for this learner.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
        decisions = DecisionRepository(session)
        doc = decisions.get(decision_id, learner_id)
        if doc is None:
            raise NotFound(f"no menu {decision_id}")
        if activity_id not in doc.get("chosen", []):
            raise NotFound(f"{activity_id!r} was not on that menu")
        decisions.set_chosen(decision_id, activity_id)
    return activity_id
