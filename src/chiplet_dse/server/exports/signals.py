"""Export scheduling: a run created with ``auto_export=True`` is exported when it completes.

:func:`auto_export` receives the executor's ``run_finished`` signal (sent by the worker that
ran the run, after its final state is stored). An export that fails is logged and never
propagates: the worker goes on with its next task.
"""

from __future__ import annotations

import logging
from typing import Any

from chiplet_dse.server.runs.executor import run_finished
from chiplet_dse.server.runs.models import OptimizationRun, RunStatus

log = logging.getLogger(__name__)

DISPATCH_UID = "chiplet_dse.exports.auto_export"


def auto_export(sender: Any, run_id: str, status: str, **kwargs: Any) -> None:
    """Export the run if it completed and asked for it (its default base name, deflated)."""
    if status != RunStatus.COMPLETED:
        return
    try:
        if not OptimizationRun.objects.filter(run_id=run_id, auto_export=True).exists():
            return
        from chiplet_dse.server.exports.services import export_run

        result = export_run(run_id)
        log.info("run %s exported automatically to %s", run_id, result.file_name)
    except Exception:
        log.exception("automatic export of run %s failed", run_id)


def connect() -> None:
    """Connect :func:`auto_export` to ``run_finished`` (idempotent)."""
    run_finished.connect(auto_export, dispatch_uid=DISPATCH_UID)


def disconnect() -> None:
    run_finished.disconnect(dispatch_uid=DISPATCH_UID)
