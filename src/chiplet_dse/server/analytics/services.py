"""Analytics of a run, computed over its stored designs and kept as AnalyticsResult rows.

Each result is stored with its parameters, the number of designs it saw and its computation
time, and written as JSON under the data directory's ``analytics/``. Asking again returns the
stored result unless the run has gained designs since (then it is recomputed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction

from chiplet_dse.errors import ConflictError, InputError
from chiplet_dse.optimize import ModelEvaluator, reference_point
from chiplet_dse.optimize import analytics as pure
from chiplet_dse.optimize.pareto import hypervolume, pareto_front_mask
from chiplet_dse.server.analytics.models import AnalyticsResult, GroundTruth
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun
from chiplet_dse.server.runs.services import get_run
from chiplet_dse.server.runs.specs import spec_from_config

log = logging.getLogger(__name__)

COUNTS = ("gpu_count", "attention_count", "sparse_count", "convolution_count")
TYPES = ("rule_mining", "distance_correlation", "pareto_analysis", "sensitivity", "ground_truth")
#: Computed automatically when a run completes.
AUTOMATIC = TYPES


@dataclass(frozen=True)
class RunData:
    """A run's designs as arrays (rows in evaluation order)."""

    compositions: np.ndarray  # (n, 4) int
    F: np.ndarray  # (n, m) objectives of the run
    ranks: np.ndarray
    generations: np.ndarray
    objectives: list[str]
    metrics: list[dict[str, float]]

    @property
    def n(self) -> int:
        return len(self.ranks)


def load(run: OptimizationRun) -> RunData:
    objectives = list(run.objectives or ["execution_time_ms", "energy_mj"])
    rows = list(
        DesignPoint.objects.filter(run=run)
        .order_by("evaluation_order")
        .values_list(
            *COUNTS, "pareto_rank", "generation", "execution_time_ms", "energy_mj", "area_mm2"
        )
    )
    metrics = [
        {k: v for k, v in zip(("execution_time_ms", "energy_mj", "area_mm2"), r[6:], strict=True)
         if v is not None}
        for r in rows
    ]  # fmt: skip
    return RunData(
        compositions=np.array([r[:4] for r in rows], dtype=int).reshape(-1, 4),
        F=np.array([[m[o] for o in objectives] for m in metrics], dtype=float).reshape(
            -1, len(objectives)
        ),
        ranks=np.array([r[4] or 0 for r in rows], dtype=int),
        generations=np.array([r[5] for r in rows], dtype=int),
        objectives=objectives,
        metrics=metrics,
    )


# -- parameters ----------------------------------------------------------------------------------
def _int(params: Mapping[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"must be an integer from {low} to {high}, got {value!r}", field=key)
    return value


def _number(params: Mapping[str, Any], key: str, default: float, low: float, high: float) -> float:
    value = params.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise InputError(f"must be a number from {low} to {high}, got {value!r}", field=key)
    return float(value)


def _known(params: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = set(params) - allowed
    if unknown:
        raise InputError(f"unknown parameter(s) {sorted(unknown)}; known: {sorted(allowed)}",
                         field=sorted(unknown)[0])  # fmt: skip


def _rule_params(params: Mapping[str, Any]) -> dict[str, Any]:
    _known(params, {"rank_min", "rank_max", "bounds", "bins", "min_support", "max_items"})
    out: dict[str, Any] = {
        "min_support": _number(params, "min_support", 0.05, 0.0, 1.0),
        "max_items": _int(params, "max_items", 3, 1, 4),
    }
    if "bounds" in params:
        if not isinstance(params["bounds"], Mapping):
            raise InputError("must be {objective: [low, high]}", field="bounds")
        out["bounds"] = {k: list(v) for k, v in params["bounds"].items()}
    if "bounds" not in params or "rank_min" in params or "rank_max" in params:
        low = _int(params, "rank_min", 1, 1, 10**6)
        high = params.get("rank_max", 2)
        if high is not None:
            high = _int(params, "rank_max", 2, low, 10**6)
        out["rank_range"] = [low, high]
    if "bins" in params:
        out["bins"] = [list(b) for b in pure.validate_bins(params["bins"])]
    return out


def _correlation_params(params: Mapping[str, Any]) -> dict[str, Any]:
    _known(params, {"permutations", "seed"})
    return {"permutations": _int(params, "permutations", 199, 0, 9999),
            "seed": _int(params, "seed", 0, 0, 2**31 - 1)}  # fmt: skip


def _sensitivity_params(params: Mapping[str, Any]) -> dict[str, Any]:
    _known(params, {"max_designs"})
    return {"max_designs": _int(params, "max_designs", 20, 1, 500)}


def _no_params(params: Mapping[str, Any]) -> dict[str, Any]:
    _known(params, set())
    return {}


PARAMETERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "rule_mining": _rule_params,
    "distance_correlation": _correlation_params,
    "pareto_analysis": _no_params,
    "sensitivity": _sensitivity_params,
    "ground_truth": _no_params,
}


# -- computations --------------------------------------------------------------------------------
def _rule_mining(run: OptimizationRun, data: RunData, p: dict[str, Any]) -> dict[str, Any]:
    region = {k: p[k] for k in ("rank_range", "bounds") if k in p}
    mask = pure.region_mask(data.ranks, data.F, data.objectives, **region)
    kwargs = {"bins": p["bins"]} if "bins" in p else {}
    result = pure.mine_rules(
        data.compositions, mask, max_items=p["max_items"], min_support=p["min_support"],
        region=pure.describe_region(**region), **kwargs,
    )  # fmt: skip
    result["region_size"] = int(mask.sum())
    return result


def _correlation(run: OptimizationRun, data: RunData, p: dict[str, Any]) -> dict[str, Any]:
    objectives = {o: data.F[:, i] for i, o in enumerate(data.objectives)}
    return pure.distance_correlations(data.compositions, objectives, **p)


def _pareto(run: OptimizationRun, data: RunData, p: dict[str, Any]) -> dict[str, Any]:
    return pure.front_analysis(data.F, data.compositions, data.ranks, data.objectives)


def _sensitivity(run: OptimizationRun, data: RunData, p: dict[str, Any]) -> dict[str, Any]:
    if "search" not in run.config:
        raise ConflictError(f"run {run.run_id} has no model configuration (imported)")
    spec = spec_from_config(run.name, run.config)
    front = [i for i in np.argsort(data.F[:, 0], kind="stable") if data.ranks[i] == 1]
    chosen = front[: p["max_designs"]]
    designs = [(tuple(int(c) for c in data.compositions[i]), data.metrics[i]) for i in chosen]
    evaluate = ModelEvaluator(spec.experiment, spec.library, spec.goal,
                              workers=settings.CHIPLET_DSE_EVAL_WORKERS or None)  # fmt: skip
    result = pure.sensitivity(designs, evaluate, space=spec.search.space,
                              objectives=data.objectives)  # fmt: skip
    result["designs_analysed"] = len(designs)
    result["front_size"] = len(front)
    return result


def _ground_truth(run: OptimizationRun, data: RunData, p: dict[str, Any]) -> dict[str, Any]:
    from chiplet_dse.server.analytics.truth import truth_for, truth_summary

    truth = truth_for(run)
    if truth is not None:
        truth.refresh_from_db()  # a task backend that runs at once may have completed it
    summary = truth_summary(truth)
    if truth is None or truth.state != GroundTruth.State.COMPLETED:
        return {"available": False, "truth": summary}
    true_F = np.array([d["objectives"] for d in truth.front], dtype=float)
    true_c = [tuple(d["composition"]) for d in truth.front]
    by_generation = []
    for g in sorted(set(data.generations.tolist())):
        rows = np.flatnonzero(data.generations == g)
        by_generation.append((int(g), [(tuple(data.compositions[i].tolist()), data.F[i].tolist())
                                       for i in rows]))  # fmt: skip
    result = pure.convergence(true_F, true_c, by_generation)
    result["available"] = True
    result["truth"] = summary
    return result


COMPUTE: dict[str, Callable[[OptimizationRun, RunData, dict[str, Any]], dict[str, Any]]] = {
    "rule_mining": _rule_mining,
    "distance_correlation": _correlation,
    "pareto_analysis": _pareto,
    "sensitivity": _sensitivity,
    "ground_truth": _ground_truth,
}


# -- storing -------------------------------------------------------------------------------------
def _key(params: Mapping[str, Any]) -> str:
    text = json.dumps(params, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _write_json(run: OptimizationRun, analytics_type: str, key: str, data: Any) -> Path:
    folder = Path(settings.ANALYTICS_DIR) / run.run_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{analytics_type}_{key[:12]}.json"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
    os.replace(tmp, path)
    return path


def _stale(result: AnalyticsResult, run: OptimizationRun) -> bool:
    if result.designs_seen != run.total_designs_evaluated:
        return True
    # A ground truth that was still being computed may be ready now.
    return result.analytics_type == "ground_truth" and not result.results_data.get("available")


def compute_analytics(
    run: OptimizationRun, analytics_type: str, params: Mapping[str, Any] | None = None,
    *, force: bool = False,
) -> AnalyticsResult:  # fmt: skip
    """The stored result for these parameters, recomputed if the run gained designs since."""
    if analytics_type not in COMPUTE:
        raise InputError(f"unknown analytics type {analytics_type!r}; choose one of "
                         f"{', '.join(TYPES)}", field="analytics_type")  # fmt: skip
    if params is not None and not isinstance(params, Mapping):
        raise InputError("parameters must be an object", field="parameters")
    parameters = PARAMETERS[analytics_type](params or {})
    key = _key(parameters)
    run.refresh_from_db()
    existing = AnalyticsResult.objects.filter(
        run=run, analytics_type=analytics_type, parameters_key=key
    ).first()
    if existing and not force and not _stale(existing, run):
        return existing
    if run.total_designs_evaluated == 0:
        raise ConflictError(f"run {run.run_id} has no designs yet")
    data = load(run)
    started = time.perf_counter()
    results = COMPUTE[analytics_type](run, data, parameters)
    elapsed = time.perf_counter() - started
    path = _write_json(run, analytics_type, key, {
        "run_id": run.run_id, "analytics_type": analytics_type, "parameters": parameters,
        "designs_seen": data.n, "computation_time_s": elapsed, "results": results,
    })  # fmt: skip
    values = {"results_data": results, "parameters": parameters, "designs_seen": data.n,
              "computation_time_s": elapsed, "file_path": str(path)}  # fmt: skip
    try:
        with transaction.atomic():
            result, _ = AnalyticsResult.objects.update_or_create(
                run=run, analytics_type=analytics_type, parameters_key=key, defaults=values
            )
    except IntegrityError:  # computed concurrently: keep ours
        result = AnalyticsResult.objects.get(
            run=run, analytics_type=analytics_type, parameters_key=key
        )
        for field, value in values.items():
            setattr(result, field, value)
        result.save()
    return result


def run_analytics(run_id: str, analytics_type: str, params: Mapping[str, Any] | None = None,
                  *, force: bool = False) -> AnalyticsResult:  # fmt: skip
    return compute_analytics(get_run(run_id), analytics_type, params, force=force)


def latest_results(run: OptimizationRun) -> list[AnalyticsResult]:
    """The newest result of each analytics type (default parameters preferred)."""
    results = {}
    for r in AnalyticsResult.objects.filter(run=run).order_by("-updated_at"):
        default_key = (
            _key(PARAMETERS[r.analytics_type]({})) if r.analytics_type in PARAMETERS else ""
        )
        current = results.get(r.analytics_type)
        if current is None or (r.parameters_key == default_key
                               and current.parameters_key != default_key):  # fmt: skip
            results[r.analytics_type] = r
    return [results[t] for t in TYPES if t in results]


def analyse_completed_run(run_id: str) -> list[str]:
    """Every analytics type of a completed run (the ground truth may still be pending)."""
    run = get_run(run_id)
    done = []
    for analytics_type in AUTOMATIC:
        if analytics_type in ("sensitivity", "ground_truth") and run.algorithm == "IMPORT":
            continue
        if analytics_type == "ground_truth" and run.algorithm == "FF":
            continue  # a full factorial run is its own ground truth
        try:
            compute_analytics(run, analytics_type)
            done.append(analytics_type)
        except (InputError, ConflictError) as exc:
            log.warning("%s of run %s: %s", analytics_type, run_id, exc)
    return done


# -- convergence per generation ----------------------------------------------------------------
def convergence(run: OptimizationRun) -> dict[str, Any]:
    """Per generation: designs so far, front size and hypervolume (one reference point for the
    whole run: ``reference_point`` over all its designs), and the ground-truth metrics when
    the run's exact front is known."""
    data = load(run)
    generations = sorted(set(data.generations.tolist()))
    rows: list[dict[str, Any]] = []
    ref = reference_point(data.F) if data.n else None
    for g in generations:
        upto = data.F[data.generations <= g]
        front = upto[pareto_front_mask(upto)]
        hv = float(hypervolume(front, ref)) if ref is not None else None
        rows.append(
            {
                "generation": int(g),
                "designs": len(upto),
                "front_size": len(front),
                "hypervolume": hv,
            }
        )
    truth = AnalyticsResult.objects.filter(run=run, analytics_type="ground_truth").first()
    if truth and truth.results_data.get("available"):
        per_gen = {e["generation"]: e for e in truth.results_data.get("generations", [])}
        for row in rows:
            extra = per_gen.get(row["generation"], {})
            for k in ("hypervolume_ratio", "igd_plus", "true_front_share"):
                row[k] = extra.get(k)
    return {
        "run_id": run.run_id,
        "objectives": data.objectives,
        "reference_point": None if ref is None else [float(v) for v in ref],
        "generations": rows,
        "ground_truth": truth.results_data.get("truth") if truth else None,
    }
