"""Practice answers and the placement check."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from tests.services.conftest import NOW
from zoped.domain.content import Item, ItemType
from zoped.domain.evidence import EvidenceKind
from zoped.domain.grading import Response
from zoped.engine.mastery import MasteryLevel
from zoped.errors import InvalidInput
from zoped.services import placement, practice
from zoped.services.evidence import list_evidence


def right_answer(item: Item) -> Response:
    if item.type is ItemType.SINGLE_CHOICE:
        return next(o.id for o in item.options if o.correct)
    if item.type is ItemType.MULTIPLE_CHOICE:
        return [o.id for o in item.options if o.correct]
    if item.type is ItemType.NUMERIC:
        return str(item.answer)
    if item.type is ItemType.SHORT_TEXT:
        return item.accepted[0]
    return [o.id for o in item.options]


def test_correct_answers_move_mastery_and_a_double_submit_is_one_event(school):
    cid = "found.equal-parts"
    with school.db.session() as s:
        now = NOW
        first = None
        for step in range(4):
            now = NOW + timedelta(minutes=step)
            shown = practice.next_item(
                s, actor=school.learner, learner_id="amy", competency_id=cid, now=now
            )
            assert cid in shown.item.competencies
            outcome = practice.submit_answer(
                s,
                actor=school.learner,
                learner_id="amy",
                item_id=shown.item.id,
                response=right_answer(shown.item),
                event_id=shown.event_id,
                hints_used=0,
                duration_s=12.0,
                now=now,
            )
            assert outcome.correct
            assert outcome.explanation
            change = outcome.changes[0]
            assert change.p_known_after > change.p_known_before
            first = first or change
            again = practice.submit_answer(
                s,
                actor=school.learner,
                learner_id="amy",
                item_id=shown.item.id,
                response=right_answer(shown.item),
                event_id=shown.event_id,
                now=now + timedelta(seconds=2),
            )
            assert again.duplicate
            assert again.event_id == shown.event_id
        assert first is not None
        assert first.level_before is MasteryLevel.NOT_STARTED
        assert change.level_after >= MasteryLevel.PROFICIENT
        answers = list_evidence(s, learner_id="amy", kinds=[EvidenceKind.ANSWER])
        assert len(answers) == 4
        summary = practice.session_summary(
            s, actor=school.learner, learner_id="amy", since=NOW, now=now
        )
        assert [c.competency_id for c in summary] == [cid]
        assert summary[0].moved


def test_a_malformed_answer_records_nothing(school):
    with school.db.session() as s:
        shown = practice.next_item(
            s, actor=school.learner, learner_id="amy", competency_id="found.equal-parts", now=NOW
        )
        with pytest.raises(InvalidInput):
            practice.submit_answer(
                s,
                actor=school.learner,
                learner_id="amy",
                item_id=shown.item.id,
                response=["not", "a", "number"],
                event_id=uuid.uuid4(),
                now=NOW,
            )
        assert list_evidence(s, learner_id="amy") == []


def test_placement_pauses_resumes_and_places(school):
    with school.db.session() as s:
        view = placement.start_or_resume_placement(
            s, actor=school.learner, learner_id="amy", now=NOW
        )
        assert view.status == "active"
        assert view.item is not None
        asked = []
        now = NOW
        for _ in range(3):
            now += timedelta(minutes=1)
            assert view.item is not None
            asked.append(view.item.id)
            view = placement.answer_placement(
                s,
                actor=school.learner,
                learner_id="amy",
                session_id=view.session_id,
                item_id=view.item.id,
                response=right_answer(view.item),
                event_id=view.event_id,
                now=now,
            )
    # Paused: a new session (a new visit) resumes where the learner stopped.
    with school.db.session() as s:
        resumed = placement.start_or_resume_placement(
            s, actor=school.learner, learner_id="amy", now=now
        )
        assert resumed.session_id == view.session_id
        assert resumed.answered == 3
        assert resumed.item is not None
        assert resumed.item.id not in asked
        done = placement.finish_placement(
            s, actor=school.learner, learner_id="amy", session_id=resumed.session_id, now=now
        )
        assert done.status == "finished"
        assert done.levels
        # The results name what they placed by title (issue 15: "equiv.generate: mastered").
        for cid in done.levels:
            assert done.titles[cid] == school.course.framework.get(cid).title
            assert done.titles[cid] != cid
        placed = list_evidence(s, learner_id="amy", kinds=[EvidenceKind.PLACEMENT_ANSWER])
        assert len(placed) == 3


def test_no_item_repeats_while_others_remain(school):
    """Issue 15: the same question came up three times in a row. Across more answers than the
    competency has items, every run of as many picks as there are items shows each item once."""
    cid = "found.unit-fractions"
    shown_ids: list[str] = []
    with school.db.session() as s:
        for step in range(16):
            now = NOW + timedelta(minutes=step)
            shown = practice.next_item(
                s, actor=school.learner, learner_id="amy", competency_id=cid, now=now
            )
            shown_ids.append(shown.item.id)
            practice.submit_answer(
                s,
                actor=school.learner,
                learner_id="amy",
                item_id=shown.item.id,
                response=right_answer(shown.item),
                event_id=shown.event_id,
                now=now,
            )
        n_items = len({i.id for i in school.course.items_for(cid)})
    assert n_items > 1
    for start in range(len(shown_ids) - n_items + 1):
        run = shown_ids[start : start + n_items]
        assert len(set(run)) == n_items, (start, run)
