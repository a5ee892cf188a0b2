"""The design space: counting, enumeration, ranking, repair, sampling, validation."""

from __future__ import annotations

import json
import time
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from chiplet_dse.errors import InputError
from chiplet_dse.optimize import DesignSpace


@st.composite
def spaces(draw, top: int = 6) -> DesignSpace:
    """Small valid spaces (so enumerating them stays cheap)."""
    lower = [draw(st.integers(0, top)) for _ in range(4)]
    upper = [draw(st.integers(lo, top)) for lo in lower]
    total_max = draw(st.integers(max(1, sum(lower)), max(1, sum(lower)) + 3 * top))
    total_min = draw(st.integers(1, total_max))
    if sum(upper) < total_min:  # empty: give the last type enough room
        upper[3] += total_min - sum(upper)
    return DesignSpace(tuple(lower), tuple(upper), total_min, total_max)


def test_default_space_is_cascades_twelve_chiplets() -> None:
    space = DesignSpace()
    items = list(space.compositions())
    assert space.size() == len(items) == 455
    assert items == sorted(set(items))
    assert all(sum(c) == 12 and space.contains(c) for c in items)
    assert items[0] == (0, 0, 0, 12) and items[-1] == (12, 0, 0, 0)


@settings(max_examples=150, deadline=None)
@given(spaces())
def test_size_counts_the_enumeration(space: DesignSpace) -> None:
    items = list(space.compositions())
    assert space.size() == len(items)
    assert items == sorted(set(items))
    assert all(space.contains(c) for c in items)
    for i in {0, len(items) // 2, len(items) - 1}:
        assert space.composition_at(i) == items[i]
    # The tightened bounds are reached, so the search's variable ranges waste nothing.
    lo, hi = space.bounds()
    columns = np.array(items).T
    assert tuple(columns.min(axis=1)) == lo and tuple(columns.max(axis=1)) == hi


def test_brute_force_count_on_a_mixed_space() -> None:
    space = DesignSpace((1, 0, 2, 0), (5, 3, 4, 7), 6, 11)
    brute = [
        (g, a, s, c)
        for g in range(6)
        for a in range(4)
        for s in range(5)
        for c in range(8)
        if g >= 1 and s >= 2 and 6 <= g + a + s + c <= 11
    ]
    assert list(space.compositions()) == brute
    assert space.size() == len(brute)


def test_huge_space_is_counted_and_sampled_fast() -> None:
    space = DesignSpace((0, 0, 0, 0), (1024,) * 4, 1, 4096)
    start = time.perf_counter()
    assert space.size() == 1025**4 - 1
    sample = space.sample(500, np.random.default_rng(3))
    assert time.perf_counter() - start < 2
    assert len({tuple(r) for r in sample}) == 500
    assert all(space.contains(r) for r in sample)


def test_contains() -> None:
    space = DesignSpace()
    assert space.contains((3, 3, 3, 3))
    assert space.contains(np.array([12, 0, 0, 0]))
    assert not space.contains((3, 3, 3, 2))  # 11 chiplets
    assert not space.contains((13, -1, 0, 0))
    assert not space.contains((3, 3, 3))
    assert not space.contains((3.0, 3, 3, 3))
    assert not space.contains("3,3,3,3")


finite_rows = arrays(
    np.float64,
    st.tuples(st.integers(0, 8), st.just(4)),
    elements=st.floats(-1e6, 1e6, allow_nan=False) | st.integers(-20, 40).map(float),
)


@settings(max_examples=150, deadline=None)
@given(spaces(), finite_rows)
def test_repair_is_feasible_and_idempotent(space: DesignSpace, X: np.ndarray) -> None:
    repaired = space.repair(X)
    assert repaired.shape == X.shape and repaired.dtype == np.int64
    assert all(space.contains(r) for r in repaired)
    assert np.array_equal(space.repair(repaired), repaired)
    assert np.array_equal(space.repair(X.copy()), repaired)  # deterministic


@settings(max_examples=50, deadline=None)
@given(spaces())
def test_repair_leaves_feasible_compositions_alone(space: DesignSpace) -> None:
    items = np.array(list(space.compositions()))
    assert np.array_equal(space.repair(items), items)
    assert np.array_equal(space.repair(items + 0.3), items)  # rounding, then nothing to fix


def test_repair_keeps_the_mix_and_reaches_the_total() -> None:
    space = DesignSpace()
    repaired = space.repair([[5, 3, 4, 6], [12.4, 0, 0, 0], [0, 0, 0, 0], [-3, 20, 1, 1]])
    # 18 chiplets: all four shift down by 1.5, the two half units go to the earlier types.
    assert repaired.tolist() == [[4, 2, 2, 4], [12, 0, 0, 0], [3, 3, 3, 3], [0, 12, 0, 0]]
    assert space.repair(np.zeros((0, 4))).shape == (0, 4)
    with pytest.raises(InputError):
        space.repair([[np.nan, 1, 1, 1]])
    with pytest.raises(InputError):
        space.repair([1, 2, 3, 4])


@settings(max_examples=60, deadline=None)
@given(spaces(), st.integers(0, 60), st.integers(0, 2**32))
def test_sample_is_distinct_feasible_and_seeded(space: DesignSpace, n: int, seed: int) -> None:
    sample = space.sample(n, np.random.default_rng(seed))
    rows = [tuple(r) for r in sample]
    assert len(rows) == min(n, space.size()) == len(set(rows))
    assert all(space.contains(r) for r in rows)
    again = space.sample(n, np.random.default_rng(seed))
    assert np.array_equal(sample, again)


def test_sample_is_uniform() -> None:
    space = DesignSpace(upper=(2, 2, 2, 2), total_min=2, total_max=2)  # 10 compositions
    rng = np.random.default_rng(0)
    counts = Counter(tuple(r) for _ in range(3000) for r in space.sample(3, rng))
    assert len(counts) == space.size() == 10
    assert all(800 < n < 1000 for n in counts.values())  # 900 expected each


def test_sample_needs_a_generator() -> None:
    with pytest.raises(TypeError):
        DesignSpace().sample(3, np.random.RandomState(0))  # type: ignore[arg-type]
    with pytest.raises(InputError):
        DesignSpace().sample(-1, np.random.default_rng(0))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lower": (-1, 0, 0, 0)}, "lower"),
        ({"upper": (12, 12, 12, -1)}, "upper"),
        ({"lower": (5, 0, 0, 0), "upper": (4, 12, 12, 12)}, "lower"),
        ({"upper": (2000, 12, 12, 12)}, "upper"),
        ({"lower": (0, 0, 0)}, "lower"),
        ({"upper": "12,12,12,12"}, "upper"),
        ({"lower": (0.5, 0, 0, 0)}, "lower"),
        ({"total_min": 13}, "total_min"),
        ({"total_min": 0, "total_max": 0}, "total_max"),
        ({"total_min": 0}, "total_min"),
        ({"total_max": 10**6}, "total_max"),
        ({"total_max": True}, "total_max"),
        ({"lower": (4, 4, 4, 4)}, "lower"),  # needs 16 > 12 chiplets
        ({"upper": (2, 2, 2, 2)}, "upper"),  # allows 8 < 12
    ],
)
def test_invalid_spaces_name_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(InputError) as err:
        DesignSpace(**kwargs)
    assert err.value.field == field


def test_dict_round_trip() -> None:
    space = DesignSpace((1, 0, 0, 2), (8, 6, 4, 9), 5, 16)
    assert DesignSpace.from_dict(json.loads(json.dumps(space.to_dict()))) == space
    assert DesignSpace.from_dict(DesignSpace().to_dict()) == DesignSpace()
    assert hash(DesignSpace.from_dict(space.to_dict())) == hash(space)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"lower": [0] * 4, "upper": [12] * 4, "total_min": 12}, "total_max"),
        ({"lower": [0] * 4, "upper": [12] * 4, "total_min": 12, "total_max": 12, "x": 1}, "x"),
        ({"lower": [0] * 4, "upper": [12] * 4, "total_min": "12", "total_max": 12}, "total_min"),
        ([1, 2], "space"),
    ],
)
def test_from_dict_rejects_bad_documents(data: object, field: str) -> None:
    with pytest.raises(InputError) as err:
        DesignSpace.from_dict(data)
    assert err.value.field == field
