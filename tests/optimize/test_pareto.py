"""Pareto ranks against the definition, exact hypervolumes, reference and knee points."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chiplet_dse.errors import InputError
from chiplet_dse.optimize import (
    hypervolume,
    knee_point,
    pareto_front_mask,
    pareto_ranks,
    reference_point,
)


def brute_ranks(F: np.ndarray) -> np.ndarray:
    """Peel fronts by the definition: a point is in the next front if nothing left dominates it."""

    def dominates(a: np.ndarray, b: np.ndarray) -> bool:
        return bool(np.all(a <= b) and np.any(a < b))

    ranks = np.zeros(len(F), dtype=int)
    left = set(range(len(F)))
    rank = 0
    while left:
        rank += 1
        front = {i for i in left if not any(dominates(F[j], F[i]) for j in left)}
        for i in front:
            ranks[i] = rank
        left -= front
    return ranks


@st.composite
def point_sets(draw, m: int | None = None) -> np.ndarray:
    m = draw(st.integers(1, 4)) if m is None else m
    n = draw(st.integers(0, 40))
    # A few small integers, so ties and duplicate points are common.
    values = st.integers(0, 5).map(float) | st.floats(-3, 3, allow_nan=False)
    return np.array(
        draw(st.lists(st.lists(values, min_size=m, max_size=m), min_size=n, max_size=n))
    )


@settings(max_examples=300, deadline=None)
@given(point_sets())
def test_ranks_match_the_definition(F: np.ndarray) -> None:
    F = F.reshape(len(F), -1) if F.size else np.zeros((0, 2))
    assert pareto_ranks(F).tolist() == brute_ranks(F).tolist()


@settings(max_examples=200, deadline=None)
@given(point_sets(m=2))
def test_two_objective_ranks_with_many_ties(F: np.ndarray) -> None:
    F = F.reshape(-1, 2)
    assert pareto_ranks(F).tolist() == brute_ranks(F).tolist()
    assert pareto_front_mask(F).tolist() == (brute_ranks(F) == 1).tolist()


def test_ranks_by_hand() -> None:
    F = [[1, 2], [1, 2], [2, 1], [2, 2], [3, 3], [0, 5]]
    assert pareto_ranks(F).tolist() == [1, 1, 1, 2, 3, 1]  # the duplicates share rank 1
    assert pareto_ranks(np.zeros((0, 3))).tolist() == []
    assert pareto_front_mask([[1, 1, 1], [0, 2, 1], [1, 1, 2]]).tolist() == [True, True, False]


def test_large_two_objective_ranking_is_fast() -> None:
    F = np.random.default_rng(0).random((50_000, 2))
    ranks = pareto_ranks(F)
    assert ranks.min() == 1 and len(ranks) == 50_000


def test_two_objective_hypervolume_by_hand() -> None:
    front = [[1, 3], [2, 2], [3, 1]]
    # Staircase under (4, 4): columns of width 1 and heights 1, 2, 3.
    assert hypervolume(front, [4, 4]) == pytest.approx(6.0)
    # Dominated points, duplicates and points beyond the reference change nothing.
    assert hypervolume([*front, [2.5, 2.5], [2, 2], [5, 0.5], [0.5, 4]], [4, 4]) == pytest.approx(
        6.0
    )
    assert hypervolume([[4, 1]], [4, 4]) == 0.0
    assert hypervolume(np.zeros((0, 2)), [1, 1]) == 0.0


def test_three_objective_hypervolume_known_cases() -> None:
    assert hypervolume([[1, 1, 1]], [2, 3, 4]) == pytest.approx(6.0)
    # Boxes of volume 4 and 2 overlapping in a unit cube.
    assert hypervolume([[0, 0, 1], [1, 1, 0]], [2, 2, 2]) == pytest.approx(5.0)
    # Inclusion-exclusion: three boxes of 4, pairwise overlaps of 2, a triple overlap of 1.
    pts = [[1, 0, 0], [0, 1, 0], [0, 0, 1]]
    assert hypervolume(pts, [2, 2, 2]) == pytest.approx(3 * 4 - 3 * 2 + 1)


@pytest.mark.parametrize("m", [2, 3, 4])
def test_hypervolume_matches_moocore(m: int) -> None:
    moocore = pytest.importorskip("moocore")  # pymoo's own hypervolume backend
    rng = np.random.default_rng(m)
    for _ in range(5):
        F = rng.integers(0, 6, (40, m)) / 5.0  # coarse grid: duplicates and dominated points
        ref = np.full(m, 0.9)  # some points lie beyond it
        expected = moocore.hypervolume(F[np.less(F, ref).all(axis=1)], ref=ref)
        assert hypervolume(F, ref) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_reference_point_rule() -> None:
    a = np.array([[1.0, 10.0], [3.0, 6.0]])
    b = np.array([[2.0, 4.0]])
    # max + 10% of the range, per objective, over both sets.
    assert reference_point(a, b).tolist() == pytest.approx([3.2, 10.6])
    assert reference_point(a, b, margin=0).tolist() == [3.0, 10.0]
    # All points equal in an objective: 10% of the value's magnitude, or 0.1 when it is 0.
    assert reference_point([[5.0, 0.0], [5.0, 0.0]]).tolist() == pytest.approx([5.5, 0.1])
    ref = reference_point(a, b)
    assert hypervolume(a, ref) > 0 and hypervolume(b, ref) > 0
    with pytest.raises(InputError):
        reference_point()
    with pytest.raises(InputError):
        reference_point(a, [[1.0, 2.0, 3.0]])
    with pytest.raises(InputError):
        reference_point(a, margin=-1)


def test_knee_point() -> None:
    # Normalised, (0.2, 0.2) is far nearer the ideal (0, 0) than either end.
    F = [[0.0, 1.0], [0.2, 0.2], [1.0, 0.0], [0.5, 0.5]]
    assert knee_point(F) == 1
    # Units do not matter: scale one objective by 1000.
    assert knee_point(np.array(F) * [1000.0, 1.0]) == 1
    # The dominated (6, 6) plays no part; the scaling spans the front only.
    assert knee_point([[0, 10], [10, 0], [6, 6], [5, 5]]) == 3
    assert knee_point([[3.0, 4.0]]) == 0
    with pytest.raises(InputError):
        knee_point(np.zeros((0, 2)))


@pytest.mark.parametrize("bad", [[[1.0, np.nan]], [[np.inf, 1.0]], [["a", 1.0]]])
def test_non_finite_values_are_refused(bad: list) -> None:
    for fn in (pareto_ranks, pareto_front_mask, knee_point):
        with pytest.raises(InputError):
            fn(bad)
    with pytest.raises(InputError):
        hypervolume(bad, [2, 2])
    with pytest.raises(InputError):
        hypervolume([[1, 1]], [np.nan, 2])
