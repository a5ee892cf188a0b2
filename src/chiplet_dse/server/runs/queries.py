"""Reading the run store: filtered run lists, statistics, design pages and plot data.

Everything that spans many rows is done by the database (filters, counts, aggregates, paging);
only pages and plot samples reach Python.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Avg, Count, Max, Min, Q, QuerySet, Sum

from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun, RunStatus

COMPOSITION = ("gpu_count", "attention_count", "sparse_count", "convolution_count")
POINT_FIELDS = ("execution_time_ms", "energy_mj", "area_mm2", "pareto_rank", *COMPOSITION, "id")


@dataclass(frozen=True)
class Page:
    items: list[Any]
    count: int
    page: int
    page_size: int

    @property
    def num_pages(self) -> int:
        return max(math.ceil(self.count / self.page_size), 1)

    def meta(self) -> dict[str, int]:
        return {"count": self.count, "page": self.page, "page_size": self.page_size,
                "num_pages": self.num_pages}  # fmt: skip


def paginate(queryset: QuerySet, page: int, page_size: int) -> Page:
    count = queryset.count()
    start = (page - 1) * page_size
    items = list(queryset[start : start + page_size]) if start < count else []
    return Page(items, count, page, page_size)


def filter_runs(params: Mapping[str, Any]) -> QuerySet:
    """Runs matching text (name, description, run id), algorithm, model, status, workload, dates."""
    runs = OptimizationRun.objects.all()
    if text := params.get("q"):
        runs = runs.filter(
            Q(name__icontains=text) | Q(description__icontains=text) | Q(run_id__icontains=text)
        )
    for field in ("algorithm", "model", "status"):
        if value := params.get(field):
            runs = runs.filter(**{field: value})
    if trace := params.get("trace"):
        runs = runs.filter(Q(trace_name__icontains=trace) | Q(experiment__icontains=trace))
    if experiment := params.get("experiment"):
        runs = runs.filter(experiment=experiment)
    if after := params.get("created_after"):
        runs = runs.filter(created_at__gte=after)
    if before := params.get("created_before"):
        runs = runs.filter(created_at__lte=before)
    return runs.defer("checkpoint", "config")


def statistics() -> dict[str, Any]:
    """Overall statistics, computed by SQL aggregates."""
    runs = OptimizationRun.objects.all()
    totals = runs.aggregate(
        total_runs=Count("id"),
        total_designs=Sum("total_designs_evaluated"),
        total_pareto_designs=Sum("pareto_front_size"),
        total_evaluations=Sum("evaluations"),
        avg_designs_per_run=Avg("total_designs_evaluated"),
        avg_pareto_front_size=Avg("pareto_front_size"),
        avg_execution_time_s=Avg("execution_time_s", filter=Q(status=RunStatus.COMPLETED)),
        total_execution_time_s=Sum("execution_time_s"),
        first_run_at=Min("created_at"),
        last_run_at=Max("created_at"),
    )
    for key in ("total_designs", "total_pareto_designs", "total_evaluations",
                "total_execution_time_s"):  # fmt: skip
        totals[key] = totals[key] or 0
    for key in ("first_run_at", "last_run_at"):
        totals[key] = totals[key].isoformat() if totals[key] else None

    def counts(field: str) -> dict[str, int]:
        return dict(runs.values_list(field).annotate(n=Count("id")).order_by(field))

    totals["runs_by_status"] = counts("status")
    totals["runs_by_algorithm"] = counts("algorithm")
    totals["runs_by_model"] = counts("model")
    totals["runs_by_experiment"] = counts("experiment")
    for objective in ("execution_time_ms", "energy_mj"):
        best = DesignPoint.objects.order_by(objective, "id").select_related("run").first()
        totals[f"best_{objective}"] = design_dict(best, with_run=True) if best else None
    return totals


def design_dict(d: DesignPoint, with_run: bool = False) -> dict[str, Any]:
    fields = (*COMPOSITION, "total_chiplets", "execution_time_ms", "energy_mj", "area_mm2",
              "pareto_rank", "generation")  # fmt: skip
    data = {f: getattr(d, f) for f in fields}
    if with_run:
        data["run_id"] = d.run.run_id
        data["run_name"] = d.run.name
    return data


def filter_designs(run: OptimizationRun, params: Mapping[str, Any]) -> QuerySet:
    """A run's designs with objective bounds, composition, rank and generation filters."""
    designs = DesignPoint.objects.filter(run=run)
    bounds = {"min_time": "execution_time_ms__gte", "max_time": "execution_time_ms__lte",
              "min_energy": "energy_mj__gte", "max_energy": "energy_mj__lte"}  # fmt: skip
    for param, lookup in bounds.items():
        if params.get(param) is not None:
            designs = designs.filter(**{lookup: params[param]})
    for field in (*COMPOSITION, "generation"):
        if params.get(field) is not None:
            designs = designs.filter(**{field: params[field]})
    if params.get("pareto_only"):
        designs = designs.filter(pareto_rank=1)
    if params.get("max_rank") is not None:
        designs = designs.filter(pareto_rank__lte=params["max_rank"])
    ordering = params.get("ordering", "evaluation_order")
    return designs.order_by(ordering, "id")


def plot_data(run: OptimizationRun, max_points: int = 5000) -> dict[str, Any]:
    """Columns for a scatter of the run: every front design plus an even sample of the rest."""
    designs = DesignPoint.objects.filter(run=run)
    fields = ("evaluation_order", *POINT_FIELDS)
    total = run.total_designs_evaluated
    sampled = total > max_points
    if sampled:
        # Two index lookups: one OR-ed query would make the database scan the whole run.
        step = math.ceil(total / max_points)
        sample = designs.filter(evaluation_order__in=range(0, total, step)).values_list(*fields)
        front = designs.filter(pareto_rank=1).values_list(*fields)
        rows = sorted({r[0]: r for r in (*sample, *front)}.values())
    else:
        rows = list(designs.order_by("evaluation_order").values_list(*fields))
    columns = {name: [r[i + 1] for r in rows] for i, name in enumerate(POINT_FIELDS)}
    front_rows = sorted(
        (dict(zip(POINT_FIELDS, r[1:], strict=True)) for r in rows if r[4] == 1),
        key=lambda d: (d["execution_time_ms"], d["energy_mj"]),
    )
    return {
        "run_id": run.run_id,
        "name": run.name,
        "objectives": run.objectives,
        "total_designs": total,
        "sampled": sampled,
        "points": columns,
        "front": front_rows,
    }


def pareto_front(run: OptimizationRun) -> list[dict[str, Any]]:
    rows = (
        DesignPoint.objects.filter(run=run, pareto_rank=1)
        .order_by("execution_time_ms", "energy_mj")
        .values_list(*POINT_FIELDS)
    )
    return [dict(zip(POINT_FIELDS, r, strict=True)) for r in rows]


def runs_by_ids(run_ids: list[str]) -> list[OptimizationRun]:
    """Runs in the order asked; unknown ids are an error naming them."""
    from chiplet_dse.errors import NotFoundError

    found = {r.run_id: r for r in OptimizationRun.objects.filter(run_id__in=run_ids)}
    missing = [r for r in run_ids if r not in found]
    if missing:
        raise NotFoundError(f"no run with id {', '.join(repr(m) for m in missing)}")
    return [found[r] for r in run_ids]
