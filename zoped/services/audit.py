"""The audit log as a use case: record each access of learner data, read the log back, filter
and export it, and prune it after the retention period.

The log is append-only (:func:`zoped.store.repositories.append_audit` has no update or delete);
the one delete is the retention prune (:func:`prune_audit`). Admins read their school's log
(:func:`list_audit`, :func:`audit_csv`); a learner, or a guardian linked to them, reads who
looked at the learner's data (:func:`who_looked_at`).

One row per access
------------------
A page or an API answer often calls several services that each check the policy and audit
(the learner's home reads the state, the menu and the placement check). Each session keeps an
*audit scope*: the entries it has written at the current instant. Within one request every
service gets the same ``now`` (:func:`zoped.clock.request_now`), so an entry identical to one
already written (same actor, action, subject, details and instant) is not written again: one
page view is one row per (actor, action, subject). Nothing needs to remember to do this: it
happens in :func:`record_accesses`, the path every audited access takes. Entries of a
transaction that is rolled back are forgotten with it, so a later access in the same request is
written again; forgetting can only ever write a row twice, never leave an access unrecorded.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, SessionTransaction

from zoped.domain.people import GuardianLink, Role, User
from zoped.errors import InvalidInput, NotFound, PermissionDenied, Problem
from zoped.services import transaction
from zoped.store import jsondocs
from zoped.store.audit_repository import LOG_SUBJECT, AuditConditions, AuditRepository, AuditRow
from zoped.store.repositories import PeopleRepository, append_audits
from zoped.store.tables import audit_log, users

# A session that recorded an access carries this flag, so the web layer commits the entry even
# when the request itself only read.
AUDIT_PENDING = "zoped_audit_pending"
_SCOPE = "zoped_audit_scope"

#: The longest text accepted in a filter field (ids and usernames are at most 64 characters).
MAX_FILTER_CHARS = 64
#: Rows read per query while an export streams.
EXPORT_BATCH = 500
#: A cell starting with one of these is a formula to a spreadsheet: it is written after a quote.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "actor_role",
    "action",
    "subject_type",
    "subject_id",
    "subject_name",
    "details",
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class AuditEntry:
    """One line of the audit log, with the actor's name resolved where they still exist (and
    the subject's, for a user or learner)."""

    id: int
    at: datetime
    actor_id: str | None
    actor_name: str | None
    actor_role: str | None
    action: str
    subject_type: str
    subject_id: str | None
    details: dict[str, Any] = field(default_factory=dict)
    subject_name: str | None = None


@dataclass(frozen=True)
class AuditPage:
    """A page of audit entries, newest first."""

    entries: list[AuditEntry]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class AuditFilter:
    """What an admin asks of the log; None leaves a field unfiltered.

    ``actor`` and ``learner`` are a username of the admin's school or an id (an erased user's
    pseudonym too); ``since`` and ``until`` are whole days of the school's time zone, both
    included.
    """

    actor: str | None = None
    learner: str | None = None
    action: str | None = None
    since: date | None = None
    until: date | None = None

    def params(self) -> dict[str, str]:
        """The filter as query parameters (``who``, ``learner``, ``action``, ``from``, ``to``),
        for links that keep it; unfiltered fields are left out."""
        found = {
            "who": self.actor,
            "learner": self.learner,
            "action": self.action,
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
        }
        return {name: value for name, value in found.items() if value}


@dataclass(frozen=True)
class AuditPrune:
    """What a retention prune did: the entries older than ``cutoff`` were deleted."""

    pruned: int
    cutoff: datetime | None
    retention_days: int


# --- recording: one row per access --------------------------------------------------------

_Key = tuple[str | None, str, str, str | None, str]


@dataclass
class _AuditScope:
    """The entries a session wrote at ``at``: committed, and in the open transaction."""

    at: datetime | None = None
    written: set[_Key] = field(default_factory=set)
    pending: set[_Key] = field(default_factory=set)

    def committed(self, _session: Session) -> None:
        self.written |= self.pending
        self.pending.clear()

    def rolled_back(self, _session: Session, _previous: SessionTransaction) -> None:
        self.pending.clear()

    def ended(self, _session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:  # closed without a commit (a commit has moved them)
            self.pending.clear()


def _scope(session: Session, now: datetime) -> _AuditScope:
    scope = session.info.get(_SCOPE)
    if not isinstance(scope, _AuditScope):
        scope = _AuditScope()
        session.info[_SCOPE] = scope
        event.listen(session, "after_commit", scope.committed)
        event.listen(session, "after_soft_rollback", scope.rolled_back)
        event.listen(session, "after_transaction_end", scope.ended)
    if scope.at != now:  # a new request (or a new instant): what was written before is older
        scope.at = now
        scope.written.clear()
        scope.pending.clear()
    return scope


def record_access(
    session: Session,
    *,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: str | None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one access to the audit log in the caller's transaction, unless the session has
    already written the same entry at ``now`` (one row per access; see the module's notes).

    The session is flagged so that the web layer commits the entry after a read-only request.
    """
    record_accesses(
        session,
        actor=actor,
        action=action,
        subject_type=subject_type,
        subjects={subject_id: details or {}},
        now=now,
    )


def record_accesses(
    session: Session,
    *,
    actor: User | None,
    action: str,
    subject_type: str,
    subjects: Mapping[str | None, Mapping[str, Any]],
    now: datetime,
) -> None:
    """Append one access per subject (subject id -> details) in one statement, as
    :func:`record_access` does for one; subjects whose entry the session already wrote at
    ``now`` are left out."""
    actor_id = actor.id if actor is not None else None
    scope = _scope(session, now)
    fresh: dict[str | None, Mapping[str, Any]] = {}
    keys: list[_Key] = []
    for subject_id, details in subjects.items():
        key = (actor_id, action, subject_type, subject_id, _canonical(details))
        if key in scope.written or key in scope.pending:
            continue
        fresh[subject_id] = details
        keys.append(key)
    if not fresh:
        return
    append_audits(
        session,
        at=now,
        actor_id=actor_id,
        action=action,
        subject_type=subject_type,
        subjects=fresh,
    )
    scope.pending.update(keys)
    session.info[AUDIT_PENDING] = True


def _canonical(details: Mapping[str, Any]) -> str:
    return json.dumps(details, sort_keys=True, default=str, separators=(",", ":"))


# --- reading: the admin's log, filtered ---------------------------------------------------


def read_audit_filter(
    *,
    actor: str | None = None,
    learner: str | None = None,
    action: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> AuditFilter:
    """Read a filter from text (a form or a query string): blanks are no filter, dates are
    ``YYYY-MM-DD``.

    Raises:
        InvalidInput: every problem, located at ``who``, ``learner``, ``action``, ``from`` or
            ``to`` (a date that is not one, a range that ends before it starts, text too long).
    """
    problems: list[Problem] = []
    texts: dict[str, str | None] = {}
    for name, value in (("who", actor), ("learner", learner), ("action", action)):
        text = (value or "").strip()
        if len(text) > MAX_FILTER_CHARS:
            problems.append(Problem(name, f"at most {MAX_FILTER_CHARS} characters"))
        texts[name] = text or None
    days: dict[str, date | None] = {}
    for name, value in (("from", since), ("to", until)):
        text = (value or "").strip()
        days[name] = None
        if not text:
            continue
        try:
            if not _DATE.fullmatch(text):
                raise ValueError(text)
            days[name] = date.fromisoformat(text)
        except ValueError:
            shown = text if len(text) <= 20 else text[:20] + "…"
            problems.append(Problem(name, f"{shown!r} is not a date: write it as YYYY-MM-DD"))
    start, end = days["from"], days["to"]
    if start is not None and end is not None and end < start:
        problems.append(Problem("to", f"{end.isoformat()} is before the start date"))
    if problems:
        raise InvalidInput("The audit log filter could not be read.", problems)
    return AuditFilter(texts["who"], texts["learner"], texts["action"], start, end)


def _require_admin(actor: User) -> None:
    if actor.role is not Role.ADMIN:
        raise PermissionDenied("only an admin reads the audit log")


def _conditions(session: Session, actor: User, filters: AuditFilter) -> AuditConditions:
    repo = AuditRepository(session)
    school_id = actor.school_id
    since = before = None
    zone = PeopleRepository(session).get_school(school_id).zone
    if filters.since is not None:
        since = datetime.combine(filters.since, time.min, tzinfo=zone).astimezone(UTC)
    if filters.until is not None and filters.until < date.max:
        end = datetime.combine(filters.until + timedelta(days=1), time.min, tzinfo=zone)
        before = end.astimezone(UTC)
    return AuditConditions(
        school_id=school_id,
        actor_ids=None if filters.actor is None else repo.user_ids(school_id, filters.actor),
        subject_ids=None if filters.learner is None else repo.user_ids(school_id, filters.learner),
        action=filters.action,
        since=since,
        before=before,
    )


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor_id=row.actor_id,
        actor_name=row.actor_name,
        actor_role=row.actor_role,
        action=row.action,
        subject_type=row.subject_type,
        subject_id=row.subject_id,
        details=row.details,
        subject_name=row.subject_name,
    )


def list_audit(
    session: Session,
    *,
    actor: User,
    filters: AuditFilter | None = None,
    offset: int = 0,
    limit: int = 50,
    subject_id: str | None = None,
) -> AuditPage:
    """The audit log of the admin's school, newest first, a page at a time: entries whose
    actor is one of the school's users, or whose subject is (a user, a class, the school).

    Args:
        filters: who, which learner, which action, which days (:func:`read_audit_filter`).
        subject_id: only entries about this learner or user (as ``filters.learner``).

    Raises:
        PermissionDenied: the actor is not an admin.
    """
    _require_admin(actor)
    filters = filters or AuditFilter()
    if subject_id is not None:
        filters = AuditFilter(
            filters.actor, subject_id, filters.action, filters.since, filters.until
        )
    where = _conditions(session, actor, filters)
    repo = AuditRepository(session)
    offset, limit = max(offset, 0), max(limit, 1)
    rows = repo.page(where, offset=offset, limit=limit)
    return AuditPage([_entry(r) for r in rows], repo.count(where), offset, limit)


def audit_actions(session: Session, *, actor: User) -> list[str]:
    """The actions that occur in the log, sorted (for the filter's choices).

    Raises:
        PermissionDenied: the actor is not an admin.
    """
    _require_admin(actor)
    return AuditRepository(session).actions()


def record_audit_export(
    session: Session, *, actor: User, filters: AuditFilter, now: datetime
) -> None:
    """Check that the admin may export the log, and record (and commit) that they did, with
    the filter, before any row leaves.

    Raises:
        PermissionDenied: the actor is not an admin.
    """
    _require_admin(actor)
    with transaction(session):
        record_access(
            session,
            actor=actor,
            action="audit.export",
            subject_type=LOG_SUBJECT,
            subject_id=None,
            details={"filter": filters.params()},
            now=now,
        )


def iter_audit(
    session: Session, *, actor: User, filters: AuditFilter, batch_size: int = EXPORT_BATCH
) -> Iterator[AuditEntry]:
    """Every matching entry of the admin's school, newest first, read ``batch_size`` at a time
    (a keyset page per query: memory stays flat however long the log).

    Raises:
        PermissionDenied: the actor is not an admin (when iteration starts).
    """
    _require_admin(actor)
    where = _conditions(session, actor, filters)
    repo = AuditRepository(session)
    cursor: tuple[datetime, int] | None = None
    while True:
        rows = repo.after(where, cursor=cursor, limit=max(batch_size, 1))
        for row in rows:
            yield _entry(row)
        if len(rows) < batch_size:
            return
        cursor = (rows[-1].at, rows[-1].id)


def safe_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: one starting with ``=``, ``+``, ``-``, ``@``
    (or a tab or carriage return) gets a leading ``'`` so that it is never run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def _csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([safe_cell(v) for v in values])
    return buffer.getvalue()


def audit_csv(
    session: Session, *, actor: User, filters: AuditFilter, batch_size: int = EXPORT_BATCH
) -> Iterator[str]:
    """The matching entries as CSV text, a header line first and then one chunk per batch of
    rows (stream it: nothing holds the whole log). Timestamps are ISO 8601 in UTC; details are
    JSON; every cell is safe from formula injection (:func:`safe_cell`).

    Raises:
        PermissionDenied: the actor is not an admin (when iteration starts).
    """
    yield _csv_line(list(CSV_COLUMNS))
    chunk: list[str] = []
    for entry in iter_audit(session, actor=actor, filters=filters, batch_size=batch_size):
        chunk.append(
            _csv_line(
                [
                    str(entry.id),
                    entry.at.astimezone(UTC).isoformat(),
                    entry.actor_id or "",
                    entry.actor_name or "",
                    entry.actor_role or "",
                    entry.action,
                    entry.subject_type,
                    entry.subject_id or "",
                    entry.subject_name or "",
                    _canonical(entry.details),
                ]
            )
        )
        if len(chunk) >= batch_size:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


# --- retention ------------------------------------------------------------------------------


def prune_audit(session: Session, *, retention_days: int, now: datetime) -> AuditPrune:
    """Delete the entries older than ``retention_days`` days before ``now``, and record one
    entry saying how many (subject ``audit_log``: every school's admin sees it). A retention
    of 0 keeps the log forever: nothing is deleted or recorded.

    Raises:
        InvalidInput: a negative retention.
    """
    if retention_days < 0:
        raise InvalidInput(
            "invalid retention", [Problem("audit_retention_days", "must be 0 (keep) or more")]
        )
    if retention_days == 0:
        return AuditPrune(0, None, 0)
    cutoff = now - timedelta(days=retention_days)
    with transaction(session):
        pruned = AuditRepository(session).prune_before(cutoff)
        record_access(
            session,
            actor=None,
            action="audit.prune",
            subject_type=LOG_SUBJECT,
            subject_id=None,
            details={
                "pruned": pruned,
                "before": cutoff.isoformat(),
                "retention_days": retention_days,
            },
            now=now,
        )
    return AuditPrune(pruned, cutoff, retention_days)


# --- a learner's own view -----------------------------------------------------------------


def _entries(session: Session, stmt: Any) -> list[AuditEntry]:
    rows = session.execute(
        stmt.add_columns(users.c.display_name, users.c.role).outerjoin(
            users, users.c.id == audit_log.c.actor_id
        )
    ).mappings()
    return [
        AuditEntry(
            id=row["id"],
            at=row["at"],
            actor_id=row["actor_id"],
            actor_name=row["display_name"],
            actor_role=row["role"],
            action=row["action"],
            subject_type=row["subject_type"],
            subject_id=row["subject_id"],
            details=jsondocs.load("audit_details", row["details"]),
        )
        for row in rows
    ]


def entries_about(session: Session, *, learner_id: str) -> list[AuditEntry]:
    """Every audit entry whose subject is this learner, newest first (no check: callers check)."""
    stmt = (
        select(audit_log)
        .where(audit_log.c.subject_id == learner_id)
        .order_by(audit_log.c.at.desc(), audit_log.c.id.desc())
    )
    return _entries(session, stmt)


def who_looked_at(session: Session, *, actor: User, learner_id: str) -> list[AuditEntry]:
    """Who accessed this learner's data, newest first: for the learner, a linked guardian or an
    admin of the learner's school.

    Raises:
        NotFound: the learner is not one the actor may ask about.
    """
    repo = PeopleRepository(session)
    try:
        learner = repo.get_user(learner_id)
    except NotFound:
        raise NotFound("no such learner") from None
    allowed = (
        learner.role is Role.LEARNER
        and learner.school_id == actor.school_id
        and (
            actor.id == learner.id
            or actor.role is Role.ADMIN
            or (
                actor.role is Role.GUARDIAN
                and repo.has_guardian_link(GuardianLink(actor.id, learner.id))
            )
        )
    )
    if not allowed:
        raise NotFound("no such learner")
    return entries_about(session, learner_id=learner_id)
