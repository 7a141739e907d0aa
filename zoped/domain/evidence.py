"""Evidence events: the immutable entries of the event log, the platform's source of truth.

Every answer, completion, rubric score, self-assessment and teacher override is an
:class:`EvidenceEvent`. Learner state is derived by replaying them. An event's ``id`` is chosen
by the client, so a resubmission is recognised: the store compares
:meth:`EvidenceEvent.content_fingerprint` and treats the same content as a no-op and different
content under the same id as a conflict.
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from zoped.domain.jsondata import MAX_JSON_DEPTH, json_depth
from zoped.errors import InvalidInput, Problem


def aware_problems(value: object, location: str) -> list[Problem]:
    """A problem if ``value`` is not a timezone-aware datetime (naive times are ambiguous)."""
    if not isinstance(value, datetime):
        return [Problem(location, f"expected a datetime, not {type(value).__name__}")]
    if value.tzinfo is None or value.utcoffset() is None:
        return [Problem(location, "a timezone-aware datetime is required (got a naive one)")]
    try:
        value.astimezone(UTC)
    except OverflowError:
        return [Problem(location, "must be a time that exists in UTC (years 1 to 9999)")]
    return []


class EvidenceKind(StrEnum):
    """What an event is evidence of."""

    ANSWER = "answer"
    ACTIVITY_PROGRESS = "activity_progress"
    ACTIVITY_COMPLETION = "activity_completion"
    RUBRIC_SCORE = "rubric_score"
    SELF_ASSESSMENT = "self_assessment"
    TEACHER_OVERRIDE = "teacher_override"
    PLACEMENT_ANSWER = "placement_answer"
    PRIOR_LEARNING = "prior_learning"


class EvidenceSource(StrEnum):
    """Where an event came in."""

    WEB = "web"
    API = "api"
    XAPI = "xapi"
    IMPORT = "import"
    SYSTEM = "system"


#: Kinds that record an answer to an item, and so need ``item_id`` and ``correct``.
ANSWER_KINDS = frozenset({EvidenceKind.ANSWER, EvidenceKind.PLACEMENT_ANSWER})
#: Kinds about an activity, which need ``activity_id``.
ACTIVITY_KINDS = frozenset({EvidenceKind.ACTIVITY_PROGRESS, EvidenceKind.ACTIVITY_COMPLETION})
#: Kinds that speak directly about competencies, which need ``competency_ids``.
COMPETENCY_KINDS = frozenset(
    {
        EvidenceKind.RUBRIC_SCORE,
        EvidenceKind.SELF_ASSESSMENT,
        EvidenceKind.TEACHER_OVERRIDE,
        EvidenceKind.PRIOR_LEARNING,
    }
)


#: The largest payload an event carries, as compact JSON.
MAX_PAYLOAD_BYTES = 64_000


def _json_problems(value: Any, location: str) -> list[Problem]:
    if json_depth(value) > MAX_JSON_DEPTH:
        return [Problem(location, f"must not nest deeper than {MAX_JSON_DEPTH} levels")]
    try:
        text = json.dumps(value, allow_nan=False, sort_keys=True)
    except (TypeError, ValueError) as error:
        return [Problem(location, f"must be JSON data (strings as keys, finite numbers): {error}")]
    if len(text.encode()) > MAX_PAYLOAD_BYTES:
        return [Problem(location, f"must be at most {MAX_PAYLOAD_BYTES:,} bytes of JSON")]
    return []


@dataclass(frozen=True)
class EvidenceEvent:
    """One piece of evidence about one learner. Immutable; never edited, only superseded.

    Attributes:
        id: chosen by the client, so that resubmitting the same event is a no-op.
        learner_id: whose evidence it is.
        kind: what it is evidence of.
        occurred_at: when it happened (timezone-aware).
        recorded_at: when zoped stored it (timezone-aware).
        source: where it came in.
        item_id: the item answered (answer kinds).
        activity_id: the activity worked on (activity kinds; optional for others).
        competency_ids: the competencies it speaks about. For answers, empty means "the item's".
        correct: whether an answer was right (answer kinds); None otherwise.
        score: partial credit, rubric score, progress or the overridden level, in [0, 1].
        duration_s: time spent, in seconds (>= 0).
        hints_used: hints shown before answering (>= 0).
        actor_id: who recorded it when not the learner (a teacher's override, an import).
        note: a reason or comment; required for a teacher override.
        payload: kind-specific JSON data, e.g. the raw response or the chosen rubric levels.
        supersedes: the id of an earlier event this one replaces (e.g. undoing an override).
    """

    id: uuid.UUID
    learner_id: str
    kind: EvidenceKind
    occurred_at: datetime
    recorded_at: datetime
    source: EvidenceSource = EvidenceSource.WEB
    item_id: str | None = None
    activity_id: str | None = None
    competency_ids: tuple[str, ...] = ()
    correct: bool | None = None
    score: float | None = None
    duration_s: float | None = None
    hints_used: int = 0
    actor_id: str | None = None
    note: str = ""
    payload: dict[str, Any] = field(default_factory=dict, hash=False)
    supersedes: uuid.UUID | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "competency_ids", tuple(self.competency_ids))
        self.validate()

    @classmethod
    def restore(cls, **values: Any) -> EvidenceEvent:
        """An event read back from the log, given every field: it was validated when it was
        recorded and the log is append-only, so it is not checked again (reading a long log is
        most of what a refold costs).

        Raises:
            KeyError: a field is missing.
        """
        event = object.__new__(cls)
        for name in _FIELD_NAMES:
            object.__setattr__(event, name, values[name])
        object.__setattr__(event, "competency_ids", tuple(event.competency_ids))
        return event

    def problems(self) -> list[Problem]:
        """Every problem with this event's fields, each named by its field."""
        problems: list[Problem] = []
        if not isinstance(self.id, uuid.UUID):
            problems.append(Problem("id", "must be a UUID"))
        if not self.learner_id or not str(self.learner_id).strip():
            problems.append(Problem("learner_id", "must not be empty"))
        problems += aware_problems(self.occurred_at, "occurred_at")
        problems += aware_problems(self.recorded_at, "recorded_at")
        if self.score is not None and not (
            isinstance(self.score, int | float)
            and math.isfinite(self.score)
            and 0.0 <= self.score <= 1.0
        ):
            problems.append(Problem("score", f"must be in [0, 1], not {self.score!r}"))
        if self.duration_s is not None and not (
            math.isfinite(self.duration_s) and self.duration_s >= 0
        ):
            problems.append(Problem("duration_s", f"must be >= 0, not {self.duration_s!r}"))
        if self.hints_used < 0:
            problems.append(Problem("hints_used", f"must be >= 0, not {self.hints_used}"))
        for index, cid in enumerate(self.competency_ids):
            if not cid:
                problems.append(Problem(f"competency_ids[{index}]", "must not be empty"))
        if self.supersedes is not None and self.supersedes == self.id:
            problems.append(Problem("supersedes", "an event cannot supersede itself"))
        problems += _json_problems(self.payload, "payload")
        problems += self._kind_problems()
        return problems

    def _kind_problems(self) -> list[Problem]:
        problems: list[Problem] = []
        kind = self.kind
        if kind in ANSWER_KINDS:
            if not self.item_id:
                problems.append(Problem("item_id", f"a {kind} event needs an item id"))
            if self.correct is None:
                problems.append(Problem("correct", f"a {kind} event says whether it was right"))
        elif self.correct is not None:
            problems.append(Problem("correct", f"only answers are right or wrong, not {kind}"))
        if kind in ACTIVITY_KINDS and not self.activity_id:
            problems.append(Problem("activity_id", f"a {kind} event needs an activity id"))
        if kind in COMPETENCY_KINDS and not self.competency_ids:
            problems.append(Problem("competency_ids", f"a {kind} event names its competencies"))
        if kind in (EvidenceKind.RUBRIC_SCORE, EvidenceKind.TEACHER_OVERRIDE) and (
            self.score is None
        ):
            problems.append(Problem("score", f"a {kind} event needs a score"))
        if kind is EvidenceKind.TEACHER_OVERRIDE:
            if not self.actor_id:
                problems.append(Problem("actor_id", "an override records which teacher made it"))
            if not self.note.strip():
                problems.append(Problem("note", "an override records why (the reason)"))
        return problems

    def validate(self) -> EvidenceEvent:
        """Return self if valid.

        Raises:
            InvalidInput: listing every bad field at once.
        """
        problems = self.problems()
        if problems:
            raise InvalidInput("invalid evidence event", problems)
        return self

    def to_dict(self) -> dict[str, Any]:
        """The event as JSON data (datetimes in ISO 8601, UUIDs as strings)."""
        return {
            "id": str(self.id),
            "learner_id": self.learner_id,
            "kind": str(self.kind),
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "source": str(self.source),
            "item_id": self.item_id,
            "activity_id": self.activity_id,
            "competency_ids": list(self.competency_ids),
            "correct": self.correct,
            "score": self.score,
            "duration_s": self.duration_s,
            "hints_used": self.hints_used,
            "actor_id": self.actor_id,
            "note": self.note,
            "payload": self.payload,
            "supersedes": str(self.supersedes) if self.supersedes else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvidenceEvent:
        """Rebuild an event from :meth:`to_dict` output.

        Raises:
            InvalidInput: for unparsable values or a resulting invalid event.
        """
        try:
            supersedes = data.get("supersedes")
            return cls(
                id=uuid.UUID(str(data["id"])),
                learner_id=data["learner_id"],
                kind=EvidenceKind(data["kind"]),
                occurred_at=datetime.fromisoformat(data["occurred_at"]),
                recorded_at=datetime.fromisoformat(data["recorded_at"]),
                source=EvidenceSource(data.get("source", "web")),
                item_id=data.get("item_id"),
                activity_id=data.get("activity_id"),
                competency_ids=tuple(data.get("competency_ids") or ()),
                correct=data.get("correct"),
                score=data.get("score"),
                duration_s=data.get("duration_s"),
                hints_used=int(data.get("hints_used") or 0),
                actor_id=data.get("actor_id"),
                note=data.get("note") or "",
                payload=dict(data.get("payload") or {}),
                supersedes=uuid.UUID(str(supersedes)) if supersedes else None,
            )
        except (KeyError, ValueError, TypeError) as error:
            raise InvalidInput(
                "invalid evidence event", [Problem("", f"cannot read event: {error!r}")]
            ) from None

    def content_fingerprint(self) -> str:
        """A hash of what the event says, to compare two submissions with the same id.

        ``recorded_at`` is left out: a resubmission is recorded at another time but says the
        same thing. Datetimes are compared as instants (in UTC), so the same moment written in
        two time zones is the same content.
        """
        data = self.to_dict()
        del data["recorded_at"]
        data["occurred_at"] = self.occurred_at.astimezone(UTC).isoformat()
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_FIELD_NAMES = tuple(f.name for f in fields(EvidenceEvent))
