"""Teacher overrides, accepted prior-learning claims and self-assessments, applied over the
levels the evidence gives (:mod:`zoped.engine.mastery`).

The latest active override (or accepted claim) of a competency sets its level; undoing it
brings back the one before, or the derived level. A self-assessment is recorded and shown but
never changes the level.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

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


@dataclass(frozen=True)
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
        base = MasteryLevel(int(derived[code]))
        stack = active.get(cid, [])
        top = stack[-1] if stack else None
        notes: list[str] = []
        if top is not None:
            notes.append(f"set to {top.level.label} by {top.actor}: {top.reason}")
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
