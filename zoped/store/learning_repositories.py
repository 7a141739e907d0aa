"""Repositories of the learning records: plans, log entries, recommendation decisions,
placement checks and assignments.

Like :mod:`zoped.store.repositories`, they read and write through the session they are given
and never commit: the calling service owns the transaction. JSON columns go through
:mod:`zoped.store.jsondocs` (versioned), rows become domain objects only in
:mod:`zoped.store.mappers`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from zoped.domain.plans import LearningPlan, LogEntry, PlanComment
from zoped.engine.fold import Placement
from zoped.store import jsondocs, mappers
from zoped.store.evidence_log import EventKey
from zoped.store.repositories import upsert_for
from zoped.store.tables import (
    assignments,
    learner_fold_checkpoints,
    learner_folds,
    learning_plan_versions,
    learning_plans,
    log_entries,
    placement_sessions,
    plan_comments,
    recommendation_decisions,
    users,
)


class PlanRepository:
    """A learner's plan, its saved versions and its comments."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_for_learner(self, learner_id: str) -> LearningPlan | None:
        """The learner's plan, or None when none is saved."""
        stmt = select(learning_plans).where(learning_plans.c.learner_id == learner_id)
        found = self.session.execute(stmt).mappings().first()
        return None if found is None else mappers.plan_from_row(found)

    def goal_competency_ids(self, learner_id: str) -> set[str]:
        """The competencies named by the learner's goals not yet achieved."""
        goals: set[str] = set()
        stmt = select(learning_plans.c.content).where(learning_plans.c.learner_id == learner_id)
        for (content,) in self.session.execute(stmt):
            doc = jsondocs.load("plan", content)
            for g in doc.get("goals", []):
                if not g.get("achieved"):
                    goals.update(g.get("competency_ids", []))
        return goals

    def add(self, plan: LearningPlan) -> None:
        """Insert a new plan."""
        self.session.execute(insert(learning_plans), [mappers.plan_row(plan)])

    def update(self, plan: LearningPlan, *, expected_version: int) -> bool:
        """Store ``plan`` over the stored one if that is still at ``expected_version``.

        Returns:
            False when the stored plan moved on (a stale write: nothing is changed).
        """
        result = self.session.execute(
            update(learning_plans)
            .where(learning_plans.c.id == plan.id, learning_plans.c.version == expected_version)
            .values(
                version=plan.version,
                content=mappers.plan_content(plan),
                updated_at=plan.updated_at,
                updated_by=plan.updated_by,
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def add_version(self, plan: LearningPlan, *, saved_at: datetime, saved_by: str) -> None:
        """Keep a copy of ``plan`` as its version ``plan.version``."""
        self.session.execute(
            insert(learning_plan_versions),
            [
                {
                    "plan_id": plan.id,
                    "version": plan.version,
                    "content": mappers.plan_content(plan),
                    "saved_at": saved_at,
                    "saved_by": saved_by,
                }
            ],
        )

    def versions(self, plan_id: str) -> list[tuple[int, datetime, str | None]]:
        """(version, saved at, saved by) of every saved version, newest first."""
        stmt = (
            select(learning_plan_versions)
            .where(learning_plan_versions.c.plan_id == plan_id)
            .order_by(learning_plan_versions.c.version.desc())
        )
        return [(r.version, r.saved_at, r.saved_by) for r in self.session.execute(stmt)]

    def add_comment(self, comment: PlanComment) -> None:
        """Insert a comment."""
        self.session.execute(insert(plan_comments), [mappers.comment_row(comment)])

    def comments(self, plan_id: str) -> list[tuple[PlanComment, str]]:
        """The plan's comments, oldest first, with their author's display name."""
        stmt = (
            select(plan_comments, users.c.display_name)
            .join(users, users.c.id == plan_comments.c.author_id)
            .where(plan_comments.c.plan_id == plan_id)
            .order_by(plan_comments.c.created_at)
        )
        return [
            (mappers.comment_from_row(r), r["display_name"])
            for r in self.session.execute(stmt).mappings()
        ]


class LogEntryRepository:
    """A learner's learning log (reflections)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, entry: LogEntry) -> None:
        """Insert an entry."""
        self.session.execute(insert(log_entries), [mappers.log_entry_row(entry)])

    def set_shared(self, learner_id: str, entry_id: str, shared: bool) -> bool:
        """Share an entry or take it back; False when the learner has no such entry."""
        result = self.session.execute(
            update(log_entries)
            .where(log_entries.c.id == entry_id, log_entries.c.learner_id == learner_id)
            .values(shared=shared)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def list_for_learner(self, learner_id: str, *, shared_only: bool = False) -> list[LogEntry]:
        """The learner's entries (only the shared ones if asked), newest first."""
        stmt = select(log_entries).where(log_entries.c.learner_id == learner_id)
        if shared_only:
            stmt = stmt.where(log_entries.c.shared.is_(True))
        stmt = stmt.order_by(log_entries.c.created_at.desc())
        return [mappers.log_entry_from_row(r) for r in self.session.execute(stmt).mappings()]


class DecisionRepository:
    """The recommender's logged decisions (``recommendation_decisions``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        decision_id: uuid.UUID,
        *,
        learner_id: str,
        decided_at: datetime,
        policy: str,
        candidates: dict[str, Any],
    ) -> None:
        """Log a decision: its candidates and scores (a ``decision`` document)."""
        self.session.execute(
            insert(recommendation_decisions),
            [
                {
                    "id": decision_id,
                    "learner_id": learner_id,
                    "decided_at": decided_at,
                    "policy": policy,
                    "candidates": jsondocs.dump("decision", candidates),
                    "chosen_id": None,
                }
            ],
        )

    def get(self, decision_id: uuid.UUID, learner_id: str) -> dict[str, Any] | None:
        """The learner's decision's ``decision`` document, or None."""
        stmt = select(recommendation_decisions.c.candidates).where(
            recommendation_decisions.c.id == decision_id,
            recommendation_decisions.c.learner_id == learner_id,
        )
        found = self.session.execute(stmt).first()
        return None if found is None else jsondocs.load("decision", found[0])

    def set_chosen(self, decision_id: uuid.UUID, chosen_id: str) -> None:
        """Record which option was picked."""
        self.session.execute(
            update(recommendation_decisions)
            .where(recommendation_decisions.c.id == decision_id)
            .values(chosen_id=chosen_id)
        )


class PlacementRepository:
    """Placement checks (``placement_sessions``): one resumable row per check."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def latest(
        self, learner_id: str, course_id: str, *, status: str | None = "active"
    ) -> dict[str, Any] | None:
        """The learner's most recently started check on the course (of ``status``; None: any)."""
        stmt = select(placement_sessions).where(
            placement_sessions.c.learner_id == learner_id,
            placement_sessions.c.course_id == course_id,
        )
        if status is not None:
            stmt = stmt.where(placement_sessions.c.status == status)
        stmt = stmt.order_by(placement_sessions.c.started_at.desc())
        row = self.session.execute(stmt).mappings().first()
        return None if row is None else dict(row)

    def add(self, row: dict[str, Any]) -> None:
        """Insert a check (a ``placement_sessions`` row with its ``state`` already dumped)."""
        self.session.execute(insert(placement_sessions), [row])

    def save_state(
        self,
        session_id: uuid.UUID,
        state: dict[str, Any],
        *,
        now: datetime,
        finished: bool = False,
    ) -> dict[str, Any]:
        """Store a check's state (and finish it); returns the values written."""
        values: dict[str, Any] = {
            "state": jsondocs.dump("placement_state", state),
            "updated_at": now,
        }
        if finished:
            values.update(status="finished", finished_at=now)
        self.session.execute(
            update(placement_sessions).where(placement_sessions.c.id == session_id).values(**values)
        )
        return values

    def finished_for_learners(
        self, learner_ids: Iterable[str], course_id: str
    ) -> dict[str, list[Placement]]:
        """Every learner's finished checks on the course, oldest first (every id is a key)."""
        out: dict[str, list[Placement]] = {lid: [] for lid in learner_ids}
        if not out:
            return out
        stmt = select(placement_sessions).where(
            placement_sessions.c.learner_id.in_(list(out)),
            placement_sessions.c.course_id == course_id,
            placement_sessions.c.status == "finished",
        )
        for row in self.session.execute(stmt).mappings():
            state = jsondocs.load("placement_state", row["state"])
            result = state.get("result") or {}
            out[row["learner_id"]].append(
                (
                    row["finished_at"],
                    {k: int(v) for k, v in result.get("levels", {}).items()},
                    {k: float(v) for k, v in result.get("p_known", {}).items()},
                )
            )
        for placements in out.values():
            placements.sort(key=lambda t: t[0])
        return out

    def finished(self, learner_id: str, course_id: str) -> list[Placement]:
        """The learner's finished checks on the course, oldest first."""
        return self.finished_for_learners([learner_id], course_id)[learner_id]


class AssignmentRepository:
    """Work a teacher assigned to one learner or to a group of a class (``assignments``)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        assignment_id: uuid.UUID,
        *,
        assigned_by: str,
        learner_ids: tuple[str, ...],
        course_id: str,
        activity_id: str | None,
        item_id: str | None,
        class_id: str | None,
        assigned_at: datetime,
        due_at: datetime | None,
        note: str,
    ) -> None:
        """Insert an assignment (one learner in ``learner_id``, a group as a document)."""
        group = len(learner_ids) > 1
        self.session.execute(
            insert(assignments),
            [
                {
                    "id": assignment_id,
                    "assigned_by": assigned_by,
                    "course_id": course_id,
                    "activity_id": activity_id,
                    "item_id": item_id,
                    "learner_id": None if group else learner_ids[0],
                    "class_id": class_id,
                    "group_learner_ids": (
                        jsondocs.dump("group", {"learner_ids": list(learner_ids)})
                        if group
                        else None
                    ),
                    "assigned_at": assigned_at,
                    "due_at": due_at,
                    "note": note or None,
                }
            ],
        )

    def for_learner(self, learner_id: str) -> list[dict[str, Any]]:
        """Rows naming the learner, alone or in a group, newest first; each with its
        ``learner_ids`` (a tuple) in place of the stored columns."""
        return self.for_learners([learner_id])

    def for_learners(self, learner_ids: Sequence[str]) -> list[dict[str, Any]]:
        """Rows naming any of the learners, alone or in a group, newest first (as
        :meth:`for_learner`), each once."""
        wanted = set(learner_ids)
        if not wanted:
            return []
        stmt = (
            select(assignments)
            .where(
                or_(
                    assignments.c.learner_id.in_(sorted(wanted)),
                    assignments.c.group_learner_ids.is_not(None),
                )
            )
            .order_by(assignments.c.assigned_at.desc(), assignments.c.id)
        )
        out: list[dict[str, Any]] = []
        for row in self.session.execute(stmt).mappings():
            if row["learner_id"] is not None:
                learners: tuple[str, ...] = (row["learner_id"],)
            else:
                learners = tuple(jsondocs.load("group", row["group_learner_ids"])["learner_ids"])
            if wanted.intersection(learners):
                found = dict(row)
                found["learner_ids"] = learners
                del found["learner_id"], found["group_learner_ids"]
                out.append(found)
        return out


@dataclass(frozen=True)
class StoredFold:
    """A learner's stored fold on a course and what it folded (see ``tables.learner_folds``)."""

    version: str
    n_events: int
    last_event: EventKey | None
    n_placements: int
    state: dict[str, Any]


class FoldRepository:
    """Learners' stored folds, one per learner and course."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_many(self, learner_ids: Iterable[str], course_id: str) -> dict[str, StoredFold]:
        """The stored folds of ``learner_ids`` on the course (learners without one left out)."""
        ids = list(learner_ids)
        if not ids:
            return {}
        stmt = select(learner_folds).where(
            learner_folds.c.course_id == course_id, learner_folds.c.learner_id.in_(ids)
        )
        return {row.learner_id: _stored_fold(row) for row in self.session.execute(stmt)}

    def checkpoints(self, learner_id: str, course_id: str, version: str) -> list[StoredFold]:
        """The learner's fold checkpoints on the course at ``version``, newest first."""
        c = learner_fold_checkpoints.c
        stmt = (
            select(learner_fold_checkpoints)
            .where(c.learner_id == learner_id, c.course_id == course_id, c.version == version)
            .order_by(c.n_events.desc())
        )
        return [_stored_fold(row) for row in self.session.execute(stmt)]

    def newest_checkpoints(
        self, learner_ids: Iterable[str], course_id: str, version: str
    ) -> dict[str, int]:
        """Per learner, the events folded by their newest checkpoint at ``version`` (learners
        without one left out), in one query."""
        ids = list(learner_ids)
        if not ids:
            return {}
        c = learner_fold_checkpoints.c
        stmt = (
            select(c.learner_id, func.max(c.n_events))
            .where(c.learner_id.in_(ids), c.course_id == course_id, c.version == version)
            .group_by(c.learner_id)
        )
        return {learner_id: int(n) for learner_id, n in self.session.execute(stmt)}

    def add_checkpoint(
        self, learner_id: str, course_id: str, fold: StoredFold, *, keep: int
    ) -> None:
        """Keep a copy of the learner's fold as a checkpoint, and only the newest ``keep`` of
        its version (other versions' are dropped: they can no longer be continued)."""
        c = learner_fold_checkpoints.c
        mine = (c.learner_id == learner_id) & (c.course_id == course_id)
        self.session.execute(
            delete(learner_fold_checkpoints).where(mine, c.version != fold.version)
        )
        self.session.execute(
            delete(learner_fold_checkpoints).where(mine, c.n_events == fold.n_events)
        )
        self.session.execute(
            insert(learner_fold_checkpoints),
            [{"learner_id": learner_id, "course_id": course_id, **_fold_values(fold)}],
        )
        older = select(c.n_events).where(mine).order_by(c.n_events.desc()).offset(keep)
        stale = list(self.session.scalars(older))
        if stale:
            self.session.execute(
                delete(learner_fold_checkpoints).where(mine, c.n_events.in_(stale))
            )

    def forget(self, learner_ids: Iterable[str], course_id: str) -> None:
        """Drop the learners' stored folds and checkpoints on the course (the next read folds
        from scratch)."""
        ids = list(learner_ids)
        for table in (learner_folds, learner_fold_checkpoints):
            self.session.execute(
                delete(table).where(table.c.course_id == course_id, table.c.learner_id.in_(ids))
            )

    def put(self, learner_id: str, course_id: str, fold: StoredFold, *, at: datetime) -> None:
        """Store (or replace) a learner's fold on the course, in one statement (an upsert), so
        that two requests storing the same learner's fold at once both succeed."""
        values = {**_fold_values(fold), "updated_at": at}
        upsert = upsert_for(self.session)
        stmt = upsert(learner_folds).values(learner_id=learner_id, course_id=course_id, **values)
        self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[learner_folds.c.learner_id, learner_folds.c.course_id],
                set_=values,
            )
        )


def _fold_values(fold: StoredFold) -> dict[str, Any]:
    return {
        "version": fold.version,
        "n_events": fold.n_events,
        "last_occurred_at": None if fold.last_event is None else fold.last_event[0],
        "last_event_id": None if fold.last_event is None else fold.last_event[1],
        "n_placements": fold.n_placements,
        "state": jsondocs.dump("learner_fold", fold.state),
    }


def _stored_fold(row: Any) -> StoredFold:
    return StoredFold(
        row.version,
        row.n_events,
        None if row.last_event_id is None else (row.last_occurred_at, row.last_event_id),
        row.n_placements,
        jsondocs.load("learner_fold", row.state),
    )
