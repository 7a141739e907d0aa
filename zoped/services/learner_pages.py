"""One learner's page for their teacher (the drill-down: timeline, state, overrides,
assignments) and for a guardian (roadmap and recent progress).

Each checks and audits the access before it reads anything of the learner's; the state comes
from :func:`zoped.services.pathways.learner_state`, as on the learner's own pages.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from zoped.domain.content import Item, ItemType
from zoped.domain.course import Course, CourseInfo
from zoped.domain.evidence import ANSWER_KINDS, EvidenceEvent, EvidenceKind
from zoped.domain.people import User
from zoped.engine.learner_view import LearnerState
from zoped.engine.mastery import MasteryLevel
from zoped.errors import NotFound
from zoped.services.assignments import AssignmentProgress, progress_for_learner
from zoped.services.courses import courses_of_learner, get_course
from zoped.services.evidence import list_evidence
from zoped.services.overrides import OverrideSummary, list_overrides
from zoped.services.pathways import learner_state
from zoped.services.policy import (
    Action,
    require_learner_access,
    visible_class_ids,
    visible_learner_ids,
)
from zoped.services.rubrics import ProjectRubric, list_rubrics
from zoped.store.evidence_log import event_counts, latest_events
from zoped.store.repositories import PeopleRepository


@dataclass(frozen=True)
class ActivityChoice:
    """An activity a teacher can assign."""

    id: str
    title: str
    competency_ids: tuple[str, ...]


@dataclass(frozen=True)
class LearnerDrilldown:
    """What the teacher's page on one learner shows (besides the plan and the shared log)."""

    learner: User
    state: LearnerState
    timeline: tuple[EvidenceEvent, ...]
    n_events: int
    overrides: tuple[OverrideSummary, ...]
    assignments: tuple[AssignmentProgress, ...]
    rubrics: tuple[ProjectRubric, ...]
    activities: tuple[ActivityChoice, ...]
    class_ids: tuple[str, ...]
    titles: Mapping[str, str]
    names: Mapping[str, str]
    courses: tuple[CourseInfo, ...] = ()
    evidence: tuple[EvidenceRow, ...] = ()
    class_names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class EvidenceRow:
    """One piece of evidence in words, for the teacher's timeline (never an id).

    Attributes:
        event: the event itself (its time, result, hints and note).
        what: its kind in words ("Answer", "Teacher override", ...).
        question: the item's stem (Markdown) for an answer whose item is in one of the
            learner's courses; None otherwise.
        chosen: the option texts (Markdown) the learner chose, in the order given.
        typed: the number or text the learner typed.
        ordered: whether ``chosen`` is an order (an ordering item).
        competencies: the titles of the competencies it speaks about.
        result: the result in words ("right", "wrong", "set to proficient", "undone", "80%").
        by: the display name of who recorded it, when not the learner.
    """

    event: EvidenceEvent
    what: str
    question: str | None = None
    chosen: tuple[str, ...] = ()
    typed: str | None = None
    ordered: bool = False
    competencies: tuple[str, ...] = ()
    result: str = ""
    by: str | None = None


#: Each kind of evidence, in words.
KIND_WORDS = {
    EvidenceKind.ANSWER: "Answer",
    EvidenceKind.PLACEMENT_ANSWER: "Placement answer",
    EvidenceKind.ACTIVITY_PROGRESS: "Activity progress",
    EvidenceKind.ACTIVITY_COMPLETION: "Activity done",
    EvidenceKind.RUBRIC_SCORE: "Project score",
    EvidenceKind.SELF_ASSESSMENT: "Self-assessment",
    EvidenceKind.TEACHER_OVERRIDE: "Teacher override",
    EvidenceKind.PRIOR_LEARNING: "Prior learning",
}


def _given(item: Item, response: object) -> tuple[tuple[str, ...], str | None]:
    """The options chosen (their texts, in the order given) or the text typed."""
    if item.type is ItemType.NUMERIC or item.type is ItemType.SHORT_TEXT:
        return (), None if response is None else str(response)
    if item.type is ItemType.MATCHING or item.type is ItemType.BLANKS:
        return _parts_given(item, response), None
    texts = {o.id: o.text for o in item.options}
    picked = [response] if isinstance(response, str) else response
    if not isinstance(picked, list):
        return (), None
    return tuple(texts.get(str(p), str(p)) for p in picked if str(p) in texts), None


def _question(item: Item) -> str:
    """An item's question as the learner read it: a blanks item's ``[[id]]`` as ``____ (n)``."""
    stem = item.stem
    for number, blank in enumerate(item.blanks, start=1):
        stem = stem.replace(f"[[{blank.id}]]", f"____ ({number})")
    return stem


def _parts_given(item: Item, response: object) -> tuple[str, ...]:
    """A matching answer as "option → target" pairs, a blanks answer as each blank's text (a
    choice's text, or what was typed); a part left empty reads "(none)"."""
    if not isinstance(response, list):
        return ()
    given = [str(value) for value in response]
    if item.type is ItemType.MATCHING:
        targets = {t.id: t.text for t in item.targets}
        return tuple(
            f"{o.text} → {targets.get(v, '(none)')}"
            for o, v in zip(item.options, given, strict=False)
        )
    parts = []
    for blank, value in zip(item.blanks, given, strict=False):
        choices = {c.id: c.text for c in blank.choices}
        parts.append((choices.get(value, "(none)") if blank.choices else value) or "(none)")
    return tuple(parts)


def _result(event: EvidenceEvent) -> str:
    if event.correct is not None:
        return "right" if event.correct else "wrong"
    if event.payload.get("undo"):
        return "undone"
    if event.kind is EvidenceKind.TEACHER_OVERRIDE:
        raw = event.payload.get("level")
        if isinstance(raw, int) and raw in set(MasteryLevel):
            return f"set to {MasteryLevel(raw).label}"
        return "level set"
    if event.score is not None:
        return f"{event.score:.0%}"
    return ""


def evidence_rows(
    events: Sequence[EvidenceEvent],
    *,
    courses: Sequence[Course],
    titles: Mapping[str, str],
    names: Mapping[str, str],
) -> tuple[EvidenceRow, ...]:
    """Events in words: the question and the answer given (an item looked up in ``courses``,
    the first that has it), competency titles and who recorded it by name."""
    items: dict[str, Item] = {}
    for course in reversed(courses):
        items.update({i.id: i for i in course.items})
    rows = []
    for e in events:
        item = items.get(e.item_id) if e.item_id else None
        chosen: tuple[str, ...] = ()
        typed = None
        if item is not None and "response" in e.payload:
            chosen, typed = _given(item, e.payload["response"])
        rows.append(
            EvidenceRow(
                event=e,
                what=KIND_WORDS.get(e.kind, e.kind.value.replace("_", " ")),
                question=_question(item) if item is not None else None,
                chosen=chosen,
                typed=typed,
                ordered=item is not None and item.type is ItemType.ORDERING,
                competencies=tuple(
                    titles.get(c, "another course's competency") for c in e.competency_ids
                ),
                result=_result(e),
                by=names.get(e.actor_id, "someone else") if e.actor_id else None,
            )
        )
    return tuple(rows)


def learner_drilldown(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    now: datetime,
    timeline_limit: int = 60,
    course_id: str | None = None,
) -> LearnerDrilldown:
    """A learner's timeline of evidence, state on one of their courses (``course_id``, or the
    first of their classes'), overrides and assignments, for their teacher.

    Raises:
        NotFound: the learner is outside the actor's reach (checked before anything is read),
            or follows no course (or not ``course_id``).
        PermissionDenied: the actor may not read the learner's data.
    """
    at = now
    learner = require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.READ, now=at
    )
    state = learner_state(session, actor=actor, learner_id=learner_id, now=at, course_id=course_id)
    course = get_course(session, course_id=state.course_id)
    until = at + timedelta(microseconds=1)
    timeline = latest_events(session, learner_id, until=until, limit=timeline_limit)
    n_events = event_counts(session, [learner_id])[learner_id]
    levels = {c.competency_id: c.level for c in state.competencies}
    overrides = list_overrides(session, learner_id=learner_id)
    repo = PeopleRepository(session)
    class_ids = tuple(
        cid
        for cid in visible_class_ids(session, actor=actor)
        if learner_id in repo.learners_in_class(cid)
    )
    teachers = {t for cid in class_ids for t in repo.get_class(cid).teacher_ids}
    people = teachers | {o.actor_id for o in overrides} | {e.actor_id for e in timeline}
    names = {uid: _display_name(repo, uid) for uid in people if uid}
    infos = courses_of_learner(session, learner_id=learner_id)
    followed = [course] + [
        get_course(session, course_id=i.key) for i in infos if i.key != state.course_id
    ]
    titles = {c.id: c.title for each in reversed(followed) for c in each.framework}
    return LearnerDrilldown(
        learner=learner,
        state=state,
        timeline=tuple(reversed(timeline)),
        n_events=n_events,
        overrides=tuple(reversed(overrides)),
        assignments=tuple(
            progress_for_learner(session, learner_id=learner_id, now=at, levels=levels)
        ),
        rubrics=tuple(list_rubrics(session, learner_id=learner_id)),
        activities=tuple(
            ActivityChoice(a.id, a.title, tuple(a.competencies)) for a in course.activities
        ),
        class_ids=class_ids,
        titles=titles,
        names=names,
        courses=tuple(infos),
        evidence=evidence_rows(
            tuple(reversed(timeline)), courses=followed, titles=titles, names=names
        ),
        class_names={cid: repo.get_class(cid).name for cid in class_ids},
    )


def _display_name(repo: PeopleRepository, user_id: str) -> str:
    """The user's display name, or "a former user" when they are gone (erased)."""
    try:
        return repo.get_user(user_id).display_name
    except NotFound:
        return "a former user"


@dataclass(frozen=True)
class Child:
    """A learner a guardian is linked to."""

    id: str
    name: str


def guardian_children(session: Session, *, actor: User) -> list[Child]:
    """The learners the actor may see (for a guardian: their linked children), by name."""
    repo = PeopleRepository(session)
    children = [
        Child(lid, repo.get_user(lid).display_name)
        for lid in visible_learner_ids(session, actor=actor)
    ]
    return sorted(children, key=lambda c: (c.name, c.id))


@dataclass(frozen=True)
class RecentProgress:
    """What changed for a learner over the last days, in counts."""

    days: int
    answers: int
    right: int
    proficient_then: int
    proficient_now: int
    mastered_then: int
    mastered_now: int


def recent_progress(
    state: LearnerState, events: Sequence[EvidenceEvent], *, now: datetime, days: int = 7
) -> RecentProgress:
    """Answers in the last ``days`` and how the counts of proficient and mastered moved."""
    start = now - timedelta(days=days)
    recent = [e for e in events if e.kind in ANSWER_KINDS and start <= e.occurred_at <= now]
    before = [p for p in state.history if p.day <= start.date()]
    then = before[-1] if before else None
    last = state.history[-1] if state.history else None
    return RecentProgress(
        days=days,
        answers=len(recent),
        right=sum(1 for e in recent if e.correct),
        proficient_then=then.proficient if then else 0,
        proficient_now=last.proficient if last else 0,
        mastered_then=then.mastered if then else 0,
        mastered_now=last.mastered if last else 0,
    )


@dataclass(frozen=True)
class CourseProgress:
    """A child's roadmap and recent progress on one course."""

    state: LearnerState
    progress: RecentProgress


@dataclass(frozen=True)
class ChildView:
    """A guardian's view of one child: the roadmap and recent progress on each course of the
    child's classes (goals and comments come from the plan).

    Attributes:
        learner: the child.
        courses: one per course, in the order of the child's classes (empty: no course yet).
    """

    learner: User
    courses: tuple[CourseProgress, ...]


def child_view(session: Session, *, actor: User, learner_id: str, now: datetime) -> ChildView:
    """The child's roadmap and recent progress on each of their courses, for a linked guardian
    (or anyone in reach).

    Raises:
        NotFound: the learner is not the actor's child (nor otherwise in reach).
    """
    at = now
    learner = require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.READ, now=at
    )
    events = list_evidence(
        session,
        learner_id=learner_id,
        since=at - timedelta(days=8),
        until=at + timedelta(seconds=1),
        kinds=ANSWER_KINDS,
    )
    found = []
    for info in courses_of_learner(session, learner_id=learner_id):
        state = learner_state(
            session, actor=actor, learner_id=learner_id, now=at, course_id=info.key
        )
        own = [e for e in events if _on_course(e, state)]
        found.append(CourseProgress(state, recent_progress(state, own, now=at)))
    return ChildView(learner, tuple(found))


def _on_course(event: EvidenceEvent, state: LearnerState) -> bool:
    """Whether an event names a competency of the course of ``state``."""
    ids = {c.competency_id for c in state.competencies}
    return any(cid in ids for cid in event.competency_ids)
