"""learner_state and recommend_for on a small seeded school."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.services.conftest import NOW
from zoped.domain.evidence import EvidenceEvent, EvidenceKind
from zoped.engine.mastery import MasteryLevel
from zoped.errors import NotFound, PermissionDenied
from zoped.services import menus, models, pathways
from zoped.services.evidence import record_evidence
from zoped.store.tables import recommendation_decisions


def test_state_is_replayed_from_the_log_for_every_role(school):
    with school.db.session() as s:
        seen = [
            pathways.learner_state(s, actor=who, learner_id="bo", now=NOW)
            for who in (school.other, school.teacher)
        ]
        assert seen[0] == seen[1]
        state = seen[0]
        assert state.n_events > 100
        assert any(c.level >= MasteryLevel.PROFICIENT for c in state.competencies)
        assert all(0.0 <= c.p_known <= 1.0 for c in state.competencies)
        # A locked competency has a prerequisite below proficient.
        levels = {c.competency_id: c.level for c in state.competencies}
        for c in state.competencies:
            if not c.unlocked:
                assert any(levels[p] < MasteryLevel.PROFICIENT for p in c.prerequisites)
        assert state.history[-1].day == NOW.date()


def test_access_follows_the_policy(school):
    with school.db.session() as s:
        with pytest.raises(NotFound):
            pathways.learner_state(s, actor=school.stranger, learner_id="amy", now=NOW)
        with pytest.raises(NotFound):
            pathways.learner_state(s, actor=school.guardian, learner_id="bo", now=NOW)
        pathways.learner_state(s, actor=school.guardian, learner_id="amy", now=NOW)
        with pytest.raises(PermissionDenied):
            menus.choose_option(
                s,
                actor=school.guardian,
                learner_id="amy",
                decision_id=uuid.uuid4(),
                activity_id="x",
                now=NOW,
            )


def test_override_wins_and_undo_restores_self_assessment_never_decides(school):
    cid = "found.equal-parts"
    with school.db.session() as s:
        before = pathways.learner_state(s, actor=school.learner, learner_id="amy", now=NOW)
        assert before.get(cid).level is MasteryLevel.NOT_STARTED
        mine = EvidenceEvent(
            id=uuid.uuid4(),
            learner_id="amy",
            kind=EvidenceKind.SELF_ASSESSMENT,
            occurred_at=NOW,
            recorded_at=NOW,
            competency_ids=(cid,),
            payload={"level": 4},
        )
        override = EvidenceEvent(
            id=uuid.uuid4(),
            learner_id="amy",
            kind=EvidenceKind.TEACHER_OVERRIDE,
            occurred_at=NOW,
            recorded_at=NOW,
            competency_ids=(cid,),
            score=0.75,
            actor_id="teach",
            note="showed it in class",
            payload={"level": 3},
        )
        for e in (mine, override):
            record_evidence(s, event=e)
        later = NOW + timedelta(minutes=1)
        state = pathways.learner_state(s, actor=school.learner, learner_id="amy", now=later)
        c = state.get(cid)
        assert c.level is MasteryLevel.PROFICIENT
        assert c.derived_level is MasteryLevel.NOT_STARTED
        assert c.self_assessed is MasteryLevel.MASTERED
        undo = EvidenceEvent(
            id=uuid.uuid4(),
            learner_id="amy",
            kind=EvidenceKind.TEACHER_OVERRIDE,
            occurred_at=later,
            recorded_at=later,
            competency_ids=(cid,),
            score=0.0,
            actor_id="teach",
            note="undo",
            payload={"undo": True},
            supersedes=override.id,
        )
        record_evidence(s, event=undo)
        state = pathways.learner_state(
            s, actor=school.learner, learner_id="amy", now=later + timedelta(minutes=1)
        )
        assert state.get(cid).level is MasteryLevel.NOT_STARTED


def test_menu_has_reasons_no_locked_competency_and_is_logged(school):
    with school.db.session() as s:
        state = pathways.learner_state(s, actor=school.other, learner_id="bo", now=NOW)
        unlocked = {c.competency_id for c in state.competencies if c.unlocked}
        offered = [
            menus.recommend_for(s, actor=school.other, learner_id="bo", seed=seed, now=NOW)
            for seed in (1, 2)
        ]
        for menu in offered:
            assert 1 <= len(menu.options) <= 4
            for option in menu.options:
                assert option.reason.strip()
                assert "%" not in option.reason  # numbers in words for a child
                assert re.search(  # the numbers behind it
                    r"right (about \d+ times? in 10|nearly every time|hardly ever)",
                    option.reason,
                )
                assert set(option.competencies) <= unlocked
        logged = s.scalar(
            select(func.count())
            .select_from(recommendation_decisions)
            .where(recommendation_decisions.c.learner_id == "bo")
        )
        assert logged == 2
        chosen = offered[0].options[0].activity_id
        menus.choose_option(
            s,
            actor=school.other,
            learner_id="bo",
            decision_id=offered[0].decision_id,
            activity_id=chosen,
            now=NOW,
        )
        stored = s.scalar(
            select(recommendation_decisions.c.chosen_id).where(
                recommendation_decisions.c.id == offered[0].decision_id
            )
        )
        assert stored == chosen


def test_defaults_until_enough_evidence_to_fit(school):
    with school.db.session() as s:
        summaries = models.fit_platform_models(s, now=NOW)
        assert [x.fitted for x in summaries] == [False]  # one learner's log is not enough
        loaded = models.platform_models(s, course=school.course)
        assert not loaded.fitted
        assert loaded.bkt.params.n_skills == len(school.course.framework)
