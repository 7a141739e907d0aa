"""The xAPI Learning Record Store's statements: store any valid statement, read them back,
void them, and turn the ones about a course's items and activities into evidence.

The caller is an LRS credential (``zoped credentials create --role lrs``): a service account of
one school whose token has the ``xapi:lrs`` scope. Everything it stores or reads is its
school's; another school's LRS sees nothing of it.

A batch is all or nothing: every statement is checked (and every id compared with what is
stored) before any is written. After the statements are stored, those that map to evidence
(:func:`zoped.interop.xapi_lrs.evidence_of`) are recorded through the evidence service under
the policy's evidence authority; the others stay in the LRS, and the counts of both are written
to the school's audit log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from zoped.domain.evidence import EvidenceEvent
from zoped.domain.people import User
from zoped.errors import Conflict, InvalidInput, NotFound, PermissionDenied, Problem
from zoped.interop import xapi_lrs
from zoped.interop.xapi_evidence import evidence_of
from zoped.interop.xapi_versions import V1_0_3, XapiVersion
from zoped.services import transaction
from zoped.services.audit import record_access
from zoped.services.evidence import record_evidence_batch
from zoped.services.policy import require_evidence_authority, require_school_admin
from zoped.services.tokens import Scope, require_scope
from zoped.store import lrs_repository as repo
from zoped.store.tables import activities, courses, items

log = logging.getLogger("zoped.lrs")
#: The filters of a statements GET (the pages build one).
StatementQuery = repo.StatementQuery
MAX_BATCH = 500
MAX_LIMIT = 500


@dataclass(frozen=True)
class LrsCaller:
    """An LRS credential: the service account and its token's scopes."""

    user: User
    scopes: frozenset[str] | None

    @property
    def school_id(self) -> str:
        """The school whose records it reads and writes."""
        return self.user.school_id

    def require(self) -> None:
        """Refuse a token without the ``xapi:lrs`` scope, or of anyone but an admin of the
        school (the LRS holds the whole school's records: an LRS credential is an admin
        service account; an admin may also give a token of their own the scope).

        Raises:
            PermissionDenied: either.
        """
        require_scope(self.scopes, Scope.XAPI_LRS)
        require_school_admin(self.user, self.school_id)


def authority(caller: LrsCaller) -> dict[str, Any]:
    """The agent the LRS names as the authority of what a credential stores."""
    return {
        "objectType": "Agent",
        "name": caller.user.display_name,
        "account": {"homePage": "urn:zoped:credential", "name": caller.user.id},
    }


@dataclass(frozen=True)
class StoreResult:
    """What a store did: the statement ids (in the order sent), and how many were new and
    how many of those became evidence."""

    ids: list[str]
    stored: int
    evidence: int


def _target(statement: Mapping[str, Any]) -> str | None:
    """The id of the statement a StatementRef object targets."""
    obj = statement.get("object") or {}
    return str(obj.get("id")).lower() if obj.get("objectType") == "StatementRef" else None


def _voided_target(statement: Mapping[str, Any]) -> str | None:
    verb = statement.get("verb") or {}
    return _target(statement) if verb.get("id") == xapi_lrs.VOIDED else None


def _registration(statement: Mapping[str, Any]) -> str | None:
    context = statement.get("context")
    found = context.get("registration") if isinstance(context, Mapping) else None
    return str(found).lower() if found else None


def _check_batch(
    statements: Sequence[Any],
    attachments: Mapping[str, tuple[str, bytes]],
    version: XapiVersion,
) -> list[Problem]:
    problems: list[Problem] = []
    if not statements:
        problems.append(Problem("statements", "send at least one statement"))
    if len(statements) > MAX_BATCH:
        problems.append(Problem("statements", f"send at most {MAX_BATCH} at once"))
    seen: set[str] = set()
    wanted: set[str] = set()
    for index, statement in enumerate(statements):
        where = f"[{index}]" if len(statements) > 1 else "statement"
        found = xapi_lrs.check_statement(statement, version)
        problems.extend(Problem(f"{where}.{p.location}", p.message) for p in found)
        if found:
            continue
        found = xapi_lrs.signature_problems(statement, attachments)
        problems.extend(Problem(f"{where}.{p.location}", p.message) for p in found)
        if "id" in statement:
            sid = str(statement["id"]).lower()
            if sid in seen:
                problems.append(Problem(f"{where}.id", "the batch sends this id twice"))
            seen.add(sid)
        for attachment in statement.get("attachments") or []:
            if "fileUrl" not in attachment:
                wanted.add(attachment["sha2"])
    for sha2 in wanted - set(attachments):
        problems.append(Problem("attachments", f"no part carries the attachment {sha2}"))
    for sha2 in set(attachments) - {
        a.get("sha2")
        for s in statements
        if isinstance(s, Mapping)
        for a in (s.get("attachments") or [])
        if isinstance(a, Mapping)
    }:
        problems.append(Problem("attachments", f"the part {sha2} is no statement's attachment"))
    return problems


def _write(
    session: Session,
    *,
    caller: LrsCaller,
    ready: Sequence[dict[str, Any]],
    parts: Mapping[str, tuple[str, bytes]],
    now: datetime,
) -> tuple[list[dict[str, Any]], set[str]]:
    """Store the statements not stored yet and void what they void; returns those stored and
    the ids of those among them that are voided now.

    A statement whose voiding statement came first is stored voided: the LRS does not refuse a
    voiding statement whose target it does not hold (xAPI 1.0.3, 2.3.2; 2.0.0, 2.2.3), and the
    target, when it comes, is the target of a voiding statement, so it is voided (a voiding
    statement itself never is).

    Raises:
        Conflict: an id is stored with other content.
        InvalidInput: a voiding statement targets a voiding statement.
    """
    stored = repo.find_statements(session, caller.school_id, [s["id"] for s in ready])
    fresh = []
    for statement in ready:
        old = stored.get(statement["id"])
        if old is None:
            fresh.append(statement)
        elif not xapi_lrs.same_statement(json.loads(old), statement):
            raise Conflict(f"the statement {statement['id']} is stored with other content")
    targets = {t for s in fresh if (t := _voided_target(s))}
    verbs = repo.voiding_targets(session, caller.school_id, sorted(targets))
    verbs.update({s["id"]: s["verb"]["id"] for s in fresh if s["id"] in targets})
    for target in targets:
        if verbs.get(target) == xapi_lrs.VOIDED:
            raise InvalidInput(
                "a voiding statement cannot be voided",
                [Problem("object.id", f"{target} is itself a voiding statement")],
            )
    plain = [s["id"] for s in fresh if _voided_target(s) is None]
    early = repo.voided_on_arrival(session, caller.school_id, plain, xapi_lrs.VOIDED)
    with transaction(session):
        repo.add_attachments(session, caller.school_id, parts)
        for statement in fresh:
            repo.add_statement(
                session,
                school_id=caller.school_id,
                statement_id=statement["id"],
                stored=now,
                verb_id=statement["verb"]["id"],
                registration=_registration(statement),
                target_id=_target(statement),
                statement=json.dumps(statement, separators=(",", ":")),
                refs=xapi_lrs.references(statement),
            )
        voided = (targets & set(verbs)) | early
        repo.void(session, caller.school_id, sorted(voided))
    return fresh, voided


def store_statements(
    session: Session,
    *,
    caller: LrsCaller,
    statements: Sequence[Any],
    attachments: Mapping[str, tuple[str, bytes]] | None = None,
    statement_id: str | None = None,
    now: datetime,
    version: XapiVersion = V1_0_3,
) -> StoreResult:
    """Store statements, all or nothing (PUT gives ``statement_id``; POST may send many),
    under the rules of an xAPI ``version``.

    Raises:
        InvalidInput: a statement is not valid xAPI, an id comes twice, an attachment has no
            part, or a voiding statement targets a voiding statement; nothing is stored.
        Conflict: an id is stored with other content; nothing is stored.
        PermissionDenied: the token lacks the ``xapi:lrs`` scope.
    """
    caller.require()
    parts = dict(attachments or {})
    batch = list(statements)
    if statement_id is not None and batch and isinstance(batch[0], Mapping):
        given = batch[0].get("id")
        if given is not None and str(given).lower() != statement_id.lower():
            raise InvalidInput(
                "the statement's id is not the statementId",
                [Problem("statementId", "must be the id of the statement sent")],
            )
        batch[0] = {**batch[0], "id": statement_id}
    problems = _check_batch(batch, parts, version)
    if problems:
        raise InvalidInput("invalid xAPI statement", problems)
    ready = [
        xapi_lrs.prepare(s, stored=now, authority=authority(caller), version=version)
        for s in batch
        if isinstance(s, Mapping)
    ]
    for attempt in (1, 2):
        try:
            fresh, voided = _write(session, caller=caller, ready=ready, parts=parts, now=now)
            break
        except IntegrityError:
            # Another request stored one of these ids between our read and our write (the
            # transaction is rolled back): judge the batch again against what it stored.
            if attempt == 2:
                raise Conflict("these statements were being stored by another request") from None
    # A statement voided as it is stored (its voiding statement came first, or in the same
    # batch) is no evidence.
    live = [s for s in fresh if s["id"] not in voided]
    recorded = _record_evidence(session, caller=caller, statements=live, now=now)
    if fresh:
        with transaction(session):
            record_access(
                session,
                actor=caller.user,
                action="xapi_store",
                subject_type="school",
                subject_id=caller.school_id,
                now=now,
                details={
                    "stored": len(fresh),
                    "evidence": recorded,
                    "other": len(fresh) - recorded,
                },
            )
    return StoreResult([s["id"] for s in ready], len(fresh), recorded)


def _content_of_school(session: Session, school_id: str, event: EvidenceEvent) -> bool:
    table = items if event.item_id is not None else activities
    wanted = event.item_id if event.item_id is not None else event.activity_id
    found = session.scalar(
        select(table.c.id)
        .join(courses, courses.c.id == table.c.course_id)
        .where(courses.c.school_id == school_id, table.c.id == wanted)
        .limit(1)
    )
    return found is not None


def _record_evidence(
    session: Session, *, caller: LrsCaller, statements: Sequence[Mapping[str, Any]], now: datetime
) -> int:
    """Record the statements that are evidence; returns how many were."""
    events: list[EvidenceEvent] = []
    for statement in statements:
        event = evidence_of(statement, recorded_at=now)
        if event is None or not _content_of_school(session, caller.school_id, event):
            continue
        try:
            require_evidence_authority(
                session, actor=caller.user, learner_id=event.learner_id, kind=event.kind, now=now
            )
        except (NotFound, PermissionDenied):
            continue
        events.append(event)
    if not events:
        return 0
    try:
        record_evidence_batch(session, events=events)
    except (Conflict, NotFound) as error:
        # The statements are stored; evidence whose id is taken by other content is left out.
        log.warning("xAPI statements not recorded as evidence: %s", error)
        return 0
    return len(events)


def get_statement(
    session: Session, *, caller: LrsCaller, statement_id: str, voided: bool
) -> dict[str, Any]:
    """One statement by id (``voided``: the id of a voided one, as ``voidedStatementId``).

    Raises:
        NotFound: no such statement in the school, or it is (not) voided.
    """
    caller.require()
    found = repo.get_statement(session, caller.school_id, statement_id.lower())
    if found is None or found[1] != voided:
        raise NotFound(f"no statement {statement_id}")
    result: dict[str, Any] = json.loads(found[0])
    return result


def query_statements(
    session: Session,
    *,
    caller: LrsCaller,
    query: StatementQuery,
    limit: int,
    after: repo.Cursor | None,
    until_seq: int | None,
) -> tuple[list[dict[str, Any]], repo.Cursor | None, int]:
    """A page of statements: (statements, where the next page starts or None when this is the
    last one, the newest seq when the first page was read)."""
    caller.require()
    top = until_seq if until_seq is not None else repo.last_seq(session)
    size = min(limit or MAX_LIMIT, MAX_LIMIT)
    rows = repo.query_statements(
        session, caller.school_id, query, limit=size + 1, after=after, until_seq=top
    )
    more = rows[size - 1][0] if len(rows) > size else None
    return [json.loads(text) for _, text in rows[:size]], more, top


def attachments_of(
    session: Session, *, caller: LrsCaller, statements: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[str, bytes]]:
    """The kept contents of the statements' attachments, by SHA-2."""
    caller.require()
    hashes = {
        a["sha2"]
        for s in statements
        for a in s.get("attachments") or []
        if isinstance(a, Mapping) and isinstance(a.get("sha2"), str)
    }
    return repo.get_attachments(session, caller.school_id, sorted(hashes))


def _activities_in(data: Any) -> Any:
    if isinstance(data, Mapping):
        if isinstance(data.get("id"), str) and "definition" in data:
            yield data
        for value in data.values():
            yield from _activities_in(value)
    elif isinstance(data, list):
        for value in data:
            yield from _activities_in(value)


def activity_definition(session: Session, *, caller: LrsCaller, activity_id: str) -> dict[str, Any]:
    """The Activity object of an id, with the definitions the newest statements about it (up
    to 100) gave merged: language maps and extensions joined, newer values first, other
    properties as the newest statement gave them."""
    caller.require()
    merged: dict[str, Any] = {}
    for found in repo.about_activity(session, caller.school_id, activity_id, limit=100):
        for candidate in _activities_in(json.loads(found)):
            if candidate["id"] != activity_id or not isinstance(candidate["definition"], dict):
                continue
            for key, value in candidate["definition"].items():
                if isinstance(value, dict) and isinstance(merged.get(key), dict):
                    merged[key] = {**value, **merged[key]}
                else:
                    merged.setdefault(key, value)
    activity: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    if merged:
        activity["definition"] = merged
    return activity
