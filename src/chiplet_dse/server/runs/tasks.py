"""Background tasks (Django's Tasks API, executed by `chiplet-dse worker`)."""

from django_tasks import task

from chiplet_dse.server.runs.executor import execute


@task()
def execute_run(run_id: str) -> str:
    """Execute one optimisation run; returns its status when the task ends."""
    return execute(run_id)
