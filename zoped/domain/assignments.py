"""Assigned work as data: what an assignment is, where it stands for a learner, and its due
date, a day of the school's time zone (the rules: :mod:`zoped.services.assignments`). Pure: no
I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from zoped.domain.evidence import EvidenceKind
from zoped.errors import InvalidInput, Problem

#: Answers on each competency of an assigned activity that make it done without a completion.
ANSWERS_FOR_DONE = 3
#: The longest note a teacher may add to an assignment, in characters.
MAX_NOTE = 500
#: Kinds of the learner's evidence that count as doing assigned work.
WORK_KINDS = (
    EvidenceKind.ANSWER,
    EvidenceKind.ACTIVITY_PROGRESS,
    EvidenceKind.ACTIVITY_COMPLETION,
    EvidenceKind.RUBRIC_SCORE,
)


class AssignmentStatus(StrEnum):
    """Where an assignment stands for one learner."""

    NOT_STARTED = "not started"
    STARTED = "started"
    DONE = "done"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Assignment:
    """An activity or item assigned to one learner or a group of a class.

    Attributes:
        title: what it is, in words (the activity's title; for an item, the competency it
            practises).
        competency_ids: what it practises.
        competency_titles: their titles, in the same order.
    """

    id: uuid.UUID
    assigned_by: str
    assigned_at: datetime
    learner_ids: tuple[str, ...]
    title: str
    competency_ids: tuple[str, ...]
    activity_id: str | None = None
    item_id: str | None = None
    class_id: str | None = None
    due_at: datetime | None = None
    note: str = ""
    competency_titles: tuple[str, ...] = ()
    course_id: str = ""


def due_in_words(due_at: datetime | None, now: datetime, zone: tzinfo) -> str:
    """ "due Friday 12 December", "due today", "overdue by 2 days" ("" without a due date).

    Args:
        zone: the school's time zone, whose days are counted.
    """
    if due_at is None:
        return ""
    due_day, today = due_at.astimezone(zone).date(), now.astimezone(zone).date()
    if now > due_at:
        days = (today - due_day).days
        if days <= 0:
            return "overdue since earlier today"
        return f"overdue by {days} day{'s' if days != 1 else ''}"
    if due_day == today:
        return "due today"
    if due_day == today + timedelta(days=1):
        return "due tomorrow"
    year = f" {due_day.year}" if due_day.year != today.year else ""
    return f"due {due_day:%A} {due_day.day} {due_day:%B}{year}"


def due_at_end_of(day: date, zone: tzinfo) -> datetime:
    """The instant a due date ends: the last second of the day in the school's ``zone``, in
    UTC."""
    return datetime.combine(day, time(23, 59, 59), tzinfo=zone).astimezone(UTC)


def parse_due(text: str, *, now: datetime, zone: tzinfo) -> datetime | None:
    """A due date from a form (YYYY-MM-DD, or empty for none), as the end of that day in the
    school's ``zone``.

    Raises:
        InvalidInput: an unreadable date, or one already past.
    """
    raw = text.strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "invalid assignment", [Problem("due_at", "use a date like 2026-12-12")]
        ) from None
    due_at = due_at_end_of(day, zone)
    if due_at < now:
        raise InvalidInput("invalid assignment", [Problem("due_at", "that date has passed")])
    return due_at
