"""Run lifecycle: create and enqueue, pause, resume, stop, delete, recover abandoned runs.

States: queued → running → completed | failed | cancelled, and running → paused → (queued →)
running. Pause and stop of a *running* run are requests the executor honours after the current
generation; every design found so far stays stored.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from chiplet_dse.errors import ConflictError, NotFoundError
from chiplet_dse.server.runs.models import (
    Control,
    OptimizationRun,
    RunStatus,
)
from chiplet_dse.server.runs.specs import RunSpec
from chiplet_dse.server.runs.store import create_unique, new_run_id

log = logging.getLogger(__name__)


def get_run(run_id: str) -> OptimizationRun:
    try:
        return OptimizationRun.objects.get(run_id=run_id)
    except OptimizationRun.DoesNotExist:
        raise NotFoundError(f"no run with id {run_id!r}") from None


def _enqueue(run: OptimizationRun) -> None:
    from chiplet_dse.server.runs.tasks import execute_run

    execute_run.enqueue(run.run_id)


def create_run(spec: RunSpec, enqueue: bool = True) -> OptimizationRun:
    """Store a new queued run and hand it to the task queue (unless executed by the caller)."""
    search = spec.search
    run = create_unique(
        OptimizationRun,
        "run_id",
        new_run_id(),
        name=spec.name,
        description=spec.description,
        algorithm=search.algorithm,
        model=spec.library.name,
        population_size=search.population_size,
        generations=search.generations,
        total_generations=_total_generations(spec),
        objectives=list(search.objectives),
        trace_name=spec.experiment.trace_name,
        experiment=spec.experiment.name,
        seed=search.seed,
        config=spec.config(),
        auto_export=spec.auto_export,
        truth_key=spec.truth_key(),
    )
    if enqueue:
        _enqueue(run)
    run.refresh_from_db()
    return run


def _total_generations(spec: RunSpec) -> int:
    search = spec.search
    if search.algorithm == "FF":  # every composition once, population_size at a time
        return -(-search.space.size() // search.population_size)
    return search.generations


def pause_run(run_id: str) -> OptimizationRun:
    """Queued runs pause at once; running ones after their current generation."""
    with transaction.atomic():
        run = _locked(run_id)
        if run.status == RunStatus.QUEUED:
            run.status = RunStatus.PAUSED
        elif run.status == RunStatus.RUNNING:
            run.control = Control.PAUSE
        elif run.status != RunStatus.PAUSED:
            raise ConflictError(f"run {run_id} is {run.status}; only queued or running runs pause")
        run.save(update_fields=["status", "control", "updated_at"])
    return run


def resume_run(run_id: str) -> OptimizationRun:
    """Continue a paused run from its stored population (or cancel a pending pause)."""
    with transaction.atomic():
        run = _locked(run_id)
        if run.status == RunStatus.RUNNING and run.control == Control.PAUSE:
            run.control = Control.NONE
            run.save(update_fields=["control", "updated_at"])
            return run
        if run.status != RunStatus.PAUSED:
            raise ConflictError(f"run {run_id} is {run.status}; only paused runs resume")
        run.status = RunStatus.QUEUED
        run.control = Control.NONE
        run.save(update_fields=["status", "control", "updated_at"])
        _enqueue(run)
    return run


def stop_run(run_id: str) -> OptimizationRun:
    """Cancel a run; a running one stops after its current generation. Designs are kept."""
    with transaction.atomic():
        run = _locked(run_id)
        if run.status in (RunStatus.QUEUED, RunStatus.PAUSED):
            run.status = RunStatus.CANCELLED
            run.completed_at = timezone.now()
        elif run.status == RunStatus.RUNNING:
            run.control = Control.STOP
        else:
            raise ConflictError(f"run {run_id} is already {run.status}")
        run.save(update_fields=["status", "control", "completed_at", "updated_at"])
    return run


def delete_run(run_id: str) -> str:
    """Delete a run and its designs and analytics; a running run must be stopped first."""
    with transaction.atomic():
        run = _locked(run_id)
        if run.status == RunStatus.RUNNING:
            raise ConflictError(f"run {run_id} is running; stop it before deleting it")
        run.delete()
    return run_id


def _locked(run_id: str) -> OptimizationRun:
    try:
        return OptimizationRun.objects.select_for_update().get(run_id=run_id)
    except OptimizationRun.DoesNotExist:
        raise NotFoundError(f"no run with id {run_id!r}") from None


def recover_stale_runs() -> list[str]:
    """Requeue (or fail, after too many attempts) running runs whose worker stopped beating.

    A worker killed with SIGKILL leaves its run 'running'; this is how it gets unstuck. The
    requeued run resumes from its last stored generation.
    """
    limit = timezone.now() - timedelta(seconds=settings.CHIPLET_DSE_STALE_SECONDS)
    recovered = []
    for run_id in OptimizationRun.objects.filter(
        status=RunStatus.RUNNING, heartbeat_at__lt=limit
    ).values_list("run_id", flat=True):
        with transaction.atomic():
            run = _locked(run_id)
            if run.status != RunStatus.RUNNING or run.heartbeat_at >= limit:
                continue
            beat = f"{run.heartbeat_at:%Y-%m-%d %H:%M:%S}"
            lost = (
                f"worker {run.worker or '?'} stopped responding during generation "
                f"{run.current_generation + 1} (last heartbeat {beat})"
            )
            if run.attempts >= settings.CHIPLET_DSE_MAX_ATTEMPTS:
                run.status = RunStatus.FAILED
                run.completed_at = timezone.now()
                run.error_message = f"{lost}; gave up after {run.attempts} attempts"
            else:
                run.status = RunStatus.QUEUED
                run.error_message = f"{lost}; requeued"
            run.control = Control.NONE
            run.save()
            if run.status == RunStatus.QUEUED:
                _enqueue(run)
        log.warning("recovered stale run %s: %s", run_id, run.error_message)
        recovered.append(run_id)
    return recovered


def recover_stale_ground_truths() -> list[str]:
    """Fail ground-truth computations whose worker died (no progress for a long time); the
    next request for them queues them again."""
    from chiplet_dse.server.analytics.models import GroundTruth

    # A batch of evaluations can take minutes (Stable Diffusion), hence the generous limit.
    limit = timezone.now() - timedelta(seconds=max(10 * settings.CHIPLET_DSE_STALE_SECONDS, 600))
    stale = GroundTruth.objects.filter(state=GroundTruth.State.RUNNING, updated_at__lt=limit)
    keys = list(stale.values_list("key", flat=True))
    stale.update(state=GroundTruth.State.FAILED, error_message="worker lost; ask again to retry")
    return keys
