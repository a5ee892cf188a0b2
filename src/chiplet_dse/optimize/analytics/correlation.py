"""Distance correlation between chiplet counts and objectives, with permutation tests.

Distance correlation (Székely, Rizzo and Bakirov 2007) is 0 exactly when two variables are
independent (in the population) and 1 when one is a similarity transform of the other, so it
also sees non-monotone dependence that Pearson or Spearman miss. It is computed with the
``dcor`` package's O(n log n) "mergesort" algorithm (exact for one-dimensional variables), so
it uses every design even for large runs.

The p-value is a permutation test of independence: the statistic (the distance correlation)
is recomputed with the objective's values shuffled, ``permutations`` times, and

    p = (1 + number of shuffles with a statistic >= the observed one) / (1 + permutations),

so with the default 199 shuffles the smallest possible p-value is 0.005. Shuffles are drawn
from ``numpy.random.default_rng(seed)``, so results are reproducible; the same shuffles serve
every (variable, objective) pair. For runs with more than ``permutation_cap`` designs
(default :data:`PERMUTATION_CAP` = 2,000) the test runs on a uniform random subsample of that
many designs, drawn without replacement from the same generator (the same subsample for every
pair); ``dcor`` is still computed on all designs, and ``test_statistic`` is the subsample's.

A constant variable or objective carries no information: its distance correlation is reported
as 0 and its p-value as 1.

``dcor`` (and numba, which it compiles on import, a few seconds) is imported on first use, so
importing the analytics package stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from chiplet_dse.errors import InputError
from chiplet_dse.optimize.analytics.rules import _is_int, as_compositions
from chiplet_dse.optimize.space import COUNT_NAMES

#: The variables correlated with each objective: the four counts and their sum.
VARIABLES = (*COUNT_NAMES, "total_chiplets")
#: Largest number of designs the permutation test runs on (a seeded subsample beyond it).
PERMUTATION_CAP = 2000
#: Largest number of permutations accepted.
MAX_PERMUTATIONS = 10_000


def _dcor(x: np.ndarray, y: np.ndarray) -> float:
    import dcor  # slow to import (numba compiles); only needed here

    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return 0.0
    value = float(dcor.distance_correlation(x, y, method="mergesort"))
    return min(max(value, 0.0), 1.0)  # round-off can leave it a hair outside [0, 1]


def distance_correlations(
    compositions: Any,
    objectives: Mapping[str, Any],
    *,
    permutations: int = 199,
    seed: int = 0,
    permutation_cap: int = PERMUTATION_CAP,
) -> dict[str, Any]:
    """Distance correlation and permutation-test p-value of each variable (each chiplet count
    and ``total_chiplets``) with each objective.

    ``compositions`` are ``(n, 4)`` counts, ``objectives`` maps a name to ``n`` values. The
    result's ``results[variable][objective]`` is ``{"dcor", "p_value", "test_statistic"}``.
    """
    C = as_compositions(compositions)
    n = len(C)
    if not isinstance(objectives, Mapping) or not objectives:
        raise InputError("expected {objective name: values}", field="objectives")
    columns: dict[str, np.ndarray] = {}
    for name, values in objectives.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"objective names must be strings, got {name!r}", field="objectives")
        try:
            arr = np.asarray(values, dtype=float)
        except (TypeError, ValueError):
            raise InputError(f"{name}: values must be numbers", field="objectives") from None
        if arr.ndim != 1 or len(arr) != n:
            raise InputError(f"{name}: expected {n} values, one per design", field="objectives")
        if not np.isfinite(arr).all():
            raise InputError(f"{name}: values must be finite", field="objectives")
        columns[name] = arr
    if not _is_int(permutations) or not 1 <= permutations <= MAX_PERMUTATIONS:
        raise InputError(
            f"permutations must be an integer from 1 to {MAX_PERMUTATIONS}, got {permutations!r}",
            field="permutations",
        )
    if not _is_int(seed) or seed < 0:
        raise InputError(f"seed must be an integer >= 0, got {seed!r}", field="seed")
    if not _is_int(permutation_cap) or permutation_cap < 2:
        raise InputError(
            f"permutation_cap must be an integer >= 2, got {permutation_cap!r}",
            field="permutation_cap",
        )

    variables = {name: C[:, i].astype(float) for i, name in enumerate(COUNT_NAMES)}
    variables["total_chiplets"] = C.sum(axis=1).astype(float)

    rng = np.random.default_rng(int(seed))
    subsampled = n > permutation_cap
    sample = np.sort(rng.choice(n, int(permutation_cap), replace=False)) if subsampled else None
    m = int(permutation_cap) if subsampled else n
    shuffles = [rng.permutation(m) for _ in range(int(permutations))]

    results: dict[str, dict[str, dict[str, float]]] = {}
    for var_name, x in variables.items():
        results[var_name] = {}
        x_test = x[sample] if sample is not None else x
        for obj_name, y in columns.items():
            y_test = y[sample] if sample is not None else y
            statistic = _dcor(x_test, y_test)
            if statistic == 0.0:
                p_value = 1.0
            else:
                # Slack so that a shuffle reproducing the statistic up to round-off counts.
                threshold = statistic - 1e-12 * max(1.0, statistic)
                hits = sum(_dcor(x_test, y_test[s]) >= threshold for s in shuffles)
                p_value = (1 + hits) / (1 + int(permutations))
            results[var_name][obj_name] = {
                "dcor": statistic if sample is None else _dcor(x, y),
                "p_value": p_value,
                "test_statistic": statistic,
            }
    return {
        "n": n,
        "variables": list(VARIABLES),
        "objectives": list(columns),
        "method": "distance correlation (dcor, mergesort); permutation test",
        "permutations": int(permutations),
        "seed": int(seed),
        "permutation_cap": int(permutation_cap),
        "permutation_designs": m,
        "subsampled": subsampled,
        "min_p_value": 1 / (1 + int(permutations)),
        "results": results,
    }


__all__ = ["PERMUTATION_CAP", "VARIABLES", "distance_correlations"]
