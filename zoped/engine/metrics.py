"""Metrics of next-response prediction: discrimination (AUC), error (RMSE, log-loss, accuracy)
and calibration (ECE).

Every function takes the observed outcomes ``y`` (0/1) and the predicted probabilities ``p``
of a correct response, as arrays of the same length, and returns a float.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.stats import rankdata

from zoped.errors import InvalidInput, Problem

LOGLOSS_EPS = 1e-15
"""Probabilities are clipped to ``[eps, 1 - eps]`` before the log-loss, so it stays finite."""

ECE_BINS = 10
"""Number of equal-width probability bins of :func:`ece`."""


def _pair(y: ArrayLike, p: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    y_arr = np.asarray(y, dtype=np.float64).ravel()
    p_arr = np.asarray(p, dtype=np.float64).ravel()
    problems: list[Problem] = []
    if y_arr.shape != p_arr.shape:
        problems.append(Problem("p", f"has {p_arr.size} values but y has {y_arr.size}"))
    elif y_arr.size == 0:
        problems.append(Problem("y", "is empty"))
    else:
        if not np.all((y_arr == 0) | (y_arr == 1)):
            problems.append(Problem("y", "values must be 0 or 1"))
        if not np.all((p_arr >= 0) & (p_arr <= 1)):
            problems.append(Problem("p", "values must be probabilities in [0, 1] (no NaN)"))
    if problems:
        raise InvalidInput("cannot score predictions", problems)
    return y_arr, p_arr


def auc(y: ArrayLike, p: ArrayLike) -> float:
    """Area under the ROC curve: P(a random correct response is ranked above a wrong one).

    Ties count one half (average ranks, the Mann-Whitney U statistic), in O(n log n).

    Args:
        y: observed outcomes, 0 or 1.
        p: predicted probabilities of 1 (any monotone score works).

    Returns:
        The AUC in [0, 1], or NaN when ``y`` holds only one class.

    Raises:
        InvalidInput: lengths differ, the input is empty, or values are out of range.
    """
    y_arr, p_arr = _pair(y, p)
    n_pos = float(y_arr.sum())
    n_neg = float(y_arr.size - n_pos)
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(p_arr)  # average ranks for ties
    u = float(ranks[y_arr == 1].sum()) - n_pos * (n_pos + 1) / 2
    return u / (n_pos * n_neg)


def rmse(y: ArrayLike, p: ArrayLike) -> float:
    """Root mean squared error between outcomes and probabilities (the Brier score's root)."""
    y_arr, p_arr = _pair(y, p)
    return float(np.sqrt(np.mean((y_arr - p_arr) ** 2)))


def logloss(y: ArrayLike, p: ArrayLike, eps: float = LOGLOSS_EPS) -> float:
    """Mean negative log-likelihood in nats, with ``p`` clipped to ``[eps, 1 - eps]``."""
    y_arr, p_arr = _pair(y, p)
    clipped = np.clip(p_arr, eps, 1 - eps)
    return float(-np.mean(y_arr * np.log(clipped) + (1 - y_arr) * np.log1p(-clipped)))


def accuracy(y: ArrayLike, p: ArrayLike) -> float:
    """Share of responses where ``p >= 0.5`` predicts the outcome."""
    y_arr, p_arr = _pair(y, p)
    return float(np.mean((p_arr >= 0.5) == (y_arr == 1)))


def ece(y: ArrayLike, p: ArrayLike, bins: int = ECE_BINS) -> float:
    """Expected calibration error over equal-width bins of ``p``.

    Bin ``k`` holds ``k/bins <= p < (k+1)/bins`` (the last bin includes 1). The ECE is the mean
    over responses of ``|mean(y) - mean(p)|`` in their bin, i.e. the bins' gaps weighted by
    their share of responses. 0 is perfectly calibrated.
    """
    y_arr, p_arr = _pair(y, p)
    which = np.minimum((p_arr * bins).astype(np.int64), bins - 1)
    count = np.bincount(which, minlength=bins).astype(np.float64)
    sum_y = np.bincount(which, weights=y_arr, minlength=bins)
    sum_p = np.bincount(which, weights=p_arr, minlength=bins)
    # |sum_y - sum_p| / n equals the share-weighted gap |mean_y - mean_p| * count / n per bin.
    return float(np.abs(sum_y - sum_p).sum() / count.sum())


def all_metrics(y: ArrayLike, p: ArrayLike) -> dict[str, Any]:
    """Every metric above, by name: auc, rmse, logloss, accuracy, ece."""
    return {
        "auc": auc(y, p),
        "rmse": rmse(y, p),
        "logloss": logloss(y, p),
        "accuracy": accuracy(y, p),
        "ece": ece(y, p),
    }
