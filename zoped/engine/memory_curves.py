"""The forgetting curves behind :mod:`zoped.engine.memory`: its parameters, the numba kernels
(recall after a delay, stability after a review, a row's P(correct), the batch replay of a log),
a learner's memory state, and the interval at which recall falls to a target.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal, TypeVar

import numpy as np

from zoped.engine._jit import njit
from zoped.engine.base import FloatArray
from zoped.errors import InvalidInput, Problem

SECONDS_PER_DAY = 86_400.0
# Stability is clamped to [~0.09 s, 100 years] so that the power and log terms stay finite.
MIN_STABILITY_DAYS = 1e-6
MAX_STABILITY_DAYS = 36_500.0
_FORMAT_VERSION = 1
_EPS = 1e-9

Curve = Literal["power", "exponential"]
TimeSource = Literal["timestamp", "order"]
CURVE_CODE: dict[str, int] = {"power": 0, "exponential": 1}
#: A number of days, or an array of them.
_Days = TypeVar("_Days", float, FloatArray)


@dataclass(frozen=True)
class MemoryParameters:
    """The global parameters of the memory model (see the module docstring for the equations).

    Attributes:
        p_new: P(correct) on the first encounter of a skill (nothing to recall yet).
        p_floor: P(correct) when the skill is forgotten (guessing, reconstruction).
        p_slip: P(error) despite a perfect recall (R = 1).
        s0_fail_days: stability after a failed first review.
        s0_success_days: stability after a passed first review (at least ``s0_fail_days``).
        growth: scale of the stability increase after a success.
        growth_decay: how much less large stabilities grow (0 = no damping).
        spacing: how strongly a low retrievability at review boosts the growth.
        lapse_scale: post-lapse stability scale.
        lapse_exponent: how much of the old stability survives a lapse.
    """

    p_new: float = 0.7
    p_floor: float = 0.2
    p_slip: float = 0.05
    s0_fail_days: float = 0.01
    s0_success_days: float = 1.0
    growth: float = 3.0
    growth_decay: float = 0.2
    spacing: float = 1.0
    lapse_scale: float = 0.3
    lapse_exponent: float = 0.5

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise InvalidInput listing every bad value at once."""
        problems: list[Problem] = []
        for name in ("p_new", "p_floor", "p_slip"):
            value = getattr(self, name)
            if not 0.0 < value < 1.0:
                problems.append(Problem(name, f"must be in (0, 1), got {value}"))
        for name in ("s0_fail_days", "s0_success_days", "growth", "spacing", "lapse_scale"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                problems.append(Problem(name, f"must be a positive number, got {value}"))
        for name in ("growth_decay", "lapse_exponent"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                problems.append(Problem(name, f"must be >= 0, got {value}"))
        if self.s0_success_days < self.s0_fail_days:
            problems.append(
                Problem("s0_success_days", "must be >= s0_fail_days (a pass never hurts memory)")
            )
        if problems:
            raise InvalidInput("invalid memory parameters", problems)

    def as_array(self) -> FloatArray:
        """The parameters in field order, as the compiled kernels take them (read only: one
        array per parameter set, since the online update asks for it on every answer)."""
        return self._array

    @functools.cached_property
    def _array(self) -> FloatArray:
        array = np.array([getattr(self, f.name) for f in fields(self)], dtype=np.float64)
        array.setflags(write=False)
        return array

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryParameters:
        """Build from a JSON mapping, reporting unknown or missing names together."""
        names = {f.name for f in fields(cls)}
        problems = [Problem(k, "unknown parameter") for k in data if k not in names]
        problems += [Problem(k, "missing") for k in sorted(names - set(data))]
        if problems:
            raise InvalidInput("invalid memory parameters", problems)
        return cls(**{k: float(v) for k, v in data.items()})


# Positions in MemoryParameters.as_array(), shared by the kernels below.
(
    _P_NEW,
    _P_FLOOR,
    _P_SLIP,
    _S0_FAIL,
    _S0_SUCCESS,
    _GROWTH,
    _DECAY,
    _SPACING,
    _LAPSE,
    _LAPSE_EXP,
) = range(10)


@njit(cache=True)
def recall_after(elapsed_s: float, stability_days: float, curve: int) -> float:
    """R after ``elapsed_s`` seconds at stability ``stability_days``; 1 when no time passed."""
    if elapsed_s <= 0.0:
        return 1.0
    t_days = elapsed_s / SECONDS_PER_DAY
    if curve == 0:
        return 1.0 / (1.0 + t_days / (9.0 * stability_days))
    return float(0.9 ** (t_days / stability_days))


@njit(cache=True)
def stability_after(
    stability_days: float, r: float, correct: bool, first: bool, p: FloatArray
) -> float:
    """Stability after one review with outcome ``correct`` at retrievability ``r``."""
    if first:
        s = p[_S0_SUCCESS] if correct else p[_S0_FAIL]
    elif correct:
        boost = math.exp(p[_SPACING] * (1.0 - r)) - 1.0
        s = stability_days * (1.0 + p[_GROWTH] * stability_days ** (-p[_DECAY]) * boost)
    else:
        s = min(stability_days, p[_LAPSE] * stability_days ** p[_LAPSE_EXP])
    return float(min(max(s, MIN_STABILITY_DAYS), MAX_STABILITY_DAYS))


@njit(cache=True)
def recall_cells(
    stability_days: FloatArray,
    last_review_s: FloatArray,
    seen: np.ndarray,
    now_s: float,
    curve: int,
) -> FloatArray:
    """:func:`recall_after` on every cell of ``(learners, skills)`` arrays; 0 where a skill
    was never reviewed (as :meth:`zoped.engine.memory.MemoryModel.retrievability`)."""
    n_learners, n_skills = stability_days.shape
    out = np.zeros((n_learners, n_skills))
    for i in range(n_learners):
        for k in range(n_skills):
            if seen[i, k]:
                out[i, k] = recall_after(now_s - last_review_s[i, k], stability_days[i, k], curve)
    return out


@njit(cache=True)
def review_cells(
    stability_days: FloatArray,
    last_review_s: FloatArray,
    seen: np.ndarray,
    answered: np.ndarray,
    correct: np.ndarray,
    now_s: float,
    p: FloatArray,
    curve: int,
) -> None:
    """One review at ``now_s`` on every answered cell of ``(learners, skills)`` arrays, in
    place, as :meth:`zoped.engine.memory.MemoryModel.update` does for one learner's skills;
    ``correct`` holds one outcome per learner."""
    n_learners, n_skills = stability_days.shape
    for i in range(n_learners):
        for k in range(n_skills):
            if not answered[i, k]:
                continue
            if seen[i, k]:
                r = recall_after(now_s - last_review_s[i, k], stability_days[i, k], curve)
                stability_days[i, k] = stability_after(
                    stability_days[i, k], r, correct[i], False, p
                )
            else:
                stability_days[i, k] = stability_after(0.0, 0.0, correct[i], True, p)
                seen[i, k] = True
            last_review_s[i, k] = now_s


@njit(cache=True)
def p_skill(seen: bool, r: float, p: FloatArray) -> float:
    """P(correct) from one skill: p_new if unseen, else floor + (1 - floor)(1 - slip) R."""
    if not seen:
        return float(p[_P_NEW])
    return float(p[_P_FLOOR] + (1.0 - p[_P_FLOOR]) * (1.0 - p[_P_SLIP]) * r)


@njit(cache=True)
def replay_log(
    learner: np.ndarray,
    skill_ptr: np.ndarray,
    skill_idx: np.ndarray,
    correct: np.ndarray,
    time_s: np.ndarray,
    n_skills: int,
    p: FloatArray,
    curve: int,
) -> FloatArray:
    """P(correct) of every row from earlier rows of the same learner (the batch fold)."""
    n = learner.shape[0]
    out = np.empty(n)
    stab = np.zeros(n_skills)
    last = np.zeros(n_skills)
    # owner[k] = learner whose memory of skill k the arrays hold: no reset between learners.
    owner = np.full(n_skills, -1, dtype=np.int64)
    for row in range(n):
        who = learner[row]
        now = time_s[row]
        lo = skill_ptr[row]
        hi = skill_ptr[row + 1]
        prob = p[_P_NEW] if hi == lo else 1.0
        for j in range(lo, hi):
            k = skill_idx[j]
            seen = owner[k] == who
            r = recall_after(now - last[k], stab[k], curve) if seen else 0.0
            prob = min(prob, p_skill(seen, r, p))
        out[row] = prob
        ok = correct[row] == 1
        for j in range(lo, hi):
            k = skill_idx[j]
            seen = owner[k] == who
            r = recall_after(now - last[k], stab[k], curve) if seen else 0.0
            stab[k] = stability_after(stab[k], r, ok, not seen, p)
            last[k] = now
            owner[k] = who
    return out


@dataclass(slots=True)
class SkillMemoryState:
    """What one learner remembers of one skill."""

    stability_days: float
    last_review_s: float
    reviews: int = 1
    lapses: int = 0


@dataclass(slots=True)
class MemoryState:
    """One learner's memory: per skill code, its stability and last review.

    ``n_events`` counts the events seen; it is the clock when the model runs on row order.
    ``update`` changes the state in place (O(skills of the event)) and returns it.
    """

    skills: dict[int, SkillMemoryState] = field(default_factory=dict)
    n_events: int = 0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (skill codes become strings)."""
        return {
            "n_events": self.n_events,
            "skills": {str(k): asdict(v) for k, v in self.skills.items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryState:
        """Inverse of :meth:`to_dict`."""
        skills = {int(k): SkillMemoryState(**v) for k, v in data["skills"].items()}
        return cls(skills=skills, n_events=int(data["n_events"]))


def interval_days(stability_days: _Days, target: float, curve: Curve) -> _Days:
    """Days after a review at which R falls to ``target`` (inverse of the forgetting curve),
    for one stability or an array of them."""
    if curve == "power":
        return 9.0 * stability_days * (1.0 / target - 1.0)
    return stability_days * math.log(target) / math.log(0.9)
