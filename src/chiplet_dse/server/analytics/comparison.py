"""Comparing two runs: their Pareto fronts, hypervolumes, dominance and what they share.

Objectives
    The objectives both runs optimise, in the order execution time, energy, area. When they
    share fewer than two, execution time and energy (stored for every design) are used.

Fronts
    A run's front here is its designs non-dominated in those objectives. When the run was
    ranked on the same objectives (or a superset: its stored rank-1 designs always include
    every non-dominated value of a subset), the front is taken from its stored rank-1 designs;
    otherwise it is computed by one sorted pass over the run's designs in the database. Only
    fronts are held in memory; counts and intersections over all designs are SQL.

Reference point
    Both hypervolumes are measured against ONE reference point, so they compare:
    :func:`chiplet_dse.optimize.pareto.reference_point` over the union of both fronts, i.e.
    per objective the worst value on either front plus 10 % of the range of values across
    both fronts (or of the value's magnitude when all are equal). Every front point strictly
    dominates it, so the extreme points of each front add volume too. A hypervolume is thus
    only meaningful next to the other run's, not across comparisons.

Dominance
    ``dominated_share["a_by_b"]`` is the fraction of A's front points that some point of B's
    front dominates (no worse in every objective, better in one); None for an empty front.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
from django.db.models import Exists, OuterRef

from chiplet_dse.optimize.pareto import hypervolume, pareto_front_mask, reference_point
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun
from chiplet_dse.server.runs.services import get_run

#: Objectives in their canonical order; every design stores the first two.
ALL_OBJECTIVES = ("execution_time_ms", "energy_mj", "area_mm2")
BASE_OBJECTIVES = ("execution_time_ms", "energy_mj")
COUNT_FIELDS = ("gpu_count", "attention_count", "sparse_count", "convolution_count")
#: How a chiplet type is called in sentences.
TYPE_WORDS = {
    "gpu_count": "GPU",
    "attention_count": "attention",
    "sparse_count": "sparse",
    "convolution_count": "convolution",
}
OBJECTIVE_WORDS = {
    "execution_time_ms": ("execution time", "ms", "fastest"),
    "energy_mj": ("energy", "mJ", "most energy-efficient"),
    "area_mm2": ("area", "mm²", "smallest"),
}
REFERENCE_RULE = (
    "one reference point for both runs: per objective, the worst value on either front plus "
    "10% of the range of values across both fronts"
)
#: A chiplet type's mean count on the two fronts must differ by this much to be mentioned.
COMPOSITION_THRESHOLD = 1.0
_FIELDS = (*COUNT_FIELDS, "execution_time_ms", "energy_mj", "area_mm2", "evaluation_order")


def run_objectives(run: OptimizationRun) -> list[str]:
    return list(run.objectives or BASE_OBJECTIVES)


def shared_objectives(a: OptimizationRun, b: OptimizationRun) -> list[str]:
    """The objectives both runs optimise (canonical order), at least two."""
    shared = [o for o in ALL_OBJECTIVES if o in run_objectives(a) and o in run_objectives(b)]
    return shared if len(shared) >= 2 else list(BASE_OBJECTIVES)


def design_dict(row: dict[str, Any]) -> dict[str, Any]:
    """The JSON shape of a design: its composition and objective values."""
    d = {k: row[k] for k in (*COUNT_FIELDS, "execution_time_ms", "energy_mj")}
    if row.get("area_mm2") is not None:
        d["area_mm2"] = row["area_mm2"]
    return d


def load_front(run: OptimizationRun, objectives: list[str]) -> list[dict[str, Any]]:
    """The run's designs non-dominated in ``objectives`` (as dicts with ``evaluation_order``),
    sorted by the objectives, then evaluation order."""
    order = [*objectives, "evaluation_order"]
    designs = DesignPoint.objects.filter(run=run)
    if set(objectives) <= set(run_objectives(run)):
        rows = list(designs.filter(pareto_rank=1).order_by(*order).values(*_FIELDS))
        if set(objectives) != set(run_objectives(run)) and rows:
            mask = pareto_front_mask([[r[o] for o in objectives] for r in rows])
            rows = [r for r, keep in zip(rows, mask, strict=True) if keep]
        return rows
    # Ranked on other objectives (then the two base objectives are compared): one pass in
    # sorted order keeps each design whose second objective beats every earlier one (or that
    # repeats the last kept design's values).
    first, second = objectives
    front: list[dict[str, Any]] = []
    best = float("inf")
    for row in designs.order_by(*order).values(*_FIELDS).iterator(chunk_size=5000):
        value = row[second]
        if value < best or (front and (row[first], value) == (front[-1][first], front[-1][second])):
            front.append(row)
            best = min(best, value)
    return front


def _matrix(front: list[dict[str, Any]], objectives: list[str]) -> np.ndarray:
    return np.array([[d[o] for o in objectives] for d in front], dtype=float).reshape(
        -1, len(objectives)
    )


def dominated_share(P: np.ndarray, Q: np.ndarray) -> float | None:
    """Fraction of the rows of ``P`` dominated by some row of ``Q`` (None if ``P`` is empty)."""
    if len(P) == 0:
        return None
    if len(Q) == 0:
        return 0.0
    dominated = np.zeros(len(P), dtype=bool)
    chunk = max(1, 4_000_000 // (len(Q) * P.shape[1]))  # bounds the broadcast's memory
    for start in range(0, len(P), chunk):
        block = P[start : start + chunk, None, :]
        no_worse = (Q[None, :, :] <= block).all(axis=2)
        better = (Q[None, :, :] < block).any(axis=2)
        dominated[start : start + chunk] = (no_worse & better).any(axis=1)
    return float(dominated.mean())


def _compositions(front: Iterable[dict[str, Any]]) -> set[tuple[int, ...]]:
    return {tuple(d[k] for k in COUNT_FIELDS) for d in front}


def common_designs(a: OptimizationRun, b: OptimizationRun) -> tuple[int, int]:
    """(compositions evaluated by both runs, of which with identical objective values)."""
    match = {k: OuterRef(k) for k in COUNT_FIELDS}
    in_b = DesignPoint.objects.filter(run=b, **match)
    in_a = DesignPoint.objects.filter(run=a)
    both = in_a.filter(Exists(in_b)).count()
    if not both:
        return 0, 0
    same = in_a.filter(
        Exists(
            in_b.filter(
                execution_time_ms=OuterRef("execution_time_ms"), energy_mj=OuterRef("energy_mj")
            )
        )
    ).count()
    return both, same


def mean_composition(front: list[dict[str, Any]]) -> dict[str, float | None]:
    if not front:
        return dict.fromkeys(COUNT_FIELDS)
    return {k: sum(d[k] for d in front) / len(front) for k in COUNT_FIELDS}


def _run_summary(
    run: OptimizationRun, front: list[dict[str, Any]], objectives: list[str], hv: float
) -> dict[str, Any]:
    best = {}
    for objective in objectives:
        if front:
            winner = min(front, key=lambda d, o=objective: (d[o], *(d[x] for x in objectives)))
            best[objective] = design_dict(winner)
    return {
        "run_id": run.run_id,
        "name": run.name,
        "algorithm": run.algorithm,
        "status": run.status,
        "objectives": run_objectives(run),
        "trace_name": run.trace_name,
        "experiment": run.experiment,
        "designs": DesignPoint.objects.filter(run=run).count(),
        "front_size": len(front),
        "front": [design_dict(d) for d in front],
        "best": best,
        "hypervolume": hv,
    }


def compare_runs(run_a: OptimizationRun, run_b: OptimizationRun) -> dict[str, Any]:
    """Compare two runs (see the module's docstring for the definitions). JSON-able."""
    objectives = shared_objectives(run_a, run_b)
    front_a, front_b = load_front(run_a, objectives), load_front(run_b, objectives)
    Fa, Fb = _matrix(front_a, objectives), _matrix(front_b, objectives)
    ref = reference_point(Fa, Fb) if len(Fa) or len(Fb) else None
    hv_a = hypervolume(Fa, ref) if ref is not None and len(Fa) else 0.0
    hv_b = hypervolume(Fb, ref) if ref is not None and len(Fb) else 0.0
    union = np.vstack([Fa, Fb]) if len(Fa) and len(Fb) else (Fa if len(Fa) else Fb)
    hv_union = (
        hypervolume(union[pareto_front_mask(union)], ref) if ref is not None and len(union) else 0.0
    )
    common, identical = common_designs(run_a, run_b)
    comps_a, comps_b = _compositions(front_a), _compositions(front_b)
    on_both = sorted(comps_a & comps_b)
    result: dict[str, Any] = {
        "objectives": objectives,
        "run_a": _run_summary(run_a, front_a, objectives, hv_a),
        "run_b": _run_summary(run_b, front_b, objectives, hv_b),
        "reference_point": (
            None if ref is None else dict(zip(objectives, map(float, ref), strict=True))
        ),
        "reference_point_rule": REFERENCE_RULE,
        "dominated_share": {"a_by_b": dominated_share(Fa, Fb), "b_by_a": dominated_share(Fb, Fa)},
        "hypervolume_union": hv_union,
        "common_front_designs": [dict(zip(COUNT_FIELDS, c, strict=True)) for c in on_both],
        "unique_front_designs": {
            "a": [dict(zip(COUNT_FIELDS, c, strict=True)) for c in sorted(comps_a - comps_b)],
            "b": [dict(zip(COUNT_FIELDS, c, strict=True)) for c in sorted(comps_b - comps_a)],
        },
        "common_designs": common,
        "unique_designs": {
            "a": run_a.total_designs_evaluated - common,
            "b": run_b.total_designs_evaluated - common,
        },
        "common_designs_identical": identical,
        "front_composition": {"a": mean_composition(front_a), "b": mean_composition(front_b)},
    }
    result["differences"] = differences(result, run_a, run_b)
    return result


def compare(run_a_id: str, run_b_id: str) -> dict[str, Any]:
    """:func:`compare_runs` by run id (NotFoundError for an unknown id)."""
    return compare_runs(get_run(run_a_id), get_run(run_b_id))


# -- the differences, in words ------------------------------------------------------------------
def _g(value: float) -> str:
    return f"{value:.4g}"


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


def _config_differences(a: OptimizationRun, b: OptimizationRun) -> list[str]:
    out = []
    if (a.trace_name, a.experiment) != (b.trace_name, b.experiment):
        out.append(
            f"the runs evaluate different workloads ({a.trace_name or a.experiment or '?'} vs "
            f"{b.trace_name or b.experiment or '?'}), so their objective values measure "
            "different things"
        )
    ca, cb = a.config or {}, b.config or {}
    if a.model != b.model or ca.get("library") != cb.get("library"):
        out.append(f"the runs use different chiplet libraries ({a.model} vs {b.model})")
    if ca.get("goal") != cb.get("goal") and ca.get("goal") and cb.get("goal"):
        out.append(f"the runs use different goals ({ca['goal']} vs {cb['goal']})")
    space_a = (ca.get("search") or {}).get("space")
    space_b = (cb.get("search") or {}).get("space")
    if space_a and space_b and space_a != space_b:
        out.append("the runs search different design spaces")
    if a.algorithm != b.algorithm:
        out.append(f"run A uses {a.algorithm}, run B {b.algorithm}")
    return out


def differences(result: dict[str, Any], a: OptimizationRun, b: OptimizationRun) -> list[str]:
    """Short human-readable statements of how the two runs differ."""
    ra, rb = result["run_a"], result["run_b"]
    out = _config_differences(a, b)
    if ra["front_size"] != rb["front_size"]:
        out.append(f"run A's front has {ra['front_size']} designs, run B's {rb['front_size']}")
    hv_a, hv_b = ra["hypervolume"], rb["hypervolume"]
    if hv_a != hv_b and max(hv_a, hv_b) > 0:
        better, worse = ("A", "B") if hv_a > hv_b else ("B", "A")
        high, low = max(hv_a, hv_b), min(hv_a, hv_b)
        gain = f", +{_percent(high / low - 1)}" if low > 0 else ""
        out.append(
            f"run {better}'s front covers more of the objective space than run {worse}'s "
            f"(hypervolume {_g(high)} vs {_g(low)}{gain})"
        )
    shares = result["dominated_share"]
    for mine, other, key in (("A", "B", "a_by_b"), ("B", "A", "b_by_a")):
        share = shares[key]
        if share:
            out.append(f"{_percent(share)} of run {mine}'s front is dominated by run {other}'s")
    for objective, best_a in ra["best"].items():
        best_b = rb["best"].get(objective)
        if best_b is None or best_a[objective] == best_b[objective]:
            continue
        word, unit, superlative = OBJECTIVE_WORDS[objective]
        winner = "A" if best_a[objective] < best_b[objective] else "B"
        out.append(
            f"run {winner} found the {superlative} design ({word} {_g(best_a[objective])} "
            f"{unit} in run A vs {_g(best_b[objective])} {unit} in run B)"
        )
    comp_a, comp_b = result["front_composition"]["a"], result["front_composition"]["b"]
    gaps = []
    for key in COUNT_FIELDS:
        if comp_a[key] is None or comp_b[key] is None:
            continue
        gap = comp_a[key] - comp_b[key]
        if abs(gap) >= COMPOSITION_THRESHOLD:
            gaps.append((abs(gap), key, gap))
    for _, key, gap in sorted(gaps, reverse=True):
        who = "A" if gap > 0 else "B"
        high, low = max(comp_a[key], comp_b[key]), min(comp_a[key], comp_b[key])
        out.append(
            f"run {who}'s front favours {TYPE_WORDS[key]} chiplets (mean {high:.1f} vs {low:.1f})"
        )
    common, identical = result["common_designs"], result["common_designs_identical"]
    if common and identical < common:
        out.append(
            f"{common - identical} of the {common} compositions both runs evaluated have "
            "different objective values in the two runs"
        )
    if not out:
        out.append("no notable differences: the runs' fronts are alike")
    return out
