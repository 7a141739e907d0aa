"""Logistic learner models in the spirit of Gervet et al. (2020): Best-LR and DAS3H.

Each response becomes one sparse feature row built only from the learner's earlier responses:

- item one-hot (item difficulty) and skill multi-hot (skill difficulty, every skill of the item);
- per skill of the item, ``log(1 + earlier successes)`` and ``log(1 + earlier failures)``;
- over all skills, the same two totals;
- optionally (Best-LR+), the learner's earlier successes and failures on this very item;
- DAS3H adds, per time window ``w`` and skill, ``log(1 + attempts)`` and ``log(1 + successes)``
  in ``(t - w, t]``. Without timestamps the clock is the learner's attempt number, so a window
  of 10 means "the learner's last 10 responses".

A single L2-regularised logistic regression over those columns is fitted with L-BFGS on the CSR
matrix. Online, a :class:`LogisticState` keeps the same counters, so replaying a learner's events
gives the batch numbers.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import scipy.optimize
import scipy.sparse as sp

from zoped.engine._features import (
    check_log,
    load_params,
    prior_counts,
    require_fitted,
    row_skill_pairs,
    save_params,
    sigmoid,
    validate_hyper,
    window_counts,
)
from zoped.engine.base import FloatArray, IntArray, Interaction, InteractionLog
from zoped.errors import DidNotConverge, InvalidInput, Problem

# Window sizes, in days or in attempts. (A named alias also keeps the registry's --param
# converter from reading the annotation as a plain float.)
Windows = tuple[float, ...]
SECONDS_PER_DAY = 86_400.0
DAS3H_WINDOW_DAYS: tuple[float, ...] = (1 / 24, 1.0, 7.0, 30.0, math.inf)
DAS3H_WINDOW_ATTEMPTS: tuple[float, ...] = (5.0, 20.0, 100.0, math.inf)


def _as_windows(
    value: Windows | str | None, where: str, problems: list[Problem]
) -> tuple[float, ...]:
    """Window sizes from numbers or a comma-separated string; bad entries become problems."""
    parts = value.split(",") if isinstance(value, str) else list(value or ())
    out = []
    for part in parts:
        try:
            out.append(float(part))
        except ValueError:
            problems.append(Problem(where, f"{part!r} is not a number"))
    return tuple(out)


@dataclass
class LogisticState:
    """One learner's counters. ``update`` mutates and returns it (copy it to branch)."""

    skill_successes: dict[int, int] = field(default_factory=dict)
    skill_failures: dict[int, int] = field(default_factory=dict)
    item_successes: dict[int, int] = field(default_factory=dict)
    item_failures: dict[int, int] = field(default_factory=dict)
    total_successes: int = 0
    total_failures: int = 0
    n_seen: int = 0
    # Per skill, (time, correct) of the responses still inside the longest finite window.
    recent: dict[int, deque[tuple[float, int]]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Layout:
    """Where each feature block starts in the column space."""

    n_items: int
    n_skills: int
    use_items: bool
    item_counts: bool
    windows: tuple[float, ...]

    @property
    def skill_onehot(self) -> int:
        return self.n_items if self.use_items else 0

    @property
    def skill_succ(self) -> int:
        return self.skill_onehot + self.n_skills

    @property
    def skill_fail(self) -> int:
        return self.skill_succ + self.n_skills

    @property
    def total(self) -> int:
        return self.skill_fail + self.n_skills

    @property
    def item_count(self) -> int:
        return self.total + 2

    @property
    def window(self) -> int:
        return self.item_count + (2 if self.item_counts else 0)

    @property
    def n_columns(self) -> int:
        return self.window + 2 * self.n_skills * len(self.windows)


class _LogisticModel:
    """Shared machinery; subclasses choose the feature set."""

    name: str = ""
    _default_windows: ClassVar[bool] = False

    def __init__(
        self,
        *,
        l2: float = 1.0,
        use_items: bool = True,
        item_counts: bool = False,
        window_days: Windows | str | None = None,
        window_attempts: Windows | str | None = None,
        monotone: bool = True,
        max_iter: int = 500,
        seed: int = 0,
    ) -> None:
        """Set hyperparameters.

        Args:
            l2: strength of the L2 penalty on the summed log-loss (sklearn's ``1 / C``).
            use_items: include item one-hot columns when the log has items.
            item_counts: add the learner's earlier successes / failures on the same item.
            window_days: DAS3H windows in days, used when the log has timestamps (numbers,
                or a comma-separated string such as ``"1,7,inf"`` from the command line).
            window_attempts: windows in attempts, used when it has none (same forms).
            monotone: keep success weights >= 0 and failure weights <= 0, so a correct answer
                never predicts worse than a wrong one would have.
            max_iter: L-BFGS iteration cap.
            seed: unused by the deterministic fit; kept for the common interface.
        """
        wd = DAS3H_WINDOW_DAYS if window_days is None and self._default_windows else window_days
        wa = (
            DAS3H_WINDOW_ATTEMPTS
            if window_attempts is None and self._default_windows
            else window_attempts
        )
        problems: list[Problem] = []
        wd = _as_windows(wd, "window_days", problems)
        wa = _as_windows(wa, "window_attempts", problems)
        validate_hyper(
            problems,
            {
                "l2": (l2 > 0, "must be > 0"),
                "max_iter": (max_iter > 0, "must be > 0"),
                "window_days": (all(w > 0 for w in wd), "windows must be > 0"),
                "window_attempts": (all(w > 0 for w in wa), "windows must be > 0"),
            },
        )
        self.l2 = float(l2)
        self.use_items = use_items
        self.item_counts = item_counts
        self.window_days = wd
        self.window_attempts = wa
        self.monotone = monotone
        self.max_iter = max_iter
        self.seed = seed
        self.layout_: _Layout | None = None
        self.timed_: bool = False
        self.weights_: FloatArray = np.zeros(0)
        self.intercept_: float = 0.0
        self.converged_: bool = False

    # ---------------------------------------------------------------- features

    def _windows_in_clock(self, timed: bool) -> tuple[float, ...]:
        if timed:
            return tuple(w * SECONDS_PER_DAY for w in self.window_days)
        return self.window_attempts

    def _features(self, log: InteractionLog, layout: _Layout) -> sp.csr_matrix:
        """The CSR feature matrix of a log, one row per response, vectorised."""
        n = len(log)
        rows: list[IntArray] = []
        cols: list[IntArray] = []
        vals: list[FloatArray] = []
        correct = log.correct.astype(np.int64)

        def add(r: IntArray, c: IntArray, v: FloatArray) -> None:
            keep = v != 0
            rows.append(r[keep])
            cols.append(c[keep])
            vals.append(v[keep])

        ar = np.arange(n, dtype=np.int64)
        if layout.use_items:
            has = log.item >= 0
            add(ar[has], log.item[has], np.ones(int(has.sum())))
        pr, ps = row_skill_pairs(log)
        add(pr, layout.skill_onehot + ps, np.ones(pr.shape[0]))
        att, suc = prior_counts(log.learner[pr], ps, correct[pr])
        add(pr, layout.skill_succ + ps, np.log1p(suc))
        add(pr, layout.skill_fail + ps, np.log1p(att - suc))
        t_att, t_suc = prior_counts(log.learner, np.zeros(n, np.int64), correct)
        add(ar, np.full(n, layout.total), np.log1p(t_suc))
        add(ar, np.full(n, layout.total + 1), np.log1p(t_att - t_suc))
        if layout.item_counts:
            # Only rows that have an item count, as in `update`; the rest get no item features.
            has = log.item >= 0
            i_att, i_suc = prior_counts(log.learner[has], log.item[has], correct[has])
            add(ar[has], np.full(int(has.sum()), layout.item_count), np.log1p(i_suc))
            add(ar[has], np.full(int(has.sum()), layout.item_count + 1), np.log1p(i_att - i_suc))
        if layout.windows:
            clock = self._clock(log)
            w_att, w_suc = window_counts(
                log.learner[pr], ps, correct[pr], clock[pr], layout.windows
            )
            for j in range(len(layout.windows)):
                base = layout.window + 2 * layout.n_skills * j
                add(pr, base + ps, np.log1p(w_att[:, j]))
                add(pr, base + layout.n_skills + ps, np.log1p(w_suc[:, j]))
        return sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(n, layout.n_columns),
        )

    def _clock(self, log: InteractionLog) -> FloatArray:
        """Timestamps, or each row's attempt number inside its learner when untimed."""
        if self.timed_:
            assert log.timestamp_s is not None
            return log.timestamp_s.astype(np.float64)
        bounds = log.learner_bounds()
        return (np.arange(len(log)) - bounds[log.learner]).astype(np.float64)

    # -------------------------------------------------------------------- fit

    def fit(self, log: InteractionLog) -> Self:
        """Fit the weights by L2-regularised maximum likelihood on all rows of ``log``."""
        check_log(log)
        self.timed_ = log.timestamp_s is not None and bool(self.window_days)
        use_items = self.use_items and bool(np.any(log.item >= 0))
        self.layout_ = _Layout(
            n_items=log.n_items if use_items else 0,
            n_skills=log.n_skills,
            use_items=use_items,
            item_counts=self.item_counts,
            windows=self._windows_in_clock(self.timed_),
        )
        x = self._features(log, self.layout_)
        y = log.correct.astype(np.float64)
        n = max(len(log), 1)
        xt = x.T.tocsr()

        def loss(theta: FloatArray) -> tuple[float, FloatArray]:
            w, b = theta[:-1], theta[-1]
            z = x @ w + b
            # log(1 + e^z) - y z, written to stay finite for large |z|.
            nll = float(np.sum(np.logaddexp(0.0, z) - y * z))
            r = sigmoid(z) - y
            grad = np.empty_like(theta)
            grad[:-1] = xt @ r + self.l2 * w
            grad[-1] = r.sum()
            return (nll + 0.5 * self.l2 * float(w @ w)) / n, grad / n

        res = scipy.optimize.minimize(
            loss,
            np.zeros(x.shape[1] + 1),
            jac=True,
            method="L-BFGS-B",
            bounds=self._bounds(self.layout_) if self.monotone else None,
            options={"maxiter": self.max_iter},
        )
        if not np.all(np.isfinite(res.x)):
            raise DidNotConverge(f"{self.name}: L-BFGS produced non-finite weights")
        self.converged_ = bool(res.success)
        self.weights_ = np.asarray(res.x[:-1], dtype=np.float64)
        self.intercept_ = float(res.x[-1])
        return self

    @staticmethod
    def _bounds(layout: _Layout) -> list[tuple[float | None, float | None]]:
        """Sign constraints: success columns >= 0, failure columns <= 0, the rest free.

        A correct answer raises only success columns and a wrong one only failure columns
        (window attempt columns rise for both alike), so these signs are enough for a correct
        answer never to lower the next prediction relative to a wrong one.
        """
        lo = np.full(layout.n_columns + 1, -np.inf)
        hi = np.full(layout.n_columns + 1, np.inf)
        k = layout.n_skills
        lo[layout.skill_succ : layout.skill_succ + k] = 0.0
        hi[layout.skill_fail : layout.skill_fail + k] = 0.0
        lo[layout.total] = 0.0
        hi[layout.total + 1] = 0.0
        if layout.item_counts:
            lo[layout.item_count] = 0.0
            hi[layout.item_count + 1] = 0.0
        for j in range(len(layout.windows)):
            base = layout.window + 2 * k * j + k
            lo[base : base + k] = 0.0
        return [
            (None if np.isinf(a) else float(a), None if np.isinf(b) else float(b))
            for a, b in zip(lo, hi, strict=True)
        ]

    def _layout(self) -> _Layout:
        require_fitted(self.layout_ is not None, self.name)
        assert self.layout_ is not None
        return self.layout_

    def predict_proba(self, log: InteractionLog) -> FloatArray:
        """P(correct) per row from the learner's earlier rows and the fitted weights."""
        layout = self._layout()
        check_log(log)
        problems: list[Problem] = []
        if log.n_skills > layout.n_skills:
            problems.append(Problem("skill_ids", "more skills than the model was fitted on"))
        if layout.use_items and log.n_items > layout.n_items:
            problems.append(Problem("item_ids", "more items than the model was fitted on"))
        if self.timed_ and log.timestamp_s is None:
            problems.append(Problem("timestamp_s", "the model was fitted with timestamps"))
        if problems:
            raise InvalidInput("log does not match the fitted model", problems)
        # Pad the vocabularies so a sub-vocabulary still lands in the fitted columns.
        x = self._features(log, layout)
        return sigmoid(x @ self.weights_ + self.intercept_)

    # ----------------------------------------------------------------- online

    def new_state(self) -> LogisticState:
        """A learner with no responses yet."""
        return LogisticState()

    def _event_time(self, state: LogisticState, event: Interaction) -> float:
        if not self.timed_:
            return float(state.n_seen)
        if event.timestamp_s is None:
            raise InvalidInput(
                "event has no time", [Problem("timestamp_s", "the model was fitted with times")]
            )
        return float(event.timestamp_s)

    def _logit_one(self, state: LogisticState, event: Interaction) -> float:
        layout = self._layout()
        w = self.weights_
        z = self.intercept_
        if layout.use_items and event.item >= 0:
            z += w[event.item]
        for s in event.skills:
            z += w[layout.skill_onehot + s]
            z += w[layout.skill_succ + s] * math.log1p(state.skill_successes.get(s, 0))
            z += w[layout.skill_fail + s] * math.log1p(state.skill_failures.get(s, 0))
        z += w[layout.total] * math.log1p(state.total_successes)
        z += w[layout.total + 1] * math.log1p(state.total_failures)
        if layout.item_counts and event.item >= 0:
            z += w[layout.item_count] * math.log1p(state.item_successes.get(event.item, 0))
            z += w[layout.item_count + 1] * math.log1p(state.item_failures.get(event.item, 0))
        if layout.windows:
            now = self._event_time(state, event)
            for s in event.skills:
                hist = state.recent.get(s, deque())
                for j, win in enumerate(layout.windows):
                    if math.isinf(win):
                        a = state.skill_successes.get(s, 0) + state.skill_failures.get(s, 0)
                        c = state.skill_successes.get(s, 0)
                    else:
                        inside = [ok for t, ok in hist if t > now - win]
                        a, c = len(inside), sum(inside)
                    base = layout.window + 2 * layout.n_skills * j
                    z += w[base + s] * math.log1p(a)
                    z += w[base + layout.n_skills + s] * math.log1p(c)
        return float(z)

    def predict_one(self, state: LogisticState, event: Interaction) -> float:
        """P(correct) of ``event`` given the learner's state (the state is not changed)."""
        return float(sigmoid(np.array(self._logit_one(state, event))))

    def update(self, state: LogisticState, event: Interaction) -> LogisticState:
        """Count ``event`` in the learner's state; O(skills of the item)."""
        layout = self._layout()
        ok = int(bool(event.correct))
        now = self._event_time(state, event) if layout.windows else 0.0
        finite = [w for w in layout.windows if not math.isinf(w)]
        for s in event.skills:
            table = state.skill_successes if ok else state.skill_failures
            table[s] = table.get(s, 0) + 1
            if finite:
                hist = state.recent.setdefault(s, deque())
                hist.append((now, ok))
                # Drop what no later event (at time >= now) can see any more.
                while hist and hist[0][0] <= now - max(finite):
                    hist.popleft()
        if event.item >= 0:
            table = state.item_successes if ok else state.item_failures
            table[event.item] = table.get(event.item, 0) + 1
        if ok:
            state.total_successes += 1
        else:
            state.total_failures += 1
        state.n_seen += 1
        return state

    # -------------------------------------------------------------- save/load

    def _config(self) -> dict[str, Any]:
        return {
            "l2": self.l2,
            "use_items": self.use_items,
            "item_counts": self.item_counts,
            "window_days": list(self.window_days),
            "window_attempts": list(self.window_attempts),
            "monotone": self.monotone,
            "max_iter": self.max_iter,
            "seed": self.seed,
        }

    def save(self, path: Path) -> None:
        """Write hyperparameters, layout and weights to an npz file."""
        layout = self._layout()
        config = self._config()
        config["layout"] = {**asdict(layout), "windows": list(layout.windows)}
        config["timed"] = self.timed_
        config["intercept"] = self.intercept_
        config["converged"] = self.converged_
        save_params(path, self.name, config, {"weights": self.weights_})

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read a model written by :meth:`save`."""
        config, arrays = load_params(path, cls.name)
        layout = config.pop("layout")
        timed = config.pop("timed")
        intercept = config.pop("intercept")
        converged = config.pop("converged")
        config["window_days"] = tuple(config["window_days"])
        config["window_attempts"] = tuple(config["window_attempts"])
        model = cls(**config)
        model.layout_ = _Layout(**{**layout, "windows": tuple(layout["windows"])})
        model.timed_ = bool(timed)
        model.intercept_ = float(intercept)
        model.converged_ = bool(converged)
        model.weights_ = np.asarray(arrays["weights"], dtype=np.float64)
        return model


class BestLR(_LogisticModel):
    """Best-LR (Gervet et al. 2020): item + skill difficulty, per-skill and total counts.

    With ``item_counts=True`` and ``window_attempts`` it becomes a Best-LR+ variant.
    """

    name: str = "lr"


class DAS3H(_LogisticModel):
    """DAS3H (Choffin et al. 2019): Best-LR-style difficulties plus time-window counts per skill."""

    name: str = "das3h"
    _default_windows: ClassVar[bool] = True
