"""The teacher's class dashboard (one learner's page for a teacher or a guardian is in
:mod:`zoped.services.learner_pages`).

Dashboard: a heatmap of learners x competencies (one level per cell, worded as everywhere),
alerts for learners who are stuck, inactive or overdue on reviews, with the evidence that
raised each (the rules: :mod:`zoped.engine.class_alerts`), suggested small groups and peer
tutors, and the class's reviews due summarised once. The class trend
(:func:`zoped.engine.class_trend.weekly_class_trend`) adds up the learners' stored progress
histories per week.

Levels, P(known), review status and each competency's latest answers come from
:func:`zoped.services.pathways.learner_states` (the whole class's stored folds), the one source
of truth that the learner's own pages use too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from zoped.domain.course import Course, CourseInfo
from zoped.domain.people import SchoolClass, User
from zoped.engine.class_alerts import (
    Alert,
    AlertConfig,
    AlertKind,
    ClassReviews,
    CompetencyView,
    OwnEvidence,
    competency_views,
    find_alerts,
    next_competency,
    summarise_reviews,
)
from zoped.engine.class_trend import ClassTrendPoint, weekly_class_trend
from zoped.engine.grouping import (
    GroupingConfig,
    PeerTutorMatch,
    SuggestedGroup,
    suggest_groups,
    suggest_peer_tutors,
)
from zoped.engine.mastery import MasteryLevel
from zoped.services.courses import courses_of_class, get_course, pick_course
from zoped.services.pathways import learner_states
from zoped.services.policy import (
    Action,
    require_class_access,
    visible_class_ids,
)
from zoped.store.repositories import (
    PeopleRepository,
)

# --- the dashboard ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassSummary:
    """A class a teacher sees, with its size."""

    id: str
    name: str
    n_learners: int


def teacher_classes(session: Session, *, actor: User) -> list[ClassSummary]:
    """The classes the actor teaches (all of the school's for an admin), by name."""
    repo = PeopleRepository(session)
    out = []
    for class_id in visible_class_ids(session, actor=actor):
        school_class = repo.get_class(class_id)
        out.append(ClassSummary(class_id, school_class.name, len(repo.learners_in_class(class_id))))
    return sorted(out, key=lambda c: (c.name, c.id))


@dataclass(frozen=True)
class Column:
    """A competency column of the heatmap."""

    id: str
    title: str
    strand_id: str
    strand_title: str


@dataclass(frozen=True, slots=True)
class Cell:
    """One learner's level on one competency."""

    competency_id: str
    level: MasteryLevel
    p_known: float
    evidence_count: int
    overridden: bool = False
    highlighted: bool = False


@dataclass(frozen=True)
class Row:
    """One learner's row of the heatmap."""

    learner_id: str
    name: str
    cells: tuple[Cell, ...]
    n_alerts: int = 0


@dataclass(frozen=True)
class DashboardFilters:
    """What the teacher narrowed the heatmap to (from the page's query string)."""

    course_id: str | None = None
    strand: str | None = None
    competency: str | None = None
    level: MasteryLevel | None = None


@dataclass(frozen=True)
class Strand:
    """A top-level competency that groups columns."""

    id: str
    title: str


#: How many of the competencies most due for review the class page names.
@dataclass(frozen=True)
class ClassDashboard:
    """Everything the class dashboard shows."""

    class_id: str
    class_name: str
    course_id: str | None
    course_title: str
    courses: tuple[CourseInfo, ...]
    strands: tuple[Strand, ...]
    all_columns: tuple[Column, ...]
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    filters: DashboardFilters
    alerts: tuple[Alert, ...]
    groups: tuple[SuggestedGroup, ...]
    tutors: tuple[PeerTutorMatch, ...]
    names: Mapping[str, str] = field(default_factory=dict)
    titles: Mapping[str, str] = field(default_factory=dict)
    n_learners: int = 0
    reviews: ClassReviews = field(default_factory=ClassReviews)
    trend: tuple[ClassTrendPoint, ...] = ()
    trend_total: int = 0


def _columns(course: Course) -> list[Column]:
    """The practised competencies (those with items or activities), in topological order."""
    framework = course.framework
    out = []
    for cid in framework.topological_order():
        if framework.children(cid):
            continue
        if not (course.items_for(cid) or course.activities_for(cid)):
            continue
        strand = cid
        while (parent := framework.get(strand).parent) is not None:
            strand = parent
        out.append(Column(cid, framework.get(cid).title, strand, framework.get(strand).title))
    return out


def class_dashboard(
    session: Session,
    *,
    actor: User,
    class_id: str,
    now: datetime,
    filters: DashboardFilters | None = None,
    config: AlertConfig | None = None,
    grouping: GroupingConfig | None = None,
) -> ClassDashboard:
    """The class dashboard: heatmap, alerts with their evidence, groups and peer tutors.

    The course is one the class follows (``filters.course_id``; the first by default, and the
    first again for one it does not follow). A class that follows no course has a dashboard of
    its learners with no columns, alerts or groups.

    Raises:
        NotFound: the class is not the actor's.
    """
    at = now
    chosen = filters or DashboardFilters()
    school_class = require_class_access(
        session, actor=actor, class_id=class_id, action=Action.READ, now=at
    )
    following = tuple(courses_of_class(session, class_id=class_id))
    if not following:
        return _no_course(session, school_class, chosen)
    keys = {c.key for c in following}
    info = pick_course(following, chosen.course_id if chosen.course_id in keys else None)
    course = get_course(session, course_id=info.key)
    all_columns = _columns(course)
    titles = {c.id: c.title for c in course.framework}
    columns = [
        c
        for c in all_columns
        if (chosen.strand in (None, c.strand_id)) and (chosen.competency in (None, c.id))
    ]
    repo = PeopleRepository(session)
    learner_ids = repo.learners_in_class(class_id)
    names = {lid: u.display_name for lid, u in repo.get_users(learner_ids).items()}
    zone = repo.get_school(school_class.school_id).zone  # the alerts' days are the school's
    order = [c.id for c in all_columns]
    states: dict[str, dict[str, CompetencyView]] = {}
    alerts: list[Alert] = []
    # One fold for the whole class (each learner checked and audited as for their own page).
    states_by_learner = learner_states(
        session, actor=actor, learner_ids=learner_ids, now=at, course_id=course.id
    )
    for learner_id in learner_ids:
        learner = states_by_learner[learner_id]
        views = competency_views(learner)
        states[learner_id] = {cid: v for cid, v in views.items() if cid in titles}
        alerts += find_alerts(
            learner_id=learner_id,
            own=OwnEvidence(learner.own_events, learner.last_own_at),
            state=states[learner_id],
            titles=titles,
            now=at,
            zone=zone,
            config=config,
        )
    # Reviews are summarised once for the class: they put no badge on a learner's row.
    n_alerts = Counter(a.learner_id for a in alerts if a.kind is not AlertKind.REVIEWS)
    rows = []
    for learner_id in sorted(learner_ids, key=lambda lid: (names[lid], lid)):
        state = states[learner_id]
        cells = tuple(
            Cell(
                competency_id=c.id,
                level=state[c.id].level if c.id in state else MasteryLevel.NOT_STARTED,
                p_known=state[c.id].p_known if c.id in state else 0.0,
                evidence_count=state[c.id].evidence_count if c.id in state else 0,
                overridden=state[c.id].overridden if c.id in state else False,
                highlighted=chosen.level is not None
                and c.id in state
                and state[c.id].level is chosen.level,
            )
            for c in columns
        )
        if chosen.level is not None and not any(cell.highlighted for cell in cells):
            continue
        rows.append(Row(learner_id, names[learner_id], cells, n_alerts[learner_id]))
    stuck: dict[str, list[str]] = {}
    for alert in alerts:
        if alert.kind is AlertKind.STUCK and alert.competency_id is not None:
            stuck.setdefault(alert.learner_id, []).append(alert.competency_id)
    groups = suggest_groups(
        {lid: next_competency(order, states[lid]) for lid in learner_ids},
        order=order,
        config=grouping,
    )
    levels = {lid: {cid: v.level for cid, v in states[lid].items()} for lid in learner_ids}
    tutors = suggest_peer_tutors(stuck, levels, config=grouping)
    kind_rank = {AlertKind.STUCK: 0, AlertKind.REVIEWS: 1, AlertKind.INACTIVE: 2}
    alerts.sort(key=lambda a: (kind_rank[a.kind], names.get(a.learner_id, ""), a.summary))
    strands = tuple(dict.fromkeys(Strand(c.strand_id, c.strand_title) for c in all_columns))
    return ClassDashboard(
        class_id=class_id,
        class_name=school_class.name,
        course_id=course.id,
        course_title=course.title,
        courses=following,
        strands=strands,
        all_columns=tuple(all_columns),
        columns=tuple(columns),
        rows=tuple(rows),
        filters=chosen,
        alerts=tuple(alerts),
        groups=tuple(groups),
        tutors=tuple(tutors),
        names=names,
        titles=titles,
        n_learners=len(learner_ids),
        reviews=summarise_reviews(states, titles),
        trend=tuple(
            weekly_class_trend(
                [states_by_learner[lid].history for lid in learner_ids], today=at.date()
            )
        ),
        trend_total=sum(len(states_by_learner[lid].competencies) for lid in learner_ids),
    )


def _no_course(
    session: Session, school_class: SchoolClass, chosen: DashboardFilters
) -> ClassDashboard:
    """The dashboard of a class that follows no course: its learners, nothing else."""
    repo = PeopleRepository(session)
    learner_ids = repo.learners_in_class(school_class.id)
    names = {lid: u.display_name for lid, u in repo.get_users(learner_ids).items()}
    rows = tuple(
        Row(lid, names[lid], ()) for lid in sorted(learner_ids, key=lambda i: (names[i], i))
    )
    return ClassDashboard(
        class_id=school_class.id,
        class_name=school_class.name,
        course_id=None,
        course_title="",
        courses=(),
        strands=(),
        all_columns=(),
        columns=(),
        rows=rows,
        filters=chosen,
        alerts=(),
        groups=(),
        tutors=(),
        names=names,
        n_learners=len(learner_ids),
    )
