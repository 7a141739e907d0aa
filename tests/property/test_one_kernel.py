"""One BKT kernel and one P(correct) for every path (issue 13): the fold the pages read, the
online model state, the EM's forward filter and the simulator's cell step give the same
numbers for the same answers."""

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

TIGHT = 1e-12


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
