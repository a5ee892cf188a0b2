"""Writing to the run store: unique run ids, batches of designs, Pareto ranks, counters.

Every batch (one generation) is written in one transaction together with the run's counters,
so ``total_designs_evaluated`` and ``pareto_front_size`` always equal what a COUNT says and
``pareto_rank``/``is_pareto_optimal`` always describe the stored designs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from chiplet_dse.errors import InputError
from chiplet_dse.optimize.pareto import pareto_ranks
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun

#: Objective names and the DesignPoint columns holding them.
OBJECTIVE_COLUMNS = {
    "execution_time_ms": "execution_time_ms",
    "energy_mj": "energy_mj",
    "area_mm2": "area_mm2",
}
_REQUIRED = ("execution_time_ms", "energy_mj")


@dataclass(frozen=True)
class NewDesign:
    """One evaluated composition on its way into the store."""

    composition: tuple[int, int, int, int]
    metrics: Mapping[str, float]
    generation: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


def new_run_id(now: datetime | None = None, prefix: str = "run") -> str:
    """``run_YYYYMMDD_HHMMSS`` in the server's time zone, as in the spec's examples."""
    now = timezone.localtime(now or timezone.now())
    return f"{prefix}_{now:%Y%m%d_%H%M%S}"


def create_unique(model_cls: Any, id_field: str, base: str, /, **fields: Any) -> Any:
    """Create a row whose ``id_field`` is ``base``, or ``base_2``, ``base_3``… if taken.

    Two runs started in the same second get distinct ids; the unique constraint decides races.
    """
    for n in range(1, 10_000):
        candidate = base if n == 1 else f"{base}_{n}"
        if model_cls.objects.filter(**{id_field: candidate}).exists():
            continue
        try:
            with transaction.atomic():
                return model_cls.objects.create(**{id_field: candidate}, **fields)
        except IntegrityError:
            continue
    raise RuntimeError(f"no free identifier for {base}")


def _check_finite(design: NewDesign, objectives: Iterable[str]) -> None:
    for name in {*_REQUIRED, *objectives}:
        value = design.metrics.get(name)
        if value is None or isinstance(value, bool) or not math.isfinite(float(value)):
            raise InputError(
                f"design {design.composition} has a non-finite or missing {name} ({value!r}); "
                "nothing of this batch was stored",
                field=name,
            )


class RunLostError(Exception):
    """The run was handed to another attempt (its worker was presumed dead): stop writing."""


def add_designs(
    run: OptimizationRun,
    designs: Sequence[NewDesign],
    *,
    attempt: int | None = None,
    **run_updates: Any,
) -> int:
    """Store a batch of designs and re-rank the run, in one transaction.

    Compositions already stored for the run are skipped (a composition is stored once per
    run). ``run_updates`` are saved on the run in the same transaction (generation, checkpoint,
    …). With ``attempt``, the batch is written only if the run is still running in that
    attempt, so a worker that lost its run cannot write over its successor. Returns how many
    designs were added.
    """
    objectives = list(run.objectives or _REQUIRED)
    for design in designs:
        _check_finite(design, objectives)
    with transaction.atomic():
        locked = OptimizationRun.objects.select_for_update().get(pk=run.pk)
        if attempt is not None and (locked.status != "running" or locked.attempts != attempt):
            raise RunLostError(f"{run.run_id} is now {locked.status}, attempt {locked.attempts}")
        stored = DesignPoint.objects.filter(run=locked)
        seen = {
            tuple(c)
            for c in stored.values_list(
                "gpu_count", "attention_count", "sparse_count", "convolution_count"
            )
        }
        order = (stored.aggregate(m=Max("evaluation_order"))["m"] or 0) + 1 if seen else 0
        fresh = []
        for design in designs:
            if design.composition in seen:
                continue
            seen.add(design.composition)
            fresh.append(_row(design, order))
            order += 1
        ranks = _rerank(locked, fresh, objectives)
        _insert(locked, fresh, ranks)
        _save_counters(locked, **run_updates)
    run.refresh_from_db()
    return len(fresh)


# Columns written by _insert, in order; ranks and the run are added per row.
_COLUMNS = (
    "gpu_count", "attention_count", "sparse_count", "convolution_count", "total_chiplets",
    "execution_time_ms", "energy_mj", "area_mm2", "generation", "evaluation_order",
    "additional_metrics",
)  # fmt: skip


def _row(design: NewDesign, order: int) -> dict[str, Any]:
    g, a, s, c = (int(v) for v in design.composition)
    metrics = {k: float(v) for k, v in design.metrics.items()}
    return {
        "gpu_count": g,
        "attention_count": a,
        "sparse_count": s,
        "convolution_count": c,
        "total_chiplets": g + a + s + c,
        "execution_time_ms": metrics.pop("execution_time_ms"),
        "energy_mj": metrics.pop("energy_mj"),
        "area_mm2": metrics.pop("area_mm2", None),
        "generation": design.generation,
        "evaluation_order": order,
        "additional_metrics": {**metrics, **design.extra},
    }


def _insert(run: OptimizationRun, rows: list[dict[str, Any]], ranks: list[int]) -> None:
    """Insert with one ``executemany``: the ORM's bulk_create spends far more time building
    SQL than the database spends storing (100,000 designs: seconds instead of a fraction)."""
    if not rows:
        return
    table = DesignPoint._meta.db_table
    names = [*_COLUMNS, "pareto_rank", "is_pareto_optimal", "run_id", "created_at"]
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(table)} ({', '.join(qn(n) for n in names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))})"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    params = [
        (
            *(json.dumps(r[c]) if c == "additional_metrics" else r[c] for c in _COLUMNS),
            rank,
            rank == 1,
            run.pk,
            now,
        )
        for r, rank in zip(rows, ranks, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _rerank(run: OptimizationRun, fresh: list[dict[str, Any]], objectives: list[str]) -> list[int]:
    """Rank stored and fresh designs together; update stored rows whose rank changed.

    Returns the ranks of the fresh designs.
    """
    columns = [OBJECTIVE_COLUMNS[o] for o in objectives]
    old = list(DesignPoint.objects.filter(run=run).values_list("id", "pareto_rank", *columns))
    rows = [r[2:] for r in old] + [[r[c] for c in columns] for r in fresh]
    if not rows:
        return []
    ranks = pareto_ranks(np.array(rows, dtype=float)).tolist()
    changed = [
        (new_rank, new_rank == 1, pk)
        for (pk, rank, *_), new_rank in zip(old, ranks, strict=False)
        if rank != new_rank
    ]
    if changed:
        qn = connection.ops.quote_name
        sql = (
            f"UPDATE {qn(DesignPoint._meta.db_table)} SET {qn('pareto_rank')} = %s, "
            f"{qn('is_pareto_optimal')} = %s WHERE {qn('id')} = %s"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, changed)
    return ranks[len(old) :]


def _save_counters(run: OptimizationRun, **updates: Any) -> None:
    stored = DesignPoint.objects.filter(run=run)
    updates["total_designs_evaluated"] = stored.count()
    updates["pareto_front_size"] = stored.filter(pareto_rank=1).count()
    OptimizationRun.objects.filter(pk=run.pk).update(updated_at=timezone.now(), **updates)


def rerank_run(run: OptimizationRun) -> None:
    """Recompute every rank and counter of a run (e.g. after its objectives changed)."""
    with transaction.atomic():
        locked = OptimizationRun.objects.select_for_update().get(pk=run.pk)
        DesignPoint.objects.filter(run=locked).update(pareto_rank=None, is_pareto_optimal=False)
        _rerank(locked, [], list(locked.objectives or _REQUIRED))
        _save_counters(locked)
