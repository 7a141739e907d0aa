"""A simple, honest baseline: each skill's training success rate, personalised by the
learner's running success rate.

The prediction for a learner's response is a Beta-posterior mean: the skill's rate acts as a
prior worth ``prior_strength`` pseudo-responses, updated by the learner's own earlier
responses (all skills)::

    p = (prior_strength * rate(skills) + correct_so_far) / (prior_strength + answered_so_far)

``rate(skills)`` is the mean over the row's skills of each skill's training success rate,
shrunk toward the global rate by ``skill_smoothing`` pseudo-responses. With
``prior_strength=None`` the strength is chosen on the training log (the best log-loss over a
small grid). Multi-skill rows use every listed skill (the mean of their rates).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from zoped.engine.base import FloatArray, Interaction, InteractionLog
from zoped.errors import InvalidInput, NotFitted, Problem

_STRENGTH_GRID = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
_FORMAT = "zoped.skillrate/1"


@dataclass(frozen=True)
class SkillRateState:
    """One learner's running counts: responses answered and answered correctly."""

    answered: int = 0
    correct: int = 0


class SkillRate:
    """Per-skill success rate blended with the learner's running success rate."""

    name: ClassVar[str] = "skillrate"

    def __init__(
        self,
        *,
        prior_strength: float | None = None,
        skill_smoothing: float = 10.0,
        seed: int = 0,
    ) -> None:
        problems = []
        if prior_strength is not None and not prior_strength > 0:
            problems.append(Problem("prior_strength", "must be > 0 (or None to fit it)"))
        if not skill_smoothing >= 0:
            problems.append(Problem("skill_smoothing", "must be >= 0"))
        if problems:
            raise InvalidInput("bad SkillRate hyperparameters", problems)
        self.prior_strength = prior_strength
        self.skill_smoothing = skill_smoothing
        self.seed = seed  # unused: the fit is deterministic; kept for the common signature
        self.skill_rate_: FloatArray | None = None
        self.global_rate_: float = 0.5
        self.strength_: float = prior_strength if prior_strength is not None else 8.0

    def _row_rates(self, log: InteractionLog) -> FloatArray:
        rates = self._rates()
        known = log.skill_idx < rates.shape[0]
        values = np.where(known, rates[np.minimum(log.skill_idx, rates.shape[0] - 1)], np.nan)
        values = np.where(np.isnan(values), self.global_rate_, values)
        counts = log.n_skills_per_row
        rows = np.repeat(np.arange(len(log)), counts)
        sums = np.bincount(rows, weights=values, minlength=len(log))
        out: FloatArray = np.where(counts > 0, sums / np.maximum(counts, 1), self.global_rate_)
        return out

    def _rates(self) -> FloatArray:
        if self.skill_rate_ is None:
            raise NotFitted("SkillRate is not fitted: call fit or load first")
        return self.skill_rate_

    @staticmethod
    def _running_counts(log: InteractionLog) -> tuple[FloatArray, FloatArray]:
        """Each row's learner's earlier responses: (answered, correct), vectorised."""
        n = len(log)
        starts = np.searchsorted(log.learner, log.learner)  # first row of each row's learner
        answered = (np.arange(n) - starts).astype(np.float64)
        cum = np.concatenate([[0.0], np.cumsum(log.correct, dtype=np.float64)])
        correct = cum[:n] - cum[starts]
        return answered, correct

    def fit(self, log: InteractionLog) -> Self:
        """Estimate the skill rates (and the prior strength when not given) from ``log``."""
        if len(log) == 0:
            raise InvalidInput("cannot fit on an empty log")
        y = log.correct.astype(np.float64)
        self.global_rate_ = float(y.mean())
        rows = np.repeat(np.arange(len(log)), log.n_skills_per_row)
        n_skills = max(log.n_skills, int(log.skill_idx.max(initial=-1)) + 1)
        hits = np.bincount(log.skill_idx, weights=y[rows], minlength=n_skills)
        tries = np.bincount(log.skill_idx, minlength=n_skills).astype(np.float64)
        m = self.skill_smoothing
        self.skill_rate_ = (hits + m * self.global_rate_) / (tries + m)
        if self.prior_strength is None:
            base = self._row_rates(log)
            answered, correct = self._running_counts(log)
            losses = []
            for strength in _STRENGTH_GRID:
                p = np.clip((strength * base + correct) / (strength + answered), 1e-9, 1 - 1e-9)
                losses.append(-np.mean(y * np.log(p) + (1 - y) * np.log1p(-p)))
            self.strength_ = _STRENGTH_GRID[int(np.argmin(losses))]
        return self

    def predict_proba(self, log: InteractionLog) -> FloatArray:
        """P(correct) of each row from the learner's earlier rows in ``log`` and the rates."""
        base = self._row_rates(log)
        answered, correct = self._running_counts(log)
        out: FloatArray = (self.strength_ * base + correct) / (self.strength_ + answered)
        return out

    def new_state(self) -> SkillRateState:
        """A learner with no responses yet."""
        return SkillRateState()

    def predict_one(self, state: SkillRateState, event: Interaction) -> float:
        """P(correct) of ``event`` for a learner in ``state``."""
        rates = self._rates()
        if event.skills:
            vals = [
                float(rates[s]) if 0 <= s < rates.shape[0] else self.global_rate_
                for s in event.skills
            ]
            base = sum(vals) / len(vals)
        else:
            base = self.global_rate_
        return (self.strength_ * base + state.correct) / (self.strength_ + state.answered)

    def update(self, state: SkillRateState, event: Interaction) -> SkillRateState:
        """The state after ``event`` (a new object; ``state`` is unchanged)."""
        return SkillRateState(state.answered + 1, state.correct + int(bool(event.correct)))

    def save(self, path: Path) -> None:
        """Write the fitted parameters as JSON."""
        doc: dict[str, Any] = {
            "format": _FORMAT,
            "prior_strength": self.prior_strength,
            "skill_smoothing": self.skill_smoothing,
            "seed": self.seed,
            "strength": self.strength_,
            "global_rate": self.global_rate_,
            "skill_rate": self._rates().tolist(),
        }
        Path(path).write_text(json.dumps(doc), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read parameters written by :meth:`save`.

        Raises:
            InvalidInput: the file is not a saved SkillRate model.
        """
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise InvalidInput(
                "cannot read the model file", [Problem(str(path), str(error))]
            ) from error
        if not isinstance(doc, dict) or doc.get("format") != _FORMAT:
            raise InvalidInput("not a SkillRate model file", [Problem(str(path), "bad format")])
        model = cls(
            prior_strength=doc["prior_strength"],
            skill_smoothing=float(doc["skill_smoothing"]),
            seed=int(doc["seed"]),
        )
        model.strength_ = float(doc["strength"])
        model.global_rate_ = float(doc["global_rate"])
        model.skill_rate_ = np.asarray(doc["skill_rate"], dtype=np.float64)
        return model
