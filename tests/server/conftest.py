"""Fixtures for server tests: runs created through the services, executed immediately."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from chiplet_dse.server.runs.executor import generation_stored
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun
from chiplet_dse.server.runs.services import create_run
from chiplet_dse.server.runs.specs import build_spec

SMALL = dict(experiment="rmc1-test", algorithm="NSGA2", population_size=6, generations=3, seed=1)


@pytest.fixture
def make_run(db) -> Callable[..., OptimizationRun]:
    """Create (and, with the immediate task backend, execute) a run."""

    def make(enqueue: bool = True, **overrides: Any) -> OptimizationRun:
        fields = {"name": "test run", **SMALL, **overrides}
        return create_run(build_spec(**fields), enqueue=enqueue)

    return make


@pytest.fixture
def on_generation():
    """Call a function after a given stored generation of any run: on_generation(k, fn)."""
    hooks: list[Any] = []

    def register(k: int, fn: Callable[[str], Any]) -> None:
        def receiver(sender: Any, run_id: str, generation: int, **kw: Any) -> None:
            if generation == k:
                fn(run_id)

        hooks.append(receiver)
        generation_stored.connect(receiver)

    yield register
    for receiver in hooks:
        generation_stored.disconnect(receiver)


def designs_of(run: OptimizationRun) -> list[tuple[Any, ...]]:
    return list(
        DesignPoint.objects.filter(run=run)
        .order_by("evaluation_order")
        .values_list(
            "gpu_count",
            "attention_count",
            "sparse_count",
            "convolution_count",
            "execution_time_ms",
            "energy_mj",
            "generation",
            "pareto_rank",
        )
    )
