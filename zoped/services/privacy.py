"""A learner's ownership of their data: export everything, or erase it.

Both walk the table metadata rather than a fixed list, so a table added later is covered
without touching this module: every column that references ``users.id`` (or is named like a
user reference: ``learner_id``, ``actor_id``, ``…_by``) finds the learner's rows.

* :func:`export_learner` returns a zip: ``data.json`` (every row about the learner, by table,
  plus the audit entries about them) and ``xapi-statements.json`` (their evidence as xAPI
  statements).
* :func:`erase_learner` deletes the learner, their rows in every table, and a guardian account
  linked to nobody else; it scrubs the id from free text and JSON elsewhere, and replaces it
  in the audit log with a random pseudonym, so the log keeps that an erasure happened but not
  whose. No aggregate that names the learner is kept.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, cast, delete, or_, select, update
from sqlalchemy.orm import Session

from zoped import __version__
from zoped.domain.jsondata import transform
from zoped.domain.people import Role, User
from zoped.interop.xapi import ACTIVITY_IRI, ITEM_IRI, SCORED_VERB, XAPI_VERBS
from zoped.services import transaction
from zoped.services.audit import entries_about, record_access
from zoped.services.policy import Action, require_learner_access
from zoped.store.tables import audit_log, guardian_links, metadata, users

_USER_REF_NAMES = re.compile(r"^(learner_id|actor_id|author_id|guardian_id|teacher_id|.*_by)$")


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure removed: rows per table, and the pseudonym left in the audit log."""

    pseudonym: str
    rows_by_table: dict[str, int]


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
    does (plan versions and comments through their plan)."""
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
        if table is users:
            rows = [{k: v for k, v in r.items() if k != "password_hash"} for r in rows]
        if rows:
            found[table.name] = [_plain(r) for r in rows]
            pk = list(table.primary_key.columns)
            if len(pk) == 1:
                keys[table.name] = {r[pk[0].name] for r in rows}
    return found


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


def export_learner(session: Session, *, actor: User, learner_id: str, now: datetime) -> bytes:
    """A zip of everything zoped holds about the learner, for the learner, a linked guardian
    or an admin of their school.

    Raises:
        NotFound: the learner is out of the actor's reach.
        PermissionDenied: the actor may not export (a teacher).
    """
    at = now
    learner = require_learner_access(
        session, actor=actor, learner_id=learner_id, action=Action.EXPORT, now=at
    )
    session.commit()  # the export is audited before the data leaves
    data = _rows_about(session, learner_id)
    data["audit_log"] = [
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
    document = {
        "format": "zoped-learner-export",
        "version": 1,
        "zoped_version": __version__,
        "exported_at": at.isoformat(),
        "learner_id": learner_id,
        "tables": data,
    }
    statements = _xapi_statements(data.get("evidence_events", []), learner.school_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", _dump(document))
        archive.writestr("xapi-statements.json", _dump(statements))
        archive.writestr(
            "README.txt",
            "Everything zoped holds about this learner.\n"
            "data.json: every row about the learner, by table, and who accessed their data.\n"
            "xapi-statements.json: their evidence as xAPI 1.0.3 statements.\n",
        )
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


def _erase_subject(session: Session, subject: str, pseudonym: str, counts: dict[str, int]) -> None:
    pattern = _token(subject)
    # Audit entries keep what happened but name a pseudonym.
    for column in (audit_log.c.actor_id, audit_log.c.subject_id):
        session.execute(update(audit_log).where(column == subject).values({column: pseudonym}))
    # Rows that belong to the subject, children first.
    for table in reversed(metadata.sorted_tables):
        if table is audit_log or table is users:
            continue
        for column in _user_columns(table):
            if column.nullable and not column.primary_key and column.name != "learner_id":
                session.execute(update(table).where(column == subject).values({column: None}))
            else:
                result = session.execute(delete(table).where(column == subject))
                counts[table.name] = counts.get(table.name, 0) + int(
                    getattr(result, "rowcount", 0) or 0
                )
    result = session.execute(delete(users).where(users.c.id == subject))
    counts["users"] = counts.get("users", 0) + int(getattr(result, "rowcount", 0) or 0)
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


def erase_learner(
    session: Session, *, actor: User, learner_id: str, now: datetime
) -> ErasureReport:
    """Erase the learner's personal data and events from every table.

    A guardian account linked to no other learner is erased with them. The audit log keeps one
    entry saying an erasure happened, naming a random pseudonym.

    Raises:
        NotFound: the learner is out of the actor's reach.
        PermissionDenied: the actor may not erase (a guardian or a teacher).
    """
    at = now
    with transaction(session):
        require_learner_access(
            session, actor=actor, learner_id=learner_id, action=Action.ERASE, now=at
        )
        guardians = list(
            session.scalars(
                select(guardian_links.c.guardian_id).where(
                    guardian_links.c.learner_id == learner_id
                )
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
        counts: dict[str, int] = {}
        _erase_subject(session, learner_id, pseudonym, counts)
        for guardian_id in orphaned:
            _erase_subject(session, guardian_id, f"erased-{uuid.uuid4().hex[:12]}", counts)
        self_erasure = actor.id == learner_id
        record_access(
            session,
            actor=None if self_erasure else actor,
            action="erase",
            subject_type="learner",
            subject_id=pseudonym,
            now=at,
            details={
                "by": "the learner" if self_erasure else str(actor.role),
                "rows": {k: v for k, v in sorted(counts.items()) if v},
            },
        )
    return ErasureReport(pseudonym, {k: v for k, v in counts.items() if v})
