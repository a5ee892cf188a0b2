"""Analytics are computed when a run completes.

The receiver runs in the worker that executed the run, right after its final state is stored,
and before the auto-export receiver (the exports app is connected after this one), so an
automatic export's report includes the analytics. Failures are logged; the worker goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings

from chiplet_dse.server.runs.executor import run_finished
from chiplet_dse.server.runs.models import RunStatus

log = logging.getLogger(__name__)

DISPATCH_UID = "chiplet_dse.analytics.on_completion"


def on_completion(sender: Any, run_id: str, status: str, **kwargs: Any) -> None:
    if status != RunStatus.COMPLETED or not settings.CHIPLET_DSE_AUTO_ANALYTICS:
        return
    from chiplet_dse.server.analytics.services import analyse_completed_run

    try:
        done = analyse_completed_run(run_id)
        log.info("run %s analysed: %s", run_id, ", ".join(done))
    except Exception:
        log.exception("analytics of run %s failed", run_id)


def connect() -> None:
    run_finished.connect(on_completion, dispatch_uid=DISPATCH_UID)
