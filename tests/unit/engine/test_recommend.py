"""The recommender: menus, reasons, determinism and the decision record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from zoped.domain.content import Activity, Modality
from zoped.domain.framework import Competency
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import MasteryLevel
from zoped.engine.recommend import (
    LearnerSnapshot,
    RecommenderConfig,
    foundation_score,
    recommend_next,
)
from zoped.errors import InvalidInput

DAY = 86_400.0


def _setup() -> tuple[CompetencyGraph, list[Activity]]:
    graph = CompetencyGraph.from_competencies(
        [
            Competency("eq", "Equivalent fractions"),
            Competency("add", "Adding fractions", prerequisites=("eq",)),
            Competency("mul", "Multiplying fractions", prerequisites=("add",)),
        ]
    )
    acts = [
        Activity("a1", "Fraction strips", Modality.HANDS_ON, ("eq",), 10, ("art",), body="x"),
        Activity("a2", "Add practice", Modality.PRACTICE, ("add",), 10, body="x"),
        Activity("a3", "Add video", Modality.VIDEO, ("add",), 5, body="x"),
        Activity("a4", "Multiply game", Modality.GAME, ("mul",), 10, body="x"),
    ]
    return graph, acts


def _learner(levels: list[int], **kw: object) -> LearnerSnapshot:
    n = len(levels)
    return LearnerSnapshot(
        levels=np.array(levels),
        p_known=np.full(n, 0.6),
        p_correct=np.full(n, 0.75),
        **kw,  # type: ignore[arg-type]
    )


def test_menu_offers_only_unlocked_and_explains() -> None:
    graph, acts = _setup()
    reached = np.array([5 * DAY, np.nan, np.nan])
    learner = _learner([MasteryLevel.MASTERED, MasteryLevel.NOT_STARTED, 0], reached_at_s=reached)
    decision = recommend_next(graph, acts, learner, now_s=6 * DAY, seed=1)
    ids = {o.activity_id for o in decision.options}
    assert ids == {"a2", "a3"}  # eq mastered, mul locked
    assert len({o.modality for o in decision.options}) == 2
    assert "You are ready" in decision.options[0].reason
    assert "Equivalent fractions" in decision.options[0].reason
    assert "P(known)" not in decision.options[0].reason
    assert "on Tuesday" in decision.options[0].reason
    assert "about 8 times in 10: still new to you" in decision.options[0].reason  # 0.75, 0.6
    json.dumps(decision.to_dict())  # the record is plain JSON


def test_review_due_enters_the_menu_with_recall() -> None:
    graph, acts = _setup()
    learner = _learner(
        [MasteryLevel.REVIEW_DUE, MasteryLevel.MASTERED, MasteryLevel.MASTERED],
        retrievability=np.array([0.6, 1.0, 1.0]),
    )
    decision = recommend_next(graph, acts, learner)
    assert decision.chosen == ["a1"]
    assert "you would remember it about 6 times in 10" in decision.options[0].reason
    assert "%" not in decision.options[0].reason


def test_same_state_and_seed_same_menu() -> None:
    graph, acts = _setup()
    learner = _learner([MasteryLevel.PROFICIENT, 1, 0])
    a = recommend_next(graph, acts, learner, seed=7).to_dict()
    b = recommend_next(graph, acts, learner, seed=7).to_dict()
    assert a == b


def test_goal_and_interest_raise_the_score() -> None:
    graph, acts = _setup()
    plain = recommend_next(graph, acts, _learner([1, 0, 0]))
    keen = recommend_next(graph, acts, _learner([1, 0, 0], interests=frozenset({"art"})))
    assert keen.candidates[0].score > plain.candidates[0].score


def test_bad_config_lists_every_problem() -> None:
    with pytest.raises(InvalidInput) as err:
        RecommenderConfig(band_low=0.9, band_high=0.8, w_goal=-1, k=0)
    assert {p.location for p in err.value.problems} >= {"band_high", "w_goal", "k"}


def test_a_prerequisite_under_recheck_comes_first_with_its_reason() -> None:
    graph, acts = _setup()
    learner = _learner(
        [MasteryLevel.MASTERED, MasteryLevel.FAMILIAR, 0], rechecks={1: (2, 3, 4, 86_400.0 * 3)}
    )
    decision = recommend_next(graph, acts, learner, seed=3)
    assert decision.chosen[0] in {"a2", "a3"}
    assert "mul" not in {c for o in decision.options for c in o.competencies}
    reason = decision.options[0].reason
    assert "Let's make sure of Adding fractions first" in reason
    # The window that triggered it, named by its end, so the sentence stays true.
    assert "of 4 answers on Multiplying fractions up to 4 January, you missed 3" in reason
    assert decision.candidates[0].parts["recheck"] == 1.0


def test_foundation_score_prefers_what_more_locked_steps_need() -> None:
    graph, _ = _setup()
    score = foundation_score(graph, np.array([[1, 0, 0], [3, 1, 0]]))
    assert score[0].tolist() == [1.0, 0.5, 0.0]
    assert score[1].tolist() == [0.0, 1.0, 0.0]  # eq is proficient: no longer a foundation


def test_a_due_review_keeps_a_place_on_the_menu() -> None:
    graph = CompetencyGraph.from_competencies(
        [
            Competency("eq", "Equivalent fractions"),
            Competency("add", "Adding fractions", prerequisites=("eq",)),
            Competency("sub", "Subtracting fractions", prerequisites=("eq",)),
        ]
    )
    acts = [
        Activity("a1", "Fraction strips", Modality.HANDS_ON, ("eq",), 10, body="x"),
        Activity("a2", "Add practice", Modality.PRACTICE, ("add",), 10, body="x"),
        Activity("a3", "Subtract video", Modality.VIDEO, ("sub",), 5, body="x"),
    ]
    # Two prerequisites under re-check outscore the review; the review still takes the last
    # place of a menu of two.
    learner = _learner(
        [MasteryLevel.REVIEW_DUE, MasteryLevel.FAMILIAR, MasteryLevel.FAMILIAR],
        rechecks={1: (2, 3, 4, 0.0), 2: (1, 3, 4, 0.0)},
    )
    decision = recommend_next(graph, acts, learner, k=2, seed=1)
    assert "a1" in decision.chosen
    assert len(decision.chosen) == 2
