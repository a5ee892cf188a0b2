"""Ground truth: the exact Pareto front of a run's design space, computed once per key.

A run whose design space has at most 100,000 compositions gets a ``truth_key`` (its traces,
weights, chiplet library, goal, design space and objectives). The first time a key is needed
every composition of the space is evaluated by a worker — reusing every design any run with the
same key has already stored — and the exact front is kept. Each run with that key can then be
told how much of the true front it found, per generation.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from django.db import transaction
from django.utils import timezone

from chiplet_dse.errors import ChipletDSEError
from chiplet_dse.optimize import DesignSpace, ModelEvaluator, pareto_front_mask
from chiplet_dse.server.analytics.models import GroundTruth
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun
from chiplet_dse.server.runs.specs import spec_from_config

log = logging.getLogger(__name__)

BATCH = 100  # compositions evaluated between progress updates

State = GroundTruth.State


def truth_for(run: OptimizationRun, *, start: bool = True) -> GroundTruth | None:
    """The run's ground truth (None if its space is too large); queued if not yet computed."""
    if not run.truth_key:
        return None
    space = run.config["search"]["space"]
    truth, created = GroundTruth.objects.get_or_create(
        key=run.truth_key,
        defaults={
            "description": {
                "experiment": run.experiment,
                "trace_name": run.trace_name,
                "model": run.model,
                "goal": run.config.get("goal"),
                "space": space,
            },
            "config": {k: run.config[k] for k in ("experiment", "goal", "library", "search")},
            "space_size": DesignSpace.from_dict(space).size(),
            "objectives": list(run.objectives),
        },
    )
    if start and (created or truth.state == State.FAILED):
        _enqueue(truth)
    return truth


def _enqueue(truth: GroundTruth) -> None:
    from chiplet_dse.server.analytics.tasks import compute_ground_truth

    GroundTruth.objects.filter(pk=truth.pk).update(state=State.PENDING, error_message="")
    compute_ground_truth.enqueue(truth.key)


def _known(key: str, objectives: list[str]) -> dict[tuple[int, ...], dict[str, float]]:
    """Designs already evaluated by any run sharing the key (the model is deterministic)."""
    rows = DesignPoint.objects.filter(run__truth_key=key).values_list(
        "gpu_count", "attention_count", "sparse_count", "convolution_count",
        "execution_time_ms", "energy_mj", "area_mm2",
    )  # fmt: skip
    known = {}
    for g, a, s, c, t, e, area in rows.iterator(chunk_size=5000):
        known[(g, a, s, c)] = {"execution_time_ms": t, "energy_mj": e, "area_mm2": area}
    return known


def compute(key: str) -> str:
    """Evaluate the whole space of ``key`` and store its exact front. Returns the final state."""
    with transaction.atomic():
        claimed = GroundTruth.objects.filter(key=key, state=State.PENDING).update(
            state=State.RUNNING, updated_at=timezone.now()
        )
    if not claimed:
        return "skipped"
    truth = GroundTruth.objects.get(key=key)
    started = time.monotonic()
    try:
        points = _evaluate_space(truth)
        objectives = truth.objectives
        compositions = list(points)
        F = np.array([[points[c][o] for o in objectives] for c in compositions], dtype=float)
        mask = pareto_front_mask(F)
        front = sorted(
            ({"composition": list(c), "objectives": F[i].tolist()}
             for i, c in enumerate(compositions) if mask[i]),
            key=lambda d: d["objectives"],
        )  # fmt: skip
        GroundTruth.objects.filter(pk=truth.pk).update(
            state=State.COMPLETED,
            front=front,
            ideal=F.min(axis=0).tolist(),
            nadir=F.max(axis=0).tolist(),
            evaluated=len(compositions),
            computation_time_s=time.monotonic() - started,
        )
    except ChipletDSEError as exc:
        _fail(truth, str(exc))
        return State.FAILED
    except Exception as exc:  # stored, so the reason is visible where the result is asked for
        log.exception("ground truth %s failed", key)
        _fail(truth, f"internal error: {type(exc).__name__}: {exc}")
        return State.FAILED
    _refresh_runs(key)
    return State.COMPLETED


def _evaluate_space(truth: GroundTruth) -> dict[tuple[int, ...], dict[str, float]]:
    spec = spec_from_config("ground truth", truth.config)
    space = spec.search.space
    known = _known(truth.key, truth.objectives)
    todo = [c for c in space.compositions() if c not in known]
    GroundTruth.objects.filter(pk=truth.pk).update(evaluated=space.size() - len(todo))
    from django.conf import settings

    evaluate = ModelEvaluator(
        spec.experiment, spec.library, spec.goal, workers=settings.CHIPLET_DSE_EVAL_WORKERS or None
    )
    points = {c: known[c] for c in space.compositions() if c in known}
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        for composition, metrics in zip(batch, evaluate(batch), strict=True):
            points[composition] = metrics
        GroundTruth.objects.filter(pk=truth.pk).update(
            evaluated=len(points), updated_at=timezone.now()
        )
    return points


def _fail(truth: GroundTruth, message: str) -> None:
    GroundTruth.objects.filter(pk=truth.pk).update(state=State.FAILED, error_message=message)


def _refresh_runs(key: str) -> None:
    """Recompute the ground-truth analytics of every finished run measured against ``key``."""
    from chiplet_dse.server.analytics.services import compute_analytics

    for run in OptimizationRun.objects.filter(truth_key=key, status="completed").exclude(
        algorithm__in=("FF", "IMPORT")
    ):
        try:
            compute_analytics(run, "ground_truth", force=True)
        except ChipletDSEError as exc:
            log.warning("ground truth of %s: %s", run.run_id, exc)


def truth_summary(truth: GroundTruth | None) -> dict[str, Any]:
    if truth is None:
        return {"state": "not available", "reason": "the design space has over 100,000 designs"}
    return {
        "state": truth.state,
        "space_size": truth.space_size,
        "evaluated": truth.evaluated,
        "front_size": len(truth.front),
        "error_message": truth.error_message,
        "computation_time_s": truth.computation_time_s,
    }
