"""A teacher overrides a learner's mastery level with a reason, and may undo it.

An override is evidence like any other: a ``teacher_override`` event in the log that carries
who (``actor_id``), when (``occurred_at``) and why (``note``). The level is stored in the
payload (``{"level": 3}``) and, scaled to [0, 1], as the event's ``score`` (level / 4).

An undo never edits or deletes the override: it is a later ``teacher_override`` event whose
``supersedes`` names the override and whose payload says ``{"undo": true}``; the learner's
state folds it as an :class:`~zoped.engine.mastery.UndoEvent`, so the level the model derives
(or an earlier override) comes back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.people import Role, User
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services.evidence import list_evidence, record_evidence
from zoped.services.policy import Action, require_learner_access

#: Levels a teacher may set by hand ("review due" is the memory model's call, not a teacher's).
SETTABLE_LEVELS = tuple(level for level in MasteryLevel if level is not MasteryLevel.REVIEW_DUE)
#: The longest reason a teacher may give for an override or its undo.
MAX_REASON = 2_000
_TOP = float(MasteryLevel.MASTERED)


@dataclass(frozen=True)
class OverrideSummary:
    """An override as the pages show it.

    Attributes:
        event_id: the override event's id (what an undo names).
        competency_id: the competency overridden.
        level: the level set.
        actor_id: the teacher who set it.
        at: when.
        reason: why, in the teacher's words.
        undone_at: when it was undone, or None while it is in force.
        undone_by: who undid it.
    """

    event_id: uuid.UUID
    competency_id: str
    level: MasteryLevel
    actor_id: str
    at: datetime
    reason: str
    undone_at: datetime | None = None
    undone_by: str | None = None

    @property
    def active(self) -> bool:
        """Whether the override is still in force."""
        return self.undone_at is None


def override_level_of(event: EvidenceEvent) -> MasteryLevel:
    """The level an override event sets (from its payload, else from its score)."""
    raw = event.payload.get("level")
    if (
        isinstance(raw, int)
        and not isinstance(raw, bool)
        and raw in MasteryLevel._value2member_map_
    ):
        return MasteryLevel(raw)
    return MasteryLevel(round((event.score or 0.0) * _TOP))


def is_undo(event: EvidenceEvent) -> bool:
    """Whether a teacher_override event withdraws an earlier one rather than setting a level."""
    return event.supersedes is not None and bool(event.payload.get("undo"))


def _require_teacher(actor: User) -> None:
    if actor.role not in (Role.TEACHER, Role.ADMIN):
        raise PermissionDenied("only a learner's teachers override mastery levels")


def override_mastery(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    competency_id: str,
    level: MasteryLevel | int,
    reason: str,
    now: datetime,
    event_id: uuid.UUID | None = None,
) -> EvidenceEvent:
    """Set a learner's level on a competency by hand, with a reason.

    Args:
        session: the session; this function commits or rolls back.
        actor: the teacher (the policy checks it is one of the learner's).
        learner_id: whose level.
        competency_id: which competency.
        level: the level to set (not "review due").
        reason: why, in plain words; required.
        now: when.
        event_id: the event's id (a client may choose it so a resubmission is a no-op).

    Returns:
        The recorded override event.

    Raises:
        NotFound: the learner is outside the actor's reach.
        PermissionDenied: the actor is not a teacher.
        InvalidInput: an empty reason, an empty competency or a level that cannot be set.
    """
    require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.OVERRIDE, now=now
    )
    _require_teacher(actor)
    problems: list[Problem] = []
    if not reason.strip():
        problems.append(Problem("reason", "say why you are overriding the level"))
    elif len(reason) > MAX_REASON:
        problems.append(Problem("reason", f"keep the reason to {MAX_REASON} characters"))
    if not competency_id.strip():
        problems.append(Problem("competency_id", "choose a competency"))
    try:
        chosen = MasteryLevel(int(level))
    except ValueError:
        chosen = None
    if chosen is None or chosen not in SETTABLE_LEVELS:
        problems.append(Problem("level", f"{level!r} is not a level a teacher can set"))
    if problems or chosen is None:
        raise InvalidInput("invalid override", problems)
    at = now
    event = EvidenceEvent(
        id=event_id or uuid.uuid4(),
        learner_id=learner_id,
        kind=EvidenceKind.TEACHER_OVERRIDE,
        occurred_at=at,
        recorded_at=at,
        source=EvidenceSource.WEB,
        competency_ids=(competency_id,),
        score=int(chosen) / _TOP,
        actor_id=actor.id,
        note=reason.strip(),
        payload={"level": int(chosen)},
    )
    return record_evidence(session, event=event).event


def undo_override(
    session: Session,
    *,
    actor: User,
    learner_id: str,
    override_id: uuid.UUID,
    reason: str = "",
    now: datetime,
) -> EvidenceEvent:
    """Withdraw an override with a later event that supersedes it.

    Raises:
        NotFound: the learner is outside the actor's reach, or has no such active override.
        PermissionDenied: the actor is not a teacher.
        InvalidInput: a reason longer than ``MAX_REASON``.
    """
    require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.OVERRIDE, now=now
    )
    _require_teacher(actor)
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            "invalid undo", [Problem("reason", f"keep the reason to {MAX_REASON} characters")]
        )
    current = {o.event_id: o for o in list_overrides(session, learner_id=learner_id)}
    target = current.get(override_id)
    if target is None or not target.active:
        raise NotFound(f"no override {override_id} in force for this learner")
    at = now
    event = EvidenceEvent(
        id=uuid.uuid4(),
        learner_id=learner_id,
        kind=EvidenceKind.TEACHER_OVERRIDE,
        occurred_at=at,
        recorded_at=at,
        source=EvidenceSource.WEB,
        competency_ids=(target.competency_id,),
        score=int(target.level) / _TOP,
        actor_id=actor.id,
        note=reason.strip() or f"undo the override to {target.level.label}",
        payload={"undo": True, "level": int(target.level)},
        supersedes=override_id,
    )
    return record_evidence(session, event=event).event


def list_overrides(session: Session, *, learner_id: str) -> list[OverrideSummary]:
    """Every override of a learner, oldest first, each with whether and when it was undone.

    Callers check access first (the pages do it with the learner's drill-down).
    """
    events = list_evidence(session, learner_id=learner_id, kinds=[EvidenceKind.TEACHER_OVERRIDE])
    undone = {e.supersedes: e for e in events if is_undo(e)}
    out: list[OverrideSummary] = []
    for event in events:
        if is_undo(event):
            continue
        undo = undone.get(event.id)
        out.append(
            OverrideSummary(
                event_id=event.id,
                competency_id=event.competency_ids[0],
                level=override_level_of(event),
                actor_id=event.actor_id or "",
                at=event.occurred_at,
                reason=event.note,
                undone_at=undo.occurred_at if undo else None,
                undone_by=undo.actor_id if undo else None,
            )
        )
    return out
