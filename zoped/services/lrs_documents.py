"""The xAPI Learning Record Store's documents: the state, activity profile and agent profile
resources, each school's apart.

A document is kept as the bytes sent with their content type; its ETag is the SHA-1 of the
bytes. A PUT replaces a document, a POST merges a JSON object into a JSON object document (or
stores it when there is none). ``If-Match`` / ``If-None-Match`` preconditions are checked (412
when they fail). In xAPI 1.0.3, activity and agent profiles are written under optimistic
concurrency: a PUT of a profile without either header is refused, a conflict (409) when the
profile exists, else bad input (400). In xAPI 2.0 every document resource, state included,
refuses a PUT without either header over an existing document (409) and accepts one that
creates a document (:class:`ConcurrencyRules`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from zoped.errors import Conflict, InvalidInput, NotFound, Problem, ZopedError
from zoped.interop.xapi_versions import V1_0_3, XapiVersion
from zoped.services import transaction
from zoped.services.lrs import LrsCaller
from zoped.store import lrs_repository as repo
from zoped.store.lrs_repository import Document, DocumentKey

__all__ = ["ConcurrencyRules", "DocumentKey", "PreconditionFailed"]
JSON_TYPE = "application/json"
PROFILE_KINDS = frozenset({"activity_profile", "agent_profile"})


@dataclass(frozen=True)
class ConcurrencyRules:
    """How a PUT without If-Match or If-None-Match is judged, by an xAPI version."""

    #: The document kinds where such a PUT over an existing document is a conflict (409).
    guarded: frozenset[str]
    #: Whether such a PUT that would create a guarded document is refused (400).
    refuse_new: bool

    @classmethod
    def of(cls, version: XapiVersion) -> ConcurrencyRules:
        """The rules of an xAPI version."""
        guarded = PROFILE_KINDS | ({"state"} if version.state_concurrency else set())
        return cls(frozenset(guarded), version.new_profile_needs_precondition)


#: The rules of xAPI 1.0.3.
V1_RULES = ConcurrencyRules.of(V1_0_3)


class PreconditionFailed(ZopedError):
    """An ``If-Match`` or ``If-None-Match`` precondition does not hold (412)."""


def etag_of(content: bytes) -> str:
    """A document's ETag: the SHA-1 of its bytes, in hexadecimal."""
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def _json_object(content: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    return found if isinstance(found, dict) else None


def _check_preconditions(
    found: Document | None, if_match: str | None, if_none_match: str | None
) -> None:
    if if_match is not None:
        tags = {t.strip().removeprefix("W/").strip('"') for t in if_match.split(",")}
        if found is None or not ("*" in tags or found.etag in tags):
            raise PreconditionFailed("the document's ETag does not match If-Match")
    if if_none_match is not None and found is not None:
        tags = {t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")}
        if "*" in tags or found.etag in tags:
            raise PreconditionFailed("the document exists (If-None-Match)")


def get_document(
    session: Session, *, caller: LrsCaller, key: DocumentKey, document_id: str
) -> Document:
    """One document. Raises: NotFound."""
    caller.require()
    found = repo.get_document(session, key, document_id)
    if found is None:
        raise NotFound(f"no document {document_id!r}")
    return found


def list_documents(
    session: Session, *, caller: LrsCaller, key: DocumentKey, since: datetime | None
) -> list[str]:
    """The ids of the documents of a place (updated after ``since``)."""
    caller.require()
    return repo.document_ids(session, key, since)


def save_document(
    session: Session,
    *,
    caller: LrsCaller,
    key: DocumentKey,
    document_id: str,
    content: bytes,
    content_type: str,
    merge: bool,
    if_match: str | None,
    if_none_match: str | None,
    now: datetime,
    rules: ConcurrencyRules = V1_RULES,
) -> Document:
    """Store (PUT) or merge (POST, ``merge``) a document.

    Raises:
        PreconditionFailed: an If-Match / If-None-Match that does not hold.
        Conflict: a PUT over an existing guarded document without either header.
        InvalidInput: a PUT of a new profile without either header (where ``rules`` say so).
        InvalidInput: a merge where either document is not a JSON object.
    """
    caller.require()
    found = repo.get_document(session, key, document_id)
    _check_preconditions(found, if_match, if_none_match)
    unguarded_put = not merge and if_match is None and if_none_match is None
    if unguarded_put and key.kind in rules.guarded and found is not None:
        raise Conflict("this document exists: send If-Match with its ETag to replace it")
    if unguarded_put and key.kind in rules.guarded and rules.refuse_new:
        raise InvalidInput(
            "send If-None-Match: * to create a profile (or If-Match to replace one)",
            [Problem("If-None-Match", "a PUT of a profile sends If-Match or If-None-Match")],
        )
    if merge and found is not None:
        old, new = _json_object(found.content), _json_object(content)
        if old is None or new is None or JSON_TYPE not in content_type:
            raise InvalidInput(
                "only JSON objects merge",
                [Problem("body", "POST merges a JSON object into a JSON object document")],
            )
        content = json.dumps({**old, **new}, separators=(",", ":")).encode()
        content_type = JSON_TYPE
    elif merge and (JSON_TYPE in content_type) and _json_object(content) is None:
        raise InvalidInput("only JSON objects merge", [Problem("body", "POST sends a JSON object")])
    document = Document(document_id, content_type, content, etag_of(content), now)
    with transaction(session):
        repo.put_document(session, key, document)
    return document


def delete_documents(
    session: Session,
    *,
    caller: LrsCaller,
    key: DocumentKey,
    document_id: str | None,
    if_match: str | None,
) -> None:
    """Delete one document, or every document of a place (state only, ``document_id`` None).

    Raises:
        PreconditionFailed: an If-Match that does not hold.
    """
    caller.require()
    if document_id is not None and if_match is not None:
        _check_preconditions(repo.get_document(session, key, document_id), if_match, None)
    with transaction(session):
        repo.delete_documents(session, key, document_id)
