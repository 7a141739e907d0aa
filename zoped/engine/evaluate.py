"""Fit a model on a training log, predict a test log, and score the predictions.

Cost figures: ``fit_s`` and ``predict_s`` are wall-clock seconds from the clock passed in
(``time.perf_counter`` by default). ``peak_mb`` is the peak of memory allocated through
Python's allocators during fit and predict, measured with :mod:`tracemalloc`; numpy arrays are
traced (numpy reports its allocations to tracemalloc), but memory that native extensions such
as torch or numba-compiled code allocate on their own is not. It is a lower bound on the peak
resident memory, comparable between models that compute with numpy.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from zoped.engine.base import InteractionLog, LearnerModel
from zoped.engine.metrics import all_metrics
from zoped.errors import EngineError, InvalidInput, Problem


@dataclass(frozen=True)
class EvalReport:
    """Scores and costs of one model on one train/test split."""

    model: str
    auc: float
    rmse: float
    logloss: float
    accuracy: float
    ece: float
    fit_s: float
    predict_s: float
    peak_mb: float
    n_train: int
    n_test: int
    n_train_learners: int
    n_test_learners: int
    test_correct_rate: float

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready dict (NaN becomes None)."""
        return {
            k: (None if isinstance(v, float) and not np.isfinite(v) else v)
            for k, v in asdict(self).items()
        }


def evaluate(
    model: LearnerModel,
    train_log: InteractionLog,
    test_log: InteractionLog,
    clock: Callable[[], float] = time.perf_counter,
    trace_memory: bool = True,
) -> EvalReport:
    """Fit ``model`` on ``train_log``, predict every row of ``test_log``, and score it.

    Predictions for a test row use the learner's earlier test rows only (the model's
    ``predict_proba`` contract), so the test learners are new to the model.

    Args:
        model: an unfitted model.
        train_log: the training rows.
        test_log: the test rows (same vocabularies as ``train_log``).
        clock: seconds, for timing.
        trace_memory: measure the allocation peak with tracemalloc (slows numpy-heavy code a
            little); when False ``peak_mb`` is NaN.

    Returns:
        The report.

    Raises:
        InvalidInput: an empty training or test log.
        EngineError: the model returned a wrong number of predictions or values outside [0, 1].
    """
    problems = []
    if len(train_log) == 0:
        problems.append(Problem("train", "has no rows"))
    if len(test_log) == 0:
        problems.append(Problem("test", "has no rows"))
    if problems:
        raise InvalidInput("cannot evaluate", problems)
    started_tracing = False
    if trace_memory and not tracemalloc.is_tracing():
        tracemalloc.start()
        started_tracing = True
    if trace_memory:
        tracemalloc.reset_peak()
    try:
        t0 = clock()
        model.fit(train_log)
        t1 = clock()
        p = np.asarray(model.predict_proba(test_log), dtype=np.float64)
        t2 = clock()
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace_memory else float("nan")
    finally:
        if started_tracing:
            tracemalloc.stop()
    name = str(getattr(model, "name", type(model).__name__))
    if p.shape != (len(test_log),):
        raise EngineError(f"{name} returned {p.shape} predictions for {len(test_log)} test rows")
    if not np.all((p >= 0) & (p <= 1)):
        raise EngineError(f"{name} returned values outside [0, 1] (or NaN)")
    scores = all_metrics(test_log.correct, p)
    return EvalReport(
        model=name,
        auc=scores["auc"],
        rmse=scores["rmse"],
        logloss=scores["logloss"],
        accuracy=scores["accuracy"],
        ece=scores["ece"],
        fit_s=t1 - t0,
        predict_s=t2 - t1,
        peak_mb=peak,
        n_train=len(train_log),
        n_test=len(test_log),
        n_train_learners=int(np.unique(train_log.learner).size),
        n_test_learners=int(np.unique(test_log.learner).size),
        test_correct_rate=float(test_log.correct.mean()),
    )
