"""Background tasks of the analytics app."""

from django_tasks import task


@task()
def compute_ground_truth(key: str) -> str:
    """Evaluate a whole design space once and keep its exact Pareto front."""
    from chiplet_dse.server.analytics.truth import compute

    return compute(key)
