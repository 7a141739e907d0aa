"""Answers drawn from the BKT model itself: synthetic logs for tests and benchmarks."""

from __future__ import annotations

import numpy as np

from zoped.engine.base import InteractionLog
from zoped.engine.bkt import BKTParams


def simulate(
    params: BKTParams, n_learners: int, n_per_skill: int, rng: np.random.Generator
) -> InteractionLog:
    """Answers drawn from the BKT model itself, for tests and benchmarks.

    Each learner answers ``n_per_skill`` questions on every skill, one skill after the other
    (as in skill-builder problem sets). Skill ids are ``"s0", "s1", ...``.
    """
    n_skills = params.n_skills
    shape = (n_learners, n_skills)
    known = rng.random(shape) < params.prior
    answers = np.empty((n_learners, n_skills, n_per_skill), dtype=np.int8)
    for t in range(n_per_skill):
        p_correct = np.where(known, 1.0 - params.slip, params.guess)
        answers[:, :, t] = rng.random(shape) < p_correct
        learns = rng.random(shape) < params.learn
        forgets = rng.random(shape) < params.forget
        known = np.where(known, ~forgets, learns)
    n = n_learners * n_skills * n_per_skill
    per_learner = n_skills * n_per_skill
    return InteractionLog(
        learner=np.repeat(np.arange(n_learners, dtype=np.int64), per_learner),
        item=np.full(n, -1, dtype=np.int64),
        skill_ptr=np.arange(n + 1, dtype=np.int64),
        skill_idx=np.tile(np.repeat(np.arange(n_skills, dtype=np.int64), n_per_skill), n_learners),
        correct=answers.reshape(-1),
        order=np.tile(np.arange(per_learner, dtype=np.float64), n_learners),
        learner_ids=np.arange(n_learners),
        skill_ids=np.array([f"s{k}" for k in range(n_skills)]),
        item_ids=np.array([], dtype=np.int64),
    )
