"""Mastery you can trust, through the services a learner's answers go through (issue 13's
reproductions): a wrong answer never raises a level, 3 right out of 10 is never mastered,
wrong answers end a mastery they contradict, and a teacher's rubric score counts."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.services.conftest import NOW
from zoped.domain.content import Item, ItemType
from zoped.domain.grading import Response, right_response
from zoped.engine.mastery import RUBRIC_ANSWERS, MasteryLevel
from zoped.services.pathways import learner_state
from zoped.services.practice import submit_answer
from zoped.services.rubrics import score_project

COMPETENCY = "found.equal-parts"  # no prerequisites: always open to practise


def _response(item: Item, right: bool) -> Response:
    if right:
        return right_response(item)
    if item.type is ItemType.SINGLE_CHOICE:
        return next(o.id for o in item.options if not o.correct)
    if item.type is ItemType.MULTIPLE_CHOICE:
        good = [o.id for o in item.options if o.correct]
        bad = [o.id for o in item.options if not o.correct]
        return bad[:1] or good[:-1]
    if item.type is ItemType.ORDERING:
        return [o.id for o in item.options][::-1]
    if item.type is ItemType.NUMERIC:
        return str(float(item.answer or 0) + 1000)
    return "not the answer"


def _answer_all(school, rights: list[bool], hours_apart: float = 20.0):
    """Answer one item per entry (right or wrong), ``hours_apart`` hours apart, as amy; yield
    (right, level before, level after, P(known) before, P(known) after) per answer."""
    items = [i for i in school.course.items_for(COMPETENCY) if len(i.competencies) == 1]
    moment = NOW - timedelta(hours=hours_apart * len(rights))
    with school.db.session() as s:
        before = learner_state(s, actor=school.learner, learner_id="amy", now=moment).get(
            COMPETENCY
        )
    for n, right in enumerate(rights):
        item = items[n % len(items)]
        with school.db.session() as s:
            outcome = submit_answer(
                s,
                actor=school.learner,
                learner_id="amy",
                item_id=item.id,
                response=_response(item, right),
                event_id=uuid.uuid4(),
                now=moment,
            )
            assert outcome.correct is right, item.id
            after = learner_state(s, actor=school.learner, learner_id="amy", now=moment).get(
                COMPETENCY
            )
        yield right, before.level, after.level, before.p_known, after.p_known
        before = after
        moment += timedelta(hours=hours_apart)


def test_a_wrong_answer_never_raises_the_level_or_p_known(school) -> None:
    pattern = [True, False, True, True, False, True, True, True, False, True, False, False]
    for right, level0, level1, p0, p1 in _answer_all(school, pattern):
        assert 0.0 < p1 < 1.0
        if not right:
            assert p1 <= p0
            assert level1 <= max(level0, MasteryLevel.ATTEMPTED)


def test_three_right_out_of_ten_is_never_mastered(school) -> None:
    # The order most likely to fool a model: the three right answers come last.
    pattern = [False] * 7 + [True] * 3
    levels = [after for _, _, after, _, _ in _answer_all(school, pattern, hours_apart=30.0)]
    assert MasteryLevel.MASTERED not in levels


def test_wrong_answers_end_a_mastery_they_contradict(school) -> None:
    pattern = [True] * 7 + [False] * 3
    levels = [after for _, _, after, _, _ in _answer_all(school, pattern, hours_apart=30.0)]
    assert MasteryLevel.MASTERED in levels[:7], "seven right answers over a week master it"
    assert levels[-1] < MasteryLevel.MASTERED


def _scored(school, level: int):
    """amy's state on the rubric's "scaling" competency before and after her teacher scores
    that criterion at ``level`` (0 = the lowest)."""

    def state():
        with school.db.session() as s:
            found = learner_state(s, actor=school.teacher, learner_id="amy", now=NOW)
        return found.get("prop.scale-recipe")

    before = state()
    with school.db.session() as s:
        score_project(
            s,
            actor=school.teacher,
            learner_id="amy",
            rubric_id="rubric.recipe-party",
            chosen_levels={"scaling": level},
            now=NOW - timedelta(hours=1),
        )
    return before, state()


def test_a_rubric_score_counts_as_evidence_on_its_competencies(school) -> None:
    before, after = _scored(school, 3)  # "Extending": 4 of 4 points
    assert after.evidence_count == before.evidence_count + RUBRIC_ANSWERS
    assert after.n_correct == before.n_correct + RUBRIC_ANSWERS
    assert after.p_known > before.p_known
    assert after.level > before.level


def test_a_low_rubric_score_is_evidence_against(school) -> None:
    before, after = _scored(school, 0)  # "Beginning": 1 of 4 points
    assert after.evidence_count == before.evidence_count + RUBRIC_ANSWERS
    assert after.n_correct == before.n_correct
    assert after.p_known <= before.p_known
    assert after.level <= MasteryLevel.ATTEMPTED
