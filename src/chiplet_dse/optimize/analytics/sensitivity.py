"""Sensitivity of designs to one chiplet more or less of each type.

For each design (typically the Pareto front) and each chiplet type, the neighbours with one
chiplet of that type added and one removed are evaluated; removing is skipped when the count
is already 0 or when it would leave no chiplet at all. Neighbours outside the design space (if
one is given) are still evaluated but flagged ``in_space: false``.

All neighbours are evaluated in one ``evaluate`` call, each composition once, and compositions
that are among the given designs reuse the given metrics instead of being re-evaluated.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from chiplet_dse.errors import InputError
from chiplet_dse.optimize.analytics.rules import _is_number, as_compositions, counts_dict
from chiplet_dse.optimize.space import COUNT_NAMES, DesignSpace

Metrics = Mapping[str, Any]
Evaluate = Callable[[list[tuple[int, int, int, int]]], Sequence[Metrics]]
DIRECTIONS = ("add", "remove")


def _finite(value: Any) -> bool:
    return _is_number(value) and math.isfinite(float(value))


def _relative(delta: float, base: float) -> float | None:
    """Change in percent of ``|base|``; 0 for no change, None when ``base`` is 0 otherwise."""
    if delta == 0:
        return 0.0
    return None if base == 0 else 100.0 * delta / abs(base)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def sensitivity(
    designs: Sequence[tuple[Sequence[int], Metrics]],
    evaluate: Evaluate,
    *,
    space: DesignSpace | None = None,
    objectives: Sequence[str] | None = None,
) -> dict[str, Any]:
    """One-chiplet sensitivity of ``designs`` (a list of ``(composition, metrics)``).

    ``evaluate(list of compositions) -> list of metrics dicts`` is called at most once.
    ``objectives`` are the metrics compared (default: every metric that is a finite number in
    all the designs' metrics, in the first design's order).

    For each neighbour the result gives its metrics, the absolute change (neighbour - design)
    and the relative change in percent of the design's value (None when that value is 0 and
    the neighbour's differs). ``summary[type][direction]`` averages, over the designs that
    have that neighbour, the absolute and relative changes of each objective (relative
    changes that are None are left out of the mean; the mean is None when none remain).
    """
    if isinstance(designs, str | bytes) or not isinstance(designs, Sequence):
        raise InputError("expected a list of (composition, metrics)", field="designs")
    if not callable(evaluate):
        raise InputError("evaluate must be callable", field="evaluate")
    if space is not None and not isinstance(space, DesignSpace):
        raise InputError("expected a DesignSpace or None", field="space")
    compositions: list[tuple[int, int, int, int]] = []
    metrics: list[Metrics] = []
    for k, entry in enumerate(designs):
        if isinstance(entry, str | bytes) or not isinstance(entry, Sequence) or len(entry) != 2:
            raise InputError(f"design {k}: expected (composition, metrics)", field="designs")
        row = as_compositions([entry[0]], "designs")[0]
        if row.sum() == 0:
            raise InputError(f"design {k}: a design needs at least one chiplet", field="designs")
        if not isinstance(entry[1], Mapping):
            raise InputError(f"design {k}: metrics must be a mapping", field="designs")
        compositions.append((int(row[0]), int(row[1]), int(row[2]), int(row[3])))
        metrics.append(entry[1])

    if objectives is None:
        names = [
            key
            for key in (metrics[0] if metrics else {})
            if isinstance(key, str) and all(_finite(m.get(key)) for m in metrics)
        ]
    else:
        if isinstance(objectives, str | bytes) or not isinstance(objectives, Sequence):
            raise InputError("expected a list of metric names", field="objectives")
        names = list(objectives)
        if not names or len(set(names)) != len(names):
            raise InputError("expected distinct metric names", field="objectives")
        for k, m in enumerate(metrics):
            for name in names:
                if not _finite(m.get(name)):
                    raise InputError(
                        f"design {k}: metric {name!r} missing or not a finite number",
                        field="objectives",
                    )

    known: dict[tuple[int, ...], dict[str, float]] = {}
    for c, m in zip(compositions, metrics, strict=True):
        known.setdefault(c, {name: float(m[name]) for name in names})

    plan: list[list[tuple[str, str, tuple[int, int, int, int]]]] = []
    pending: dict[tuple[int, int, int, int], None] = {}  # ordered set of new compositions
    for c in compositions:
        neighbours = []
        for t, type_name in enumerate(COUNT_NAMES):
            for direction, step in (("add", 1), ("remove", -1)):
                counts = list(c)
                counts[t] += step
                if counts[t] < 0 or sum(counts) == 0:
                    continue
                g, a, s, v = counts
                neighbour = (g, a, s, v)
                neighbours.append((type_name, direction, neighbour))
                if neighbour not in known:
                    pending[neighbour] = None
        plan.append(neighbours)

    to_evaluate = list(pending)
    if to_evaluate:
        results = list(evaluate(to_evaluate))
        if len(results) != len(to_evaluate):
            raise ValueError(
                f"evaluate returned {len(results)} results for {len(to_evaluate)} compositions"
            )
        for c, m in zip(to_evaluate, results, strict=True):
            if not isinstance(m, Mapping) or not all(_finite(m.get(name)) for name in names):
                raise ValueError(f"evaluate gave no finite {', '.join(names)} for {c}: {m!r}")
            known[c] = {name: float(m[name]) for name in names}

    given = set(compositions)
    collected: dict[tuple[str, str], dict[str, tuple[list[float], list[float]]]] = {
        (t, d): {name: ([], []) for name in names} for t in COUNT_NAMES for d in DIRECTIONS
    }
    tally = dict.fromkeys(collected, 0)
    out_designs = []
    for c, neighbours in zip(compositions, plan, strict=True):
        base = known[c]
        entries = []
        for type_name, direction, neighbour in neighbours:
            values = known[neighbour]
            tally[(type_name, direction)] += 1
            delta = {name: values[name] - base[name] for name in names}
            relative = {name: _relative(delta[name], base[name]) for name in names}
            for name in names:
                absolute_list, relative_list = collected[(type_name, direction)][name]
                absolute_list.append(delta[name])
                if relative[name] is not None:
                    relative_list.append(relative[name])
            entries.append(
                {
                    "type": type_name,
                    "direction": direction,
                    "composition": counts_dict(neighbour),
                    "in_space": None if space is None else space.contains(neighbour),
                    "among_designs": neighbour in given,
                    "metrics": dict(values),
                    "change": delta,
                    "relative_change_pct": relative,
                }
            )
        out_designs.append(
            {"composition": counts_dict(c), "metrics": dict(base), "neighbours": entries}
        )

    summary: dict[str, dict[str, Any]] = {}
    for type_name in COUNT_NAMES:
        summary[type_name] = {}
        for direction in DIRECTIONS:
            per_name = collected[(type_name, direction)]
            summary[type_name][direction] = {
                "neighbours": tally[(type_name, direction)],
                "mean_change": {name: _mean(per_name[name][0]) for name in names},
                "mean_relative_change_pct": {name: _mean(per_name[name][1]) for name in names},
            }

    return {
        "n": len(compositions),
        "objectives": names,
        "space": None if space is None else space.to_dict(),
        "evaluated": len(to_evaluate),
        "designs": out_designs,
        "summary": summary,
    }
