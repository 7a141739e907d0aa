"""Overrides (with a reason, undone by a later event), rubric scores and assignments."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import DEMO_NOW
from tests.services._school import fresh_demo_db, user
from zoped.domain.assignments import AssignmentStatus
from zoped.domain.evidence import EvidenceKind
from zoped.engine.mastery import MasteryLevel as L
from zoped.errors import InvalidInput, NotFound, PermissionDenied
from zoped.services.assignments import assign, progress_for_learner
from zoped.services.evidence import list_evidence
from zoped.services.overrides import list_overrides, override_mastery, undo_override
from zoped.services.pathways import learner_state
from zoped.services.rubrics import score_project

NOW = DEMO_NOW
COMPETENCY = "ratio.unit-rate"


@pytest.fixture(scope="module")
def school(tmp_path_factory):
    database = fresh_demo_db(tmp_path_factory.mktemp("overrides"))
    yield database
    database.dispose()


def level(session, actor, learner_id, competency, now):
    state = learner_state(session, actor=actor, learner_id=learner_id, now=now)
    return state.get(competency).level


def test_override_then_undo_restores_the_level(school):
    rivera = user(school, "rivera")
    with school.session() as session:
        before = level(session, rivera, "ben", COMPETENCY, NOW)
        target = L.FAMILIAR if before is not L.FAMILIAR else L.PROFICIENT
        event = override_mastery(
            session,
            actor=rivera,
            learner_id="ben",
            competency_id=COMPETENCY,
            level=target,
            reason="explained unit rates wrongly in class",
            now=NOW,
        )
        assert event.kind is EvidenceKind.TEACHER_OVERRIDE
        assert (event.actor_id, event.note, event.occurred_at) == (
            "rivera",
            "explained unit rates wrongly in class",
            NOW,
        )
        later = NOW + timedelta(minutes=1)
        assert level(session, rivera, "ben", COMPETENCY, later) is target
        [summary] = [o for o in list_overrides(session, learner_id="ben") if o.active]
        assert summary.event_id == event.id
        assert summary.level is target

        undo = undo_override(
            session, actor=rivera, learner_id="ben", override_id=event.id, now=later
        )
        assert undo.supersedes == event.id
        after = NOW + timedelta(minutes=2)
        assert level(session, rivera, "ben", COMPETENCY, after) is before
        [summary] = list_overrides(session, learner_id="ben")
        assert not summary.active
        assert summary.undone_by == "rivera"
        # The log keeps both: nothing was edited or deleted.
        kinds = [
            e.id
            for e in list_evidence(session, learner_id="ben", kinds=[EvidenceKind.TEACHER_OVERRIDE])
        ]
        assert kinds == [event.id, undo.id]
        with pytest.raises(NotFound):
            undo_override(session, actor=rivera, learner_id="ben", override_id=event.id, now=after)


def test_override_needs_a_reason_and_a_settable_level(school):
    rivera = user(school, "rivera")
    with school.session() as session:
        with pytest.raises(InvalidInput) as error:
            override_mastery(
                session,
                actor=rivera,
                learner_id="chloe",
                competency_id=COMPETENCY,
                level=L.REVIEW_DUE,
                reason="  ",
                now=NOW,
            )
        assert {p.location for p in error.value.problems} == {"reason", "level"}
        assert list_overrides(session, learner_id="chloe") == []


def test_only_the_learners_own_teachers_override(school):
    with school.session() as session:
        with pytest.raises(NotFound):  # amara is in class-5a, which okafor does not teach
            override_mastery(
                session,
                actor=user(school, "okafor"),
                learner_id="amara",
                competency_id=COMPETENCY,
                level=L.MASTERED,
                reason="r",
                now=NOW,
            )
        with pytest.raises(PermissionDenied):
            override_mastery(
                session,
                actor=user(school, "guardian.amara"),
                learner_id="amara",
                competency_id=COMPETENCY,
                level=L.MASTERED,
                reason="r",
                now=NOW,
            )


def test_rubric_scoring_writes_evidence_per_competency(school):
    rivera = user(school, "rivera")
    with school.session() as session:
        events = score_project(
            session,
            actor=rivera,
            learner_id="dev",
            rubric_id="rubric.recipe-party",
            chosen_levels={"scaling": 3, "measuring": "Developing", "reasoning": 2},
            note="lovely recipe",
            now=NOW,
        )
        scores = {e.competency_ids[0]: e.score for e in events}
        assert scores == {
            "prop.scale-recipe": 1.0,
            "ops.multiply-fractions": 1.0,
            "ops.add-mixed": 0.5,
            "equiv.simplify": 0.5,
            "ratio.tables": 0.75,
        }
        assert all(e.kind is EvidenceKind.RUBRIC_SCORE and e.actor_id == "rivera" for e in events)
        stored = list_evidence(session, learner_id="dev", kinds=[EvidenceKind.RUBRIC_SCORE])
        assert {e.id for e in stored} == {e.id for e in events}
        with pytest.raises(InvalidInput):
            score_project(
                session,
                actor=rivera,
                learner_id="dev",
                rubric_id="rubric.recipe-party",
                chosen_levels={"nope": 1},
                now=NOW,
            )
        assert len(list_evidence(session, learner_id="dev", kinds=[EvidenceKind.RUBRIC_SCORE])) == 5


def test_assign_to_a_group(school):
    rivera = user(school, "rivera")
    with school.session() as session:
        made = assign(
            session,
            actor=rivera,
            learner_ids=["amara", "ben"],
            class_id="class-5a",
            activity_id="project.recipe-party",
            now=NOW,
        )
        for learner_id in ("amara", "ben"):
            [progress] = progress_for_learner(session, learner_id=learner_id, now=NOW)
            assert progress.assignment.id == made.id
            assert progress.status is AssignmentStatus.NOT_STARTED
        assert progress_for_learner(session, learner_id="chloe", now=NOW) == []
        with pytest.raises(NotFound):  # okafor does not teach amara
            assign(
                session, actor=user(school, "okafor"), learner_ids=["amara"], item_id="x", now=NOW
            )
