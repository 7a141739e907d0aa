"""Simulated learning histories for the demo school.

Real classes are uneven: some learners race ahead, some are slow, some have gaps in the basics,
some stopped coming, some learned well and then forgot. The demo school shows all of these so
that the dashboards, alerts and pathways have something true to say. The simulation is a plain
generative story (hidden known/unknown per competency, learning and forgetting per archetype)
and is deterministic for a given seed and reference time.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from zoped.domain.content import Item, ItemType
from zoped.domain.course import Course
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.domain.grading import Response, grade, right_response
from zoped.errors import InvalidInput


class Archetype(StrEnum):
    """How a simulated learner's history unfolds."""

    FAST = "fast"
    TYPICAL = "typical"
    SLOW = "slow"
    GAPS = "gaps"
    INACTIVE = "inactive"
    FORGETTING = "forgetting"


@dataclass(frozen=True)
class ArchetypeTraits:
    """The hidden traits behind an archetype's history."""

    prior: float  # chance of knowing a competency before any practice
    learn: float  # chance of learning it after one attempt
    forget_per_day: float  # chance per day of losing a known competency
    active_days: int  # days with a practice session, out of the history window
    last_active_days_ago: int  # the most recent session is at least this long ago
    items_per_session: tuple[int, int]
    seconds_per_item: float


TRAITS: dict[Archetype, ArchetypeTraits] = {
    Archetype.FAST: ArchetypeTraits(0.35, 0.45, 0.002, 24, 0, (10, 16), 25.0),
    Archetype.TYPICAL: ArchetypeTraits(0.15, 0.25, 0.004, 18, 0, (8, 14), 40.0),
    Archetype.SLOW: ArchetypeTraits(0.05, 0.10, 0.006, 16, 1, (6, 10), 60.0),
    Archetype.GAPS: ArchetypeTraits(0.45, 0.25, 0.004, 15, 0, (8, 12), 40.0),
    Archetype.INACTIVE: ArchetypeTraits(0.15, 0.25, 0.004, 7, 12, (8, 12), 40.0),
    Archetype.FORGETTING: ArchetypeTraits(0.15, 0.30, 0.05, 12, 2, (8, 12), 40.0),
}

# How many of each archetype a class of twenty gets, in order of assignment.
CLASS_MIX: tuple[tuple[Archetype, int], ...] = (
    (Archetype.FAST, 3),
    (Archetype.TYPICAL, 7),
    (Archetype.SLOW, 4),
    (Archetype.GAPS, 3),
    (Archetype.INACTIVE, 1),
    (Archetype.FORGETTING, 2),
)

GUESS = 0.2
SLIP = 0.1
HISTORY_DAYS = 42
STREAK_TO_MOVE_ON = 3


def archetypes_for(n_learners: int) -> list[Archetype]:
    """The archetype of each of ``n_learners``, following CLASS_MIX in repeating blocks."""
    block = [kind for kind, count in CLASS_MIX for _ in range(count)]
    return [block[i % len(block)] for i in range(n_learners)]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def simulate_history(
    course: Course,
    learner_id: str,
    archetype: Archetype,
    *,
    rng: random.Random,
    now: datetime,
) -> list[EvidenceEvent]:
    """Answer events of one simulated learner over the HISTORY_DAYS days before ``now``; none is
    dated after ``now``.

    The learner works through the course in prerequisite order, moving on after a streak of
    correct answers (a simple mastery-learning routine, as a school might run), with an
    occasional look back at earlier competencies.
    """
    traits = TRAITS[archetype]
    order = list(course.framework.topological_order())
    practisable = [cid for cid in order if course.items_for(cid)]
    known = {cid: rng.random() < traits.prior for cid in practisable}
    if archetype is Archetype.GAPS:
        # Gaps: knows much, but a few foundations are missing.
        for cid in rng.sample(practisable[: max(3, len(practisable) // 3)], k=3):
            known[cid] = False
    newest = HISTORY_DAYS - traits.last_active_days_ago
    window = range(1, newest + 1) if archetype is not Archetype.INACTIVE else range(1, 22)
    days = sorted(rng.sample(list(window), k=min(traits.active_days, len(window))))
    # Day ``d`` of the window is ``HISTORY_DAYS + 1 - d`` days before ``now``, so even the most
    # recent session (a school day, 9:00 to 17:00) ends well before the reference time.
    start = now - timedelta(days=HISTORY_DAYS + 1)
    position = 0
    streak = 0
    events: list[EvidenceEvent] = []
    last_day = 0
    for day in days:
        for cid in practisable:
            if known[cid] and rng.random() < 1 - (1 - traits.forget_per_day) ** (day - last_day):
                known[cid] = False
        last_day = day
        moment = start + timedelta(days=day, hours=9 + rng.randrange(8), minutes=rng.randrange(60))
        for _ in range(rng.randint(*traits.items_per_session)):
            if moment > now:  # nothing is dated after the reference time
                break
            if position >= len(practisable):
                position = rng.randrange(len(practisable))
            looking_back = position > 0 and rng.random() < 0.12
            cid = practisable[rng.randrange(position)] if looking_back else practisable[position]
            item = _pick_item(course.items_for(cid), rng)
            needed = [c for c in item.competencies if c in known]
            p_correct = 1 - SLIP if all(known[c] for c in needed) else GUESS
            correct = rng.random() < p_correct
            duration = max(4.0, rng.lognormvariate(0, 0.5) * traits.seconds_per_item)
            hints = 0 if correct or rng.random() < 0.6 else rng.randint(1, len(item.hints) or 1)
            event_id = _uuid(rng)
            events.append(
                EvidenceEvent(
                    id=event_id,
                    learner_id=learner_id,
                    kind=EvidenceKind.ANSWER,
                    occurred_at=moment,
                    recorded_at=moment,
                    source=EvidenceSource.IMPORT,
                    item_id=item.id,
                    competency_ids=item.competencies,
                    correct=correct,
                    score=1.0 if correct else 0.0,
                    duration_s=round(duration, 1),
                    hints_used=hints,
                    payload=_answer_given(item, correct, event_id),
                )
            )
            moment += timedelta(seconds=duration + rng.uniform(5, 30))
            for c in needed:
                if not known[c] and rng.random() < traits.learn:
                    known[c] = True
            if not looking_back:
                streak = streak + 1 if correct else 0
                if streak >= STREAK_TO_MOVE_ON:
                    position += 1
                    streak = 0
    return events


def _pick_item(items: Sequence[Item], rng: random.Random) -> Item:
    return items[rng.randrange(len(items))]


def _answer_given(item: Item, correct: bool, event_id: uuid.UUID) -> dict[str, object]:
    """The answer a demo learner gave, as a real answer's payload, so that the teacher's page
    shows it: the right one, or a plausible wrong one. Drawn from the event's own id, so the
    histories' random stream (and with it every demo figure) stays as it was; nothing when no
    wrong answer of the item's kind is at hand (the page then shows the question alone)."""
    response = right_response(item) if correct else _wrong_response(item, event_id)
    if response is None:
        return {}
    try:
        if grade(item, response).correct is not correct:
            return {}
    except InvalidInput:
        return {}
    stored = response if isinstance(response, str | int | float) else list(response)
    return {"response": stored}


def _wrong_response(item: Item, event_id: uuid.UUID) -> Response | None:
    pick = random.Random(event_id.int)
    wrong = [o.id for o in item.options if not o.correct]
    if item.type is ItemType.SINGLE_CHOICE and wrong:
        return pick.choice(wrong)
    if item.type is ItemType.MULTIPLE_CHOICE:
        right = [o.id for o in item.options if o.correct]
        return right[:-1] + wrong[:1] if wrong else right[:-1]
    if item.type is ItemType.ORDERING:
        return [o.id for o in reversed(item.options)]
    if item.type is ItemType.NUMERIC and item.answer is not None:
        return str(float(item.answer) + pick.choice([-1, 1]) * pick.choice([1, 2, 10]))
    if item.type is ItemType.SHORT_TEXT:
        return pick.choice(["I don't know", "not sure"])
    return None
