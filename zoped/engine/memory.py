"""Memory: a forgetting curve per learner x skill, for predicting recall and scheduling reviews.

Each skill a learner has met carries a *stability* ``S`` (days) and the time of its last review.
Its *retrievability*, the probability of recalling it ``t`` days after that review, follows a
power forgetting curve (the curve of FSRS v4)::

    R(t, S) = (1 + t / (9 S)) ** -1          so R(S, S) = 0.9: S is the 90 % interval

We chose the power curve over half-life regression's exponential ``2 ** (-t / h)`` because our
parameters are global: pooled over learners whose memories decay at different rates, a mixture of
exponentials is itself a power law (Wixted & Ebbesen 1997), and on the timestamped KDD Cup data
the power curve has the higher held-out likelihood (``docs/memory.md``). The exponential curve
``R = 0.9 ** (t / S)`` (same meaning of ``S``) is kept as ``curve="exponential"`` for comparison.

A review updates stability (FSRS-style, without the per-item difficulty)::

    first review      S = s0_success  or  s0_fail              (s0_success >= s0_fail)
    success           S' = S * (1 + growth * S**-growth_decay * (exp(spacing * (1 - R)) - 1))
    failure (lapse)   S' = min(S, lapse_scale * S**lapse_exponent)

A success never lowers stability and grows it more when ``R`` was low (the spacing effect); a
lapse never raises it. P(correct) of a row is the weakest of its skills' predictions, where a
skill met before predicts ``p_floor + (1 - p_floor) * (1 - p_slip) * R`` and a new one
predicts ``p_new``. The slip keeps P below 1 even for a review seconds after the last one.

Time is always passed in as seconds; nothing here reads a clock. A log without timestamps falls
back to *row order as time*: the i-th row of a learner happens at ``i * order_step_s`` seconds
(the fitted parameters then describe forgetting per row, not per day), and the model remembers
that it was fitted that way (``time_source == "order"``).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy.optimize import minimize

from zoped.engine.base import FloatArray, Interaction, InteractionLog
from zoped.engine.memory_curves import (
    _EPS,
    _FORMAT_VERSION,
    _P_NEW,
    CURVE_CODE,
    MAX_STABILITY_DAYS,
    MIN_STABILITY_DAYS,
    SECONDS_PER_DAY,
    Curve,
    MemoryParameters,
    MemoryState,
    SkillMemoryState,
    TimeSource,
    interval_days,
    p_skill,
    recall_after,
    replay_log,
    stability_after,
)
from zoped.errors import DidNotConverge, InvalidInput, NotFitted, Problem


def _neg_log_likelihood(p_correct: FloatArray, correct: np.ndarray) -> float:
    p = np.clip(p_correct, _EPS, 1.0 - _EPS)
    y = correct.astype(np.float64)
    return float(-np.sum(y * np.log(p) + (1.0 - y) * np.log1p(-p)))


def _logit(x: float) -> float:
    return math.log(x / (1.0 - x))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


# The optimiser works on an unconstrained-ish vector with box bounds: logits for probabilities,
# logs for scales, and log(s0_success / s0_fail) >= 0 so that a pass never starts below a fail.
# Wide bounds: what pure maximum likelihood (``prior=None``) may explore, and the only bounds
# for a model on row order (its "days" are rows, so seconds-scale values are legitimate).
_BOUNDS: list[tuple[float, float]] = [
    (-6.0, 6.0),  # logit p_new
    (-8.0, 4.0),  # logit p_floor
    (-10.0, 2.0),  # logit p_slip
    (math.log(MIN_STABILITY_DAYS), math.log(3650.0)),  # log s0_fail_days
    (0.0, 20.0),  # log(s0_success_days / s0_fail_days)
    (-10.0, 6.0),  # log growth
    (0.0, 1.5),  # growth_decay
    (-5.0, 3.0),  # log spacing
    (-12.0, 3.0),  # log lapse_scale
    (0.0, 1.5),  # lapse_exponent
]

# Names of the optimiser's coordinates, in order (for the prior and the docs).
_VECTOR_NAMES = (
    "logit_p_new",
    "logit_p_floor",
    "logit_p_slip",
    "log_s0_fail_days",
    "log_s0_ratio",
    "log_growth",
    "growth_decay",
    "log_spacing",
    "log_lapse_scale",
    "lapse_exponent",
)


@dataclass(frozen=True)
class MemoryPrior:
    """Weakly-informative Gaussian priors and day-plausible bounds for a MAP fit.

    Each coordinate of the optimiser's vector (see :data:`_VECTOR_NAMES`) gets a normal prior
    ``N(mean, sd)``, and ``fit`` minimises ``-log L + strength * sum(((v - mean) / sd) ** 2) / 2``
    with ``strength = weight * max(1, rows / reference_rows)``: on a small log this is plain
    MAP; on a large log the prior keeps a fixed share of the objective, as a ridge penalty
    proportional to the data would (without it a pooled fit on thousands of rows follows any
    direction the likelihood cannot identify to a degenerate corner, see ``docs/memory.md``).

    The means follow FSRS's published defaults where the equations coincide (a first failure
    is remembered for about 0.3 day, a first success for about 3 days, growth 3, spacing 1)
    and the bounds keep every value plausible in days: a first review is remembered for at
    least an hour, a success at R = 0.8 multiplies stability by at least ~1.002 and at most
    ~35, and a lapse keeps at most all of the old stability. The bounds apply only to a model
    on timestamps (a model on row order measures "days" in rows).
    """

    means: tuple[float, ...] = (
        0.0,  # logit p_new = 0.5
        _logit(0.2),  # logit p_floor
        _logit(0.05),  # logit p_slip
        math.log(0.3),  # log s0_fail_days (FSRS w0 ~ 0.4 d)
        math.log(10.0),  # log(s0_success / s0_fail): s0_success ~ 3 d (FSRS w2 ~ 3 d)
        math.log(3.0),  # log growth
        0.2,  # growth_decay (FSRS w9 ~ 0.1 to 0.3)
        0.0,  # log spacing = 1
        math.log(0.3),  # log lapse_scale
        0.5,  # lapse_exponent
    )
    sds: tuple[float, ...] = (2.0, 2.0, 2.0, 1.5, 1.5, 1.0, 0.3, 0.75, 1.5, 0.3)
    bounds: tuple[tuple[float, float], ...] = (
        (-6.0, 6.0),
        (-8.0, 4.0),
        (-10.0, 2.0),
        (math.log(1.0 / 24.0), math.log(365.0)),  # s0_fail: an hour to a year
        (0.0, math.log(1000.0)),
        (math.log(0.1), math.log(20.0)),  # growth
        (0.0, 1.0),  # growth_decay
        (math.log(0.1), math.log(5.0)),  # spacing
        (math.log(0.01), 0.0),  # lapse_scale <= 1
        (0.0, 1.0),  # lapse_exponent
    )
    weight: float = 1.0
    reference_rows: float = 1000.0

    def __post_init__(self) -> None:
        problems: list[Problem] = []
        n = len(_VECTOR_NAMES)
        for name in ("means", "sds", "bounds"):
            if len(getattr(self, name)) != n:
                problems.append(Problem(name, f"need {n} values, one per coordinate"))
        if any(not (math.isfinite(s) and s > 0) for s in self.sds):
            problems.append(Problem("sds", "every sd must be a positive number"))
        if any(lo > hi for lo, hi in self.bounds):
            problems.append(Problem("bounds", "every lower bound must be <= its upper bound"))
        if not (math.isfinite(self.weight) and self.weight >= 0):
            problems.append(Problem("weight", "must be a number >= 0"))
        if not (math.isfinite(self.reference_rows) and self.reference_rows > 0):
            problems.append(Problem("reference_rows", "must be a positive number"))
        if problems:
            raise InvalidInput("invalid memory prior", problems)

    def penalty(self, v: FloatArray, rows: int) -> float:
        """The negative log prior density (up to a constant), scaled as documented above."""
        z = (np.asarray(v) - np.asarray(self.means)) / np.asarray(self.sds)
        scale = self.weight * max(1.0, rows / self.reference_rows)
        return float(0.5 * scale * np.sum(z * z))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {
            "means": list(self.means),
            "sds": list(self.sds),
            "bounds": [list(b) for b in self.bounds],
            "weight": self.weight,
            "reference_rows": self.reference_rows,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryPrior:
        """Inverse of :meth:`to_dict`."""
        return cls(
            means=tuple(float(x) for x in data["means"]),
            sds=tuple(float(x) for x in data["sds"]),
            bounds=tuple((float(lo), float(hi)) for lo, hi in data["bounds"]),
            weight=float(data["weight"]),
            reference_rows=float(data["reference_rows"]),
        )


DEFAULT_PRIOR = MemoryPrior()


def _to_vector(p: MemoryParameters, bounds: list[tuple[float, float]] | None = None) -> FloatArray:
    v = np.array(
        [
            _logit(p.p_new),
            _logit(p.p_floor),
            _logit(p.p_slip),
            math.log(p.s0_fail_days),
            math.log(p.s0_success_days / p.s0_fail_days),
            math.log(p.growth),
            p.growth_decay,
            math.log(p.spacing),
            math.log(p.lapse_scale),
            p.lapse_exponent,
        ]
    )
    box = _BOUNDS if bounds is None else bounds
    lo = np.array([b[0] for b in box])
    hi = np.array([b[1] for b in box])
    clipped: FloatArray = np.clip(v, lo, hi)
    return clipped


def _from_vector(v: FloatArray) -> MemoryParameters:
    return MemoryParameters(
        p_new=_sigmoid(v[0]),
        p_floor=_sigmoid(v[1]),
        p_slip=_sigmoid(v[2]),
        s0_fail_days=math.exp(v[3]),
        s0_success_days=math.exp(v[3] + v[4]),
        growth=math.exp(v[5]),
        growth_decay=float(v[6]),
        spacing=math.exp(v[7]),
        lapse_scale=math.exp(v[8]),
        lapse_exponent=float(v[9]),
    )


class MemoryModel:
    """Forgetting-curve learner model (name ``"memory"``) with a review-scheduling API.

    Args:
        parameters: fixed parameters; when given the model is usable without ``fit``.
        curve: ``"power"`` (default, FSRS v4) or ``"exponential"`` (half-life style).
        order_step_s: seconds between two rows when the log has no timestamps.
        max_iter: optimiser iterations for ``fit``.
        prior: the priors and bounds of the MAP fit (:class:`MemoryPrior`); ``None`` fits by
            plain maximum likelihood inside wide bounds (the behaviour before priors).
    """

    name = "memory"

    def __init__(
        self,
        parameters: MemoryParameters | None = None,
        *,
        curve: Curve = "power",
        order_step_s: float = 60.0,
        max_iter: int = 200,
        prior: MemoryPrior | None = DEFAULT_PRIOR,
    ) -> None:
        problems: list[Problem] = []
        if curve not in CURVE_CODE:
            problems.append(Problem("curve", f"must be 'power' or 'exponential', got {curve!r}"))
        if not (math.isfinite(order_step_s) and order_step_s > 0):
            problems.append(Problem("order_step_s", "must be a positive number of seconds"))
        if max_iter < 1:
            problems.append(Problem("max_iter", "must be at least 1"))
        if problems:
            raise InvalidInput("invalid memory model options", problems)
        self.parameters = parameters
        self.curve: Curve = curve
        self.order_step_s = float(order_step_s)
        self.max_iter = max_iter
        self.prior = prior
        self.time_source: TimeSource = "timestamp"
        self.fit_summary: dict[str, Any] = {}

    # ----------------------------------------------------------------- batch

    def _params(self) -> MemoryParameters:
        if self.parameters is None:
            raise NotFitted("the memory model has no parameters: call fit() or load() first")
        return self.parameters

    def _row_times_s(self, log: InteractionLog) -> FloatArray:
        """Seconds per row: the timestamps, or the row's position in its learner's sequence."""
        if self.time_source == "timestamp":
            if log.timestamp_s is None:
                raise InvalidInput(
                    "this memory model was fitted on timestamps",
                    [Problem("timestamp_s", "the log has no timestamps")],
                )
            return np.asarray(log.timestamp_s, dtype=np.float64)
        bounds = log.learner_bounds()
        position = np.arange(len(log)) - np.repeat(bounds[:-1], np.diff(bounds))
        return position.astype(np.float64) * self.order_step_s

    def _run(self, log: InteractionLog, params: MemoryParameters) -> FloatArray:
        out: FloatArray = replay_log(
            np.ascontiguousarray(log.learner, dtype=np.int64),
            np.ascontiguousarray(log.skill_ptr, dtype=np.int64),
            np.ascontiguousarray(log.skill_idx, dtype=np.int64),
            np.ascontiguousarray(log.correct, dtype=np.int8),
            self._row_times_s(log),
            max(log.n_skills, int(log.skill_idx.max(initial=-1)) + 1),
            params.as_array(),
            CURVE_CODE[self.curve],
        )
        return out

    def fit(self, log: InteractionLog) -> Self:
        """Fit the global parameters: MAP under :attr:`prior`, or maximum likelihood without one.

        Uses the log's timestamps when it has them, otherwise row order (``time_source``).
        The prior's day-plausible bounds apply to a fit on timestamps only.

        Raises:
            InvalidInput: the log is empty or inconsistent.
            DidNotConverge: the optimiser ended on a non-finite likelihood.
        """
        log.validate()
        if len(log) == 0:
            raise InvalidInput("cannot fit on an empty log", [Problem("log", "has no rows")])
        self.time_source = "timestamp" if log.timestamp_s is not None else "order"
        prior = self.prior
        bounds = (
            [tuple(b) for b in prior.bounds]
            if prior is not None and self.time_source == "timestamp"
            else _BOUNDS
        )
        start = self.parameters or MemoryParameters()
        y = np.asarray(log.correct)
        rows = len(log)

        def objective(v: FloatArray) -> float:
            nll = _neg_log_likelihood(self._run(log, _from_vector(v)), y)
            return nll if prior is None else nll + prior.penalty(v, rows)

        x0 = _to_vector(start, bounds)  # type: ignore[arg-type]
        initial = objective(x0)
        result = minimize(
            objective,
            x0,
            method="L-BFGS-B",
            bounds=bounds,
            # A coarser finite-difference step than the default copes with the min() and clamps.
            options={"maxiter": self.max_iter, "eps": 1e-6},
        )
        if not math.isfinite(float(result.fun)):
            raise DidNotConverge(f"memory fit ended on a non-finite likelihood: {result.message}")
        best = result.x if result.fun <= initial else x0
        self.parameters = _from_vector(best)
        nll = _neg_log_likelihood(self._run(log, self.parameters), y)
        self.fit_summary = {
            "rows": rows,
            "neg_log_likelihood": nll,
            "objective": float(min(result.fun, initial)),
            "method": "map" if prior is not None else "mle",
            "iterations": int(result.nit),
            "converged": bool(result.success),
            "message": str(result.message),
            "time_source": self.time_source,
        }
        return self

    def predict_proba(self, log: InteractionLog) -> FloatArray:
        """P(correct) per row, from earlier rows of the same learner only."""
        log.validate()
        return self._run(log, self._params())

    # ---------------------------------------------------------------- online

    def new_state(self) -> MemoryState:
        """An empty memory: no skill met yet."""
        return MemoryState()

    def _event_time_s(self, state: MemoryState, event: Interaction) -> float:
        if self.time_source == "order":
            return state.n_events * self.order_step_s
        if event.timestamp_s is None:
            raise InvalidInput(
                "this memory model runs on timestamps",
                [Problem("timestamp_s", "the event has no timestamp")],
            )
        return float(event.timestamp_s)

    def predict_one(self, state: MemoryState, event: Interaction) -> float:
        """P(correct) of ``event`` given the state before it."""
        p = self._params().as_array()
        if not event.skills:
            return float(p[_P_NEW])
        now = self._event_time_s(state, event)
        curve = CURVE_CODE[self.curve]
        prob = 1.0
        for k in event.skills:
            mem = state.skills.get(k)
            if mem is None:
                prob = min(prob, p_skill(False, 0.0, p))
            else:
                r = recall_after(now - mem.last_review_s, mem.stability_days, curve)
                prob = min(prob, p_skill(True, r, p))
        return prob

    def update(self, state: MemoryState, event: Interaction) -> MemoryState:
        """Apply one review to each of the event's skills (in place) and return the state."""
        p = self._params().as_array()
        now = self._event_time_s(state, event)
        curve = CURVE_CODE[self.curve]
        for k in event.skills:
            mem = state.skills.get(k)
            if mem is None:
                s = stability_after(0.0, 0.0, event.correct, True, p)
                state.skills[k] = SkillMemoryState(s, now, 1, 0 if event.correct else 1)
                continue
            r = recall_after(now - mem.last_review_s, mem.stability_days, curve)
            mem.stability_days = stability_after(mem.stability_days, r, event.correct, False, p)
            mem.last_review_s = now
            mem.reviews += 1
            mem.lapses += 0 if event.correct else 1
        state.n_events += 1
        return state

    # ------------------------------------------------------------ scheduling

    def retrievability(self, state: MemoryState, skill: int, now_s: float) -> float:
        """P(recall) of ``skill`` at ``now_s`` (seconds); 0 for a skill never reviewed."""
        mem = state.skills.get(skill)
        if mem is None:
            return 0.0
        return float(
            recall_after(now_s - mem.last_review_s, mem.stability_days, CURVE_CODE[self.curve])
        )

    def stability(self, state: MemoryState, skill: int) -> float:
        """Stability of ``skill`` in days (the 90 % recall interval); 0 if never reviewed."""
        mem = state.skills.get(skill)
        return 0.0 if mem is None else mem.stability_days

    def next_review_s(self, state: MemoryState, skill: int, target_retention: float = 0.9) -> float:
        """The time (seconds) at which the recall of ``skill`` falls to ``target_retention``.

        Raises:
            InvalidInput: the target is not in (0, 1), or the skill was never reviewed.
        """
        if not 0.0 < target_retention < 1.0:
            raise InvalidInput(
                "bad target retention",
                [Problem("target_retention", f"must be in (0, 1), got {target_retention}")],
            )
        mem = state.skills.get(skill)
        if mem is None:
            raise InvalidInput(
                "no review to schedule", [Problem("skill", f"{skill} was never reviewed")]
            )
        return mem.last_review_s + interval_days(
            mem.stability_days, target_retention, self.curve
        ) * (SECONDS_PER_DAY)

    def due_skills(self, state: MemoryState, now_s: float, threshold: float = 0.9) -> list[int]:
        """Skills whose recall at ``now_s`` is below ``threshold``, the most forgotten first."""
        curve = CURVE_CODE[self.curve]
        scored = [
            (recall_after(now_s - m.last_review_s, m.stability_days, curve), k)
            for k, m in state.skills.items()
        ]
        return [k for r, k in sorted(scored) if r < threshold]

    # ----------------------------------------------------------- persistence

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the fitted model."""
        return {
            "model": self.name,
            "format_version": _FORMAT_VERSION,
            "parameters": asdict(self._params()),
            "curve": self.curve,
            "order_step_s": self.order_step_s,
            "time_source": self.time_source,
            "fit_summary": self.fit_summary,
            "prior": None if self.prior is None else self.prior.to_dict(),
        }

    def save(self, path: Path) -> None:
        """Write the fitted model as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`.

        Raises:
            InvalidInput: the file is not a memory model of a known format version.
        """
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise InvalidInput("cannot read memory model", [Problem(str(path), str(exc))]) from exc
        if data.get("model") != cls.name or data.get("format_version") != _FORMAT_VERSION:
            raise InvalidInput(
                "not a memory model file",
                [
                    Problem(
                        str(path),
                        f"model={data.get('model')!r}, "
                        f"format_version={data.get('format_version')!r}",
                    )
                ],
            )
        model = cls(
            MemoryParameters.from_dict(data["parameters"]),
            curve=data["curve"],
            order_step_s=float(data["order_step_s"]),
        )
        # Files written before priors existed have no "prior": they get the default.
        prior_data = data.get("prior", "default")
        model.prior = (
            DEFAULT_PRIOR
            if prior_data == "default"
            else None
            if prior_data is None
            else MemoryPrior.from_dict(prior_data)
        )
        model.time_source = data["time_source"]
        model.fit_summary = dict(data.get("fit_summary", {}))
        return model


__all__ = [
    "DEFAULT_PRIOR",
    "MAX_STABILITY_DAYS",
    "MIN_STABILITY_DAYS",
    "SECONDS_PER_DAY",
    "Curve",
    "MemoryModel",
    "MemoryParameters",
    "MemoryPrior",
    "MemoryState",
    "SkillMemoryState",
    "TimeSource",
]
