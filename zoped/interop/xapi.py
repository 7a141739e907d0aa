"""xAPI statements to and from evidence events.

zoped writes a learner's evidence as xAPI statements in their data export, and reads statements
that xAPI clients (other tools the school uses) send to ``POST /api/v1/xapi/statements``. Both
directions use the same vocabulary, so an exported statement reads back as the same event.

A statement zoped reads must carry:

- ``id``: a UUID (it becomes the event id, so a resent statement is recorded once);
- ``actor.account.name``: the learner's zoped id;
- ``verb.id``: answered, completed or progressed (ADL verbs);
- ``object.id``: ``urn:zoped:item:<id>`` (answered) or ``urn:zoped:activity:<id>``;
- ``timestamp`` with a time zone; ``result.success`` for an answer; optional ``result.score.
  scaled`` in [0, 1] and ``result.duration`` (``PT<seconds>S``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.errors import InvalidInput, Problem

ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
XAPI_VERBS = {
    "answer": (ANSWERED, "answered"),
    "placement_answer": (ANSWERED, "answered"),
    "activity_completion": (COMPLETED, "completed"),
    "activity_progress": (PROGRESSED, "progressed"),
}
SCORED_VERB = ("http://adlnet.gov/expapi/verbs/scored", "scored")
ACTIVITY_IRI = "urn:zoped:activity:"
ITEM_IRI = "urn:zoped:item:"
KIND_OF_VERB = {
    ANSWERED: EvidenceKind.ANSWER,
    COMPLETED: EvidenceKind.ACTIVITY_COMPLETION,
    PROGRESSED: EvidenceKind.ACTIVITY_PROGRESS,
}
_DURATION = re.compile(r"^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$")


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _duration_s(text: str) -> float | None:
    match = _DURATION.match(text)
    if match is None or not any(match.groups()):
        return None
    hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def statement_to_event(
    statement: Any, *, recorded_at: datetime, location: str = "statement"
) -> EvidenceEvent:
    """The evidence event a statement records.

    Raises:
        InvalidInput: listing every problem with the statement, each with its location.
    """
    problems: list[Problem] = []

    def bad(where: str, message: str) -> None:
        problems.append(Problem(f"{location}.{where}", message))

    if not isinstance(statement, Mapping):
        raise InvalidInput("invalid xAPI statement", [Problem(location, "must be an object")])
    try:
        event_id = uuid.UUID(str(statement.get("id")))
    except ValueError:
        bad("id", "a UUID is required, so that a resent statement is recorded once")
        event_id = uuid.uuid4()
    learner_id = _get(statement, "actor", "account", "name")
    if not isinstance(learner_id, str) or not learner_id.strip():
        bad("actor.account.name", "the learner's zoped id is required")
    verb = _get(statement, "verb", "id")
    kind = KIND_OF_VERB.get(verb) if isinstance(verb, str) else None
    if kind is None:
        known = ", ".join(sorted(KIND_OF_VERB))
        bad("verb.id", f"{verb!r} is not one zoped records (use one of {known})")
    object_id = _get(statement, "object", "id")
    item_id = activity_id = None
    if isinstance(object_id, str) and object_id.startswith(ITEM_IRI):
        item_id = object_id.removeprefix(ITEM_IRI)
    elif isinstance(object_id, str) and object_id.startswith(ACTIVITY_IRI):
        activity_id = object_id.removeprefix(ACTIVITY_IRI)
    else:
        bad("object.id", f"must start with {ITEM_IRI} or {ACTIVITY_IRI}")
    occurred_at: datetime | None = None
    stamp = statement.get("timestamp")
    try:
        occurred_at = datetime.fromisoformat(str(stamp))
    except ValueError:
        bad("timestamp", "an ISO 8601 time is required")
    if occurred_at is not None and occurred_at.utcoffset() is None:
        bad("timestamp", "must carry a time zone")
    success = _get(statement, "result", "success")
    if success is not None and not isinstance(success, bool):
        bad("result.success", "must be true or false")
    scaled = _get(statement, "result", "score", "scaled")
    if scaled is not None and not (
        isinstance(scaled, int | float) and not isinstance(scaled, bool) and 0 <= scaled <= 1
    ):
        bad("result.score.scaled", "must be a number in [0, 1]")
    duration = _get(statement, "result", "duration")
    duration_s = None
    if duration is not None:
        duration_s = _duration_s(str(duration))
        if duration_s is None:
            bad("result.duration", "must be an ISO 8601 duration such as PT42.5S")
    if problems or occurred_at is None or kind is None or not isinstance(learner_id, str):
        raise InvalidInput("invalid xAPI statement", problems)
    try:
        return EvidenceEvent(
            id=event_id,
            learner_id=learner_id,
            kind=kind,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            source=EvidenceSource.XAPI,
            item_id=item_id,
            activity_id=activity_id,
            correct=success if kind is EvidenceKind.ANSWER else None,
            score=float(scaled) if scaled is not None else None,
            duration_s=duration_s,
        )
    except InvalidInput as error:
        raise InvalidInput(
            "invalid xAPI statement",
            [Problem(f"{location}.{p.location}", p.message) for p in error.problems],
        ) from error
