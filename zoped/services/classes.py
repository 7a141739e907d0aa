"""The teacher's class dashboard (one learner's page for a teacher or a guardian is in
:mod:`zoped.services.learner_pages`).

Dashboard: a heatmap of learners x competencies (one level per cell, worded as everywhere),
alerts for learners who are stuck, inactive or overdue on reviews, suggested small groups and
peer tutors. **Every alert carries the evidence that raised it** (counts and dates), and the
rules are written so that a learner who answers everything right is never "stuck" (a test
covers the false cases):

========== ===================================================================================
alert      rule (defaults of :class:`AlertConfig`)
========== ===================================================================================
stuck      on one competency: at least 8 answers in the last 21 days, still below proficient,
           and at most half of the last 8 answers right
inactive   no evidence from the learner for 7 days or more (or none at all)
reviews    a competency has been review due (mastered, but recall faded) for 7 days or more
========== ===================================================================================

Reviews due are summarised once for the class (:func:`summarise_reviews`: a count and the
competencies most due), not as a badge on each learner's row. The class trend
(:func:`zoped.engine.class_trend.weekly_class_trend`) adds up the learners' stored progress
histories per week.

Levels, P(known), review status and each competency's latest answers (the stuck rule reads
the last :data:`zoped.engine.trail.RECENT_ANSWERS`) come from
:func:`zoped.services.pathways.learner_states` (the whole class's stored folds), the one source
of truth that the learner's own pages use too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.orm import Session

from zoped.domain.course import Course, CourseInfo
from zoped.domain.people import SchoolClass, User
from zoped.engine.class_trend import ClassTrendPoint, weekly_class_trend
from zoped.engine.grouping import (
    GroupingConfig,
    PeerTutorMatch,
    SuggestedGroup,
    suggest_groups,
    suggest_peer_tutors,
)
from zoped.engine.learner_view import LearnerState
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, Problem
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


@dataclass(frozen=True)
class AlertConfig:
    """Thresholds of the alerts. Validated on construction.

    Raises:
        InvalidInput: every bad value at once.
    """

    stuck_min_attempts: int = 8
    stuck_window: int = 8
    stuck_max_accuracy: float = 0.5
    stuck_lookback_days: int = 21
    inactive_days: int = 7
    review_overdue_days: int = 7

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        for name in (
            "stuck_min_attempts",
            "stuck_window",
            "stuck_lookback_days",
            "inactive_days",
            "review_overdue_days",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                problems.append(Problem(name, f"must be an integer >= 1, got {value!r}"))
        if not 0.0 <= self.stuck_max_accuracy < 1.0:
            problems.append(Problem("stuck_max_accuracy", "must be in [0, 1)"))
        if problems:
            raise InvalidInput("invalid alert configuration", problems)


@dataclass(frozen=True, slots=True)
class CompetencyView:
    """One learner's state on one competency, as the dashboard reads it."""

    level: MasteryLevel
    p_known: float = 0.0
    evidence_count: int = 0
    last_practised: datetime | None = None
    unlocked: bool = True
    review_due: bool = False
    review_due_at: datetime | None = None
    overridden: bool = False
    recent: tuple[tuple[int, bool], ...] = ()  # latest answers: (epoch second, right)


class AlertKind(StrEnum):
    """Why a learner is flagged."""

    STUCK = "stuck"
    INACTIVE = "inactive"
    REVIEWS = "reviews"


@dataclass(frozen=True)
class Alert:
    """A flag on a learner, with the evidence that raised it.

    Attributes:
        kind: stuck, inactive or reviews.
        learner_id: who.
        summary: one line in plain words.
        evidence: the facts behind it (counts, dates), one line each.
        competency_id: the competency it is about (stuck), if one.
        attempts: answers counted (stuck).
        right: right answers among the last ``window`` (stuck).
        window: how many of the latest answers ``right`` counts over (stuck).
        since: the first counted answer (stuck), or the last evidence (inactive).
        days: days since the last evidence (inactive).
        competency_ids: the competencies due (reviews).
    """

    kind: AlertKind
    learner_id: str
    summary: str
    evidence: tuple[str, ...]
    competency_id: str | None = None
    attempts: int = 0
    right: int = 0
    window: int = 0
    since: datetime | None = None
    days: int | None = None
    competency_ids: tuple[str, ...] = ()


def _day(at: datetime) -> str:
    return f"{at:%a} {at.day} {at:%b %Y}"


@dataclass(frozen=True)
class OwnEvidence:
    """How much evidence a learner gave themselves (not a teacher's), and when they last did."""

    count: int
    last_at: datetime | None


def find_alerts(
    *,
    learner_id: str,
    own: OwnEvidence,
    state: Mapping[str, CompetencyView],
    titles: Mapping[str, str],
    now: datetime,
    config: AlertConfig | None = None,
) -> list[Alert]:
    """Every alert for one learner, each with its evidence. Pure: no I/O.

    Args:
        learner_id: whose alerts.
        own: the learner's own evidence (for inactivity).
        state: competency id -> the learner's current view (levels and latest answers, from
            the learner state).
        titles: competency id -> title, for the wording.
        now: the time to judge inactivity against.
        config: thresholds.
    """
    cfg = config or AlertConfig()
    alerts: list[Alert] = []
    # Stuck: many recent answers on one competency, still below proficient, mostly wrong.
    start_s = (now - timedelta(days=cfg.stuck_lookback_days)).timestamp()
    for cid, view in sorted(state.items()):
        level = view.level
        if level >= MasteryLevel.PROFICIENT:
            continue
        now_s = now.timestamp()
        tries = [(at_s, right) for at_s, right in view.recent if start_s <= at_s <= now_s]
        if len(tries) < cfg.stuck_min_attempts:
            continue
        latest = tries[-cfg.stuck_window :]
        right = sum(1 for _, ok in latest if ok)
        if right / len(latest) > cfg.stuck_max_accuracy:
            continue
        first, last = (datetime.fromtimestamp(tries[k][0], tz=UTC) for k in (0, -1))
        title = titles.get(cid, cid)
        p_known = f", P(known) {view.p_known:.2f}"
        alerts.append(
            Alert(
                kind=AlertKind.STUCK,
                learner_id=learner_id,
                summary=f"Stuck on {title}",
                evidence=(
                    f"{len(tries)} answers on {title} since {_day(first)}, "
                    f"the last on {_day(last)}",
                    f"{right} of the last {len(latest)} right",
                    f"level still {level.label}{p_known}",
                ),
                competency_id=cid,
                attempts=len(tries),
                right=right,
                window=len(latest),
                since=first,
            )
        )
    # Inactive: nothing from the learner for a while.
    if own.last_at is None:
        alerts.append(
            Alert(
                kind=AlertKind.INACTIVE,
                learner_id=learner_id,
                summary="Has not started",
                evidence=("no evidence recorded yet",),
            )
        )
    else:
        last = own.last_at
        days = (now - last).days
        if days >= cfg.inactive_days:
            alerts.append(
                Alert(
                    kind=AlertKind.INACTIVE,
                    learner_id=learner_id,
                    summary=f"Inactive for {days} days",
                    evidence=(
                        f"last evidence on {_day(last)} ({days} days ago)",
                        f"{own.count} pieces of evidence before that",
                    ),
                    since=last,
                    days=days,
                )
            )
    # Reviews: mastered competencies whose recall faded, and whose review is long overdue.
    cutoff = now - timedelta(days=cfg.review_overdue_days)
    due = sorted(
        (
            cid
            for cid, view in state.items()
            if view.level is MasteryLevel.REVIEW_DUE
            and (view.review_due_at is None or view.review_due_at <= cutoff)
        ),
        key=lambda c: titles.get(c, c),
    )
    if due:
        lines = []
        for cid in due:
            view = state[cid]
            since = f" since {_day(view.review_due_at)}" if view.review_due_at else ""
            practised = (
                f", last practised {_day(view.last_practised)}" if view.last_practised else ""
            )
            lines.append(f"{titles.get(cid, cid)}: review due{since}{practised}")
        noun = "review" if len(due) == 1 else "reviews"
        alerts.append(
            Alert(
                kind=AlertKind.REVIEWS,
                learner_id=learner_id,
                summary=f"{len(due)} {noun} overdue by {cfg.review_overdue_days}+ days",
                evidence=tuple(lines),
                competency_ids=tuple(due),
            )
        )
    return alerts


def next_competency(order: Sequence[str], state: Mapping[str, CompetencyView]) -> str | None:
    """The first competency in ``order`` that is unlocked and not yet mastered (None: all done)."""
    for cid in order:
        view = state.get(cid)
        if view is None:
            continue
        if view.unlocked and view.level < MasteryLevel.MASTERED:
            return cid
    return None


# --- reading the learner state ------------------------------------------------------------


def competency_views(state: LearnerState) -> dict[str, CompetencyView]:
    """The learner's state per competency (the pathways service's), as the dashboard reads it."""
    return {
        c.competency_id: CompetencyView(
            level=c.level,
            p_known=c.p_known,
            evidence_count=c.evidence_count,
            last_practised=c.last_practised,
            unlocked=c.unlocked,
            review_due=c.level is MasteryLevel.REVIEW_DUE,
            recent=c.recent,
            review_due_at=c.review_due_at,
            overridden=c.level is not c.derived_level
            or (bool(c.notes) and any(note.startswith("set to") for note in c.notes)),
        )
        for c in state.competencies
    }


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
TOP_REVIEWS = 3


@dataclass(frozen=True)
class ClassReviews:
    """The reviews due in a class, summarised once for the class (not a flag per learner).

    Attributes:
        n_reviews: (learner, competency) pairs review due.
        n_learners: learners with at least one.
        most_due: (competency id, learners due) for the competencies most due, most first.
    """

    n_reviews: int = 0
    n_learners: int = 0
    most_due: tuple[tuple[str, int], ...] = ()


def summarise_reviews(
    states: Mapping[str, Mapping[str, CompetencyView]],
    titles: Mapping[str, str],
    top: int = TOP_REVIEWS,
) -> ClassReviews:
    """How many reviews are due in the class, for how many learners, and which competencies
    most (ties by title). Pure: no I/O."""
    due_by_competency: Counter[str] = Counter()
    n_learners = 0
    for views in states.values():
        due = [cid for cid, v in views.items() if v.level is MasteryLevel.REVIEW_DUE]
        due_by_competency.update(due)
        n_learners += bool(due)
    ranked = sorted(due_by_competency.items(), key=lambda kv: (-kv[1], titles.get(kv[0], kv[0])))
    return ClassReviews(sum(due_by_competency.values()), n_learners, tuple(ranked[:top]))


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
