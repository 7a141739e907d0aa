"""Which xAPI statements the LRS records as evidence, and as what (see docs/xapi.md).

A statement is evidence when its actor is a learner (``actor.account.name`` is their zoped id),
its object names a zoped item or activity (``urn:zoped:item:<id>``,
``urn:zoped:activity:<id>``), and its verb is one of the ADL verbs below:

========================  =========================================  ===============================
verb                      item                                       activity
========================  =========================================  ===============================
answered                  an answer, right when ``result.success``   not evidence
passed / failed           a right / wrong answer                     a completion
scored                    an answer, right when ``result.success``   a completion
completed                 not evidence                               a completion
progressed                not evidence                               progress
========================  =========================================  ===============================

``result.score.scaled`` (kept when in [0, 1]) becomes the event's score and ``result.duration``
its duration. An answer needs to be right or wrong: an ``answered`` or ``scored`` statement
about an item without ``result.success`` is not evidence. Everything else is stored in the LRS
only; whether the learner and the content are the school's is the service's question.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.errors import InvalidInput
from zoped.interop.xapi import ACTIVITY_IRI, ITEM_IRI, _duration_s

ADL = "http://adlnet.gov/expapi/verbs/"
ITEM_VERBS = {"answered", "passed", "failed", "scored"}
ACTIVITY_VERBS = {
    "completed": EvidenceKind.ACTIVITY_COMPLETION,
    "passed": EvidenceKind.ACTIVITY_COMPLETION,
    "failed": EvidenceKind.ACTIVITY_COMPLETION,
    "scored": EvidenceKind.ACTIVITY_COMPLETION,
    "progressed": EvidenceKind.ACTIVITY_PROGRESS,
}


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def evidence_of(statement: Mapping[str, Any], *, recorded_at: datetime) -> EvidenceEvent | None:
    """The evidence event a stored statement records, or None when it is not evidence."""
    verb = _get(statement, "verb", "id")
    learner_id = _get(statement, "actor", "account", "name")
    object_id = _get(statement, "object", "id")
    if not (isinstance(verb, str) and verb.startswith(ADL) and isinstance(learner_id, str)):
        return None
    if not isinstance(object_id, str):
        return None
    name = verb.removeprefix(ADL)
    success = _get(statement, "result", "success")
    scaled = _get(statement, "result", "score", "scaled")
    score = float(scaled) if isinstance(scaled, int | float) and 0 <= scaled <= 1 else None
    duration = _get(statement, "result", "duration")
    fields: dict[str, Any] = {}
    if object_id.startswith(ITEM_IRI) and name in ITEM_VERBS:
        correct = {"passed": True, "failed": False}.get(name, success)
        if not isinstance(correct, bool):
            return None
        fields = {
            "kind": EvidenceKind.ANSWER,
            "item_id": object_id.removeprefix(ITEM_IRI),
            "correct": correct,
        }
    elif object_id.startswith(ACTIVITY_IRI) and name in ACTIVITY_VERBS:
        fields = {
            "kind": ACTIVITY_VERBS[name],
            "activity_id": object_id.removeprefix(ACTIVITY_IRI),
        }
    else:
        return None
    try:
        return EvidenceEvent(
            id=uuid.UUID(str(statement["id"])),
            learner_id=learner_id,
            occurred_at=datetime.fromisoformat(str(statement["timestamp"]).replace("Z", "+00:00")),
            recorded_at=recorded_at,
            source=EvidenceSource.XAPI,
            score=score,
            duration_s=_duration_s(duration) if isinstance(duration, str) else None,
            **fields,
        )
    except (InvalidInput, ValueError, KeyError):
        return None
