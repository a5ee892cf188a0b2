"""Minimal HTTP views of the run store (the REST API lives in the api app)."""

from django.db.models import Count
from django.http import HttpRequest, JsonResponse

from chiplet_dse.server.runs.models import OptimizationRun


def health(request: HttpRequest) -> JsonResponse:
    """Liveness plus run counts per status."""
    counts = dict(OptimizationRun.objects.values_list("status").annotate(n=Count("id")).order_by())
    return JsonResponse({"status": "ok", "runs": counts})
