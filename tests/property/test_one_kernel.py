"""One BKT kernel, one P(correct) and one forgetting curve for every path (issue 13): the fold
the pages read, the online model state, the EM's forward filter and the simulator's cell steps
give the same numbers for the same answers."""

from __future__ import annotations

import uuid
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.property.test_fold_props import START, _course_and_models
from zoped.domain.evidence import EvidenceEvent, EvidenceKind, EvidenceSource
from zoped.engine import _bkt_kernels as kernels
from zoped.engine.base import Interaction
from zoped.engine.fold import learning_graph, replay
from zoped.engine.memory import MemoryModel, MemoryParameters
from zoped.engine.memory_curves import CURVE_CODE, recall_cells, review_cells

TIGHT = 1e-12
POWER = CURVE_CODE["power"]


@given(st.lists(st.tuples(st.integers(0, 3), st.booleans()), min_size=1, max_size=30))
def test_the_fold_the_online_state_and_the_simulator_agree(answers) -> None:
    course, models = _course_and_models()
    graph = learning_graph(course)
    leaves = [cid for cid in graph.ids if course.items_for(cid)][:4]
    bkt = models.bkt
    skill = {str(s): k for k, s in enumerate(bkt.skill_ids.tolist())}
    events, state = [], bkt.new_state()
    theta = bkt.params.as_matrix()
    sim_p = kernels.online_prior(theta[:, kernels.PRIOR])[None, :].copy()
    for n, (which, right) in enumerate(answers):
        cid = leaves[which % len(leaves)]
        item = next(i for i in course.items_for(cid) if i.competencies == (cid,))
        at = START + timedelta(minutes=n)
        events.append(
            EvidenceEvent(
                id=uuid.UUID(int=n + 1), learner_id="x", kind=EvidenceKind.ANSWER,
                occurred_at=at, recorded_at=at, source=EvidenceSource.WEB, item_id=item.id,
                competency_ids=(cid,), correct=right, score=float(right),
            )
        )  # fmt: skip
        bkt.update(state, Interaction(skills=(skill[cid],), correct=right))
        mask = np.zeros_like(sim_p, dtype=np.bool_)
        mask[0, skill[cid]] = True
        kernels.step_cells(sim_p, 1.0 - sim_p, mask, np.array([right]), theta)
    fold = replay(course, models, {"x": events})
    p_correct = fold.p_correct()[0]
    for code, cid in enumerate(graph.ids):
        k = skill[cid]
        online = bkt.p_known(state)[cid]
        assert fold.known[0, code] == pytest.approx(online, abs=TIGHT)
        assert sim_p[0, k] == pytest.approx(online, abs=TIGHT)
        predicted = bkt.predict_one(state, Interaction(skills=(k,), correct=True))
        assert p_correct[code] == pytest.approx(predicted, abs=TIGHT)


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.booleans(), st.floats(0.0, 30 * 86_400.0)),
        min_size=1,
        max_size=25,
    )
)
def test_the_simulator_remembers_as_the_memory_model(reviews) -> None:
    """The simulator's cell-wise memory (review_cells, recall_cells) and the platform's
    MemoryModel give the same stability and recall for the same reviews."""
    model = MemoryModel(MemoryParameters())
    state = model.new_state()
    n_skills = 3
    stability = np.zeros((1, n_skills))
    last = np.zeros((1, n_skills))
    seen = np.zeros((1, n_skills), dtype=np.bool_)
    params = MemoryParameters().as_array()
    now = 1_000_000.0
    for skill, right, gap in reviews:
        now += gap
        answered = np.zeros((1, n_skills), dtype=np.bool_)
        answered[0, skill] = True
        model.update(state, Interaction(skills=(skill,), correct=right, timestamp_s=now))
        review_cells(stability, last, seen, answered, np.array([right]), now, params, POWER)
    later = now + 3 * 86_400.0
    recall = recall_cells(stability, last, seen, later, POWER)
    for k in range(n_skills):
        assert recall[0, k] == pytest.approx(model.retrievability(state, k, later), abs=TIGHT)
        if k in state.skills:
            assert stability[0, k] == pytest.approx(state.skills[k].stability_days, abs=TIGHT)
