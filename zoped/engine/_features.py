"""Shared building blocks of the ability and logistic models.

Vectorised "what did this learner do before this row" counts, the row-to-parameter map that
lets one difficulty serve items or (multi-)skills, and the npz format the models save to.

Everything here works on the columnar :class:`~zoped.engine.base.InteractionLog`: rows are
grouped by learner and in time order inside a learner, so "earlier" means "a lower row index of
the same learner".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from zoped.engine._jit import njit
from zoped.engine.base import FloatArray, IntArray, InteractionLog
from zoped.errors import InvalidInput, NotFitted, Problem

FORMAT_VERSION = 1

_F = TypeVar("_F", bound=Callable[..., Any])


def jit(fn: _F) -> _F:
    """numba.njit (cached on disk where it can be), typed so callers keep the Python signature."""
    return njit()(fn)


def sigmoid(z: FloatArray) -> FloatArray:
    """The logistic function, stable for large |z|."""
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def row_skill_pairs(log: InteractionLog) -> tuple[IntArray, IntArray]:
    """One (row, skill) pair per skill of each row: ``(pair_row, pair_skill)``."""
    counts = log.n_skills_per_row
    pair_row = np.repeat(np.arange(len(log), dtype=np.int64), counts)
    return pair_row, log.skill_idx.astype(np.int64)


def prior_counts(
    learner: IntArray, key: IntArray, correct: NDArray[Any]
) -> tuple[IntArray, IntArray]:
    """Attempts and successes of the same learner on the same key strictly before each entry.

    Entries must be given in log order (row order; several entries of one row share its row
    position and never count each other since a row has each key once).

    Args:
        learner: learner code per entry.
        key: the thing counted (a skill, an item, or 0 for "any") per entry.
        correct: 0/1 per entry.

    Returns:
        ``(attempts_before, successes_before)``, int64 arrays aligned with the entries.
    """
    n = key.shape[0]
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    n_keys = int(key.max()) + 1
    group = learner.astype(np.int64) * n_keys + key
    # A stable sort keeps log order inside each (learner, key) group.
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    c_sorted = np.asarray(correct, dtype=np.int64)[order]
    first = np.ones(n, dtype=bool)
    first[1:] = g_sorted[1:] != g_sorted[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    csum = np.cumsum(c_sorted)
    attempts = np.arange(n) - start
    successes = csum - c_sorted - (csum[start] - c_sorted[start])
    out_a = np.empty(n, np.int64)
    out_s = np.empty(n, np.int64)
    out_a[order] = attempts
    out_s[order] = successes
    return out_a, out_s


def window_counts(
    learner: IntArray,
    key: IntArray,
    correct: NDArray[Any],
    time: FloatArray,
    windows: tuple[float, ...],
) -> tuple[IntArray, IntArray]:
    """Attempts and successes on the same key in ``(t - w, t]`` before each entry, per window.

    An earlier entry at time ``t_j`` counts for window ``w`` when ``t_j > t - w``; entries at the
    same time count when they come earlier in the log. Infinite windows count everything before.

    Returns:
        ``(attempts, successes)`` of shape ``(n_entries, len(windows))``.
    """
    n = key.shape[0]
    att = np.zeros((n, len(windows)), np.int64)
    suc = np.zeros((n, len(windows)), np.int64)
    if n == 0:
        return att, suc
    n_keys = int(key.max()) + 1
    group = learner.astype(np.int64) * n_keys + key
    order = np.argsort(group, kind="stable")
    g_sorted = group[order]
    t_sorted = time[order]
    c_sorted = np.asarray(correct, dtype=np.int64)[order]
    csum = np.concatenate(([0], np.cumsum(c_sorted)))
    pos = np.arange(n)
    g_lo = np.searchsorted(g_sorted, g_sorted, side="left")
    g_hi = np.searchsorted(g_sorted, g_sorted, side="right")
    for j, w in enumerate(windows):
        # Inside a group times are sorted, so a finite window's start is a binary search
        # restricted to the group's slice [g_lo, g_hi); an infinite one starts at g_lo.
        lo = g_lo if np.isinf(w) else _first_after(t_sorted, g_lo, g_hi, t_sorted - w)
        lo = np.minimum(lo, pos)
        a = pos - lo
        s = csum[pos] - csum[lo]
        att[order, j] = a
        suc[order, j] = s
    return att, suc


def _first_after(t: FloatArray, lo: IntArray, hi: IntArray, threshold: FloatArray) -> IntArray:
    """Per entry, the first index i in ``[lo, hi)`` with ``t[i] > threshold`` (t sorted there).

    A vectorised binary search: about log2(longest group) passes over all entries.
    """
    lo = lo.copy()
    hi = hi.copy()
    while True:
        active = lo < hi
        if not active.any():
            return lo
        mid = (lo + hi) // 2
        go_right = active & (t[np.minimum(mid, t.shape[0] - 1)] <= threshold)
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)


def unit_matrix(log: InteractionLog, use_items: bool, n_units: int) -> sp.csr_matrix:
    """Row -> parameter map: each row averages the parameters of its item, or of its skills.

    Args:
        log: the interactions.
        use_items: one parameter per item (else one per skill, averaged over a row's skills).
        n_units: number of parameters (columns).

    Returns:
        A CSR matrix of shape ``(len(log), n_units)`` whose rows sum to 1.
    """
    n = len(log)
    if use_items:
        data = np.ones(n)
        return sp.csr_matrix((data, log.item, np.arange(n + 1)), shape=(n, n_units))
    counts = log.n_skills_per_row
    weights = np.repeat(1.0 / np.maximum(counts, 1), counts)
    return sp.csr_matrix((weights, log.skill_idx, log.skill_ptr), shape=(n, n_units))


def check_log(log: InteractionLog, *, need_items: bool = False) -> None:
    """Validate a log for the models here; every row needs at least one skill or an item."""
    log.validate()
    problems: list[Problem] = []
    if need_items and len(log) and np.any(log.item < 0):
        problems.append(Problem("item", "this model needs an item on every row"))
    if len(log) and np.any((log.n_skills_per_row == 0) & (log.item < 0)):
        problems.append(Problem("skill_ptr", "a row has neither a skill nor an item"))
    if problems:
        raise InvalidInput("log cannot be used by this model", problems)


def save_params(
    path: Path, name: str, config: dict[str, Any], arrays: dict[str, NDArray[Any]]
) -> None:
    """Write a model as npz: a JSON header (name, version, hyperparameters) and its arrays."""
    header = json.dumps({"model": name, "format_version": FORMAT_VERSION, "config": config})
    with Path(path).open("wb") as fh:
        payload: dict[str, Any] = {"__header__": np.array(header), **arrays}
        np.savez(fh, **payload)


def load_params(path: Path, name: str) -> tuple[dict[str, Any], dict[str, NDArray[Any]]]:
    """Read what :func:`save_params` wrote; refuse another model's file or a newer format."""
    with np.load(Path(path), allow_pickle=False) as data:
        header = json.loads(str(data["__header__"]))
        arrays = {k: data[k] for k in data.files if k != "__header__"}
    problems: list[Problem] = []
    if header.get("model") != name:
        problems.append(Problem("model", f"file holds {header.get('model')!r}, not {name!r}"))
    if header.get("format_version", 0) > FORMAT_VERSION:
        problems.append(Problem("format_version", "written by a newer zoped"))
    if problems:
        raise InvalidInput(f"cannot load {path}", problems)
    return dict(header["config"]), arrays


def require_fitted(fitted: bool, name: str) -> None:
    """Raise NotFitted unless the model has parameters."""
    if not fitted:
        raise NotFitted(f"{name} model used before fit() or load()")


def validate_hyper(problems: list[Problem], checks: dict[str, tuple[bool, str]]) -> None:
    """Collect every bad hyperparameter at once (``checks``: name -> (ok, message))."""
    for key, (ok, message) in checks.items():
        if not ok:
            problems.append(Problem(key, message))
    if problems:
        raise InvalidInput("invalid hyperparameters", problems)
