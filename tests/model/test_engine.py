"""The engine's bit-exactness devices against the operations the original performs."""

from __future__ import annotations

import math
import statistics

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from chiplet_dse.model import DEFAULT_LIBRARY
from chiplet_dse.model.engine import DesignPlan, _pow2, _sample_variance, chip_sum, clean, expand

designs = st.tuples(*(st.integers(0, 20) for _ in range(4))).filter(lambda c: sum(c) > 0)
finite = st.floats(1e-12, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(designs, st.integers(1, 7), st.data())
def test_chip_sum_is_numpys_sum_over_the_chiplets(counts, rows, data):
    """Vectorised over rows == np.sum of each row's N-chiplet array, one by one."""
    plan = DesignPlan.build(counts, DEFAULT_LIBRARY)
    g = len(plan.types)
    values = np.array(data.draw(st.lists(finite, min_size=rows * g, max_size=rows * g)))
    values = values.reshape(rows, g)
    if data.draw(st.booleans()):
        values = np.asfortranarray(values)
    expected = [np.sum(np.array([row[t] for t in plan.chip_type])) for row in values]
    assert chip_sum(values, plan).tolist() == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(1e-9, 1.0), min_size=1, max_size=4), st.data())
def test_sample_variance_equals_statistics_variance(values, data):
    mult = data.draw(st.lists(st.integers(1, 12), min_size=len(values), max_size=len(values)))
    n = sum(mult)
    if n < 2:
        return
    expanded = np.array([v for v, m in zip(values, mult, strict=True) for _ in range(m)])
    assert _sample_variance(values, mult, n) == statistics.variance(expanded)


def test_sample_variance_nan_propagates():
    assert math.isnan(_sample_variance([math.nan, 0.5], [1, 1], 2))


@settings(max_examples=500, deadline=None)
@given(st.floats(-2.0, 2.0, allow_nan=False))
def test_pow2_is_libm_pow(d):
    assert _pow2(np.array([d]))[0] == math.pow(d, 2.0)


def test_pow2_matches_libm_on_a_million_values():
    rng = np.random.default_rng(7)
    d = rng.random(1_000_000) * 2 - 1
    expected = np.array([math.pow(v, 2.0) for v in d.tolist()])
    # x*x alone differs from pow in about 0.1 % of these
    assert np.count_nonzero(d * d != expected) > 100
    assert np.array_equal(_pow2(d.copy()), expected)


def test_expand_sums_products_without_fusing():
    plan = DesignPlan.build((3, 3, 3, 3), DEFAULT_LIBRARY)
    x = np.array([[0.1, 0.2, 0.3, 0.4]])
    total = 0.0
    for v in (0.1, 0.2, 0.3, 0.4):
        total = total + v * 3.0
    assert expand(x, plan).tolist() == [[v / total for v in (0.1, 0.2, 0.3, 0.4)]]


def test_clean_zeroes_tiny_fractions_and_renormalises():
    plan = DesignPlan.build((1, 0, 11, 0), DEFAULT_LIBRARY)
    w = np.array([1e-13, (1 - 1e-13) / 11])
    cleaned = clean(w, plan)
    assert cleaned[0] == 0.0
    assert cleaned[1] == w[1] / np.sum(np.array([0.0] + [w[1]] * 11))
