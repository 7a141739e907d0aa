"""Invariants of unlocking and menus over random graphs and learner states."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from zoped.domain.content import Activity, Modality
from zoped.domain.framework import Competency
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import MasteryLevel, at_least_proficient
from zoped.engine.recommend import LearnerSnapshot, recommend_next

MODALITIES = list(Modality)


@st.composite
def worlds(draw: st.DrawFn) -> tuple[CompetencyGraph, list[Activity], LearnerSnapshot, int]:
    n = draw(st.integers(1, 7))
    comps = []
    for i in range(n):
        pre = draw(st.sets(st.integers(0, i - 1), max_size=2)) if i else set()
        comps.append(Competency(f"c{i}", f"C{i}", prerequisites=tuple(f"c{j}" for j in pre)))
    graph = CompetencyGraph.from_competencies(comps)
    acts = []
    for a in range(draw(st.integers(1, 10))):
        cs = draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=2))
        acts.append(
            Activity(
                f"a{a}",
                f"A{a}",
                draw(st.sampled_from(MODALITIES)),
                tuple(f"c{c}" for c in sorted(cs)),
                10,
                body="x",
            )
        )
    levels = np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    p = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    # Prerequisites under re-check (as the tracker reports them): never mastered, level <= 2.
    doubted = draw(st.sets(st.integers(0, n - 1), max_size=2))
    rechecks = {}
    for c in doubted:
        levels[c] = min(int(levels[c]), int(MasteryLevel.FAMILIAR))
        rechecks[c] = (draw(st.integers(0, n - 1)), 3, 4, 86_400.0)
    learner = LearnerSnapshot(levels=levels, p_known=p, p_correct=p, rechecks=rechecks)
    return graph, acts, learner, draw(st.integers(0, 2**16))


@given(worlds())
def test_menu_never_locked_never_mastered_not_due_always_reasoned(world) -> None:
    graph, acts, learner, seed = world
    decision = recommend_next(graph, acts, learner, seed=seed)
    unlocked = graph.unlocked(at_least_proficient(learner.levels))
    by_id = {a.id: a for a in acts}
    assert len(decision.options) <= 4
    for option in decision.options:
        codes = [graph.code(c) for c in by_id[option.activity_id].competencies]
        assert all(unlocked[c] for c in codes)
        targets = [graph.code(c) for c in option.competencies]
        assert all(learner.levels[c] != MasteryLevel.MASTERED for c in targets)
        assert option.reason.strip()
    again = recommend_next(graph, acts, learner, seed=seed)
    assert again.to_dict() == decision.to_dict()


@given(worlds())
def test_unlocking_follows_the_graph(world) -> None:
    graph, _, learner, _ = world
    met = at_least_proficient(learner.levels)
    unlocked = graph.unlocked(met)
    for c in range(graph.n):
        assert unlocked[c] == all(met[p] for p in graph.prerequisites_of(c))
