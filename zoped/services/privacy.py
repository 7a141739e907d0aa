"""A learner's ownership of their data: export everything, or erase it.

Both walk the table metadata rather than a fixed list, so a table added later is covered
without touching this module: every column that references ``users.id`` (or is named like a
user reference: ``learner_id``, ``actor_id``, ``…_by``) finds the learner's rows.

* :func:`export_learner` returns a zip: ``data.json`` (every row about the learner that the
  person exporting may see, by table, the audit entries about them, and the learner model's
  state on each course of their classes: levels, chances, review dates and the parameter
  version) and ``xapi-statements.json`` (their evidence as xAPI statements). A guardian's
  copy holds only what a guardian sees (:data:`GUARDIAN_TABLES`); an admin's leaves out the
  learner's private log entries; nobody's holds a password hash or a token or reset-code
  digest, nor a session id.
* :func:`erase_for_request` (the system, for a request whose grace period is over) and
  :func:`erase_learner` (an admin, at once; no page or API offers it) delete the learner,
  their rows in every table, and a guardian account linked to nobody else; they scrub the id
  from free text and JSON elsewhere, and replace it in the audit log and in erasure requests
  with a random pseudonym, so the log keeps that an erasure happened but not whose. They also
  remove the learner's failed sign-ins and what roster imports recorded about them, and on
  SQLite the write-ahead log is checkpointed afterwards (:func:`checkpoint`) so the erased
  rows leave the ``-wal`` file. No aggregate that names the learner is kept. Requests and
  their grace period are :mod:`zoped.services.erasure`.
"""

from __future__ import annotations

import base64
import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from zoped import __version__
from zoped.domain.jsondata import transform
from zoped.domain.people import Role, User
from zoped.engine.learner_view import LearnerState, read_states
from zoped.interop.xapi import ACTIVITY_IRI, ITEM_IRI, SCORED_VERB, XAPI_VERBS
from zoped.services import transaction
from zoped.services.audit import entries_about, record_access
from zoped.services.auth import _keys as throttling_keys
from zoped.services.courses import courses_of_learner, get_course
from zoped.services.pathways import fold_learners
from zoped.services.policy import Action, Relation, relation, require_learner_access
from zoped.store import erasure_repository, lrs_repository
from zoped.store.tables import audit_log, erasure_requests, guardian_links, metadata, users

_USER_REF_NAMES = re.compile(r"^(learner_id|actor_id|author_id|guardian_id|teacher_id|.*_by)$")

#: The tables of a guardian's copy: what a guardian's pages and the API show them (the child's
#: account, their evidence and progress, the plan with its goals and comments, erasure
#: requests, the guardian's own link). A table added later stays out of a guardian's copy until
#: it is listed here; the learner's learning log, menus, sessions, tokens and stored folds
#: never enter it.
GUARDIAN_TABLES = frozenset(
    {
        "users",
        "evidence_events",
        "learning_plans",
        "learning_plan_versions",
        "plan_comments",
        "erasure_requests",
        "guardian_links",
    }
)

#: Columns no copy holds: credentials, even as digests (a web session's id is its bearer key).
SECRET_COLUMNS = frozenset(
    {
        ("users", "password_hash"),
        ("api_tokens", "secret_hash"),
        ("password_resets", "code_digest"),
        ("web_sessions", "id"),
    }
)


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure removed: rows per table, and the pseudonym left in the audit log.

    Attributes:
        pseudonym: the random name that replaces the learner in the audit log and in
            erasure requests.
        rows_by_table: rows deleted, per table.
        checkpointed: on SQLite, whether the write-ahead log was emptied afterwards (True on
            other databases).
    """

    pseudonym: str
    rows_by_table: dict[str, int]
    checkpointed: bool = True


def _is_json(column: Column[Any]) -> bool:
    return isinstance(column.type, JSON)


def _user_columns(table: Table) -> Iterator[Column[Any]]:
    """Columns of ``table`` that hold a user id: foreign keys to users, or named like one."""
    for column in table.columns:
        if table is users and column.name == "id":
            continue
        references_users = any(fk.column.table is users for fk in column.foreign_keys)
        if references_users or (
            isinstance(column.type, String)
            and not isinstance(column.type, Text)
            and _USER_REF_NAMES.match(column.name)
        ):
            yield column


def _plain_leaf(value: Any) -> Any:
    if isinstance(value, bytes):  # a file kept for the learner (a project's): as base64
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _plain(value: Any) -> Any:
    """``value`` as JSON data (datetimes and UUIDs as strings), however deeply it nests."""
    return transform(value, _plain_leaf)


def _dump(document: Any) -> str:
    """The export's JSON: indented, or compact when it nests too deeply for the indenting
    encoder (a document stored before nesting was bounded): the compact encoder is the C one,
    which goes as deep as any document the database can hand back."""
    try:
        return json.dumps(document, indent=2, sort_keys=True)
    except RecursionError:
        return json.dumps(document, sort_keys=True)


def _rows_about(session: Session, learner_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that references the learner, directly or through a row that
    does (plan versions and comments through their plan), credentials left out."""
    found: dict[str, list[dict[str, Any]]] = {}
    # Primary keys of the rows found, per table, so that child tables are followed.
    keys: dict[str, set[Any]] = {}
    for table in metadata.sorted_tables:
        if table is audit_log:
            continue
        conditions: list[Any] = [c == learner_id for c in _user_columns(table)]
        if table is users:
            conditions.append(table.c.id == learner_id)
        for column in table.columns:
            for fk in column.foreign_keys:
                parent = fk.column.table
                if parent is not users and keys.get(parent.name):
                    conditions.append(column.in_(keys[parent.name]))
        if not conditions:
            continue
        rows = [dict(r) for r in session.execute(select(table).where(or_(*conditions))).mappings()]
        if rows:
            pk = list(table.primary_key.columns)
            if len(pk) == 1:
                keys[table.name] = {r[pk[0].name] for r in rows}
            secret = {name for t, name in SECRET_COLUMNS if t == table.name}
            found[table.name] = [
                _plain({k: v for k, v in r.items() if k not in secret}) for r in rows
            ]
    return found


def _visible_rows(
    rows: dict[str, list[dict[str, Any]]], how: Relation, actor: User
) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The rows the exporting actor may see, and what was left out, in words."""
    if how is Relation.SELF:
        return rows, []
    if how is Relation.GUARDIAN:
        kept = {name: found for name, found in rows.items() if name in GUARDIAN_TABLES}
        if "guardian_links" in kept:
            kept["guardian_links"] = [
                r for r in kept["guardian_links"] if r["guardian_id"] == actor.id
            ]
        left_out = [
            "a guardian's copy holds what a guardian sees: the learner's account, evidence, "
            "plan with its goals and comments, erasure requests, your own link, who looked at "
            "the data, and the learner model's state",
            "left out: the learning log, menus offered, placement checks, assignments, "
            "profile, classes, other guardians' links, sign-in sessions and tokens "
            "(the learner's own copy holds them)",
        ]
        return kept, left_out
    kept = dict(rows)
    if "log_entries" in kept:
        kept["log_entries"] = [r for r in kept["log_entries"] if r.get("shared")]
    return kept, [
        "left out: the learner's private learning-log entries (only shared ones are shown to "
        "their school; the learner's own copy holds them all)"
    ]


def _state_doc(state: LearnerState) -> dict[str, Any]:
    """A learner's state on one course as JSON data: levels, chances, review dates."""
    doc: dict[str, Any] = _plain(
        {
            "course_id": state.course_id,
            "course_title": state.course_title,
            "computed_at": state.computed_at,
            "parameter_version": state.parameter_version,
            "models_fitted": state.models_fitted,
            "n_events": state.n_events,
            "competencies": [
                {
                    "competency_id": c.competency_id,
                    "title": c.title,
                    "level": c.level.label,
                    "derived_level": c.derived_level.label,
                    "self_assessed": (
                        c.self_assessed.label if c.self_assessed is not None else None
                    ),
                    "p_known": c.p_known,
                    "p_correct": c.p_correct,
                    "retrievability": c.retrievability,
                    "review_due_at": c.review_due_at,
                    "last_practised": c.last_practised,
                    "evidence_count": c.evidence_count,
                    "n_correct": c.n_correct,
                    "unlocked": c.unlocked,
                    "notes": list(c.notes),
                }
                for c in state.competencies
            ],
        }
    )
    return doc


def _model_states(session: Session, learner_id: str, now: datetime) -> list[dict[str, Any]]:
    """The learner's state on each course of their classes, read as their pages read it (the
    stored fold continued by later evidence; nothing is stored)."""
    states = []
    for info in courses_of_learner(session, learner_id=learner_id):
        course = get_course(session, course_id=info.key)
        folded = fold_learners(session, [learner_id], course=course, now=now, store=False)
        states.append(_state_doc(read_states(folded.fold, course, now=now)[learner_id]))
    return states


def _xapi_statements(events: list[dict[str, Any]], school_id: str) -> list[dict[str, Any]]:
    statements = []
    for event in events:
        kind = event["kind"]
        verb_id, verb_name = XAPI_VERBS.get(kind, SCORED_VERB)
        object_id = (
            ITEM_IRI + event["item_id"]
            if event.get("item_id")
            else ACTIVITY_IRI + str(event.get("activity_id") or kind)
        )
        result: dict[str, Any] = {}
        if event.get("correct") is not None:
            result["success"] = bool(event["correct"])
        if event.get("score") is not None:
            result["score"] = {"scaled": max(-1.0, min(1.0, float(event["score"])))}
        if event.get("duration_s") is not None:
            result["duration"] = f"PT{float(event['duration_s']):.2f}S"
        statement: dict[str, Any] = {
            "id": event["id"],
            "actor": {
                "objectType": "Agent",
                "account": {
                    "homePage": f"urn:zoped:school:{school_id}",
                    "name": event["learner_id"],
                },
            },
            "verb": {"id": verb_id, "display": {"en": verb_name}},
            "object": {"objectType": "Activity", "id": object_id},
            "timestamp": event["occurred_at"],
            "stored": event["recorded_at"],
            "context": {"extensions": {"urn:zoped:evidence-kind": kind}},
        }
        if result:
            statement["result"] = result
        statements.append(statement)
    return statements


README = """Everything zoped holds about this learner that the person who downloaded it may see.
data.json:
  tables: the rows about the learner, by table (files they handed in with projects are in
    project_files, their content as base64);
  audit_log: who accessed their data, and when;
  model_state: the learner model's picture on each course: every competency's level, P(known)
    and chance of a right answer, recall and next review date, and the version of the model
    parameters it was computed with;
  left_out: what this copy does not hold, and why.
xapi-statements.json: their evidence as xAPI 1.0.3 statements.
"""


def export_learner(session: Session, *, actor: User, learner_id: str, now: datetime) -> bytes:
    """A zip of what zoped holds about the learner, for the learner (everything), a linked
    guardian (what a guardian sees: :data:`GUARDIAN_TABLES`) or an admin of their school
    (everything but the learner's private log entries), with the learner model's state on
    each course of the learner's classes.

    Raises:
        NotFound: the learner is out of the actor's reach.
        PermissionDenied: the actor may not export (a teacher).
    """
    at = now
    learner = require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.EXPORT, now=at
    )
    how = relation(session, actor=actor, learner_id=learner_id)
    session.commit()  # the export is audited before the data leaves
    assert how is not None  # the access was just allowed
    data, left_out = _visible_rows(_rows_about(session, learner_id), how, actor)
    audit = [
        _plain(
            {
                "at": e.at,
                "actor_id": e.actor_id,
                "actor_name": e.actor_name,
                "actor_role": e.actor_role,
                "action": e.action,
                "subject_type": e.subject_type,
                "subject_id": e.subject_id,
            }
        )
        for e in entries_about(session, learner_id=learner_id)
    ]
    data["audit_log"] = audit
    document = {
        "format": "zoped-learner-export",
        "version": 2,
        "zoped_version": __version__,
        "exported_at": at.isoformat(),
        "exported_by": str(how),
        "learner_id": learner_id,
        "left_out": left_out,
        "model_state": _model_states(session, learner_id, at),
        "tables": data,
    }
    statements = _xapi_statements(data.get("evidence_events", []), learner.school_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", _dump(document))
        archive.writestr("xapi-statements.json", _dump(statements))
        archive.writestr("README.txt", README)
    return buffer.getvalue()


def _scrub(value: Any, pattern: re.Pattern[str], replacement: str | None) -> Any:
    """``value`` with the id removed: list elements equal to it dropped, values replaced
    (however deeply the document nests)."""

    def leaf(item: Any) -> Any:
        if isinstance(item, str):
            if pattern.fullmatch(item):
                return replacement
            return pattern.sub(replacement or "[erased]", item)
        return item

    def drop(item: Any) -> bool:
        return isinstance(item, str) and pattern.fullmatch(item) is not None

    return transform(value, leaf, drop)


def _token(subject: str) -> re.Pattern[str]:
    return re.compile(r"(?<![\w.-])" + re.escape(subject) + r"(?![\w.-])")


def _add(counts: dict[str, int], table: str, rows: int) -> None:
    counts[table] = counts.get(table, 0) + rows


def _erase_subject(session: Session, subject: str, pseudonym: str, counts: dict[str, int]) -> None:
    pattern = _token(subject)
    # Audit entries keep what happened but name a pseudonym.
    for column in (audit_log.c.actor_id, audit_log.c.subject_id):
        session.execute(update(audit_log).where(column == subject).values({column: pseudonym}))
    # Rows that belong to the subject, children first.
    for table in reversed(metadata.sorted_tables):
        if table is audit_log or table is users or table is erasure_requests:
            continue
        for column in _user_columns(table):
            if column.nullable and not column.primary_key and column.name != "learner_id":
                session.execute(update(table).where(column == subject).values({column: None}))
            else:
                result = session.execute(delete(table).where(column == subject))
                _add(counts, table.name, int(getattr(result, "rowcount", 0) or 0))
    result = session.execute(delete(users).where(users.c.id == subject))
    _add(counts, "users", int(getattr(result, "rowcount", 0) or 0))
    # Mentions left elsewhere: in free text and JSON documents of other rows.
    like = f"%{subject}%"
    for table in metadata.sorted_tables:
        pk = list(table.primary_key.columns)
        for column in table.columns:
            if not (_is_json(column) or isinstance(column.type, Text)):
                continue
            target = cast(column, Text) if _is_json(column) else column
            rows = session.execute(select(*pk, column).where(target.like(like))).all()
            for row in rows:
                value = row[-1]
                replacement = pseudonym if table is audit_log else None
                cleaned = _scrub(value, pattern, replacement)
                if cleaned != value:
                    where = [c == row[i] for i, c in enumerate(pk)]
                    session.execute(update(table).where(*where).values({column: cleaned}))


def _account_digests(school_id: str, names: Iterable[str | None]) -> set[str]:
    """The throttling counters' account keys (:mod:`zoped.services.auth`) of each name the
    person could have typed, with their school given or left out of the form."""
    return {
        throttling_keys(school, name, None)[0].digest
        for school in (school_id, "")
        for name in names
        if name
    }


def _erase_person(
    session: Session, subject: str, pseudonym: str, counts: dict[str, int], now: datetime
) -> None:
    """Erase one user: the rows no user column names first (failed sign-ins by digest, roster
    records by local id), erasure requests pseudonymised, then every row that names them."""
    person = session.execute(
        select(users.c.school_id, users.c.username, users.c.email).where(users.c.id == subject)
    ).first()
    if person is not None:
        school_id, username, email = person
        digests = _account_digests(school_id, (username, email, subject))
        removed = erasure_repository.delete_signin_failures(session, account_digests=digests)
        _add(counts, "signin_failures", removed)
        removed = erasure_repository.delete_roster_records(
            session, school_id=school_id, local_id=subject
        )
        _add(counts, "roster_records", removed)
        # The school's xAPI LRS: statements naming them by their zoped id, the attachments
        # only those listed, and their documents.
        lrs_removed = lrs_repository.delete_account_records(
            session, school_id=school_id, account_name=subject
        )
        _add(counts, "lrs_statements", lrs_removed.statements)
        _add(counts, "lrs_attachments", lrs_removed.attachments)
    erasure_repository.pseudonymise(session, subject=subject, pseudonym=pseudonym, at=now)
    _erase_subject(session, subject, pseudonym, counts)


def _erase(
    session: Session, *, learner_id: str, actor: User | None, now: datetime, why: dict[str, Any]
) -> ErasureReport:
    """Erase the learner (and a guardian linked to nobody else) in the caller's transaction,
    and audit it under the pseudonym."""
    guardians = list(
        session.scalars(
            select(guardian_links.c.guardian_id).where(guardian_links.c.learner_id == learner_id)
        )
    )
    orphaned = [
        g
        for g in guardians
        if not session.scalar(
            select(guardian_links.c.learner_id).where(
                guardian_links.c.guardian_id == g, guardian_links.c.learner_id != learner_id
            )
        )
        and session.scalar(select(users.c.role).where(users.c.id == g)) == str(Role.GUARDIAN)
    ]
    pseudonym = f"erased-{uuid.uuid4().hex[:12]}"
    school_id = session.scalar(select(users.c.school_id).where(users.c.id == learner_id))
    counts: dict[str, int] = {}
    _erase_person(session, learner_id, pseudonym, counts, now)
    for guardian_id in orphaned:
        _erase_person(session, guardian_id, f"erased-{uuid.uuid4().hex[:12]}", counts, now)
    rows = {k: v for k, v in sorted(counts.items()) if v}
    record_access(
        session,
        actor=actor,
        action="erase",
        subject_type="learner",
        subject_id=pseudonym,
        now=now,
        details={**why, "rows": rows},
    )
    # The learner's row is gone, so the entry above belongs to no school any more: the
    # school's admins see the erasure through this one, about the school.
    record_access(
        session,
        actor=actor,
        action="erase",
        subject_type="school",
        subject_id=school_id,
        now=now,
        details={"learner": pseudonym},
    )
    return ErasureReport(pseudonym, rows)


def checkpoint(session: Session) -> bool:
    """After an erasure has committed: on SQLite, empty the write-ahead log into the database
    file (freed pages are zeroed: ``secure_delete`` is on, :mod:`zoped.store.db`), so the erased
    bytes are nowhere on disk. True when done, or on other databases."""
    return erasure_repository.checkpoint_wal(session.get_bind())


def erase_for_request(
    session: Session, *, learner_id: str, now: datetime, why: dict[str, Any]
) -> ErasureReport:
    """The system's erasure of a learner whose erasure request is due: no actor and no policy
    check here (the request was checked when it was made, and could be cancelled since). Runs
    in the caller's transaction; the caller calls :func:`checkpoint` after it commits.

    Args:
        why: what the audit entry says besides the rows removed (the request, who asked).
    """
    return _erase(session, learner_id=learner_id, actor=None, now=now, why=why)


def erase_learner(
    session: Session, *, actor: User, learner_id: str, now: datetime
) -> ErasureReport:
    """Erase the learner's personal data and events from every table at once, for an admin of
    their school (:data:`~zoped.services.policy.Action.ERASE`). No page or API offers it:
    erasure goes through a request and its grace period (:mod:`zoped.services.erasure`).

    A guardian account linked to no other learner is erased with them. The audit log keeps one
    entry saying an erasure happened, naming a random pseudonym.

    Raises:
        NotFound: the learner is out of the actor's reach.
        PermissionDenied: the actor may not erase at once (anyone but an admin).
    """
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.ERASE, now=now
        )
        report = _erase(
            session, learner_id=learner_id, actor=actor, now=now, why={"by": str(actor.role)}
        )
    return ErasureReport(report.pseudonym, report.rows_by_table, checkpoint(session))
