"""Quality of a search against a known (ground-truth) Pareto front, e.g. from full factorial.

* :func:`igd_plus`: IGD+ (Ishibuchi, Masuda, Tanigaki and Nojima, EMO 2015), the mean over the
  reference front's points ``z`` of the distance to the nearest found point ``a``, where only
  the objectives in which ``a`` is *worse* than ``z`` count:
  ``d+(z, a) = sqrt(sum_j max(a_j - z_j, 0) ** 2)``. 0 means the reference front is covered
  (every reference point is matched or dominated). Unlike IGD it is weakly Pareto compliant.
* :func:`hypervolume_ratio`: hypervolume of the found front over that of the true front, both
  against the same reference point.
* :func:`true_front_share`: the share of the true front's compositions that were found.
* :func:`convergence`: the three, cumulatively, generation by generation.

Normalisation (IGD+): by default each objective is divided by the reference front's range in
it (max - min over the reference front; a range of 0 is replaced by 1) before distances are
taken, so objectives in milliseconds and millijoules weigh alike and the value is unit-free.
Shifting does not matter (only differences enter). ``normalize=False`` uses raw values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from chiplet_dse.errors import InputError
from chiplet_dse.optimize.analytics.rules import _is_int, as_compositions
from chiplet_dse.optimize.pareto import (
    _objectives,
    hypervolume,
    pareto_front_mask,
    reference_point,
)

#: How :func:`convergence` chooses its shared reference point when none is given.
REFERENCE_RULE = (
    "per objective, over the true front: the worst value plus 0.1 x (worst - best) "
    "(chiplet_dse.optimize.reference_point of the true front)"
)
NORMALIZATION = "IGD+ with each objective divided by the true (reference) front's range"

# IGD+ compares every reference point with every found point; chunks bound the memory.
_CHUNK_ELEMENTS = 4_000_000


def _ref(ref: Any, m: int, field: str = "ref") -> np.ndarray:
    arr = _objectives(np.atleast_1d(np.asarray(ref, dtype=object))[None, :], field)[0]
    if arr.size != m:
        raise InputError(f"expected {m} values, one per objective", field=field)
    return arr


def _scale(reference_front: np.ndarray) -> np.ndarray:
    span = np.ptp(reference_front, axis=0)
    return np.where(span > 0, span, 1.0)


def _igd_plus(A: np.ndarray, Z: np.ndarray, scale: np.ndarray) -> float:
    A, Z = A / scale, Z / scale
    chunk = max(1, _CHUNK_ELEMENTS // max(1, A.shape[0] * A.shape[1]))
    total = 0.0
    for start in range(0, len(Z), chunk):
        z = Z[start : start + chunk]
        worse = np.maximum(A[None, :, :] - z[:, None, :], 0.0)
        total += float(np.sqrt((worse**2).sum(axis=2)).min(axis=1).sum())
    return total / len(Z)


def igd_plus(front: Any, reference_front: Any, *, normalize: bool = True) -> float:
    """IGD+ of the found points ``front`` against ``reference_front`` (both ``(n, m)``,
    minimised); objectives are divided by the reference front's ranges unless
    ``normalize`` is False (see the module's notes). Dominated found points do no harm."""
    A = _objectives(front, "front")
    Z = _objectives(reference_front, "reference_front")
    if len(Z) == 0:
        raise InputError("the reference front is empty", field="reference_front")
    if len(A) == 0:
        raise InputError("IGD+ of an empty front is undefined", field="front")
    if A.shape[1] != Z.shape[1]:
        raise InputError(
            f"{A.shape[1]} objectives against the reference front's {Z.shape[1]}", field="front"
        )
    if not isinstance(normalize, bool):
        raise InputError("normalize must be true or false", field="normalize")
    scale = _scale(Z) if normalize else np.ones(Z.shape[1])
    return _igd_plus(A, Z, scale)


def hypervolume_ratio(front: Any, true_front: Any, ref: Any) -> float:
    """Hypervolume of ``front`` divided by that of ``true_front``, both against ``ref``."""
    T = _objectives(true_front, "true_front")
    if len(T) == 0:
        raise InputError("the true front is empty", field="true_front")
    r = _ref(ref, T.shape[1])
    A = _objectives(front, "front")
    if len(A) and A.shape[1] != T.shape[1]:
        raise InputError(
            f"{A.shape[1]} objectives against the true front's {T.shape[1]}", field="front"
        )
    true_hv = hypervolume(T, r)
    if true_hv <= 0:
        raise InputError("no true-front point dominates the reference point", field="ref")
    return hypervolume(A, r) / true_hv if len(A) else 0.0


def _composition_set(value: Any, field: str) -> set[tuple[int, ...]]:
    return {tuple(int(v) for v in row) for row in as_compositions(value, field)}


def true_front_share(found_compositions: Any, true_front_compositions: Any) -> float:
    """Share of the distinct compositions of the true front that are among the found ones."""
    true = _composition_set(true_front_compositions, "true_front_compositions")
    if not true:
        raise InputError("the true front is empty", field="true_front_compositions")
    found = _composition_set(found_compositions, "found_compositions")
    return len(true & found) / len(true)


def convergence(
    true_F: Any,
    true_compositions: Any,
    designs_by_generation: Sequence[tuple[int, Sequence[tuple[Sequence[int], Sequence[float]]]]],
    *,
    ref: Any = None,
    normalize: bool = True,
) -> dict[str, Any]:
    """How a search closed in on the true front, generation by generation.

    ``true_F`` (``(k, m)``) and ``true_compositions`` (``(k, 4)``) describe the true front;
    dominated rows are dropped, so the whole evaluated space may be passed.
    ``designs_by_generation`` is an ordered list of ``(generation, [(composition, objective
    vector), ...])`` with strictly increasing generation numbers.

    Each entry is cumulative: all designs seen up to and including that generation (a
    composition seen again keeps its first objective vector). It gives the designs seen, the
    found front's size and hypervolume, the hypervolume ratio against the true front, IGD+
    (None while nothing was found) and how many of the true front's compositions were found
    and their share. All hypervolumes use one reference point: ``ref`` or, by default, the
    rule in :data:`REFERENCE_RULE` (found points beyond it add nothing). IGD+ is normalised as
    :func:`igd_plus` describes. ``final`` is the last entry (None without generations).
    """
    T_all = _objectives(true_F, "true_F")
    C_all = as_compositions(true_compositions, "true_compositions")
    if len(T_all) == 0:
        raise InputError("the true front is empty", field="true_F")
    if len(C_all) != len(T_all):
        raise InputError(
            f"{len(C_all)} compositions for {len(T_all)} objective vectors",
            field="true_compositions",
        )
    m = T_all.shape[1]
    keep = pareto_front_mask(T_all)
    T, true_set = T_all[keep], {tuple(int(v) for v in row) for row in C_all[keep]}
    r = reference_point(T) if ref is None else _ref(ref, m)
    true_hv = hypervolume(T, r)
    if true_hv <= 0:
        raise InputError("no true-front point dominates the reference point", field="ref")
    if not isinstance(normalize, bool):
        raise InputError("normalize must be true or false", field="normalize")
    scale = _scale(T) if normalize else np.ones(m)

    if isinstance(designs_by_generation, str | bytes) or not isinstance(
        designs_by_generation, Sequence
    ):
        raise InputError("expected a list of (generation, designs)", field="designs_by_generation")
    seen: set[tuple[int, ...]] = set()
    front_F = np.zeros((0, m))
    entries: list[dict[str, Any]] = []
    previous: int | None = None
    for entry in designs_by_generation:
        if isinstance(entry, str | bytes) or not isinstance(entry, Sequence) or len(entry) != 2:
            raise InputError("expected (generation, designs)", field="designs_by_generation")
        generation, designs = entry
        if not _is_int(generation) or (previous is not None and generation <= previous):
            raise InputError(
                f"generations must be strictly increasing integers, got {generation!r}",
                field="designs_by_generation",
            )
        previous = int(generation)
        if isinstance(designs, str | bytes) or not isinstance(designs, Sequence):
            raise InputError(
                f"generation {generation}: expected a list of (composition, objectives)",
                field="designs_by_generation",
            )
        new_rows = []
        for design in designs:
            if (
                isinstance(design, str | bytes)
                or not isinstance(design, Sequence)
                or len(design) != 2
            ):
                raise InputError(
                    f"generation {generation}: expected (composition, objectives)",
                    field="designs_by_generation",
                )
            composition = tuple(
                int(v) for v in as_compositions([design[0]], "designs_by_generation")[0]
            )
            values = _objectives([design[1]], "designs_by_generation")[0]
            if values.size != m:
                raise InputError(
                    f"generation {generation}: {values.size} objectives, expected {m}",
                    field="designs_by_generation",
                )
            if composition not in seen:
                seen.add(composition)
                new_rows.append(values)
        if new_rows:
            # Dominated points never return to the front, so the front so far plus the new
            # designs is all the next front needs.
            pool = np.vstack([front_F, np.array(new_rows)])
            front_F = pool[pareto_front_mask(pool)]
        hv = hypervolume(front_F, r) if len(front_F) else 0.0
        found = len(true_set & seen)
        entries.append(
            {
                "generation": int(generation),
                "designs_seen": len(seen),
                "front_size": len(front_F),
                "hypervolume": float(hv),
                "hypervolume_ratio": float(hv / true_hv),
                "igd_plus": _igd_plus(front_F, T, scale) if len(front_F) else None,
                "true_front_found": found,
                "true_front_share": found / len(true_set),
            }
        )
    return {
        "n": len(seen),
        "true_front_size": len(T),
        "true_front_compositions": len(true_set),
        "true_hypervolume": float(true_hv),
        "reference_point": [float(v) for v in r],
        "reference_rule": REFERENCE_RULE if ref is None else "given",
        "normalization": NORMALIZATION if normalize else "none (raw objective values)",
        "generations": entries,
        "final": entries[-1] if entries else None,
    }
