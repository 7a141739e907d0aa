"""Item response theory: the 1PL (Rasch) and 2PL models, with online ability estimation.

``P(correct) = sigmoid(a_i * (theta - b_i))``; the 1PL fixes every discrimination ``a_i`` to 1.

**Fit** (items): marginal maximum likelihood over the training learners, their abilities
integrated out under a standard normal prior with Gauss-Hermite quadrature, optimised with
L-BFGS on the exact gradient. Optional normal priors on ``b`` and ``log a`` regularise items seen
a few times only. A log without items gets one difficulty per skill; a row with several skills
uses the mean of its skills' parameters. An item absent from training falls back to the mean,
over its skills, of the average fitted difficulty of the training responses on each skill.

**Online** (learners): the ability posterior is kept Gaussian and updated per response by one
Newton (Laplace) step from the prior, as in Glickman's and TrueSkill's filters; predictions
integrate over its uncertainty with the probit approximation. With ``per_skill=True`` the
learner's ability on a row is ``theta + mean(theta_skill)``, every part with its own Gaussian
(diagonal covariance), so evidence on one skill moves that skill most.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from scipy.special import logsumexp

from zoped.engine._features import (
    check_log,
    jit,
    load_params,
    require_fitted,
    save_params,
    sigmoid,
    unit_matrix,
    validate_hyper,
)
from zoped.engine.base import FloatArray, IntArray, Interaction, InteractionLog
from zoped.errors import DidNotConverge, InvalidInput, Problem


@jit
def _row_params(
    item: int, skills: Any, b_unit: Any, a_unit: Any, b_skill: Any, seen: Any, use_items: bool
) -> tuple[float, float]:
    """(difficulty, discrimination) of a row: its item's, else the mean over its skills."""
    if use_items and item >= 0 and seen[item]:
        return b_unit[item], a_unit[item]
    b = 0.0
    a = 0.0
    k = len(skills)
    for s in skills:
        b += b_skill[s]
        a += 1.0 if use_items else a_unit[s]
    if k == 0:
        return 0.0, 1.0
    return b / k, a / k


@jit
def _predict(mean: Any, var: Any, skills: Any, b: float, a: float, per_skill: bool) -> float:
    """P(correct) integrated over the Gaussian ability (probit approximation)."""
    mu = mean[0]
    s2 = var[0]
    k = len(skills)
    if per_skill and k > 0:
        for s in skills:
            mu += mean[1 + s] / k
            s2 += var[1 + s] / (k * k)
    z = a * (mu - b) / math.sqrt(1.0 + math.pi * a * a * s2 / 8.0)
    return 0.5 * (1.0 + math.tanh(0.5 * z))


@jit
def _step(mean: Any, var: Any, skills: Any, b: float, a: float, y: float, per_skill: bool) -> float:
    """One Laplace step of the Gaussian ability posterior after a response, in place.

    The row's ability is ``c . theta`` (c = 1 for the global part, 1/k per skill). With the
    gradient ``g = a (y - p)`` and curvature ``h = a^2 p (1 - p)`` of the log-likelihood, the
    rank-one (Sherman-Morrison) Newton step moves each part by ``c v g / (1 + h S)``, where ``S``
    is the variance of ``c . theta``; the diagonal of the new covariance shrinks by
    ``h c^2 v^2 / (1 + h S)``. Returns the prediction made before the step.
    """
    p = _predict(mean, var, skills, b, a, per_skill)
    k = len(skills)
    s2 = var[0]
    if per_skill and k > 0:
        for s in skills:
            s2 += var[1 + s] / (k * k)
    g = a * (y - p)
    h = a * a * p * (1.0 - p)
    denom = 1.0 + h * s2
    v0 = var[0]
    mean[0] += v0 * g / denom
    var[0] = v0 - h * v0 * v0 / denom
    if per_skill and k > 0:
        for s in skills:
            v = var[1 + s]
            mean[1 + s] += v / k * g / denom
            var[1 + s] = v - h * v * v / (k * k) / denom
    return p


@jit
def _replay(
    learner: Any,
    item: Any,
    skill_ptr: Any,
    skill_idx: Any,
    correct: Any,
    n_skills: int,
    b_unit: Any,
    a_unit: Any,
    b_skill: Any,
    seen: Any,
    use_items: bool,
    per_skill: bool,
    prior_var: float,
    skill_prior_var: float,
) -> Any:
    """P(correct) per row, each learner's ability filtered from their earlier rows only."""
    n = learner.shape[0]
    out = np.empty(n)
    mean = np.zeros(n_skills + 1)
    var = np.empty(n_skills + 1)
    prev = -1
    for r in range(n):
        if learner[r] != prev:
            mean[:] = 0.0
            var[:] = skill_prior_var
            var[0] = prior_var
            prev = learner[r]
        skills = skill_idx[skill_ptr[r] : skill_ptr[r + 1]]
        b, a = _row_params(item[r], skills, b_unit, a_unit, b_skill, seen, use_items)
        out[r] = _step(mean, var, skills, b, a, correct[r], per_skill)
    return out


@dataclass
class IRTState:
    """A learner's Gaussian ability: index 0 global, ``1 + s`` the offset on skill ``s``."""

    mean: FloatArray
    var: FloatArray


class _IRT:
    """Shared 1PL / 2PL machinery; ``_two_pl`` picks the model."""

    name: str = ""
    _two_pl: ClassVar[bool] = False

    def __init__(
        self,
        *,
        per_skill: bool = False,
        use_items: bool = True,
        prior_sd_difficulty: float = 2.0,
        prior_sd_log_discrimination: float = 0.5,
        ability_sd: float = 1.0,
        skill_ability_sd: float = 0.5,
        n_quadrature: int = 21,
        max_iter: int = 500,
        seed: int = 0,
    ) -> None:
        """Set hyperparameters.

        Args:
            per_skill: give each learner a per-skill offset besides the global ability.
            use_items: one difficulty per item when the log has items (else per skill).
            prior_sd_difficulty: sd of the normal prior on difficulties (MAP on items).
            prior_sd_log_discrimination: sd of the prior on log discrimination (2PL only).
            ability_sd: sd of the global ability prior online (the fit's scale is N(0, 1)).
            skill_ability_sd: prior sd of each per-skill offset online.
            n_quadrature: Gauss-Hermite nodes for the marginal likelihood.
            max_iter: L-BFGS iteration cap.
            seed: unused (the fit is deterministic); kept for the common interface.
        """
        validate_hyper(
            [],
            {
                "prior_sd_difficulty": (prior_sd_difficulty > 0, "must be > 0"),
                "prior_sd_log_discrimination": (prior_sd_log_discrimination > 0, "must be > 0"),
                "ability_sd": (ability_sd > 0, "must be > 0"),
                "skill_ability_sd": (skill_ability_sd > 0, "must be > 0"),
                "n_quadrature": (n_quadrature >= 5, "must be >= 5"),
                "max_iter": (max_iter > 0, "must be > 0"),
            },
        )
        self.per_skill = per_skill
        self.use_items = use_items
        self.prior_sd_difficulty = float(prior_sd_difficulty)
        self.prior_sd_log_discrimination = float(prior_sd_log_discrimination)
        self.ability_sd = float(ability_sd)
        self.skill_ability_sd = float(skill_ability_sd)
        self.n_quadrature = n_quadrature
        self.max_iter = max_iter
        self.seed = seed
        self.difficulty_: FloatArray | None = None
        self.discrimination_: FloatArray = np.zeros(0)
        self.skill_difficulty_: FloatArray = np.zeros(0)
        self.seen_: np.ndarray[Any, np.dtype[np.bool_]] = np.zeros(0, dtype=bool)
        self.use_items_ = False
        self.converged_ = False

    # -------------------------------------------------------------------- fit

    def fit(self, log: InteractionLog) -> Self:
        """Fit item (or skill) parameters by regularised marginal maximum likelihood."""
        check_log(log)
        self.use_items_ = self.use_items and bool(np.all(log.item >= 0)) and len(log) > 0
        n_units = log.n_items if self.use_items_ else log.n_skills
        m = unit_matrix(log, self.use_items_, n_units)
        mt = m.T.tocsr()
        n = len(log)
        # Learner indicator (learners x rows) sums a row quantity per learner.
        lmat = sp.csr_matrix((np.ones(n), (log.learner, np.arange(n))), shape=(log.n_learners, n))
        lrow = log.learner
        nodes, weights = np.polynomial.hermite_e.hermegauss(self.n_quadrature)
        log_w = np.log(weights / weights.sum())
        y = log.correct.astype(np.float64)[:, None]
        var_b = self.prior_sd_difficulty**2
        var_la = self.prior_sd_log_discrimination**2
        two_pl = self._two_pl

        def loss(theta: FloatArray) -> tuple[float, FloatArray]:
            b = theta[:n_units]
            log_a = theta[n_units:] if two_pl else np.zeros(n_units)
            a_unit = np.exp(log_a)
            b_r = m @ b
            a_r = m @ a_unit
            z = a_r[:, None] * (nodes[None, :] - b_r[:, None])
            ll = y * z - np.logaddexp(0.0, z)
            joint = np.asarray(lmat @ ll) + log_w[None, :]
            marginal = logsumexp(joint, axis=1)
            post = np.exp(joint - marginal[:, None])
            resid = post[lrow] * (y - sigmoid(z))
            nll = -float(marginal.sum()) + float(b @ b) / (2 * var_b)
            grad_b = mt @ (a_r * resid.sum(axis=1)) + b / var_b
            if not two_pl:
                return nll / n, grad_b / n
            grad_a_r = -(resid * (nodes[None, :] - b_r[:, None])).sum(axis=1)
            nll += float(log_a @ log_a) / (2 * var_la)
            grad_la = (mt @ grad_a_r) * a_unit + log_a / var_la
            return nll / n, np.concatenate([grad_b, grad_la]) / n

        theta0 = np.zeros(n_units * (2 if two_pl else 1))
        res = scipy.optimize.minimize(
            loss, theta0, jac=True, method="L-BFGS-B", options={"maxiter": self.max_iter}
        )
        if not np.all(np.isfinite(res.x)):
            raise DidNotConverge(f"{self.name}: L-BFGS produced non-finite parameters")
        self.converged_ = bool(res.success)
        self.difficulty_ = np.asarray(res.x[:n_units], dtype=np.float64)
        self.discrimination_ = np.exp(res.x[n_units:]) if two_pl else np.ones(n_units)
        self.seen_ = (
            np.asarray(mt.getnnz(axis=1) > 0) if self.use_items_ else np.ones(n_units, bool)
        )
        self.skill_difficulty_ = self._skill_fallback(log, m)
        return self

    def _skill_fallback(self, log: InteractionLog, m: sp.csr_matrix) -> FloatArray:
        """Per skill, the mean fitted difficulty of the rows' units (over training rows)."""
        assert self.difficulty_ is not None
        if not self.use_items_:
            return self.difficulty_.copy()
        b_row = m @ self.difficulty_
        counts = log.n_skills_per_row
        pair_b = np.repeat(b_row, counts)
        total = np.bincount(log.skill_idx, weights=pair_b, minlength=log.n_skills)
        n = np.bincount(log.skill_idx, minlength=log.n_skills)
        return np.where(n > 0, total / np.maximum(n, 1), 0.0)

    # ------------------------------------------------------------------ predict

    def _fitted(self) -> FloatArray:
        require_fitted(self.difficulty_ is not None, self.name)
        assert self.difficulty_ is not None
        return self.difficulty_

    def predict_proba(self, log: InteractionLog) -> FloatArray:
        """P(correct) per row; each learner's ability filtered from their earlier rows."""
        b = self._fitted()
        check_log(log)
        problems = []
        if log.n_skills > self.skill_difficulty_.shape[0]:
            problems.append(Problem("skill_ids", "more skills than the model was fitted on"))
        if self.use_items_ and log.n_items > b.shape[0]:
            problems.append(Problem("item_ids", "more items than the model was fitted on"))
        if problems:
            raise InvalidInput("log does not match the fitted model", problems)
        out: FloatArray = _replay(
            log.learner,
            log.item,
            log.skill_ptr,
            log.skill_idx,
            log.correct.astype(np.float64),
            self.skill_difficulty_.shape[0],
            b,
            self.discrimination_,
            self.skill_difficulty_,
            self.seen_,
            self.use_items_,
            self.per_skill,
            self.ability_sd**2,
            self.skill_ability_sd**2,
        )
        return out

    def new_state(self) -> IRTState:
        """A learner before any response: the prior."""
        self._fitted()
        n = self.skill_difficulty_.shape[0] + 1
        var = np.full(n, self.skill_ability_sd**2)
        var[0] = self.ability_sd**2
        return IRTState(mean=np.zeros(n), var=var)

    def _event_params(self, event: Interaction) -> tuple[IntArray, float, float]:
        skills = np.asarray(event.skills, dtype=np.int64)
        b, a = _row_params(
            event.item,
            skills,
            self._fitted(),
            self.discrimination_,
            self.skill_difficulty_,
            self.seen_,
            self.use_items_,
        )
        return skills, b, a

    def predict_one(self, state: IRTState, event: Interaction) -> float:
        """P(correct) of ``event`` for this learner; the state is not changed."""
        skills, b, a = self._event_params(event)
        return float(_predict(state.mean, state.var, skills, b, a, self.per_skill))

    def update(self, state: IRTState, event: Interaction) -> IRTState:
        """Update the ability posterior after ``event`` (in place); O(skills of the item)."""
        skills, b, a = self._event_params(event)
        _step(state.mean, state.var, skills, b, a, float(event.correct), self.per_skill)
        return state

    # ---------------------------------------------------------------- save/load

    def save(self, path: Path) -> None:
        """Write hyperparameters and item parameters to an npz file."""
        b = self._fitted()
        config = {
            "per_skill": self.per_skill,
            "use_items": self.use_items,
            "prior_sd_difficulty": self.prior_sd_difficulty,
            "prior_sd_log_discrimination": self.prior_sd_log_discrimination,
            "ability_sd": self.ability_sd,
            "skill_ability_sd": self.skill_ability_sd,
            "n_quadrature": self.n_quadrature,
            "max_iter": self.max_iter,
            "seed": self.seed,
        }
        arrays = {
            "difficulty": b,
            "discrimination": self.discrimination_,
            "skill_difficulty": self.skill_difficulty_,
            "seen": self.seen_,
            "fitted_flags": np.array([self.use_items_, self.converged_]),
        }
        save_params(path, self.name, config, arrays)

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`."""
        config, arrays = load_params(path, cls.name)
        model = cls(**config)
        model.difficulty_ = np.asarray(arrays["difficulty"], dtype=np.float64)
        model.discrimination_ = np.asarray(arrays["discrimination"], dtype=np.float64)
        model.skill_difficulty_ = np.asarray(arrays["skill_difficulty"], dtype=np.float64)
        model.seen_ = np.asarray(arrays["seen"], dtype=bool)
        flags = arrays["fitted_flags"]
        model.use_items_, model.converged_ = bool(flags[0]), bool(flags[1])
        return model


class IRT1PL(_IRT):
    """Rasch / 1PL: one difficulty per item, discrimination 1."""

    name: str = "irt"


class IRT2PL(_IRT):
    """2PL: a difficulty and a (positive) discrimination per item."""

    name: str = "irt2pl"
    _two_pl: ClassVar[bool] = True
