"""Activities a learner finishes: "mark as done" with a reflection, projects handed in and the
teacher's rubric scores on them.

Marking done and handing in are ``activity_completion`` evidence (the reflection in the event's
note, the work in its payload, see :mod:`zoped.domain.submissions`), recorded idempotently by
the event id the page sent. A teacher scores a project with
:func:`zoped.services.rubrics.score_project`; :func:`activity_page` reads those scores back for
the learner (levels, points and the teacher's comment).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoped.domain.content import Activity, Modality, Rubric, RubricLevel
from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.people import User
from zoped.domain.submissions import (
    ProjectSubmission,
    SubmittedFile,
    reflection_problems,
)
from zoped.errors import Conflict, InvalidInput, NotFound, Problem
from zoped.services import transaction
from zoped.services.evidence import list_evidence, record_evidence
from zoped.services.pathways import learner_course_with
from zoped.services.policy import Action, require_learner_access
from zoped.store.evidence_log import EvidenceRepository
from zoped.store.repositories import PeopleRepository


@dataclass(frozen=True)
class CompetencyRef:
    """A competency an activity teaches, by id and title."""

    id: str
    title: str


@dataclass(frozen=True)
class Completion:
    """The learner marked the activity done (with what they reflected, if anything)."""

    event_id: uuid.UUID
    at: datetime
    reflection: str


@dataclass(frozen=True)
class SubmissionSummary:
    """Project work as handed in (a file by its name, type and size; its bytes are fetched
    with :func:`submission_file`)."""

    event_id: uuid.UUID
    activity_id: str
    at: datetime
    text: str
    link: str
    file_name: str | None
    file_type: str | None
    file_size_bytes: int | None


@dataclass(frozen=True)
class CriterionScore:
    """The level a teacher chose on one criterion."""

    criterion: str
    level: str
    points: float
    max_points: float


@dataclass(frozen=True)
class ProjectScore:
    """One scoring of a project by a teacher: a level per scored criterion and a comment."""

    at: datetime
    teacher: str
    comment: str
    criteria: tuple[CriterionScore, ...]

    @property
    def points(self) -> float:
        return sum(c.points for c in self.criteria)

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.criteria)


@dataclass(frozen=True)
class ActivityView:
    """An activity as its learner sees it, with what they did on it (newest first)."""

    activity: Activity
    competencies: tuple[CompetencyRef, ...]
    rubric: Rubric | None
    completions: tuple[Completion, ...]
    submissions: tuple[SubmissionSummary, ...]
    scores: tuple[ProjectScore, ...]

    @property
    def is_project(self) -> bool:
        return is_project(self.activity)

    @property
    def done_at(self) -> datetime | None:
        """When the learner last marked it done or handed work in."""
        times = [c.at for c in self.completions] + [s.at for s in self.submissions]
        return max(times, default=None)


def is_project(activity: Activity) -> bool:
    """Whether learners hand in work for the activity: it has a rubric or is a project."""
    return activity.rubric_id is not None or activity.modality is Modality.PROJECT


def _submission(event: EvidenceEvent) -> SubmissionSummary | None:
    data = event.payload.get("submission")
    if event.activity_id is None or not isinstance(data, dict):
        return None
    work = ProjectSubmission.from_payload(data)
    return SubmissionSummary(
        event_id=event.id,
        activity_id=event.activity_id,
        at=event.occurred_at,
        text=work.text,
        link=work.link,
        file_name=work.file.name if work.file else None,
        file_type=work.file.media_type if work.file else None,
        file_size_bytes=work.file.size_bytes if work.file else None,
    )


def _scores(session: Session, events: list[EvidenceEvent], rubric: Rubric) -> list[ProjectScore]:
    """One score per scoring (its events share a ``project`` id), newest first."""
    by_project: dict[str, EvidenceEvent] = {}
    for event in events:
        by_project.setdefault(str(event.payload.get("project") or event.id), event)
    teachers = PeopleRepository(session).get_users(
        e.actor_id for e in by_project.values() if e.actor_id
    )
    criteria = {c.id: c for c in rubric.criteria}
    found: list[ProjectScore] = []
    for event in by_project.values():
        chosen: list[CriterionScore] = []
        levels = event.payload.get("levels")
        for criterion_id, choice in (levels if isinstance(levels, dict) else {}).items():
            criterion = criteria.get(criterion_id)
            if criterion is None:
                continue
            if isinstance(choice, int) and 0 <= choice < len(criterion.levels):
                level: RubricLevel | None = criterion.levels[choice]
            else:
                level = next((lv for lv in criterion.levels if lv.title == choice), None)
            if level is None:
                continue
            chosen.append(
                CriterionScore(criterion.title, level.title, level.points, criterion.max_points)
            )
        teacher = teachers.get(event.actor_id or "")
        found.append(
            ProjectScore(
                at=event.occurred_at,
                teacher=teacher.display_name if teacher else "your teacher",
                comment=event.note,
                criteria=tuple(chosen),
            )
        )
    return sorted(found, key=lambda s: s.at, reverse=True)


def _view(session: Session, course: Course, activity: Activity, learner_id: str) -> ActivityView:
    events = [
        e
        for e in list_evidence(
            session,
            learner_id=learner_id,
            kinds=[EvidenceKind.ACTIVITY_COMPLETION, EvidenceKind.RUBRIC_SCORE],
        )
        if e.activity_id == activity.id
    ]
    events.reverse()  # newest first
    completions = [
        Completion(e.id, e.occurred_at, e.note)
        for e in events
        if e.kind is EvidenceKind.ACTIVITY_COMPLETION and "submission" not in e.payload
    ]
    submissions = [
        found
        for e in events
        if e.kind is EvidenceKind.ACTIVITY_COMPLETION and (found := _submission(e)) is not None
    ]
    rubric = course.rubric(activity.rubric_id) if activity.rubric_id else None
    scored = [e for e in events if e.kind is EvidenceKind.RUBRIC_SCORE]
    scores = _scores(session, scored, rubric) if rubric is not None else []
    return ActivityView(
        activity=activity,
        competencies=tuple(
            CompetencyRef(cid, course.framework.get(cid).title) for cid in activity.competencies
        ),
        rubric=rubric,
        completions=tuple(completions),
        submissions=tuple(submissions),
        scores=tuple(scores),
    )


def activity_page(
    session: Session, *, actor: User, learner_id: str, activity_id: str, now: datetime
) -> ActivityView:
    """An activity of one of the learner's courses with what the learner did on it: when they
    marked it done, the work they handed in, and their teachers' rubric scores.

    Raises:
        NotFound: the learner is out of reach, or none of their courses has the activity.
        PermissionDenied: the actor may not read the learner's data.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        course = learner_course_with(session, learner_id, activity_id=activity_id)
        return _view(session, course, course.activity(activity_id), learner_id)


def _record(session: Session, **values: Any) -> EvidenceEvent:
    """Record one event built from ``values``.

    A second click or a retry arrives later with the same event id: the first one stands.

    Raises:
        Conflict: the event id was used for another learner's or activity's event.
    """
    event, stored = _new_event(session, values)
    return event if stored else record_evidence(session, event=event).event


def _new_event(session: Session, values: dict[str, Any]) -> tuple[EvidenceEvent, bool]:
    """The event to record and False, or the one stored under its id already (a second click
    or a retry) and True.

    Raises:
        Conflict: the event id was used for another learner's or activity's event.
        InvalidInput: the event is not valid.
    """
    with transaction(session):
        earlier = EvidenceRepository(session).get(values["id"])
    if earlier is not None:
        first = earlier[0]
        if (first.learner_id, first.kind, first.activity_id) != (
            values["learner_id"],
            values["kind"],
            values["activity_id"],
        ):
            raise Conflict(f"event {values['id']} was used for something else")
        return first, True
    return EvidenceEvent(**values), False


def mark_done(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    activity_id: str,
    reflection: str = "",
    event_id: uuid.UUID,
    now: datetime,
) -> EvidenceEvent:
    """The learner marks an activity done, with an optional reflection: an
    ``activity_completion`` event with the reflection as its note. Sending the same event id
    again with the same reflection changes nothing.

    Raises:
        InvalidInput: the reflection is too long (at ``reflection``); nothing is recorded.
        NotFound: the learner is out of reach or has no such activity.
        PermissionDenied: the actor may not act for the learner.
        Conflict: the event id was used for something else.
    """
    text = reflection.strip()
    problems = reflection_problems(text)
    if problems:
        raise InvalidInput("the reflection is too long", problems)
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
        learner_course_with(session, learner_id, activity_id=activity_id)
    return _record(
        session,
        id=event_id,
        learner_id=learner_id,
        kind=EvidenceKind.ACTIVITY_COMPLETION,
        occurred_at=now,
        recorded_at=now,
        source=EvidenceSource.WEB,
        activity_id=activity_id,
        note=text,
    )


def submit_project(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    activity_id: str,
    work: ProjectSubmission,
    event_id: uuid.UUID,
    now: datetime,
) -> EvidenceEvent:
    """The learner hands in project work: an ``activity_completion`` event whose payload holds
    the text, the link and the file. A learner may hand in again; each is kept.

    Raises:
        InvalidInput: nothing given, a bad link, a text too long, or the work too large to
            keep (each at its field); nothing is recorded. Also when the activity is not a
            project (at ``activity_id``).
        NotFound: the learner is out of reach or has no such activity.
        PermissionDenied: the actor may not act for the learner.
        Conflict: the event id was used for something else.
    """
    cleaned = ProjectSubmission(work.text.strip(), work.link.strip(), work.file).validate()
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
        course = learner_course_with(session, learner_id, activity_id=activity_id)
        if not is_project(course.activity(activity_id)):
            raise InvalidInput(
                "not a project",
                [Problem("activity_id", "This activity takes no project work: mark it done.")],
            )
    values: dict[str, Any] = {
        "id": event_id,
        "learner_id": learner_id,
        "kind": EvidenceKind.ACTIVITY_COMPLETION,
        "occurred_at": now,
        "recorded_at": now,
        "source": EvidenceSource.WEB,
        "activity_id": activity_id,
        "payload": {"submission": cleaned.to_payload()},
    }
    if not isinstance(cleaned.file, SubmittedFile):
        return _record(session, **values)
    event, stored = _new_event(session, values)
    if stored:  # the first of a double submit stands, with its file
        return event
    try:
        # One transaction: the event and its file are kept together or not at all.
        with transaction(session):
            repo = EvidenceRepository(session)
            repo.add(event)
            repo.add_file(event, cleaned.file)
    except IntegrityError:
        # A concurrent submission stored this event id since we looked: judge against it.
        return record_evidence(session, event=event).event
    return event


def project_submissions(
    session: Session, *, actor: User, learner_id: str, now: datetime
) -> dict[str, list[SubmissionSummary]]:
    """The project work a learner handed in, by activity id, newest first (for the teachers
    who score it).

    Raises:
        NotFound: the learner is out of the actor's reach.
        PermissionDenied: the actor may not read the learner's data.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        found: dict[str, list[SubmissionSummary]] = {}
        events = list_evidence(
            session, learner_id=learner_id, kinds=[EvidenceKind.ACTIVITY_COMPLETION]
        )
        for event in reversed(events):
            summary = _submission(event)
            if summary is not None:
                found.setdefault(summary.activity_id, []).append(summary)
        return found


def submission_file(
    session: Session, *, actor: User, learner_id: str, event_id: uuid.UUID, now: datetime
) -> SubmittedFile:
    """The file handed in with a project, for those the policy lets read the learner.

    Raises:
        NotFound: the learner is out of reach, or they handed in no file with this event.
        PermissionDenied: the actor may not read the learner's data.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
        stored = EvidenceRepository(session).get(event_id)
        event = stored[0] if stored else None
        if event is None or event.learner_id != learner_id:
            raise NotFound("no such file")
        kept = EvidenceRepository(session).file_of(event_id)
    if kept is not None:
        return kept
    # A file handed in before files were kept apart sits in the payload as base64.
    data = event.payload.get("submission")
    inline = data.get("file") if isinstance(data, dict) else None
    found = SubmittedFile.from_inline(inline) if isinstance(inline, dict) else None
    if found is None:
        raise NotFound("no such file")
    return found
