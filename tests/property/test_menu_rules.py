"""The menu's rules (docs/pathways.md), over random graphs, activities and learner states:
other options are other options; at most half reviews while new work is open; nothing below
the floor of predicted success unless nothing else is open; each reason words the numbers that
ranked its option."""

from __future__ import annotations

import re

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from zoped.domain.content import Activity, Modality
from zoped.domain.framework import Competency
from zoped.domain.words import chance_in_words
from zoped.engine.graph import CompetencyGraph
from zoped.engine.mastery import MasteryLevel
from zoped.engine.recommend import (
    SUCCESS_FLOOR,
    LearnerSnapshot,
    RecommendationDecision,
    RecommenderConfig,
    floor_filter,
    recommend_next,
)

World = tuple[CompetencyGraph, list[Activity], LearnerSnapshot, int, int]
CHANCE = re.compile(r"You would get these right (.+?): ")
RECALL = re.compile(r"now you would remember it (.+?)\. ")


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n = draw(st.integers(1, 6))
    comps = []
    for i in range(n):
        pre = draw(st.sets(st.integers(0, i - 1), max_size=2)) if i else set()
        comps.append(Competency(f"c{i}", f"C{i}", prerequisites=tuple(f"c{j}" for j in pre)))
    graph = CompetencyGraph.from_competencies(comps)
    acts = [
        Activity(
            f"a{a}",
            f"A{a}",
            draw(st.sampled_from(list(Modality))),
            tuple(
                f"c{c}"
                for c in sorted(draw(st.sets(st.integers(0, n - 1), min_size=1, max_size=2)))
            ),
            10,
            body="x",
        )
        for a in range(draw(st.integers(1, 14)))
    ]
    levels = np.array(draw(st.lists(st.integers(0, 5), min_size=n, max_size=n)))
    unit = st.floats(0, 1)
    learner = LearnerSnapshot(
        levels=levels,
        p_known=np.array(draw(st.lists(unit, min_size=n, max_size=n))),
        p_correct=np.array(draw(st.lists(unit, min_size=n, max_size=n))),
        retrievability=np.array(draw(st.lists(unit, min_size=n, max_size=n))),
    )
    return graph, acts, learner, draw(st.integers(2, 5)), draw(st.integers(0, 2**16))


def _eligible(decision: RecommendationDecision) -> list[str]:
    """The candidates the rules let onto a menu: those at or above the floor, or all."""
    above = [c.activity_id for c in decision.candidates if c.p_success >= SUCCESS_FLOOR]
    return above or [c.activity_id for c in decision.candidates]


@given(worlds(), st.integers(0, 50))
def test_other_options_are_other_options(world: World, page: int) -> None:
    graph, acts, learner, k, seed = world
    now = recommend_next(graph, acts, learner, k=k, seed=seed, page=page)
    after = recommend_next(graph, acts, learner, k=k, seed=seed, page=page + 1)
    assert now.page == page
    if len(_eligible(now)) > k:
        assert set(after.chosen) != set(now.chosen)
        assert len(now.chosen) >= 1


@given(worlds(), st.integers(0, 50))
def test_at_most_half_reviews_while_new_work_is_open(world: World, page: int) -> None:
    graph, acts, learner, k, seed = world
    decision = recommend_next(graph, acts, learner, k=k, seed=seed, page=page)
    review = {c.activity_id: "review" in c.sources for c in decision.candidates}
    eligible = _eligible(decision)
    on_menu = [review[a] for a in decision.chosen]
    assert len(on_menu) <= k
    assert set(decision.chosen) <= set(eligible)
    if any(not review[a] for a in eligible):
        assert sum(on_menu) <= len(on_menu) / 2
        if any(review[a] for a in eligible):
            assert any(on_menu), "a due review keeps a place on the menu"
    elif eligible:
        assert len(on_menu) == min(k, len(eligible))


@given(worlds())
def test_no_option_below_the_floor_unless_nothing_else_is_open(world: World) -> None:
    graph, acts, learner, k, seed = world
    decision = recommend_next(graph, acts, learner, k=k, seed=seed)
    if any(c.p_success >= SUCCESS_FLOOR for c in decision.candidates):
        assert all(o.p_success >= SUCCESS_FLOOR for o in decision.options)
    elif decision.candidates:
        assert decision.options, "below the floor is offered when nothing else is open"


@given(worlds(), st.sampled_from(["relative", "absolute"]))
def test_every_reason_words_the_numbers_that_ranked_it(world: World, scale: str) -> None:
    graph, acts, learner, k, seed = world
    config = RecommenderConfig(band_scale=scale)
    decision = recommend_next(graph, acts, learner, k=k, seed=seed, config=config)
    records = {c.activity_id: c for c in decision.candidates}
    by_id = {a.id: a for a in acts}
    for option in decision.options:
        record = records[option.activity_id]
        assert option.p_success == record.p_success
        assert option.score == record.score
        said = CHANCE.search(option.reason)
        assert said is not None, option.reason
        assert said.group(1) == chance_in_words(record.p_success)
        codes = [graph.code(c) for c in by_id[option.activity_id].competencies]
        placed = float(
            np.prod((learner.p_known if scale == "relative" else learner.p_correct)[codes])
        )
        in_band = config.band_low <= placed <= config.band_high
        assert ("a good challenge" in option.reason) == in_band
        assert (record.parts["difficulty"] == 1.0) == in_band
        above = placed > config.band_high
        knew = "you knew it well" in option.reason
        assert knew == (above and "review" in record.sources)
        assert ("you know most of it already" in option.reason) == (above and not knew)
        assert ("still new to you" in option.reason) == (placed < config.band_low)
        if "review" in record.sources:
            recall = RECALL.search(option.reason)
            assert recall is not None, option.reason
            due = [
                graph.code(c)
                for c in option.competencies
                if learner.levels[graph.code(c)] == MasteryLevel.REVIEW_DUE
            ]
            assert learner.retrievability is not None
            assert recall.group(1) == chance_in_words(float(learner.retrievability[due[0]]))
        assert "%" not in option.reason
        assert "P(" not in option.reason


@given(
    st.integers(1, 4).flatmap(
        lambda rows: st.integers(1, 6).flatmap(
            lambda cols: st.tuples(
                st.lists(st.floats(0, 1), min_size=rows * cols, max_size=rows * cols),
                st.lists(st.booleans(), min_size=rows * cols, max_size=rows * cols),
                st.just((rows, cols)),
            )
        )
    ),
    st.floats(0, 0.99),
)
def test_the_floor_keeps_what_reaches_it_or_everything(world, floor: float) -> None:
    """The rule the app's menu and the simulated learner share (engine.recommend.floor_filter)."""
    values, mask, shape = world
    p = np.array(values).reshape(shape)
    candidates = np.array(mask).reshape(shape)
    kept = floor_filter(p, candidates, floor)
    assert not (kept & ~candidates).any()
    for row in range(shape[0]):
        reaching = candidates[row] & (p[row] >= floor)
        expected = reaching if reaching.any() else candidates[row]
        assert (kept[row] == expected).all()
