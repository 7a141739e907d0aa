"""Versioned JSON documents: every JSON column holds ``{"_v": <schema version>, ...}``.

When the shape of a document changes, bump its version in :data:`CURRENT` and register a
function that upgrades a document from the previous version. Old rows are upgraded step by
step when read (1 → 2 → 3 …), so no data migration is needed for a shape change; a later
migration may rewrite the rows in bulk if it wants to drop an upgrader.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from zoped.errors import Conflict

VERSION_KEY = "_v"

#: The version each kind of document is written with today.
CURRENT: dict[str, int] = {
    "activity": 1,
    "item": 1,
    "rubric": 1,
    "profile": 1,
    "plan": 1,
    "event_payload": 1,
    "id_list": 1,
    "audit_details": 1,
    "decision": 1,
    "placement_state": 1,
    "group": 1,
    "model_params": 1,
    "learner_fold": 1,
    "roster_record": 1,
}

Doc = dict[str, Any]
Upgrader = Callable[[Doc], Doc]

#: ``UPGRADERS[kind][n]`` turns a version-``n`` document into a version-``n + 1`` one.
UPGRADERS: dict[str, dict[int, Upgrader]] = {}


def dump(kind: str, data: Doc) -> Doc:
    """Stamp ``data`` with the current version of ``kind`` (a new dict; ``data`` is kept)."""
    return {**data, VERSION_KEY: CURRENT[kind]}


def load(kind: str, doc: Doc) -> Doc:
    """Read a stored document, upgrading it to the current version of ``kind``.

    Returns:
        The document's fields without the version key.

    Raises:
        Conflict: when the row was written by a newer zoped than this one.
    """
    data = dict(doc)
    version = int(data.pop(VERSION_KEY, 1))
    current = CURRENT[kind]
    if version > current:
        raise Conflict(
            f"a {kind} document has schema version {version}, newer than this zoped "
            f"understands ({current}); upgrade zoped"
        )
    while version < current:
        data = UPGRADERS[kind][version](data)
        version += 1
    return data


def dump_ids(ids: tuple[str, ...] | list[str]) -> Doc:
    """A list of ids as a versioned document."""
    return dump("id_list", {"ids": list(ids)})


def load_ids(doc: Doc) -> tuple[str, ...]:
    """The ids of a document written by :func:`dump_ids`."""
    return tuple(load("id_list", doc)["ids"])
