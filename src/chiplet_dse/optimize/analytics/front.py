"""Pareto analysis of a run: rank distribution, hypervolume, extreme, knee and EDP designs,
and what the front is made of."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chiplet_dse.errors import InputError
from chiplet_dse.optimize.analytics.rules import as_compositions, counts_dict
from chiplet_dse.optimize.pareto import _objectives, hypervolume, knee_point, reference_point
from chiplet_dse.optimize.space import COUNT_NAMES

#: The energy-delay product is execution time x energy; both must be among the objectives.
EDP_INPUTS = ("execution_time_ms", "energy_mj")

#: How the default reference point is chosen (see :func:`chiplet_dse.optimize.reference_point`).
REFERENCE_RULE = (
    "per objective, over all the run's designs: the worst value plus 0.1 x (worst - best)"
)


def as_ranks(ranks: Any, n: int) -> np.ndarray:
    """``ranks`` as ``n`` int64 Pareto ranks >= 1, or InputError (field ``ranks``)."""
    arr = np.asarray(ranks)
    if arr.size == 0:
        arr = arr.reshape(0).astype(np.int64)
    if arr.ndim != 1 or arr.dtype.kind not in "iu":
        raise InputError("expected a list of integer Pareto ranks", field="ranks")
    if len(arr) != n:
        raise InputError(f"{len(arr)} ranks for {n} designs", field="ranks")
    if (arr < 1).any():
        raise InputError("Pareto ranks start at 1", field="ranks")
    return arr.astype(np.int64)


def as_objective_names(names: Any, m: int) -> list[str]:
    """``names`` as ``m`` distinct strings, or InputError (field ``objective_names``)."""
    if isinstance(names, str | bytes) or not isinstance(names, Sequence):
        raise InputError("expected a list of objective names", field="objective_names")
    names = list(names)
    if len(names) != m:
        raise InputError(f"{len(names)} names for {m} objective columns", field="objective_names")
    if not all(isinstance(s, str) and s for s in names) or len(set(names)) != m:
        raise InputError("objective names must be distinct strings", field="objective_names")
    if set(names) & {*COUNT_NAMES, "total_chiplets", "index", "rank", "edp"}:
        raise InputError(
            "objective names must differ from the count names and index/rank/edp",
            field="objective_names",
        )
    return names


def design_dict(
    index: int,
    composition: Sequence[int],
    values: Sequence[float],
    names: Sequence[str],
    rank: int | None = None,
) -> dict[str, Any]:
    """One design as ``{"index", "rank", gpu.., convolution, "total_chiplets", objectives..}``."""
    out: dict[str, Any] = {"index": int(index)}
    if rank is not None:
        out["rank"] = int(rank)
    out.update(counts_dict(composition))
    out["total_chiplets"] = int(sum(int(c) for c in composition))
    out.update({name: float(v) for name, v in zip(names, values, strict=True)})
    return out


def _stats(values: np.ndarray) -> dict[str, float | int]:
    return {"mean": float(values.mean()), "min": int(values.min()), "max": int(values.max())}


def front_analysis(
    F: Any,
    compositions: Any,
    ranks: Any,
    objective_names: Sequence[str],
    *,
    reference: Any = None,
) -> dict[str, Any]:
    """Pareto analysis of a run's designs.

    ``F`` is ``(n, m)`` objective values (minimised), ``compositions`` the ``(n, 4)`` counts,
    ``ranks`` the Pareto ranks (the front = rank 1) and ``objective_names`` the ``m`` names.

    Returns the rank distribution (``{"1": count, "2": ...}``, string keys as in JSON), the
    front size, the front's hypervolume against ``reference`` (default: the rule in
    :data:`REFERENCE_RULE`, i.e. :func:`~chiplet_dse.optimize.reference_point` of all designs;
    returned as ``reference_point``), the extreme front design of each objective (ties broken
    by the other objectives in order, then by index), the knee design
    (:func:`~chiplet_dse.optimize.knee_point` over the front), the design with the best
    energy-delay product over all designs (None unless both ``execution_time_ms`` and
    ``energy_mj`` are objectives; ties to the lower rank, then index) and the front's
    composition: per type the mean, min and max count and the share of front designs that
    use the type at all, plus the total's mean, min and max.
    """
    F_arr = _objectives(F, "F")
    n, m = F_arr.shape
    if n == 0:
        raise InputError("a Pareto analysis needs at least one design", field="F")
    names = as_objective_names(objective_names, m)
    C = as_compositions(compositions)
    if len(C) != n:
        raise InputError(f"{len(C)} compositions for {n} designs", field="compositions")
    R = as_ranks(ranks, n)
    front = np.flatnonzero(R == 1)
    if len(front) == 0:
        raise InputError("no design has Pareto rank 1", field="ranks")

    if reference is None:
        ref = reference_point(F_arr)
        rule = REFERENCE_RULE
    else:
        ref = _objectives(np.atleast_1d(np.asarray(reference, dtype=object))[None, :], "reference")
        ref = ref[0]
        if ref.size != m:
            raise InputError(f"expected {m} values, one per objective", field="reference")
        rule = "given"

    def design(i: int) -> dict[str, Any]:
        return design_dict(i, C[i], F_arr[i], names, int(R[i]))

    extremes = {}
    for j, name in enumerate(names):
        # np.lexsort sorts by the last key first: this objective, then the others in order.
        others = [F_arr[front, k] for k in range(m) if k != j]
        keys = [front, *others[::-1], F_arr[front, j]]
        extremes[name] = design(int(front[np.lexsort(keys)[0]]))

    best_edp = None
    if all(name in names for name in EDP_INPUTS):
        edp = F_arr[:, names.index(EDP_INPUTS[0])] * F_arr[:, names.index(EDP_INPUTS[1])]
        best = int(np.lexsort((np.arange(n), R, edp))[0])
        best_edp = design(best) | {"edp": float(edp[best])}

    P = C[front]
    composition: dict[str, Any] = {}
    for t, type_name in enumerate(COUNT_NAMES):
        composition[type_name] = _stats(P[:, t]) | {"share_using": float((P[:, t] > 0).mean())}
    composition["total_chiplets"] = _stats(P.sum(axis=1))

    levels, counts = np.unique(R, return_counts=True)
    return {
        "n": n,
        "objectives": names,
        "rank_distribution": {str(int(r)): int(c) for r, c in zip(levels, counts, strict=True)},
        "front_size": len(front),
        "reference_point": [float(v) for v in ref],
        "reference_rule": rule,
        "hypervolume": float(hypervolume(F_arr[front], ref)),
        "extremes": extremes,
        "knee": design(int(front[knee_point(F_arr[front])])),
        "best_edp": best_edp,
        "front_composition": composition,
    }
