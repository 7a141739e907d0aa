"""A teacher assigns an activity or an item to a learner or a small group.

**Done is what the learner did, never the act of assigning.** An assignment is done for a
learner when their own evidence *after it was made* shows the work (:func:`assignment_progress`):

============ ==============================================================================
assigned     done when, since it was assigned, the learner ...
============ ==============================================================================
an item      answered it right (a wrong answer: started)
an activity  completed it (or a teacher scored it against its rubric), or answered
             :data:`ANSWERS_FOR_DONE` questions on each competency it practises (fewer:
             started)
============ ==============================================================================

Not done and past its due date, it is overdue. Due dates are days of the school's time zone: a
due date ends at 23:59:59 there (stored as an instant in UTC), and "due today", "due tomorrow"
and "overdue by N days" count the school's days. What the learner knew before (a competency
already mastered) does not make new work done. Assignments follow retention, not one success:
done work whose competency has since faded to "review due" is listed for the learner again, to
refresh, while it stays done for the teacher.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from zoped.domain.assignments import (
    ANSWERS_FOR_DONE,
    MAX_NOTE,
    WORK_KINDS,
    Assignment,
    AssignmentStatus,
    due_in_words,
)
from zoped.domain.evidence import EvidenceEvent, EvidenceKind
from zoped.domain.people import Role, User
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import transaction
from zoped.services.accounts import user_zone
from zoped.services.courses import get_course, list_course_ids
from zoped.services.policy import Action, require_class_access, require_learner_access
from zoped.store.evidence_log import list_work_events
from zoped.store.learning_repositories import AssignmentRepository
from zoped.store.repositories import PeopleRepository, append_audit


@dataclass(frozen=True)
class AssignmentProgress:
    """One assignment's status for one learner, from their evidence since it was made.

    Attributes:
        learner_id: whose progress.
        status: not started, started, done or overdue.
        done_at: when the evidence made it done.
        answers: the learner's answers on it since it was assigned.
        right: how many of them were right.
        completed: whether the learner completed the activity (or a teacher scored it).
        due: the due date in words, as of the time it was read ("" without one).
        to_review: titles of its competencies that are review due now (done work to refresh).
        zone: the school's time zone (the day it was done is a day there).
    """

    assignment: Assignment
    learner_id: str
    status: AssignmentStatus
    done_at: datetime | None = None
    answers: int = 0
    right: int = 0
    completed: bool = False
    due: str = ""
    to_review: tuple[str, ...] = ()
    zone: tzinfo = UTC

    @property
    def done(self) -> bool:
        return self.status is AssignmentStatus.DONE

    @property
    def open_for_learner(self) -> bool:
        """Whether the learner's list shows it: not done yet, or done but fading."""
        return not self.done or bool(self.to_review)

    @property
    def reason(self) -> str:
        """What the status rests on, in plain words."""
        if self.done:
            how = "completed" if self.completed else f"{self.right} right of {self.answers}"
            when = f" on {self.done_at.astimezone(self.zone):%a %-d %b}" if self.done_at else ""
            fading = f"; time to review {', '.join(self.to_review)}" if self.to_review else ""
            return f"done{when} ({how}){fading}"
        if self.answers:
            return f"{self.answers} answers since it was assigned, {self.right} right"
        if self.status is AssignmentStatus.STARTED:
            return "opened, not finished yet"
        return "nothing since it was assigned"


def _answer_competencies(
    event: EvidenceEvent, item_competencies: Mapping[str, Sequence[str]]
) -> tuple[str, ...]:
    """The competencies an answer speaks about (the item's when the event names none)."""
    if event.competency_ids:
        return event.competency_ids
    return tuple(item_competencies.get(event.item_id or "", ()))


def assignment_progress(
    assignment: Assignment,
    *,
    learner_id: str,
    events: Sequence[EvidenceEvent],
    item_competencies: Mapping[str, Sequence[str]],
    now: datetime,
    zone: tzinfo,
    levels: Mapping[str, MasteryLevel] | None = None,
) -> AssignmentProgress:
    """One learner's status on one assignment, from their evidence (pure: no I/O).

    Args:
        assignment: the work.
        learner_id: whose status.
        events: the learner's evidence, in the order it occurred (any; only what they did
            after the assignment was made, up to ``now``, counts).
        item_competencies: item id -> the competencies it practises (for answers that name
            none).
        now: the time it is read at (overdue, and the due date in words).
        zone: the school's time zone, whose days the due date in words counts.
        levels: the learner's current levels, to tell done work that is fading (optional).
    """
    start = assignment.assigned_at
    own = [
        e
        for e in events
        if e.learner_id == learner_id
        and start <= e.occurred_at <= now
        and (e.kind is EvidenceKind.RUBRIC_SCORE or e.actor_id in (None, learner_id))
    ]
    answers = [e for e in own if e.kind is EvidenceKind.ANSWER]
    done_at: datetime | None = None
    completed = False
    started = False
    if assignment.item_id is not None:
        answers = [e for e in answers if e.item_id == assignment.item_id]
        right = [e for e in answers if e.correct]
        done_at = right[0].occurred_at if right else None
        started = bool(answers)
    else:
        wanted = set(assignment.competency_ids)
        answers = [e for e in answers if wanted & set(_answer_competencies(e, item_competencies))]
        on_it = [e for e in own if e.activity_id == assignment.activity_id]
        finished = [
            e
            for e in on_it
            if e.kind in (EvidenceKind.ACTIVITY_COMPLETION, EvidenceKind.RUBRIC_SCORE)
        ]
        if finished:
            done_at, completed = finished[0].occurred_at, True
        counts = dict.fromkeys(assignment.competency_ids, 0)
        for e in answers:
            for cid in _answer_competencies(e, item_competencies):
                if cid in counts:
                    counts[cid] += 1
            if counts and min(counts.values()) >= ANSWERS_FOR_DONE:
                if done_at is None or e.occurred_at < done_at:
                    done_at, completed = e.occurred_at, False
                break
        started = bool(answers) or any(e.kind is EvidenceKind.ACTIVITY_PROGRESS for e in on_it)
    if done_at is not None:
        status = AssignmentStatus.DONE
    elif assignment.due_at is not None and now > assignment.due_at:
        status = AssignmentStatus.OVERDUE
    elif started:
        status = AssignmentStatus.STARTED
    else:
        status = AssignmentStatus.NOT_STARTED
    fading: tuple[str, ...] = ()
    if status is AssignmentStatus.DONE and levels is not None:
        titles = dict(zip(assignment.competency_ids, assignment.competency_titles, strict=False))
        fading = tuple(
            titles.get(cid, cid)
            for cid in assignment.competency_ids
            if levels.get(cid) is MasteryLevel.REVIEW_DUE
        )
    return AssignmentProgress(
        assignment=assignment,
        learner_id=learner_id,
        status=status,
        done_at=done_at,
        answers=len(answers),
        right=sum(1 for e in answers if e.correct),
        completed=completed,
        due="" if status is AssignmentStatus.DONE else due_in_words(assignment.due_at, now, zone),
        to_review=fading,
        zone=zone,
    )


@dataclass(frozen=True)
class _Target:
    """What an assignment points at, in words."""

    title: str
    competency_ids: tuple[str, ...]
    competency_titles: tuple[str, ...]
    course_id: str


@dataclass(frozen=True)
class _Content:
    """The targets of some courses, and which competencies each item practises."""

    targets: dict[tuple[str, str], _Target]
    item_competencies: dict[str, tuple[str, ...]]
    items_of: dict[str, tuple[str, ...]]  # competency id -> its items


def _content_index(session: Session, course_ids: Sequence[str]) -> _Content:
    """The activities and items of the courses (the content ids of one school's courses do not
    overlap)."""
    targets: dict[tuple[str, str], _Target] = {}
    item_competencies: dict[str, tuple[str, ...]] = {}
    items_of: dict[str, list[str]] = {}
    for course_id in course_ids:
        course = get_course(session, course_id=course_id)
        names = {c.id: c.title for c in course.framework}
        for activity in course.activities:
            cids = tuple(activity.competencies)
            targets["activity", activity.id] = _Target(
                activity.title, cids, tuple(names.get(c, c) for c in cids), course.id
            )
        for item in course.items:
            cids = tuple(item.competencies)
            about = " and ".join(names.get(c, c) for c in cids) or course.title
            targets["item", item.id] = _Target(
                f"A question on {about}", cids, tuple(names.get(c, c) for c in cids), course.id
            )
            item_competencies[item.id] = cids
            for cid in cids:
                items_of.setdefault(cid, []).append(item.id)
    return _Content(targets, item_competencies, {cid: tuple(ids) for cid, ids in items_of.items()})


def _target(content: _Content, activity_id: str | None, item_id: str | None) -> _Target:
    """The assigned activity or item. Raises: NotFound."""
    key = ("activity", activity_id) if activity_id is not None else ("item", item_id or "")
    if key not in content.targets:
        raise NotFound(f"no {key[0]} {key[1]!r}")
    return content.targets[key]


def assign(
    session: Session,
    *,
    actor: User,
    learner_ids: Sequence[str],
    activity_id: str | None = None,
    item_id: str | None = None,
    class_id: str | None = None,
    due_at: datetime | None = None,
    note: str = "",
    now: datetime,
) -> Assignment:
    """Assign an activity or an item to one learner, or to a small group of a class.

    Raises:
        NotFound: a learner is outside the actor's reach, or no such activity or item.
        PermissionDenied: the actor is not a teacher.
        InvalidInput: no learner, both or neither of activity and item, a group without its
            class, a due date already past, a note over :data:`MAX_NOTE` characters (nothing
            is written).
    """
    if actor.role not in (Role.TEACHER, Role.ADMIN):
        raise PermissionDenied("only teachers assign work")
    learners = tuple(dict.fromkeys(learner_ids))
    problems: list[Problem] = []
    if not learners:
        problems.append(Problem("learner_ids", "choose at least one learner"))
    if (activity_id is None) == (item_id is None):
        problems.append(Problem("activity_id", "assign exactly one activity or one item"))
    if len(learners) > 1 and class_id is None:
        problems.append(Problem("class_id", "a group assignment names its class"))
    if due_at is not None and (due_at.tzinfo is None or due_at < now):
        problems.append(Problem("due_at", "give a due date that has not passed"))
    if len(note.strip()) > MAX_NOTE:
        problems.append(Problem("note", f"keep the note to {MAX_NOTE} characters"))
    if problems:
        raise InvalidInput("invalid assignment", problems)
    for learner_id in learners:
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.WRITE, now=now
        )
    if class_id is not None:
        # The class must be one the actor teaches (or runs), and the learners in it.
        require_class_access(session, actor=actor, class_id=class_id, action=Action.WRITE, now=now)
        enrolled = set(PeopleRepository(session).learners_in_class(class_id))
        outside = [lid for lid in learners if lid not in enrolled]
        if outside:
            raise InvalidInput(
                "invalid assignment",
                [Problem("learner_ids", f"{outside[0]!r} is not in class {class_id!r}")],
            )
    content = _content_index(session, list_course_ids(session, school_id=actor.school_id))
    target = _target(content, activity_id, item_id)
    at = now
    made = Assignment(
        id=uuid.uuid4(),
        assigned_by=actor.id,
        assigned_at=at,
        learner_ids=learners,
        title=target.title,
        competency_ids=target.competency_ids,
        activity_id=activity_id,
        item_id=item_id,
        class_id=class_id,
        due_at=due_at,
        note=note.strip(),
        competency_titles=target.competency_titles,
        course_id=target.course_id,
    )
    with transaction(session):
        AssignmentRepository(session).add(
            made.id,
            assigned_by=actor.id,
            learner_ids=learners,
            course_id=target.course_id,
            activity_id=activity_id,
            item_id=item_id,
            class_id=class_id,
            assigned_at=at,
            due_at=due_at,
            note=made.note,
        )
        append_audit(
            session,
            at=at,
            actor_id=actor.id,
            action="assignment.create",
            subject_type="assignment",
            subject_id=str(made.id),
            details={"learners": list(learners), "activity_id": activity_id, "item_id": item_id},
        )
    return made


def _assignments(
    session: Session, rows: Sequence[Mapping[str, Any]]
) -> tuple[list[Assignment], _Content]:
    """Rows of ``assignments`` as assignments (those whose content a re-import removed are
    left out), and the content they point at."""
    content = _content_index(session, sorted({str(row["course_id"]) for row in rows}))
    out: list[Assignment] = []
    for row in rows:
        activity_id, item_id = row["activity_id"], row["item_id"]
        try:
            target = _target(content, activity_id, item_id)
        except NotFound:
            continue
        out.append(
            Assignment(
                id=row["id"],
                assigned_by=row["assigned_by"],
                assigned_at=row["assigned_at"],
                learner_ids=row["learner_ids"],
                title=target.title,
                competency_ids=target.competency_ids,
                activity_id=activity_id,
                item_id=item_id,
                class_id=row["class_id"],
                due_at=row["due_at"],
                note=str(row["note"] or ""),
                competency_titles=target.competency_titles,
                course_id=target.course_id,
            )
        )
    return out, content


def assignments_for_learner(session: Session, *, learner_id: str) -> list[Assignment]:
    """Assignments naming a learner, alone or in a group, newest first.

    Callers check access first.
    """
    found, _ = _assignments(session, AssignmentRepository(session).for_learner(learner_id))
    return found


def _progress(
    session: Session,
    found: Sequence[Assignment],
    content: _Content,
    *,
    learner_ids: Sequence[str],
    now: datetime,
    zone: tzinfo,
    levels: Mapping[str, Mapping[str, MasteryLevel]] | None = None,
) -> dict[uuid.UUID, dict[str, AssignmentProgress]]:
    """Assignment id -> learner id -> progress, for the assignments' learners among
    ``learner_ids``, from one read of the evidence on the assigned work."""
    wanted = set(learner_ids)
    if not found:
        return {}
    item_ids: set[str] = set()
    activity_ids: set[str] = set()
    for a in found:
        if a.item_id is not None:
            item_ids.add(a.item_id)
        else:
            activity_ids.add(a.activity_id or "")
            for cid in a.competency_ids:
                item_ids.update(content.items_of.get(cid, ()))
    events = list_work_events(
        session,
        sorted(wanted),
        since=min(a.assigned_at for a in found),
        until=now + timedelta(microseconds=1),
        item_ids=item_ids,
        activity_ids=activity_ids,
        kinds=WORK_KINDS,
    )
    out: dict[uuid.UUID, dict[str, AssignmentProgress]] = {}
    for a in found:
        out[a.id] = {
            lid: assignment_progress(
                a,
                learner_id=lid,
                events=events[lid],
                item_competencies=content.item_competencies,
                now=now,
                levels=None if levels is None else levels.get(lid, {}),
                zone=zone,
            )
            for lid in a.learner_ids
            if lid in wanted
        }
    return out


def _learner_order(p: AssignmentProgress) -> tuple[int, datetime, datetime]:
    """Overdue first, then by due date (none last), then newest."""
    rank = {
        AssignmentStatus.OVERDUE: 0,
        AssignmentStatus.STARTED: 1,
        AssignmentStatus.NOT_STARTED: 1,
        AssignmentStatus.DONE: 2,
    }
    far = datetime.max.replace(tzinfo=UTC)
    newest = far - (p.assignment.assigned_at - datetime.min.replace(tzinfo=UTC))
    return rank[p.status], p.assignment.due_at or far, newest


def learner_assignments(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    now: datetime,
    levels: Mapping[str, MasteryLevel] | None = None,
) -> list[AssignmentProgress]:
    """A learner's assignments with their status (overdue first, then by due date, done
    last), for the learner or anyone who may read their data. The access is audited once.

    Args:
        levels: the learner's current levels (their page's), to tell done work to refresh.

    Raises:
        NotFound: the learner is outside the actor's reach.
        PermissionDenied: the actor may not read the learner's data.
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.READ, now=now
        )
    found, content = _assignments(session, AssignmentRepository(session).for_learner(learner_id))
    progress = _progress(
        session,
        found,
        content,
        learner_ids=[learner_id],
        now=now,
        zone=user_zone(session, user_id=learner_id),
        levels=None if levels is None else {learner_id: levels},
    )
    return sorted((progress[a.id][learner_id] for a in found), key=_learner_order)


def progress_for_learner(
    session: Session,
    *,
    learner_id: str,
    now: datetime,
    levels: Mapping[str, MasteryLevel] | None = None,
) -> list[AssignmentProgress]:
    """Each of a learner's assignments with its status, newest first. Callers check access."""
    found, content = _assignments(session, AssignmentRepository(session).for_learner(learner_id))
    progress = _progress(
        session,
        found,
        content,
        learner_ids=[learner_id],
        now=now,
        zone=user_zone(session, user_id=learner_id),
        levels=None if levels is None else {learner_id: levels},
    )
    return [progress[a.id][learner_id] for a in found]


@dataclass(frozen=True)
class AssignmentReport:
    """One assignment and where each of its learners (of one class) stands.

    Attributes:
        learners: one per learner of the class it names, by name.
        names: learner id -> display name.
    """

    assignment: Assignment
    learners: tuple[AssignmentProgress, ...]
    names: Mapping[str, str]
    due: str = ""

    def count(self, status: AssignmentStatus) -> int:
        return sum(1 for p in self.learners if p.status is status)

    @property
    def all_done(self) -> bool:
        return all(p.done for p in self.learners)

    @property
    def n_done(self) -> int:
        return self.count(AssignmentStatus.DONE)

    @property
    def overdue(self) -> tuple[AssignmentProgress, ...]:
        """The learners for whom it is overdue."""
        return tuple(p for p in self.learners if p.status is AssignmentStatus.OVERDUE)


def class_reports(
    session: Session,
    *,
    class_id: str,
    learner_ids: Sequence[str],
    names: Mapping[str, str],
    now: datetime,
) -> list[AssignmentReport]:
    """The assignments of a class's learners (made for the class, or for one of them alone),
    newest first, with each learner's status. Callers check access to the class."""
    rows = [
        row
        for row in AssignmentRepository(session).for_learners(learner_ids)
        if row["class_id"] in (None, class_id)
    ]
    found, content = _assignments(session, rows)
    repo = PeopleRepository(session)
    zone = repo.get_school(repo.get_class(class_id).school_id).zone
    progress = _progress(session, found, content, learner_ids=learner_ids, now=now, zone=zone)
    out = []
    for a in found:
        mine = progress[a.id]
        order = sorted(mine, key=lambda lid: (names.get(lid, lid), lid))
        out.append(
            AssignmentReport(
                assignment=a,
                learners=tuple(mine[lid] for lid in order),
                names={lid: names.get(lid, lid) for lid in order},
                due=due_in_words(a.due_at, now, zone),
            )
        )
    return out


def class_assignments(
    session: Session, *, actor: User, class_id: str, now: datetime
) -> list[AssignmentReport]:
    """The assignments of a class (see :func:`class_reports`), for its teacher or an admin.

    Raises:
        NotFound: the class is not the actor's.
    """
    with transaction(session):
        require_class_access(session, actor=actor, class_id=class_id, action=Action.READ, now=now)
    repo = PeopleRepository(session)
    learner_ids = repo.learners_in_class(class_id)
    names = {lid: u.display_name for lid, u in repo.get_users(learner_ids).items()}
    return class_reports(session, class_id=class_id, learner_ids=learner_ids, names=names, now=now)
