"""Mastery levels: thresholds, the spread rule, retention and overrides."""

from __future__ import annotations

import numpy as np
import pytest

from zoped.domain.framework import Competency
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import MasteryConfig, MasteryLevel, MasteryTracker
from zoped.engine.overrides import (
    OverrideEvent,
    PriorLearningClaim,
    SelfAssessmentEvent,
    UndoEvent,
    apply_overrides,
)
from zoped.errors import InvalidInput

DAY = 86_400.0


def _graph() -> CompetencyGraph:
    return CompetencyGraph.from_competencies(
        [Competency("a", "A"), Competency("b", "B", prerequisites=("a",))]
    )


def _answer(
    tracker: MasteryTracker,
    comp: int,
    correct: bool,
    t: float,
    p: tuple[float, float] = (0.99, 0.1),
    recall: tuple[float, float] = (1.0, 1.0),
) -> None:
    """One answer on ``comp`` at ``t``, with the model's P(known) ``p`` after it."""
    mask = np.zeros((1, 2), dtype=bool)
    mask[0, comp] = True
    tracker.record(np.array([0]), mask, np.array([correct]), t, np.array([p]), np.array([recall]))


def test_config_reports_every_bad_value() -> None:
    with pytest.raises(InvalidInput) as err:
        MasteryConfig(familiar_p=1.5, min_attempts_mastered=0, review_retrievability=0)
    locations = {p.location for p in err.value.problems}
    assert {"familiar_p", "min_attempts_mastered", "review_retrievability"} <= locations


def test_massed_practice_never_reaches_mastered() -> None:
    tracker = MasteryTracker(1, 2)
    for i in range(10):
        _answer(tracker, 0, True, i * 60.0)
    assert tracker.levels()[0, 0] == MasteryLevel.PROFICIENT


def test_spread_over_days_reaches_mastered_and_then_review_due() -> None:
    tracker = MasteryTracker(1, 2)
    for i in range(4):
        _answer(tracker, 0, True, i * DAY)
    assert tracker.levels()[0, 0] == MasteryLevel.MASTERED
    due = tracker.levels(np.array([[0.5, 1.0]]))
    assert due[0, 0] == MasteryLevel.REVIEW_DUE
    # A wrong answer on a due review lowers the level to at most proficient.
    _answer(tracker, 0, False, 10 * DAY, p=(0.97, 0.1), recall=(0.5, 1.0))
    after = tracker.levels(np.array([[1.0, 1.0]]))
    assert after[0, 0] == MasteryLevel.PROFICIENT
    assert tracker.reviews_failed[0, 0] == 1


def test_passed_review_restores_mastered() -> None:
    tracker = MasteryTracker(1, 2)
    for i in range(4):
        _answer(tracker, 0, True, i * DAY)
    _answer(tracker, 0, True, 9 * DAY, recall=(0.5, 1.0))
    assert tracker.levels(np.array([[0.95, 1.0]]))[0, 0] == MasteryLevel.MASTERED
    assert tracker.reviews_passed[0, 0] == 1


def test_overrides_undo_claims_and_self_assessment() -> None:
    g = _graph()
    derived = [MasteryLevel.FAMILIAR, MasteryLevel.NOT_STARTED]
    override = OverrideEvent("e1", "a", MasteryLevel.MASTERED, "t.smith", 10.0, "oral exam")
    status = apply_overrides(g, derived, [override])
    assert status[0].level == MasteryLevel.MASTERED
    assert status[0].override == override
    undone = apply_overrides(g, derived, [override, UndoEvent("e2", "e1", "t.smith", 20.0)])
    assert undone[0].level == MasteryLevel.FAMILIAR
    claim = PriorLearningClaim("c1", "b", MasteryLevel.PROFICIENT, "summer course")
    assert apply_overrides(g, derived, [claim])[1].level == MasteryLevel.NOT_STARTED
    accepted = PriorLearningClaim(
        "c1", "b", MasteryLevel.PROFICIENT, "summer course", "t.smith", 5.0
    )
    assert apply_overrides(g, derived, [accepted])[1].level == MasteryLevel.PROFICIENT
    selfie = SelfAssessmentEvent("s1", "a", MasteryLevel.MASTERED, 3.0)
    shown = apply_overrides(g, derived, [selfie])[0]
    assert shown.level == MasteryLevel.FAMILIAR
    assert shown.self_assessed == MasteryLevel.MASTERED


def test_unknown_undo_is_refused() -> None:
    with pytest.raises(InvalidInput):
        apply_overrides(_graph(), [0, 0], [UndoEvent("u", "nope", "t", 1.0)])


def test_graph_rejects_cycles_and_unknown_prerequisites() -> None:
    with pytest.raises(InvalidInput) as err:
        CompetencyGraph.from_competencies(
            [
                Competency("a", "A", prerequisites=("b",)),
                Competency("b", "B", prerequisites=("a", "zz")),
            ]
        )
    text = str(err.value)
    assert "cycle" in text
    assert "zz" in text


def _proficient_a_then_miss_b(config: MasteryConfig | None = None) -> MasteryTracker:
    tracker = MasteryTracker(1, 2, config, graph=_graph())
    for i in range(3):
        _answer(tracker, 0, True, i * 60.0, p=(0.9, 0.2))
    assert tracker.levels()[0, 0] == MasteryLevel.PROFICIENT
    for i, ok in enumerate((False, True, False, False)):
        _answer(tracker, 1, ok, 600.0 + i * 60.0, p=(0.9, 0.3))
    return tracker


def test_repeated_misses_put_an_unmastered_prerequisite_back_to_check() -> None:
    tracker = _proficient_a_then_miss_b()
    levels = tracker.levels()
    assert levels[0, 0] == MasteryLevel.FAMILIAR  # b locks again, a is on the frontier
    assert tracker.rechecks(0) == {0: (1, 3, 4, 780.0)}
    # Three right answers in a row on a clear the re-check.
    for i, ok in enumerate((True, False, True, True, True)):
        _answer(tracker, 0, ok, 2000.0 + i * 60.0, p=(0.9, 0.3))
        level = tracker.levels()[0, 0]
        assert level == (MasteryLevel.PROFICIENT if i == 4 else MasteryLevel.FAMILIAR)
    assert tracker.rechecks(0) == {}


def test_recheck_is_off_without_a_graph_or_with_zero_misses() -> None:
    off = _proficient_a_then_miss_b(MasteryConfig(recheck_misses=0))
    assert off.levels()[0, 0] == MasteryLevel.PROFICIENT
    plain = MasteryTracker(1, 2)
    for i, ok in enumerate((True, True, True, False, False, False, False)):
        _answer(plain, 0 if i < 3 else 1, ok, i * 60.0, p=(0.9, 0.3))
    assert plain.levels()[0, 0] == MasteryLevel.PROFICIENT
    with pytest.raises(InvalidInput):
        MasteryConfig(recheck_window=2, recheck_misses=3)
