"""A stored design re-computed by the model, kernel by kernel (for the run page)."""

from __future__ import annotations

from typing import Any

from chiplet_dse.errors import ConflictError, NotFoundError
from chiplet_dse.model import Design, evaluate
from chiplet_dse.presentation import breakdown_rows
from chiplet_dse.server.runs.models import DesignPoint
from chiplet_dse.server.runs.services import get_run
from chiplet_dse.server.runs.specs import spec_from_config


def design_breakdown(run_id: str, design_id: int) -> dict[str, Any]:
    """Per-kernel time, energy, traffic and work split of one design of a run."""
    run = get_run(run_id)
    try:
        design = DesignPoint.objects.get(pk=design_id, run=run)
    except DesignPoint.DoesNotExist:
        raise NotFoundError(f"run {run_id} has no design {design_id}") from None
    if "search" not in run.config:
        raise ConflictError(f"run {run_id} was imported: it has no workload to re-compute")
    spec = spec_from_config(run.name, run.config)
    result = evaluate(spec.experiment, Design(*design.composition), spec.library, spec.goal)
    return {
        "run_id": run.run_id,
        "design_id": design.pk,
        "composition": dict(
            zip(("gpu", "attention", "sparse", "convolution"), design.composition, strict=True)
        ),
        "execution_time_ms": result.execution_time_ms,
        "energy_mj": result.energy_mj,
        "area_mm2": result.area_mm2,
        "peak_power_w": result.peak_power_w,
        "stored": {"execution_time_ms": design.execution_time_ms, "energy_mj": design.energy_mj},
        "kernels": breakdown_rows(result),
    }
