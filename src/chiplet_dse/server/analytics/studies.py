"""Comparative studies: two runs compared once, stored with what they have in common."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from chiplet_dse.errors import InputError, NotFoundError
from chiplet_dse.server.analytics.models import ComparativeStudy
from chiplet_dse.server.runs.models import OptimizationRun
from chiplet_dse.server.runs.services import get_run
from chiplet_dse.server.runs.store import create_unique, new_run_id

#: Run parameters a study reports as shared when both runs have the same value.
SHARED_FIELDS = ("experiment", "trace_name", "algorithm", "model", "population_size",
                 "generations", "seed")  # fmt: skip


def shared_parameters(a: OptimizationRun, b: OptimizationRun) -> dict[str, Any]:
    shared = {f: getattr(a, f) for f in SHARED_FIELDS if getattr(a, f) == getattr(b, f)}
    common_objectives = [o for o in a.objectives if o in b.objectives]
    shared["objectives"] = common_objectives
    for key in ("goal", "library"):
        if a.config.get(key) is not None and a.config.get(key) == b.config.get(key):
            shared[key] = a.config[key]
    space_a = a.config.get("search", {}).get("space")
    if space_a is not None and space_a == b.config.get("search", {}).get("space"):
        shared["space"] = space_a
    return shared


def save_study(
    run_a: OptimizationRun,
    run_b: OptimizationRun,
    name: str,
    description: str,
    comparison: dict[str, Any],
) -> ComparativeStudy:
    """The study named ``name`` of these two runs (in this order), updated; or a new one."""
    shared = shared_parameters(run_a, run_b)
    with transaction.atomic():
        # Locks both runs, so two requests for the same study cannot both create it.
        list(
            OptimizationRun.objects.select_for_update()
            .filter(pk__in=[run_a.pk, run_b.pk])
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        study = (
            ComparativeStudy.objects.filter(name=name, run_a=run_a, run_b=run_b)
            .order_by("created_at", "id")
            .first()
        )
        if study is None:
            return create_unique(
                ComparativeStudy,
                "study_id",
                new_run_id(prefix="study"),
                run_a=run_a,
                run_b=run_b,
                name=name,
                description=description,
                shared_parameters=shared,
                results_data=comparison,
            )
        study.shared_parameters = shared
        study.results_data = comparison
        if description:
            study.description = description
        study.save(update_fields=["shared_parameters", "results_data", "description"])
        return study


def create_study(
    run_a_id: str, run_b_id: str, name: str, description: str = ""
) -> ComparativeStudy:
    """Compare two runs and store the study (computed now; a study of the same name and runs
    is updated rather than duplicated)."""
    from chiplet_dse.server.analytics.comparison import compare_runs

    if run_a_id == run_b_id:
        raise InputError("a study compares two different runs", field="run_b_id")
    if not name or not name.strip():
        raise InputError("a study needs a name", field="name")
    run_a, run_b = get_run(run_a_id), get_run(run_b_id)
    return save_study(run_a, run_b, name.strip(), description, compare_runs(run_a, run_b))


def get_study(study_id: str) -> ComparativeStudy:
    try:
        return ComparativeStudy.objects.select_related("run_a", "run_b").get(study_id=study_id)
    except ComparativeStudy.DoesNotExist:
        raise NotFoundError(f"no study with id {study_id!r}") from None
