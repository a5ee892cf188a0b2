"""Measure the CASCADE model: seconds per design for every runnable experiment.

    python benchmarks/bench_model.py --output docs/performance.md      (what `make bench` runs)

Writes a Markdown report with the machine it ran on. Never asserted in CI.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import scipy

from chiplet_dse.model import BUILTIN_EXPERIMENTS, Design, evaluate, evaluate_many, load_experiment

DESIGNS = [(12, 0, 0, 0), (0, 12, 0, 0), (0, 0, 12, 0), (0, 0, 0, 12),
           (3, 3, 3, 3), (6, 6, 0, 0), (0, 2, 5, 5), (1, 0, 11, 0)]  # fmt: skip

#: The original's seconds for one design on one idle core of this machine kind (issue #2).
ORIGINAL_S = {
    ("resnet50-test", (3, 3, 3, 3)): 40.6,
    ("resnet18-test", (3, 3, 3, 3)): 19.3,
    ("sd-test", (6, 6, 0, 0)): 28.5,
    ("sd-test", (3, 3, 3, 3)): 200.0,
}


def machine() -> list[str]:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f", {kb / 2**20:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return [
        f"- CPU: {cpu}, {os.cpu_count()} cores{mem}",
        f"- {platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, SciPy {scipy.__version__}",
        f"- measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
    ]


def timed(experiment, design: Design, repeat: int = 1) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        evaluate(experiment, design, details=False)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="docs/performance.md")
    parser.add_argument("--many", type=int, default=120, help="designs for the evaluate_many run")
    args = parser.parse_args()

    lines = ["# Performance", "", "Produced by `make bench` (`python benchmarks/bench_model.py`)."]
    lines += ["Machine:", "", *machine(), ""]

    lines += ["## One design, one core, against the original", ""]
    lines += [
        "| experiment | design | ours (s) | original (s) | speed-up |",
        "|---|---|---:|---:|---:|",
    ]
    for (name, counts), original in ORIGINAL_S.items():
        seconds = timed(load_experiment(name), Design(*counts), repeat=3)
        lines.append(
            f"| {name} | {','.join(map(str, counts))} | {seconds:.2f} | {original:.1f} "
            f"| {original / seconds:.0f}x |"
        )
        print(lines[-1], file=sys.stderr)
    lines += ["", "Ours: best of three runs. Original: issue #2's figures for CASCADE's own code",
              "(Python, SciPy 1.15.2) on one idle core of this machine kind.", ""]  # fmt: skip

    lines += ["## Seconds per design, every runnable experiment", ""]
    lines += ["The eight designs of spec §12.1, one core (`evaluate`, no breakdown).", ""]
    lines += [
        "| experiment | mean (s) | single-type (s) | mixed, max (s) |",
        "|---|---:|---:|---:|",
    ]
    for name in BUILTIN_EXPERIMENTS:
        experiment = load_experiment(name)
        times = {c: timed(experiment, Design(*c)) for c in DESIGNS}
        single = [t for c, t in times.items() if sum(1 for n in c if n) == 1]
        mixed = [t for c, t in times.items() if sum(1 for n in c if n) > 1]
        lines.append(
            f"| {name} | {statistics.mean(times.values()):.3f} | {statistics.mean(single):.3f} "
            f"| {max(mixed):.3f} |"
        )
        print(lines[-1], file=sys.stderr)

    compositions = [
        Design(*(c.count(t) for t in range(4)))
        for c in itertools.combinations_with_replacement(range(4), 12)
    ][: args.many]
    experiment = load_experiment("gpt-j-65536-weighted")
    lines += ["", "## Many designs per call (`evaluate_many`)", ""]
    lines += [f"gpt-j-65536-weighted, the first {len(compositions)} of the 455 twelve-chiplet",
              "compositions.", ""]  # fmt: skip
    lines += ["| workers | total (s) | per design (s) |", "|---:|---:|---:|"]
    for workers in (1, os.cpu_count() or 1):
        start = time.perf_counter()
        evaluate_many(experiment, compositions, workers=workers)
        total = time.perf_counter() - start
        lines.append(f"| {workers} | {total:.1f} | {total / len(compositions):.3f} |")
        print(lines[-1], file=sys.stderr)

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
