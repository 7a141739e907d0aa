"""Placement: graph propagation, stopping, pause and resume."""

from __future__ import annotations

import numpy as np

from zoped.domain.framework import Competency
from zoped.engine.graph import CompetencyGraph
from zoped.engine.placement import PlacementSession, feasible_states


def _chain(n: int) -> CompetencyGraph:
    return CompetencyGraph.from_competencies(
        [Competency(f"c{i}", f"C{i}", prerequisites=(f"c{i - 1}",) if i else ()) for i in range(n)]
    )


def _items(n: int, per: int = 3) -> np.ndarray:
    return np.repeat(np.eye(n, dtype=bool), per, axis=0)


def test_feasible_states_of_a_chain_are_its_prefixes() -> None:
    states = feasible_states(_chain(4), 1000)
    assert states.shape == (5, 4)
    assert all(np.all(np.diff(s.astype(int)) <= 0) for s in states)


def test_success_on_advanced_is_evidence_for_prerequisites() -> None:
    session = PlacementSession(_chain(5), _items(5))
    before = session.marginals()
    session.answer(12, True)  # an item on c4
    after = session.marginals()
    assert np.all(after[:4] > before[:4])


def test_placement_recovers_a_hidden_state_within_25_questions() -> None:
    graph, items = _chain(6), _items(6)
    truth = np.array([1, 1, 1, 0, 0, 0], dtype=bool)
    session = PlacementSession(graph, items)
    while not session.done():
        item = session.next_item()
        session.answer(item, bool(truth[items[item]].all()))
    result = session.result()
    assert result.questions <= 25
    assert np.array_equal(result.levels >= 3, truth)


def test_pause_and_resume_give_the_same_next_question() -> None:
    graph, items = _chain(5), _items(5)
    session = PlacementSession(graph, items)
    for _ in range(3):
        session.answer(session.next_item(), True)
    saved = list(session.answers)
    resumed = PlacementSession(graph, items, answers=saved)
    assert resumed.next_item() == session.next_item()
    assert np.allclose(resumed.marginals(), session.marginals())
