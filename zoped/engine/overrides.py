"""Teacher overrides, accepted prior-learning claims and self-assessments, applied over the
levels the evidence gives (:mod:`zoped.engine.mastery`).

The latest active override (or accepted claim) of a competency sets its level; undoing it
brings back the one before, or the derived level. A self-assessment is recorded and shown but
never changes the level.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from zoped.domain.evidence import EvidenceEvent, EvidenceKind
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput, Problem


@dataclass(frozen=True)
class OverrideEvent:
    """A teacher sets a level by hand: who, when and why. Undone by an :class:`UndoEvent`."""

    event_id: str
    competency: str
    level: MasteryLevel
    actor: str
    at_s: float
    reason: str


@dataclass(frozen=True)
class UndoEvent:
    """Withdraws an earlier override or accepted claim (by its event id)."""

    event_id: str
    undoes: str
    actor: str
    at_s: float
    reason: str = ""


@dataclass(frozen=True)
class PriorLearningClaim:
    """Prior or informal learning the learner claims; evidence only once a teacher accepts it."""

    event_id: str
    competency: str
    level: MasteryLevel
    description: str
    accepted_by: str | None = None
    accepted_at_s: float | None = None


@dataclass(frozen=True)
class SelfAssessmentEvent:
    """What the learner thinks of their own level: recorded and shown, never decisive."""

    event_id: str
    competency: str
    level: MasteryLevel
    at_s: float


MasteryEvent = OverrideEvent | UndoEvent | PriorLearningClaim | SelfAssessmentEvent

_KINDS: dict[str, type[MasteryEvent]] = {
    "override": OverrideEvent,
    "undo": UndoEvent,
    "claim": PriorLearningClaim,
    "self": SelfAssessmentEvent,
}


def mastery_event_doc(event: MasteryEvent) -> dict[str, Any]:
    """A mastery event as a JSON document (:func:`mastery_event_from_doc` reads it back)."""
    kind = next(k for k, cls in _KINDS.items() if isinstance(event, cls))
    return {"type": kind, **asdict(event)}


def mastery_event_from_doc(doc: Mapping[str, Any]) -> MasteryEvent:
    """The mastery event of a :func:`mastery_event_doc` document.

    Raises:
        KeyError: an unknown type or a missing field.
    """
    fields = {k: v for k, v in doc.items() if k != "type"}
    if "level" in fields:
        fields["level"] = MasteryLevel(int(fields["level"]))
    return _KINDS[doc["type"]](**fields)


def _level_of(event: EvidenceEvent) -> MasteryLevel:
    raw = event.payload.get("level")
    if raw is None and event.score is not None:
        raw = round(event.score * MasteryLevel.MASTERED)
    try:
        return MasteryLevel(int(raw if raw is not None else 0))
    except ValueError:
        return MasteryLevel.NOT_STARTED


def mastery_events(
    events: Sequence[EvidenceEvent],
    graph: CompetencyGraph,
    earlier: Sequence[MasteryEvent] = (),
) -> list[MasteryEvent]:
    """The overrides, undos, accepted prior learning and self-assessments among ``events``,
    which come after the mastery events ``earlier`` (an undo may name one of those).

    The learner's own prior-learning event is a claim, not evidence (:mod:`zoped.services.claims`
    turns an accepted claim into a teacher's event). An undo of an override that is not known is
    dropped. An override of several competencies becomes one per competency
    (``event-id:competency``), and an undo of it undoes each.
    """
    out: list[MasteryEvent] = []
    known = {m.event_id for m in earlier if isinstance(m, OverrideEvent)}
    known |= {m.event_id.split(":", 1)[0] for m in earlier if isinstance(m, OverrideEvent)}
    for e in events:
        at_s = e.occurred_at.timestamp()
        if e.kind is EvidenceKind.TEACHER_OVERRIDE:
            if e.supersedes is not None:
                undone = str(e.supersedes)
                if undone in known:
                    parts = sorted(k for k in known if k.startswith(undone + ":"))
                    for part in parts or [undone]:
                        event_id = f"{e.id}:{part}" if parts else str(e.id)
                        out.append(UndoEvent(event_id, part, e.actor_id or "", at_s))
                continue
            for cid in e.competency_ids:
                if cid in graph.ids:
                    event_id = str(e.id) if len(e.competency_ids) == 1 else f"{e.id}:{cid}"
                    out.append(
                        OverrideEvent(event_id, cid, _level_of(e), e.actor_id or "", at_s, e.note)
                    )
                    # Only overrides of this course can be undone here (another course's
                    # override and its undo both pass this fold by).
                    known |= {event_id, str(e.id)}
        elif e.kind is EvidenceKind.PRIOR_LEARNING:
            if e.actor_id is None or e.actor_id == e.learner_id:
                continue
            for cid in e.competency_ids:
                if cid in graph.ids:
                    out.append(
                        PriorLearningClaim(
                            f"{e.id}:{cid}",
                            cid,
                            _level_of(e) if "level" in e.payload else MasteryLevel.PROFICIENT,
                            e.note or "prior learning",
                            accepted_by=e.actor_id,
                            accepted_at_s=at_s,
                        )
                    )
        elif e.kind is EvidenceKind.SELF_ASSESSMENT:
            for cid in e.competency_ids:
                if cid in graph.ids:
                    out.append(SelfAssessmentEvent(f"{e.id}:{cid}", cid, _level_of(e), at_s))
    return out


@dataclass(frozen=True, slots=True)
class CompetencyStatus:
    """One competency's level for one learner, with the evidence a reader needs."""

    competency: str
    level: MasteryLevel
    derived_level: MasteryLevel
    override: OverrideEvent | None = None
    self_assessed: MasteryLevel | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _event_time(event: MasteryEvent) -> float:
    if isinstance(event, PriorLearningClaim):
        return math.inf if event.accepted_at_s is None else event.accepted_at_s
    return event.at_s


_LEVELS = list(MasteryLevel)  # by value: indexing is much faster than the enum's lookup


def apply_overrides(
    graph: CompetencyGraph,
    derived: Sequence[int] | NDArray[np.int64],
    events: Sequence[MasteryEvent],
) -> list[CompetencyStatus]:
    """Fold overrides, undos, accepted claims and self-assessments over derived levels.

    The latest active override (or accepted claim) of a competency sets its level; undoing it
    brings back the one before, or the derived level. A self-assessment is kept for display and
    never changes the level, so it can never alone make a competency mastered.

    Raises:
        InvalidInput: an event names an unknown competency, or an undo names no known event.
    """
    problems: list[Problem] = []
    active: dict[str, list[OverrideEvent]] = {}
    self_assessed: dict[str, MasteryLevel] = {}
    known_ids: set[str] = set()
    for i, event in enumerate(sorted(events, key=_event_time)):
        if not isinstance(event, UndoEvent) and event.competency not in graph.ids:
            problems.append(Problem(f"events[{i}].competency", f"unknown {event.competency!r}"))
            continue
        if isinstance(event, SelfAssessmentEvent):
            self_assessed[event.competency] = event.level
        elif isinstance(event, PriorLearningClaim):
            if event.accepted_by is None or event.accepted_at_s is None:
                continue  # Not yet accepted: a claim, not evidence.
            as_override = OverrideEvent(
                event.event_id,
                event.competency,
                event.level,
                event.accepted_by,
                event.accepted_at_s,
                f"accepted prior learning: {event.description}",
            )
            active.setdefault(event.competency, []).append(as_override)
            known_ids.add(event.event_id)
        elif isinstance(event, OverrideEvent):
            active.setdefault(event.competency, []).append(event)
            known_ids.add(event.event_id)
        else:
            if event.undoes not in known_ids:
                problems.append(Problem(f"events[{i}].undoes", f"no override {event.undoes!r}"))
                continue
            for stack in active.values():
                stack[:] = [o for o in stack if o.event_id != event.undoes]
    if problems:
        raise InvalidInput("invalid mastery events", problems)
    out: list[CompetencyStatus] = []
    for code, cid in enumerate(graph.ids):
        base = _LEVELS[int(derived[code])]
        stack = active.get(cid, [])
        top = stack[-1] if stack else None
        notes: list[str] = []
        if top is not None:
            # Who set it is on the teacher's override list by name; a note never shows a user id.
            notes.append(f"set to {top.level.label} by a teacher: {top.reason}")
        if cid in self_assessed:
            notes.append(f"learner's own view: {self_assessed[cid].label}")
        out.append(
            CompetencyStatus(
                competency=cid,
                level=top.level if top is not None else base,
                derived_level=base,
                override=top,
                self_assessed=self_assessed.get(cid),
                notes=tuple(notes),
            )
        )
    return out
