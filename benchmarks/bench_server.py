"""Measure the run store and a whole optimisation run; appends to docs/performance.md.

    python benchmarks/bench_server.py --output docs/performance.md     (part of `make bench`)

Uses a throw-away data directory (SQLite unless DATABASE_URL is set). Never asserted in CI.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def setup() -> None:
    os.environ.setdefault("CHIPLET_DSE_HOME", tempfile.mkdtemp(prefix="chiplet-dse-bench-"))
    from chiplet_dse.server import bootstrap

    bootstrap.setup()


def bench_store(n: int, batches: int) -> float:
    from chiplet_dse.server.runs.models import OptimizationRun
    from chiplet_dse.server.runs.store import NewDesign, add_designs, create_unique, new_run_id

    run = create_unique(
        OptimizationRun, "run_id", new_run_id(), name="bench", algorithm="NSGA2",
        population_size=n // batches, generations=batches,
        objectives=["execution_time_ms", "energy_mj"],
    )  # fmt: skip
    rng = np.random.default_rng(0)
    points = rng.random((n, 2))
    size = n // batches
    designs = [
        NewDesign(
            (i % 1000, i // 1000 % 1000, i // 1_000_000, 1),
            {"execution_time_ms": float(t), "energy_mj": float(e), "area_mm2": 25.0},
            i // size,
        )
        for i, (t, e) in enumerate(points)
    ]
    start = time.perf_counter()
    for b in range(batches):
        add_designs(run, designs[b * size : (b + 1) * size], current_generation=b + 1)
    elapsed = time.perf_counter() - start
    run.refresh_from_db()
    assert run.total_designs_evaluated == n
    return elapsed


def bench_run(experiment: str, population: int, generations: int, workers: int) -> dict:
    from django.conf import settings

    from chiplet_dse.server.runs.executor import execute
    from chiplet_dse.server.runs.services import create_run
    from chiplet_dse.server.runs.specs import build_spec

    settings.CHIPLET_DSE_EVAL_WORKERS = workers
    spec = build_spec(name="bench", experiment=experiment, algorithm="NSGA2",
                      population_size=population, generations=generations, seed=1)  # fmt: skip
    run = create_run(spec, enqueue=False)
    start = time.perf_counter()
    execute(run.run_id)
    elapsed = time.perf_counter() - start
    run.refresh_from_db()
    return {"seconds": elapsed, "designs": run.total_designs_evaluated, "status": run.status,
            "front": run.pareto_front_size}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="docs/performance.md")
    args = parser.parse_args()
    setup()
    from django.db import connection

    lines = ["", "## Run store", ""]
    lines += [f"Database: {connection.vendor}. `add_designs` (insert, Pareto ranks of the whole",
              "run, counters) with uniformly random objectives.", "",
              "| designs | batches | seconds |", "|---:|---:|---:|"]  # fmt: skip
    for n, batches in ((100_000, 1), (100_000, 20)):
        seconds = bench_store(n, batches)
        lines.append(f"| {n:,} | {batches} | {seconds:.2f} |")
        print(lines[-1], file=sys.stderr)
    workers = os.cpu_count() or 1
    result = bench_run("resnet50-test", 50, 20, workers)
    lines += ["", "## A whole run", ""]
    lines += [
        f"NSGA-II on resnet50-test, population 50, 20 generations, seed 1, {workers} "
        "evaluation processes, executed in-process (model, store and ranks included):",
        "",
        f"- {result['seconds']:.1f} s end to end, {result['designs']} distinct designs "
        f"evaluated and stored, Pareto front {result['front']}, status {result['status']}",
    ]
    print(lines[-1], file=sys.stderr)
    with Path(args.output).open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
