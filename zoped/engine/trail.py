"""What a learner did besides what the models track: their latest activities, which they
started and finished, their own evidence, and their latest answers per competency. Part of a
fold (:mod:`zoped.engine.fold`), stored with it."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from zoped.domain.evidence import EvidenceEvent, EvidenceKind

#: How many of a learner's latest activities a fold keeps (the menu looks at fewer).
RECENT_ACTIVITIES = 20
#: How many of a learner's latest answers on each competency a fold keeps (when, right): what
#: a teacher's "stuck" alert reads.
RECENT_ANSWERS = 16


@dataclass
class ActivityTrail:
    """What a learner did themselves: the latest activities (oldest first), those started and
    those finished, and how many events they recorded (not a teacher for them) and when last.
    """

    recent: list[str] = field(default_factory=list)
    started: set[str] = field(default_factory=set)
    finished: set[str] = field(default_factory=set)
    own_events: int = 0
    last_own_at_s: float | None = None

    @property
    def unfinished(self) -> set[str]:
        """Activities started and not finished."""
        return self.started - self.finished

    def add(self, events: Sequence[EvidenceEvent]) -> None:
        """Follow the trail through more events (in the order they occurred)."""
        for e in events:
            if e.actor_id in (None, e.learner_id):
                self.own_events += 1
                self.last_own_at_s = e.occurred_at.timestamp()
            if e.activity_id is None:
                continue
            self.recent.append(e.activity_id)
            if e.kind is EvidenceKind.ACTIVITY_COMPLETION:
                self.finished.add(e.activity_id)
            elif e.kind is EvidenceKind.ACTIVITY_PROGRESS:
                self.started.add(e.activity_id)
        del self.recent[:-RECENT_ACTIVITIES]

    def to_doc(self) -> dict[str, Any]:
        return {
            "recent": list(self.recent),
            "started": sorted(self.started),
            "finished": sorted(self.finished),
            "own_events": self.own_events,
            "last_own_at_s": self.last_own_at_s,
        }

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> ActivityTrail:
        last = doc["last_own_at_s"]
        return cls(
            list(doc["recent"]),
            set(doc["started"]),
            set(doc["finished"]),
            int(doc["own_events"]),
            None if last is None else float(last),
        )


#: A fold keeps a competency's latest answers as a tuple of (epoch second, right) pairs:
#: tuples of numbers are left alone by the garbage collector, which matters when a class page
#: reads 500 folds of 39 competencies each.
Answers = tuple[tuple[int, bool], ...]

#: Bit i of a byte, for i in 0..7, as booleans: decoding right-bits without a Python loop.
_BYTE_BITS = tuple(tuple(bool(b >> i & 1) for i in range(8)) for b in range(256))


def answers_doc(latest: Sequence[tuple[int, bool]]) -> list[int]:
    """Latest answers as [right-bits, first second, gaps...]: a small document, as these are
    most of a stored fold and every class page reads 500 of them."""
    bits = sum(1 << i for i, (_, right) in enumerate(latest) if right)
    times = [at for at, _ in latest]
    return [bits, *times[:1], *(b - a for a, b in itertools.pairwise(times))]


def answers_from_doc(doc: Sequence[int]) -> Answers:
    """Inverse of :func:`answers_doc` (at most :data:`RECENT_ANSWERS` answers)."""
    bits, times = int(doc[0]), tuple(itertools.accumulate(doc[1:]))
    rights = _BYTE_BITS[bits & 0xFF] + _BYTE_BITS[bits >> 8 & 0xFF]
    return tuple(zip(times, rights[: len(times)], strict=True))


def add_answer(latest: Answers, at_s: int, right: bool) -> Answers:
    """``latest`` with one more answer, keeping the last :data:`RECENT_ANSWERS`."""
    return (*latest, (at_s, right))[-RECENT_ANSWERS:]
