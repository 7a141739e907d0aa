"""The course as the simulator sees it: practicable competencies, items as masks, a clock.

Grouping competencies that no item assesses cannot be practised, so they are dropped and the
prerequisite edges through them are contracted (a competency needing a group needs what the
group needed). Items keep their multi-skill masks over the remaining competencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from zoped.domain.content import Item
from zoped.domain.framework import Competency
from zoped.engine.base import InteractionLog
from zoped.engine.graph import BoolArray, CompetencyGraph
from zoped.errors import InvalidInput, Problem

DAY_S = 86_400.0
# One step of answers: (learner codes, item codes, correct, time in seconds).
AnswerStep = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_], float]


@dataclass(frozen=True)
class _Node:
    id: str
    title: str
    prerequisites: tuple[str, ...]


@dataclass(frozen=True)
class SimCourse:
    """Competencies, items and the practice clock of a simulated course.

    Attributes:
        graph: the practicable competencies and their (contracted) prerequisites.
        item_ids: item id per item code.
        item_skills: ``(items, competencies)`` mask.
        item_difficulty: in [0, 1], 0.5 where the author gave none.
        practice_items: per competency, the items to practise it: those that assess it and
            otherwise only its ancestors (so a multi-skill item comes once its parts are due).
        items_per_day: practice items a learner does per school day.
        item_gap_s: seconds between two items of one session.
    """

    graph: CompetencyGraph
    item_ids: tuple[str, ...]
    item_skills: BoolArray
    item_difficulty: NDArray[np.float64]
    practice_items: tuple[NDArray[np.int64], ...]
    items_per_day: int = 15
    item_gap_s: float = 60.0

    @classmethod
    def build(
        cls,
        competencies: Sequence[Competency],
        items: Sequence[Item],
        *,
        items_per_day: int = 15,
    ) -> SimCourse:
        """Build from domain objects.

        Raises:
            InvalidInput: no item assesses any competency, or the graph is invalid.
        """
        assessed = {c for item in items for c in item.competencies}
        by_id = {c.id: c for c in competencies}

        def practicable_prereqs(cid: str, seen: frozenset[str]) -> set[str]:
            out: set[str] = set()
            for p in by_id[cid].prerequisites if cid in by_id else ():
                if p in seen:
                    continue
                if p in assessed:
                    out.add(p)
                else:
                    out |= practicable_prereqs(p, seen | {p})
            return out

        nodes = [
            _Node(c.id, c.title, tuple(sorted(practicable_prereqs(c.id, frozenset({c.id})))))
            for c in competencies
            if c.id in assessed
        ]
        if not nodes:
            raise InvalidInput("nothing to simulate", [Problem("items", "assess no competency")])
        graph = CompetencyGraph.from_competencies(nodes)
        mask = np.zeros((len(items), graph.n), dtype=np.bool_)
        for i, item in enumerate(items):
            for c in item.competencies:
                if c in graph.ids:
                    mask[i, graph.code(c)] = True
        difficulty = np.array(
            [0.5 if it.difficulty is None else float(it.difficulty) for it in items]
        )
        practice: list[NDArray[np.int64]] = []
        for code in range(graph.n):
            allowed = graph.ancestors[code].copy()
            allowed[code] = True
            ok = mask[:, code] & ~(mask & ~allowed).any(axis=1)
            # Fall back to any item that assesses it, so every competency can be practised.
            practice.append(np.flatnonzero(ok if ok.any() else mask[:, code]).astype(np.int64))
        return cls(
            graph=graph,
            item_ids=tuple(it.id for it in items),
            item_skills=mask,
            item_difficulty=difficulty,
            practice_items=tuple(practice),
            items_per_day=items_per_day,
        )

    def time_of(self, step: int) -> float:
        """Seconds since the start at practice step ``step`` (school days of items_per_day)."""
        day, k = divmod(step, self.items_per_day)
        return day * DAY_S + k * self.item_gap_s

    def pick_items(
        self, competency: NDArray[np.int64], rng: np.random.Generator
    ) -> NDArray[np.int64]:
        """One practice item per learner for the chosen competency, uniformly at random."""
        out = np.empty(competency.shape[0], dtype=np.int64)
        u = np.asarray(rng.random(competency.shape[0]), dtype=np.float64)
        for c in np.unique(competency):
            rows = competency == c
            pool = self.practice_items[int(c)]
            out[rows] = pool[np.minimum((u[rows] * pool.size).astype(np.int64), pool.size - 1)]
        return out

    def interaction_log(self, n_learners: int, steps: Sequence[AnswerStep]) -> InteractionLog:
        """Columnar log of answer steps, by learner then time, each item's competencies as skills.

        What zoped's models are fitted on: the answers only, never the hidden state.
        """
        learner = np.concatenate([s[0] for s in steps])
        item = np.concatenate([s[1] for s in steps])
        correct = np.concatenate([s[2] for s in steps]).astype(np.int8)
        time_s = np.concatenate([np.full(s[0].size, s[3]) for s in steps])
        order = np.lexsort((time_s, learner))
        learner, item, correct, time_s = learner[order], item[order], correct[order], time_s[order]
        mask = self.item_skills[item]
        ptr = np.zeros(item.size + 1, dtype=np.int64)
        np.cumsum(mask.sum(axis=1), out=ptr[1:])
        return InteractionLog(
            learner=learner.astype(np.int64),
            item=item.astype(np.int64),
            skill_ptr=ptr,
            skill_idx=np.nonzero(mask)[1].astype(np.int64),
            correct=correct,
            order=time_s,
            learner_ids=np.arange(n_learners),
            skill_ids=np.array(self.graph.ids, dtype=object),
            item_ids=np.array(self.item_ids, dtype=object),
            timestamp_s=time_s,
        )
