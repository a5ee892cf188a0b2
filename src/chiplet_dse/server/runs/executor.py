"""Executing a run in a worker: claim it, search generation by generation, store, obey control.

Each generation's new designs, the run's counters, progress and a checkpoint of the search
state are stored together, so a run paused, stopped or killed at any point keeps every design
found and can continue from its last generation.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from chiplet_dse.errors import ChipletDSEError
from chiplet_dse.optimize import ModelEvaluator, Search
from chiplet_dse.server.runs.models import Control, DesignPoint, OptimizationRun, RunStatus
from chiplet_dse.server.runs.specs import spec_from_config
from chiplet_dse.server.runs.store import NewDesign, RunLostError, add_designs

log = logging.getLogger(__name__)

#: Sent after each stored generation (``run_id``, ``generation``); tests use it to interleave.
generation_stored = Signal()
#: Sent when a run reaches a final state (``run_id``, ``status``).
run_finished = Signal()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(run_id: str) -> OptimizationRun | None:
    """Atomically move a queued run to running; None if someone else has it (or it is gone)."""
    now = timezone.now()
    claimed = OptimizationRun.objects.filter(run_id=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING,
        attempts=F("attempts") + 1,
        worker=worker_name(),
        heartbeat_at=now,
        updated_at=now,
    )
    if not claimed:
        return None
    OptimizationRun.objects.filter(run_id=run_id, started_at=None).update(started_at=now)
    return OptimizationRun.objects.get(run_id=run_id)


class Heartbeat:
    """Refreshes ``heartbeat_at`` from a thread while a long generation is being evaluated."""

    def __init__(self, pk: int, attempt: int, interval: float) -> None:
        self.pk, self.attempt, self.interval = pk, attempt, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="run-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                OptimizationRun.objects.filter(
                    pk=self.pk, status=RunStatus.RUNNING, attempts=self.attempt
                ).update(heartbeat_at=timezone.now())
        except Exception:  # a heartbeat must never kill the run; staleness will show it
            log.exception("heartbeat of run %s failed", self.pk)
        finally:
            connection.close()


def execute(run_id: str) -> str:
    """Run (or continue) a queued run to its end, a pause or a stop. Returns the final status."""
    run = claim(run_id)
    if run is None:
        status = OptimizationRun.objects.filter(run_id=run_id).values_list("status", flat=True)
        return f"skipped ({status.first() or 'deleted'})"
    started = time.monotonic()
    try:
        with Heartbeat(run.pk, run.attempts, settings.CHIPLET_DSE_HEARTBEAT_SECONDS):
            status = _search(run)
        error = ""
    except RunLostError as exc:
        log.warning("run %s was handed to another worker: %s", run_id, exc)
        return "lost"
    except ChipletDSEError as exc:
        status, error = RunStatus.FAILED, str(exc)
    except Exception as exc:  # stored on the run (and logged) instead of vanishing in a worker
        log.exception("run %s failed", run_id)
        status, error = RunStatus.FAILED, f"internal error: {type(exc).__name__}: {exc}"
    _finish(run, status, error, time.monotonic() - started)
    return status


def _search(run: OptimizationRun) -> str:
    spec = spec_from_config(run.name, run.config)
    known = _known_designs(run)
    workers = settings.CHIPLET_DSE_EVAL_WORKERS or None
    evaluator = ModelEvaluator(spec.experiment, spec.library, spec.goal, workers=workers)
    checkpoint = bytes(run.checkpoint) if run.checkpoint else None
    search = Search(spec.search, evaluator, known=known, checkpoint=checkpoint)
    while True:
        generation = search.step()
        if generation is None:
            return RunStatus.COMPLETED
        designs = [
            NewDesign(tuple(e.composition), e.metrics, generation.index) for e in generation.new
        ]
        add_designs(
            run,
            designs,
            attempt=run.attempts,
            current_generation=generation.index,
            evaluations=generation.evaluations,
            checkpoint=search.checkpoint(),
            heartbeat_at=timezone.now(),
        )
        generation_stored.send(sender=execute, run_id=run.run_id, generation=generation.index)
        control = OptimizationRun.objects.values_list("control", flat=True).get(pk=run.pk)
        if control == Control.PAUSE:
            return RunStatus.PAUSED
        if control == Control.STOP:
            return RunStatus.CANCELLED
        if generation.done:
            return RunStatus.COMPLETED


def _known_designs(run: OptimizationRun) -> dict[tuple[int, ...], dict[str, Any]]:
    known = {}
    for d in DesignPoint.objects.filter(run=run).order_by("evaluation_order"):
        metrics = {"execution_time_ms": d.execution_time_ms, "energy_mj": d.energy_mj}
        if d.area_mm2 is not None:
            metrics["area_mm2"] = d.area_mm2
        metrics.update({k: v for k, v in d.additional_metrics.items() if isinstance(v, float)})
        known[d.composition] = metrics
    return known


def _finish(run: OptimizationRun, status: str, error: str, elapsed: float) -> None:
    now = timezone.now()
    fields: dict[str, Any] = {
        "status": status,
        "control": Control.NONE,
        "heartbeat_at": now,
        "updated_at": now,
    }
    if status in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED):
        fields["completed_at"] = now
    if error:
        fields["error_message"] = error
    elif status == RunStatus.COMPLETED:
        fields["error_message"] = ""
    # Accumulated: a run may be executed in several attempts.
    fields["execution_time_s"] = F("execution_time_s") + elapsed
    # Only the attempt that owns the run may end it.
    if not OptimizationRun.objects.filter(pk=run.pk, attempts=run.attempts).update(**fields):
        log.warning("run %s: attempt %s no longer owns it; not finishing", run.run_id, run.attempts)
        return
    log.info("run %s %s after %.1f s", run.run_id, status, elapsed)
    run_finished.send(sender=execute, run_id=run.run_id, status=status)
