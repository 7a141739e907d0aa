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


def test_fitted_prior_batch_and_resume_agree() -> None:
    from zoped.engine.placement import PlacementBatch, StatePrior, fit_state_prior

    graph, items = _chain(6), _items(6, per=2)
    rng = np.random.default_rng(0)
    # Earlier learners: a prefix of the chain known, answers with guess 0.2 and slip 0.05.
    depth = rng.integers(0, 7, 300)
    truth = np.arange(6)[None, :] < depth[:, None]
    holds = truth[:, np.argmax(items, axis=1)]
    ok = rng.random(holds.shape) < np.where(holds, 0.95, 0.2)
    prior = fit_state_prior(graph, items, ok.astype(np.int64), (~ok).astype(np.int64), seed=1)
    assert 0.1 < prior.guess < 0.3
    assert prior.slip < 0.15
    again = StatePrior.from_dict(prior.to_dict())
    assert np.allclose(again.weights, prior.weights)
    config = prior.config()
    batch = PlacementBatch(graph, items, 1, config, prior)
    session = PlacementSession(graph, items, config, prior=prior)
    target = np.array([1, 1, 1, 1, 0, 0], dtype=bool)
    while not session.done():
        item = session.next_item()
        assert int(batch.next_items()[0]) == item
        right = bool(target[items[item]].all())
        session.answer(item, right)
        batch.answer(np.array([0]), np.array([item]), np.array([right]))
    assert np.allclose(batch.marginals()[0], session.marginals())
    assert np.array_equal(session.result().levels >= 3, target)
    resumed = PlacementSession(graph, items, config, answers=list(session.answers), prior=again)
    assert np.allclose(resumed.marginals(), session.marginals())
