"""Invariants of the metrics, driven by hypothesis."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from zoped.engine.metrics import accuracy, auc, ece, logloss, rmse

probs = st.floats(0.0, 1.0, allow_nan=False)
# On a grid, transforms such as 1 - p cannot merge two distinct scores by rounding.
grid_probs = st.integers(0, 1000).map(lambda k: k / 1000)


@st.composite
def scored(draw, min_size=2, elements=probs):
    n = draw(st.integers(min_size, 60))
    y = draw(arrays(np.int8, n, elements=st.integers(0, 1)))
    p = draw(arrays(np.float64, n, elements=elements))
    return y, p


@st.composite
def two_classes(draw):
    y, p = draw(scored(elements=grid_probs))
    assume(0 < y.sum() < y.size)
    return y, p


@given(two_classes())
def test_auc_is_in_unit_interval(data):
    y, p = data
    assert 0.0 <= auc(y, p) <= 1.0


@given(two_classes())
def test_auc_of_flipped_labels_is_one_minus_auc(data):
    y, p = data
    assert auc(1 - y, p) == np_approx(1 - auc(y, p))


@given(two_classes())
def test_auc_is_invariant_to_strictly_monotone_transforms(data):
    y, p = data
    # sqrt and a logit-like squash keep the order and the ties of p.
    assert auc(y, np.sqrt(p)) == np_approx(auc(y, p))
    assert auc(y, p**3 / (p**3 + (1 - p) ** 3 + 1e-300)) == np_approx(auc(y, p))


@given(two_classes())
def test_reversing_the_scores_reverses_the_auc(data):
    y, p = data
    assert auc(y, 1 - p) == np_approx(1 - auc(y, p))


@given(scored(min_size=1))
def test_error_metrics_are_bounded(data):
    y, p = data
    assert 0.0 <= rmse(y, p) <= 1.0
    assert logloss(y, p) >= 0.0
    assert math.isfinite(logloss(y, p))
    assert 0.0 <= accuracy(y, p) <= 1.0
    assert 0.0 <= ece(y, p) <= 1.0


@given(scored(min_size=1))
def test_perfect_predictions_score_perfectly(data):
    y, _ = data
    p = y.astype(np.float64)
    assert rmse(y, p) == 0.0
    assert accuracy(y, p) == 1.0
    assert ece(y, p) == 0.0
    assert logloss(y, p) < 1e-12


@given(scored(min_size=1))
def test_rmse_squared_is_the_brier_score(data):
    y, p = data
    assert rmse(y, p) ** 2 == np_approx(float(np.mean((y - p) ** 2)))


def np_approx(value):
    import pytest

    return pytest.approx(value, abs=1e-9)
