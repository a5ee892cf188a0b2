"""How close does a short NSGA-II run get to the true Pareto front? Appends to performance.md.

    python benchmarks/bench_truth.py --output docs/performance.md     (part of `make bench`)

For resnet50-test and gpt-j-65536-weighted on CASCADE's design space (12 chiplets, 455
compositions): the exact front (every composition evaluated once), then NSGA-II with
population 20 for 10 generations for a few seeds, executed in-process with the run store, and
its share of the true front, hypervolume ratio and IGD+ (the run's ground-truth analytics).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

EXPERIMENTS = ("resnet50-test", "gpt-j-65536-weighted")
SEEDS = (1, 2, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="docs/performance.md")
    args = parser.parse_args()
    os.environ.setdefault("CHIPLET_DSE_HOME", tempfile.mkdtemp(prefix="chiplet-dse-truth-"))
    os.environ["CHIPLET_DSE_TASK_BACKEND"] = "django_tasks.backends.immediate.ImmediateBackend"
    os.environ["CHIPLET_DSE_AUTO_ANALYTICS"] = "0"
    from chiplet_dse.server import bootstrap

    bootstrap.setup()
    from chiplet_dse.server.analytics.models import GroundTruth
    from chiplet_dse.server.analytics.services import compute_analytics
    from chiplet_dse.server.runs.executor import execute
    from chiplet_dse.server.runs.services import create_run
    from chiplet_dse.server.runs.specs import build_spec

    lines = ["", "## Share of the true Pareto front found", ""]
    lines += [
        "NSGA-II, population 20, 10 generations, on CASCADE's design space (12 chiplets, 455",
        "compositions), against the exact front of that space (all 455 evaluated once). Command:",
        "`python benchmarks/bench_truth.py` (part of `make bench`); per run, the same numbers come",
        "from `GET /api/runs/<id>/analytics/ground_truth/` or the run's report.",
        "",
        "| experiment | seed | designs evaluated | true front | found | share | HV ratio | IGD+ |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for experiment in EXPERIMENTS:
        for seed in SEEDS:
            spec = build_spec(
                name=f"truth {experiment} {seed}", experiment=experiment, algorithm="NSGA2",
                population_size=20, generations=10, seed=seed,
            )  # fmt: skip
            run = create_run(spec, enqueue=False)
            execute(run.run_id)
            run.refresh_from_db()
            started = time.perf_counter()
            result = compute_analytics(run, "ground_truth").results_data
            truth = GroundTruth.objects.get(key=run.truth_key)
            if seed == SEEDS[0]:
                print(f"{experiment}: ground truth {truth.computation_time_s:.0f} s "
                      f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)  # fmt: skip
            final = result["final"]
            lines.append(
                f"| {experiment} | {seed} | {run.total_designs_evaluated} "
                f"| {result['true_front_size']} | {final['true_front_found']} "
                f"| {100 * final['true_front_share']:.0f}% | {final['hypervolume_ratio']:.4f} "
                f"| {final['igd_plus']:.4g} |"
            )
            print(lines[-1], file=sys.stderr)
    lines += ["", "IGD+ is measured with each objective divided by the true front's range; the",
              "hypervolume ratio uses one reference point per experiment (the true front's worst",
              "value plus 10% of its range in each objective). Exact fronts found:"]  # fmt: skip
    for truth in GroundTruth.objects.order_by("created_at"):
        designs = ", ".join("/".join(map(str, d["composition"])) for d in truth.front)
        name, seconds = truth.description["experiment"], truth.computation_time_s
        lines.append(
            f"- {name}: {len(truth.front)} design(s) (G/A/S/C {designs}), in {seconds:.0f} s"
        )
    with Path(args.output).open("a", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
