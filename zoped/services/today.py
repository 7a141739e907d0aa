"""The teacher's "today" page: per class, what needs the teacher now.

For each class the teacher teaches, on the first course it follows:

* **stuck**: the class dashboard's stuck alerts (:func:`zoped.engine.class_alerts.find_alerts`),
  each with its evidence;
* **ready to move on**: learners who reached proficient on a competency in the last
  :data:`READY_DAYS` days, when a competency that builds on it is open to them and not started;
* **reviews due**, summarised for the class: how many learners have competencies to review, how
  many reviews in all, and the competencies most due, instead of one alert per learner;
* **assignments** due within :data:`DAYS_AHEAD` days or overdue and not yet done by everyone,
  with each learner's status (:func:`zoped.services.assignments.class_reports`).

Levels come from the class's stored folds (:func:`zoped.services.pathways.learner_states`), as
on the class page; nothing replays a history. Each class and each learner read is audited.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from zoped.domain.people import User
from zoped.engine.class_alerts import (
    Alert,
    AlertConfig,
    AlertKind,
    ClassReviews,
    CompetencyView,
    OwnEvidence,
    competency_views,
    find_alerts,
    summarise_reviews,
)
from zoped.engine.learner_view import CompetencyState
from zoped.engine.mastery import MasteryLevel
from zoped.services import transaction
from zoped.services.assignments import AssignmentReport, class_reports
from zoped.services.classes import teacher_classes
from zoped.services.courses import courses_of_class
from zoped.services.pathways import learner_states
from zoped.services.policy import Action, require_class_access
from zoped.store.repositories import PeopleRepository

#: How many days ahead the page looks for assignments coming due.
DAYS_AHEAD = 7
#: How recently a competency must have been practised to proficient for "ready to move on".
READY_DAYS = 7


@dataclass(frozen=True)
class ReadyLearner:
    """A learner ready to move on: they recently reached proficient on ``from_title``, and
    ``title``, which builds on it, is open to them and not started."""

    learner_id: str
    from_title: str
    competency_id: str
    title: str


def _ready(competencies: Sequence[CompetencyState], since: datetime) -> tuple[str, str, str] | None:
    """(title reached, next id, next title) for the first competency in course order that is
    open, practisable and not started and builds on one practised since ``since`` to at least
    proficient (not review due); None if there is none."""
    by_id = {c.competency_id: c for c in competencies}
    for nxt in competencies:
        if not (nxt.practisable and nxt.unlocked and nxt.level is MasteryLevel.NOT_STARTED):
            continue
        for pid in nxt.prerequisites:
            done = by_id.get(pid)
            if (
                done is not None
                and done.level in (MasteryLevel.PROFICIENT, MasteryLevel.MASTERED)
                and done.last_practised is not None
                and done.last_practised >= since
            ):
                return done.title, nxt.competency_id, nxt.title
    return None


@dataclass(frozen=True)
class ClassToday:
    """One class's part of the "today" page."""

    class_id: str
    class_name: str
    course_title: str
    n_learners: int
    names: Mapping[str, str]
    stuck: tuple[Alert, ...] = ()
    ready: tuple[ReadyLearner, ...] = ()
    reviews: ClassReviews = field(default_factory=ClassReviews)
    assignments: tuple[AssignmentReport, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict)

    @property
    def stuck_learners(self) -> tuple[tuple[str, tuple[Alert, ...]], ...]:
        """The stuck alerts by learner (in the order of their first alert)."""
        by: dict[str, list[Alert]] = {}
        for alert in self.stuck:
            by.setdefault(alert.learner_id, []).append(alert)
        return tuple((lid, tuple(alerts)) for lid, alerts in by.items())

    @property
    def quiet(self) -> bool:
        """Nothing to act on today."""
        return not (self.stuck or self.ready or self.reviews.n_reviews or self.assignments)


def _due_soon(report: AssignmentReport, now: datetime, days_ahead: int) -> bool:
    due = report.assignment.due_at
    return due is not None and due <= now + timedelta(days=days_ahead) and not report.all_done


def class_today(
    session: Session,
    *,
    actor: User,
    class_id: str,
    now: datetime,
    days_ahead: int = DAYS_AHEAD,
    config: AlertConfig | None = None,
) -> ClassToday:
    """One class's stuck learners, learners ready to move on, reviews due and assignments due.

    Raises:
        NotFound: the class is not the actor's.
    """
    with transaction(session):
        school_class = require_class_access(
            session, actor=actor, class_id=class_id, action=Action.READ, now=now
        )
    repo = PeopleRepository(session)
    learner_ids = repo.learners_in_class(class_id)
    names = {lid: u.display_name for lid, u in repo.get_users(learner_ids).items()}
    reports = class_reports(
        session, class_id=class_id, learner_ids=learner_ids, names=names, now=now
    )
    soon = sorted(
        (r for r in reports if _due_soon(r, now, days_ahead)),
        key=lambda r: (r.assignment.due_at, r.assignment.title),
    )
    following = courses_of_class(session, class_id=class_id)
    if not following or not learner_ids:
        return ClassToday(
            class_id,
            school_class.name,
            following[0].title if following else "",
            len(learner_ids),
            names,
            assignments=tuple(soon),
        )
    zone = repo.get_school(school_class.school_id).zone  # the alerts' days are the school's
    stuck: list[Alert] = []
    ready: list[ReadyLearner] = []
    # A learner's competencies of every course the class follows (a school's courses do not
    # share content ids), so reviews due are summarised over all of them.
    views_by_learner: dict[str, dict[str, CompetencyView]] = {lid: {} for lid in learner_ids}
    titles: dict[str, str] = {}
    ordered = sorted(learner_ids, key=lambda lid: (names[lid], lid))
    for course in following:
        states = learner_states(
            session, actor=actor, learner_ids=learner_ids, now=now, course_id=course.key
        )
        for learner_id in ordered:
            state = states[learner_id]
            views = competency_views(state)
            views_by_learner[learner_id].update(views)
            titles.update((c.competency_id, c.title) for c in state.competencies)
            stuck += [
                a
                for a in find_alerts(
                    learner_id=learner_id,
                    own=OwnEvidence(state.own_events, state.last_own_at),
                    state=views,
                    titles=titles,
                    now=now,
                    zone=zone,
                    config=config,
                )
                if a.kind is AlertKind.STUCK
            ]
            move = _ready(state.competencies, now - timedelta(days=READY_DAYS))
            if move is not None:
                ready.append(ReadyLearner(learner_id, *move))
    # Each learner's alerts together, learners by name.
    rank = {lid: i for i, lid in enumerate(ordered)}
    stuck.sort(key=lambda a: rank[a.learner_id])
    ready.sort(key=lambda r: rank[r.learner_id])
    return ClassToday(
        class_id=class_id,
        class_name=school_class.name,
        course_title=" · ".join(c.title for c in following),
        n_learners=len(learner_ids),
        names=names,
        stuck=tuple(stuck),
        ready=tuple(ready),
        reviews=summarise_reviews(views_by_learner, titles),
        assignments=tuple(soon),
        titles=titles,
    )


def teacher_today(
    session: Session,
    *,
    actor: User,
    now: datetime,
    days_ahead: int = DAYS_AHEAD,
    config: AlertConfig | None = None,
) -> list[ClassToday]:
    """The "today" page: :func:`class_today` for each class the actor teaches, by name."""
    return [
        class_today(
            session, actor=actor, class_id=c.id, now=now, days_ahead=days_ahead, config=config
        )
        for c in teacher_classes(session, actor=actor)
    ]
