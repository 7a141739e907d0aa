"""What a teacher is alerted to about a learner, and how a class's reviews add up: rules over
the learner state (:mod:`zoped.engine.learner_view`). Pure: no I/O.

**Every alert carries the evidence that raised it** (counts and dates), and the rules are
written so that a learner who answers everything right is never "stuck" (a test covers the
false cases):

========== ===================================================================================
alert      rule (defaults of :class:`AlertConfig`)
========== ===================================================================================
stuck      on one competency: at least 8 answers in the last 21 days, still below proficient,
           and at most half of the last 8 answers right
inactive   no evidence from the learner for 7 days or more of the school's calendar (or none)
reviews    a competency has been review due (mastered, but recall faded) for 7 days or more
========== ===================================================================================

The days the evidence names ("since Mon 23 Nov 2026") and counts are days of the school's time
zone, which :func:`find_alerts` takes as data; the 21-day look-back is 21 times 24 hours.

Reviews due are summarised once for a class (:func:`summarise_reviews`: a count and the
competencies most due), not as a badge on each learner's row. The stuck rule reads each
competency's last :data:`zoped.engine.trail.RECENT_ANSWERS` answers. The class dashboard
(:mod:`zoped.services.classes`) and a teacher's "today" (:mod:`zoped.services.today`) apply
them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from enum import StrEnum

from zoped.engine.learner_view import LearnerState
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, Problem


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
        days: days of the school's calendar since the last evidence (inactive).
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


def _day(at: datetime, zone: tzinfo) -> str:
    """The day of ``at`` in the school's ``zone``, as the evidence names it ("Mon 23 Nov 2026")."""
    local = at.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y}"


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
    zone: tzinfo,
    config: AlertConfig | None = None,
) -> list[Alert]:
    """Every alert for one learner, each with its evidence. Pure: no I/O.

    The days the evidence names, and the days an inactive learner has been away, are days of
    the school's ``zone``: a learner last seen on Monday evening in New York was last seen on
    "Mon", though it was Tuesday in UTC.

    Args:
        learner_id: whose alerts.
        own: the learner's own evidence (for inactivity).
        state: competency id -> the learner's current view (levels and latest answers, from
            the learner state).
        titles: competency id -> title, for the wording.
        now: the time to judge inactivity against.
        zone: the school's time zone, whose days are named and counted (the engine's own
            tests, which have no school, pass UTC).
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
                    f"{len(tries)} answers on {title} since {_day(first, zone)}, "
                    f"the last on {_day(last, zone)}",
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
        # Days of the school's calendar, so "N days ago" agrees with the day the line names.
        days = (now.astimezone(zone).date() - last.astimezone(zone).date()).days
        if days >= cfg.inactive_days:
            alerts.append(
                Alert(
                    kind=AlertKind.INACTIVE,
                    learner_id=learner_id,
                    summary=f"Inactive for {days} days",
                    evidence=(
                        f"last evidence on {_day(last, zone)} ({days} days ago)",
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
            since = f" since {_day(view.review_due_at, zone)}" if view.review_due_at else ""
            practised = (
                f", last practised {_day(view.last_practised, zone)}" if view.last_practised else ""
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
