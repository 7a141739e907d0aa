"""Mastery fades to "review due" with time, and a passed review brings it back (issue 4)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.services.conftest import NOW
from zoped.domain.grading import right_response
from zoped.engine.mastery import MasteryLevel
from zoped.services.menus import recommend_for
from zoped.services.pathways import learner_state
from zoped.services.practice import submit_answer


def test_mastery_decays_to_review_due_and_a_passed_review_restores_it(school):
    with school.db.session() as s:
        now_state = learner_state(s, actor=school.teacher, learner_id="bo", now=NOW)
    mastered = [c for c in now_state.competencies if c.level is MasteryLevel.MASTERED]
    assert mastered, "the seeded typical learner masters some competencies"
    target = next(c for c in mastered if c.review_due_at is not None)
    assert target.review_due_at is not None
    assert target.retrievability is not None
    assert target.last_practised is not None

    later = target.review_due_at + timedelta(days=1)
    with school.db.session() as s:
        faded = {
            c.competency_id: c
            for c in learner_state(s, actor=school.teacher, learner_id="bo", now=later).competencies
        }
        menu = recommend_for(s, actor=school.teacher, learner_id="bo", k=4, seed=1, now=later)
    assert faded[target.competency_id].level is MasteryLevel.REVIEW_DUE
    faded_recall = faded[target.competency_id].retrievability
    assert faded_recall is not None
    assert faded_recall < target.retrievability
    due = {cid for cid, c in faded.items() if c.level is MasteryLevel.REVIEW_DUE}
    assert any(set(option.competencies) & due for option in menu.options), (
        "a due review enters the menu"
    )

    items = [i for i in school.course.items_for(target.competency_id) if len(i.competencies) == 1]
    moment = later
    for item in items[:2]:
        with school.db.session() as s:
            outcome = submit_answer(
                s,
                actor=school.other,
                learner_id="bo",
                item_id=item.id,
                response=right_response(item),
                event_id=uuid.uuid4(),
                now=moment,
            )
        assert outcome.correct
        moment += timedelta(minutes=2)
    with school.db.session() as s:
        back = {
            c.competency_id: c
            for c in learner_state(
                s, actor=school.teacher, learner_id="bo", now=moment
            ).competencies
        }
    restored = back[target.competency_id]
    assert restored.level is MasteryLevel.MASTERED
    assert restored.review_due_at is not None
    # The passed review lengthens the next interval.
    assert restored.review_due_at - moment > target.review_due_at - target.last_practised
