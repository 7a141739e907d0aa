"""Elo rating for learners and items, with an optional ability per skill (Pelánek 2016).

``P(correct) = sigmoid(theta + mean(theta_skill over the item's skills) - d)``, where ``theta``
is the learner's global ability, ``theta_skill`` the per-skill offsets (only with
``per_skill=True``) and ``d`` the difficulty of the item (or, for an item never seen in training
or a log without items, the mean difficulty of the row's skills).

After each response every rating moves by ``K(n) * (correct - P)``, with the uncertainty function
``K(n) = alpha / (1 + beta * n)``, ``n`` being how often that rating has moved already: new
learners and items move fast, well-known ones slowly.

``fit`` runs this over the training log (learners' abilities restart at 0 each epoch; the item
and skill difficulties carry on). Afterwards difficulties are frozen: ``predict_proba`` and
``update`` only move the learner's abilities, from that learner's own earlier responses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np

from zoped.engine._features import (
    check_log,
    jit,
    load_params,
    require_fitted,
    save_params,
    validate_hyper,
)
from zoped.engine.base import FloatArray, IntArray, Interaction, InteractionLog
from zoped.errors import InvalidInput, Problem


@jit
def _row_difficulty(
    item: int,
    skills: Any,
    item_difficulty: Any,
    item_seen: Any,
    skill_difficulty: Any,
    use_items: bool,
) -> float:
    """The item's difficulty, or the mean of its skills' when the item is unknown."""
    if use_items and item >= 0 and item_seen[item]:
        return float(item_difficulty[item])
    d = 0.0
    for s in skills:
        d += skill_difficulty[s]
    return d / max(len(skills), 1)


@jit
def _learner_logit(ability: Any, skills: Any, per_skill: bool) -> float:
    """Global ability plus the mean of the item's skill offsets (index 0 is global)."""
    z = ability[0]
    if per_skill and len(skills) > 0:
        m = 0.0
        for s in skills:
            m += ability[1 + s]
        z += m / len(skills)
    return float(z)


@jit
def _learner_step(
    ability: Any,
    counts: Any,
    skills: Any,
    error: float,
    alpha: float,
    beta: float,
    per_skill: bool,
) -> None:
    """Move the learner's abilities by K(n) * error, in place."""
    ability[0] += alpha / (1.0 + beta * counts[0]) * error
    counts[0] += 1
    if per_skill:
        for s in skills:
            ability[1 + s] += alpha / (1.0 + beta * counts[1 + s]) * error
            counts[1 + s] += 1


@jit
def _sigmoid(z: float) -> float:
    return float(0.5 * (1.0 + np.tanh(0.5 * z)))


@jit
def _replay(
    learner: Any,
    item: Any,
    skill_ptr: Any,
    skill_idx: Any,
    correct: Any,
    n_skills: int,
    item_difficulty: Any,
    item_seen: Any,
    skill_difficulty: Any,
    item_counts: Any,
    skill_counts: Any,
    use_items: bool,
    per_skill: bool,
    alpha: float,
    beta: float,
    learn_difficulty: bool,
) -> Any:
    """One pass over a log in row order; returns P(correct) per row (before its update).

    With ``learn_difficulty`` the item and skill difficulties move too (the fitting pass).
    """
    n = learner.shape[0]
    out = np.empty(n)
    ability = np.zeros(n_skills + 1)
    counts = np.zeros(n_skills + 1, dtype=np.int64)
    prev = -1
    for r in range(n):
        if learner[r] != prev:
            ability[:] = 0.0
            counts[:] = 0
            prev = learner[r]
        skills = skill_idx[skill_ptr[r] : skill_ptr[r + 1]]
        d = _row_difficulty(
            item[r], skills, item_difficulty, item_seen, skill_difficulty, use_items
        )
        p = _sigmoid(_learner_logit(ability, skills, per_skill) - d)
        out[r] = p
        error = correct[r] - p
        _learner_step(ability, counts, skills, error, alpha, beta, per_skill)
        if learn_difficulty:
            i = item[r]
            if use_items and i >= 0:
                item_difficulty[i] -= alpha / (1.0 + beta * item_counts[i]) * error
                item_counts[i] += 1
                item_seen[i] = True
            for s in skills:
                skill_difficulty[s] -= alpha / (1.0 + beta * skill_counts[s]) * error
                skill_counts[s] += 1
    return out


@dataclass
class EloState:
    """One learner's abilities (index 0 global, 1 + s per skill) and how often each moved."""

    ability: FloatArray
    counts: IntArray


class Elo:
    """Elo learner/item ratings with an uncertainty-function learning rate."""

    name: str = "elo"

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        beta: float = 0.05,
        per_skill: bool = False,
        use_items: bool = True,
        n_epochs: int = 1,
        seed: int = 0,
    ) -> None:
        """Set hyperparameters.

        Args:
            alpha: the learning rate of a rating that never moved.
            beta: how fast the rate shrinks with the number of moves.
            per_skill: add a per-skill ability offset to the global ability.
            use_items: rate items (when the log has them); else only skills.
            n_epochs: passes over the training log when fitting difficulties.
            seed: unused (the fit is deterministic); kept for the common interface.
        """
        validate_hyper(
            [],
            {
                "alpha": (alpha > 0, "must be > 0"),
                "beta": (beta >= 0, "must be >= 0"),
                "n_epochs": (n_epochs >= 1, "must be >= 1"),
            },
        )
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.per_skill = per_skill
        self.use_items = use_items
        self.n_epochs = n_epochs
        self.seed = seed
        self.item_difficulty_: FloatArray | None = None
        self.item_seen_: np.ndarray[Any, np.dtype[np.bool_]] = np.zeros(0, dtype=bool)
        self.skill_difficulty_: FloatArray = np.zeros(0)
        self.use_items_ = False

    def fit(self, log: InteractionLog) -> Self:
        """Learn item and skill difficulties by running Elo over the training log."""
        check_log(log)
        self.use_items_ = self.use_items and bool(np.any(log.item >= 0))
        n_items = log.n_items if self.use_items_ else 0
        self.item_difficulty_ = np.zeros(n_items)
        self.item_seen_ = np.zeros(n_items, dtype=bool)
        self.skill_difficulty_ = np.zeros(log.n_skills)
        item_counts = np.zeros(n_items, dtype=np.int64)
        skill_counts = np.zeros(log.n_skills, dtype=np.int64)
        for _ in range(self.n_epochs):
            _replay(
                *self._log_args(log),
                log.n_skills,
                self.item_difficulty_,
                self.item_seen_,
                self.skill_difficulty_,
                item_counts,
                skill_counts,
                self.use_items_,
                self.per_skill,
                self.alpha,
                self.beta,
                True,
            )
        return self

    @staticmethod
    def _log_args(log: InteractionLog) -> tuple[IntArray, IntArray, IntArray, IntArray, FloatArray]:
        return (
            log.learner,
            log.item,
            log.skill_ptr,
            log.skill_idx,
            log.correct.astype(np.float64),
        )

    def _fitted(self) -> FloatArray:
        require_fitted(self.item_difficulty_ is not None, self.name)
        assert self.item_difficulty_ is not None
        return self.item_difficulty_

    def predict_proba(self, log: InteractionLog) -> FloatArray:
        """P(correct) per row; abilities learned online, difficulties frozen."""
        item_difficulty = self._fitted()
        check_log(log)
        self._check_vocab(log.n_skills, log.n_items)
        n_skills = self.skill_difficulty_.shape[0]
        out: FloatArray = _replay(
            *self._log_args(log),
            n_skills,
            item_difficulty,
            self.item_seen_,
            self.skill_difficulty_,
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            self.use_items_,
            self.per_skill,
            self.alpha,
            self.beta,
            False,
        )
        return out

    def _check_vocab(self, n_skills: int, n_items: int) -> None:
        problems = []
        if n_skills > self.skill_difficulty_.shape[0]:
            problems.append(Problem("skill_ids", "more skills than the model was fitted on"))
        if self.use_items_ and n_items > self._fitted().shape[0]:
            problems.append(Problem("item_ids", "more items than the model was fitted on"))
        if problems:
            raise InvalidInput("log does not match the fitted model", problems)

    def new_state(self) -> EloState:
        """A learner with no responses: every ability 0."""
        n = self.skill_difficulty_.shape[0] + 1
        self._fitted()
        return EloState(ability=np.zeros(n), counts=np.zeros(n, dtype=np.int64))

    def _event_arrays(self, event: Interaction) -> tuple[IntArray, float]:
        skills = np.asarray(event.skills, dtype=np.int64)
        d = _row_difficulty(
            event.item,
            skills,
            self._fitted(),
            self.item_seen_,
            self.skill_difficulty_,
            self.use_items_,
        )
        return skills, d

    def predict_one(self, state: EloState, event: Interaction) -> float:
        """P(correct) of ``event`` for this learner; the state is not changed."""
        skills, d = self._event_arrays(event)
        return float(_sigmoid(_learner_logit(state.ability, skills, self.per_skill) - d))

    def update(self, state: EloState, event: Interaction) -> EloState:
        """Move the learner's abilities after ``event`` (in place); O(skills of the item)."""
        p = self.predict_one(state, event)
        skills, _ = self._event_arrays(event)
        error = float(event.correct) - p
        _learner_step(
            state.ability, state.counts, skills, error, self.alpha, self.beta, self.per_skill
        )
        return state

    def save(self, path: Path) -> None:
        """Write hyperparameters and difficulties to an npz file."""
        item_difficulty = self._fitted()
        config = {
            "alpha": self.alpha,
            "beta": self.beta,
            "per_skill": self.per_skill,
            "use_items": self.use_items,
            "n_epochs": self.n_epochs,
            "seed": self.seed,
        }
        arrays = {
            "item_difficulty": item_difficulty,
            "item_seen": self.item_seen_,
            "skill_difficulty": self.skill_difficulty_,
            "use_items_fitted": np.array(self.use_items_),
        }
        save_params(path, self.name, config, arrays)

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`."""
        config, arrays = load_params(path, cls.name)
        model = cls(**config)
        model.item_difficulty_ = np.asarray(arrays["item_difficulty"], dtype=np.float64)
        model.item_seen_ = np.asarray(arrays["item_seen"], dtype=bool)
        model.skill_difficulty_ = np.asarray(arrays["skill_difficulty"], dtype=np.float64)
        model.use_items_ = bool(arrays["use_items_fitted"])
        return model
