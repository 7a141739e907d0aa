"""Metrics: values checked by hand and against their definitions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zoped.engine.metrics import accuracy, all_metrics, auc, ece, logloss, rmse
from zoped.errors import InvalidInput


def brute_auc(y, p):
    """P(score of a positive > score of a negative) + half the ties, over all pairs."""
    pos = [s for s, t in zip(p, y, strict=True) if t == 1]
    neg = [s for s, t in zip(p, y, strict=True) if t == 0]
    total = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    return total / (len(pos) * len(neg))


def test_auc_by_hand():
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert auc([0, 1], [0.2, 0.9]) == 1.0
    assert auc([0, 1], [0.9, 0.2]) == 0.0
    assert auc([0, 1, 1, 0], [0.5, 0.5, 0.5, 0.5]) == 0.5


def test_auc_matches_pairwise_definition_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.random(300), 1)  # many ties
    assert auc(y, p) == pytest.approx(brute_auc(y, p))


def test_auc_of_one_class_is_nan():
    assert math.isnan(auc([1, 1, 1], [0.2, 0.5, 0.9]))


def test_rmse_logloss_accuracy_by_hand():
    y = [1, 0, 1, 0]
    p = [0.9, 0.2, 0.4, 0.5]
    assert rmse(y, p) == pytest.approx(math.sqrt((0.01 + 0.04 + 0.36 + 0.25) / 4))
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4) + math.log(0.5)) / 4
    assert logloss(y, p) == pytest.approx(expected)
    # 0.5 counts as predicting correct, so the last row is wrong.
    assert accuracy(y, p) == pytest.approx(0.5)


def test_logloss_is_clipped_and_finite():
    assert math.isfinite(logloss([1, 0], [0.0, 1.0]))
    assert logloss([1, 0], [0.0, 1.0]) == pytest.approx(-math.log(1e-15), rel=1e-3)


def test_ece_by_hand():
    # Bin [0.2, 0.3): two rows, mean p 0.25, mean y 0.5 -> gap 0.25 with weight 2/4.
    # Bin [0.9, 1.0]: p 0.9 and 1.0 (the last bin includes 1), mean p 0.95, mean y 1 -> 0.05.
    y = [0, 1, 1, 1]
    p = [0.2, 0.3 - 1e-9, 0.9, 1.0]
    assert ece(y, p) == pytest.approx(0.5 * 0.25 + 0.5 * 0.05, abs=1e-8)
    assert ece([0, 1], [0.0, 1.0]) == 0.0


def test_all_metrics_has_every_key():
    out = all_metrics([0, 1, 1], [0.2, 0.7, 0.6])
    assert set(out) == {"auc", "rmse", "logloss", "accuracy", "ece"}
    assert out["auc"] == 1.0


@pytest.mark.parametrize(
    ("y", "p", "needle"),
    [
        ([0, 1], [0.5], "has 1 values"),
        ([], [], "empty"),
        ([0, 2], [0.1, 0.2], "0 or 1"),
        ([0, 1], [0.1, 1.5], "probabilities"),
        ([0, 1], [0.1, float("nan")], "probabilities"),
    ],
)
def test_bad_input_is_invalid(y, p, needle):
    with pytest.raises(InvalidInput) as info:
        rmse(y, p)
    assert needle in str(info.value)
