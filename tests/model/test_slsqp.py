"""The lockstep SLSQP driver takes exactly the steps of scipy.optimize.minimize."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import LinearConstraint, minimize

from chiplet_dse.model.slsqp import minimize_many


def scipy_reference(fun, x0, g):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return minimize(
            fun, x0, bounds=[(0.0, 1.0)] * g, constraints=[LinearConstraint(np.ones(g), 1.0, 1.0)]
        ).x


def objective(target, weights, ripple):
    def f(x):
        x = np.asarray(x)
        return float(np.sum(weights * (x - target) ** 2) + ripple * np.sin(5 * x).sum()) * 1e3

    return f


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(0, 2**32 - 1))
def test_same_iterates_as_scipy(g, seed):
    rng = np.random.default_rng(seed)
    f = objective(rng.random(g), rng.random(g) * 10, rng.random())
    starts = [
        list(rng.random(g) / g),
        [1.0] + [0.0] * (g - 1),  # on a vertex, as CASCADE's one-hot starts
        list(rng.random(g) * 1.6 - 0.3),  # partly outside the bounds: clipped first
        [1 / g] * g,
    ]
    got = minimize_many(starts, lambda pts: [f(p) for p in pts])
    for x0, x in zip(starts, got, strict=True):
        assert np.array_equal(x, scipy_reference(f, x0, g))


def test_runs_do_not_influence_each_other():
    f = objective(np.array([0.2, 0.5, 0.3]), np.array([1.0, 2.0, 3.0]), 0.1)
    starts = [[0.3, 0.3, 0.4], [1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]
    together = minimize_many(starts, lambda pts: [f(p) for p in pts])
    alone = [minimize_many([s], lambda pts: [f(p) for p in pts])[0] for s in starts]
    for a, b in zip(together, alone, strict=True):
        assert np.array_equal(a, b)


def test_batches_every_pending_point():
    f = objective(np.array([0.2, 0.8]), np.array([1.0, 1.0]), 0.0)
    sizes = []

    def evaluate(points):
        sizes.append(len(points))
        return [f(p) for p in points]

    minimize_many([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0]], evaluate)
    assert sizes[0] == 3  # the three starting values in one call
    assert max(sizes) >= 6  # three gradients (two points each) together


@pytest.mark.parametrize("start", [[1.0], [0.3], [2.0]])
def test_single_variable(start):
    f = objective(np.array([0.7]), np.array([1.0]), 0.0)
    got = minimize_many([start], lambda pts: [f(p) for p in pts])[0]
    assert np.array_equal(got, scipy_reference(f, start, 1))
