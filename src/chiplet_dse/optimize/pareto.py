"""Pareto ranking, hypervolume, reference point and knee point; every objective is minimised.

Point ``a`` dominates ``b`` when it is no worse in every objective and better in at least one;
identical points do not dominate each other, so they always share a rank.
"""

from __future__ import annotations

import bisect
from typing import Any

import numpy as np

from chiplet_dse.errors import InputError


def _objectives(F: Any, name: str = "objectives") -> np.ndarray:
    """``F`` as a finite float array of shape (n, m), m >= 1."""
    try:
        arr = np.asarray(F, dtype=float)
    except (TypeError, ValueError):
        raise InputError("objective values must be numbers", field=name) from None
    if arr.ndim == 1 and arr.size == 0:
        arr = arr.reshape(0, 1)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise InputError(f"expected an (n, m) array of objectives, got {arr.shape}", field=name)
    if not np.isfinite(arr).all():
        raise InputError("objective values must be finite", field=name)
    return arr


def pareto_ranks(F: Any) -> np.ndarray:
    """Non-dominated sorting rank of each row of ``F`` (int64): 1 = the Pareto front, 2 = the
    front once the first is removed, and so on.

    Two objectives take O(n log n): points are visited in lexicographic order, so a front
    dominates the next point exactly when its latest member's ``(f2, f1)`` is smaller, and
    those keys increase from front to front, so a binary search finds the point's front.
    More objectives use the definition directly: a point's rank is one more than the largest
    rank among the points that dominate it (all of which come earlier in lexicographic order).
    """
    F = _objectives(F)
    n, m = F.shape
    ranks = np.zeros(n, dtype=np.int64)
    if n == 0:
        return ranks
    if m == 1:
        return np.unique(F[:, 0], return_inverse=True)[1].astype(np.int64) + 1
    order = np.lexsort(F.T[::-1])
    if m == 2:
        keys: list[tuple[float, float]] = []  # per front, its latest member's (f2, f1)
        for i in order:
            key = (F[i, 1], F[i, 0])
            front = bisect.bisect_left(keys, key)
            if front == len(keys):
                keys.append(key)
            else:
                keys[front] = key
            ranks[i] = front + 1
        return ranks
    seen = F[order]
    for k, i in enumerate(order):
        earlier = seen[:k]
        dominators = np.all(earlier <= F[i], axis=1) & np.any(earlier < F[i], axis=1)
        ranks[i] = 1 + (ranks[order[:k][dominators]].max() if dominators.any() else 0)
    return ranks


def pareto_front_mask(F: Any) -> np.ndarray:
    """Boolean mask of the non-dominated rows of ``F``."""
    return pareto_ranks(F) == 1


def hypervolume(F: Any, ref: Any) -> float:
    """Volume dominated by the rows of ``F`` and bounded by the reference point ``ref``.

    Exact: a sweep for two objectives, slicing along the last objective for more. Points that
    do not strictly dominate ``ref`` add nothing.
    """
    F = _objectives(F)
    ref_arr = _objectives(np.atleast_1d(np.asarray(ref, dtype=object))[None, :], "ref")[0]
    if F.shape[0] and F.shape[1] != ref_arr.size:
        raise InputError(
            f"reference point has {ref_arr.size} objectives, the points {F.shape[1]}", field="ref"
        )
    F = F[np.less(F, ref_arr).all(axis=1)]
    if len(F) == 0:
        return 0.0
    return float(_hv(F[pareto_front_mask(F)], ref_arr))


def _hv(F: np.ndarray, ref: np.ndarray) -> float:
    m = F.shape[1]
    if m == 1:
        return float(ref[0] - F[:, 0].min())
    if m == 2:
        # Sorted by f1, each point adds the strip between its f2 and the best f2 so far.
        F = F[np.lexsort((F[:, 1], F[:, 0]))]
        best = np.minimum.accumulate(F[:, 1])
        previous = np.concatenate(([ref[1]], best[:-1]))
        return float(np.sum((ref[0] - F[:, 0]) * np.maximum(previous - F[:, 1], 0.0)))
    # Slab between consecutive levels of the last objective: the (m-1)-D volume of the points
    # at or below the slab's floor, times its height. Both cases measure a union of boxes, so
    # dominated points need no filtering here (they add nothing).
    F = F[np.argsort(F[:, -1], kind="stable")]
    levels = np.append(F[:, -1], ref[-1])
    total = 0.0
    for k in range(len(F)):
        height = levels[k + 1] - levels[k]
        if height > 0:
            total += _hv(F[: k + 1, :-1], ref[:-1]) * height
    return total


def reference_point(*fronts: Any, margin: float = 0.1) -> np.ndarray:
    """A reference point shared by several point sets, so their hypervolumes compare.

    Rule, per objective over all the given points: the worst (largest) value plus ``margin``
    times the objective's range (max - min). When every point has the same value, the range
    is replaced by the value's magnitude, or by 1 if the value is 0. Every point then strictly
    dominates the reference point, so even the extreme points of a front add volume.
    """
    if not isinstance(margin, int | float) or not np.isfinite(margin) or margin < 0:
        raise InputError(f"margin must be a finite number >= 0, got {margin!r}", field="margin")
    arrays = [_objectives(f, "fronts") for f in fronts]
    arrays = [a for a in arrays if len(a)]
    if not arrays:
        raise InputError("a reference point needs at least one point", field="fronts")
    if len({a.shape[1] for a in arrays}) > 1:
        raise InputError("all fronts need the same number of objectives", field="fronts")
    points = np.vstack(arrays)
    worst, best = points.max(axis=0), points.min(axis=0)
    spread = worst - best
    spread = np.where(spread > 0, spread, np.where(worst != 0, np.abs(worst), 1.0))
    return worst + margin * spread


def knee_point(F: Any) -> int:
    """Index (into ``F``) of the knee: the non-dominated point nearest the ideal point.

    Each objective is first scaled to [0, 1] over the non-dominated points (ideal = their
    minimum, nadir = their maximum; an objective on which they all agree scales to 0), so no
    objective wins by its units. Distance is Euclidean; ties go to the lowest index.
    """
    F = _objectives(F)
    if len(F) == 0:
        raise InputError("a knee point needs at least one point", field="objectives")
    front = np.flatnonzero(pareto_front_mask(F))
    P = F[front]
    low, span = P.min(axis=0), np.ptp(P, axis=0)
    scaled = (P - low) / np.where(span > 0, span, 1.0)
    return int(front[np.argmin(np.linalg.norm(scaled, axis=1))])
