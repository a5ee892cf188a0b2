"""Measure zip exports and REST API reads of a large run store; appends to docs/performance.md.

    python benchmarks/bench_api.py --output docs/performance.md
    python benchmarks/bench_api.py --quick        (10x smaller data, prints only: a fast check)

Uses a throw-away data directory with SQLite (DATABASE_URL is ignored), deleted at the end
(``--keep`` keeps it). Never asserted in CI.

* Exports: ``exports.services.export_run`` (deflated) of runs of 10,000 and 1,000,000 designs,
  each in a fresh child process after a warm-up export of a small run (imports, fonts): wall
  time and process RSS growth (peak RSS during the export minus RSS before it, the peak reset
  through ``/proc/self/clear_refs``) in one child, ``tracemalloc`` peak in another (tracing
  slows Python down, so its time is reported apart).
* API: median and p95 latency of ``GET /api/runs/``, ``/api/runs/<id>/`` and
  ``/api/runs/<id>/plot/`` with 1,000 runs, one of 1,000,000 designs, through Django's test
  ``Client`` (in-process: URL routing, middleware, DRF and JSON rendering, no network and no
  waitress).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve()
OBJECTIVES = ["execution_time_ms", "energy_mj"]


@dataclass(frozen=True)
class Sizes:
    export_runs: tuple[int, ...]  # designs of the runs exported
    big: int  # designs of the big run (also one of the exported runs)
    runs: int  # runs stored in total
    small: int  # designs of each small run
    batch: int  # designs per add_designs call
    requests: int  # timed requests per endpoint

    @classmethod
    def full(cls, requests: int) -> Sizes:
        return cls((10_000, 1_000_000), 1_000_000, 1_000, 10, 100_000, requests)

    @classmethod
    def quick(cls, requests: int) -> Sizes:
        return cls((1_000, 100_000), 100_000, 100, 10, 10_000, requests)


# -- process memory (Linux /proc) ----------------------------------------------------------------
def _status_kib(key: str) -> int | None:
    try:
        text = Path("/proc/self/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{key}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) if match else None


def rss_mib() -> float | None:
    kib = _status_kib("VmRSS")
    return kib / 1024 if kib is not None else None


def reset_peak_rss() -> bool:
    """Reset VmHWM (peak RSS) to the current RSS; False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float | None:
    kib = _status_kib("VmHWM")
    return kib / 1024 if kib is not None else None


# -- setup ---------------------------------------------------------------------------------------
def setup_django() -> None:
    from chiplet_dse.server import bootstrap

    bootstrap.setup()


def new_run(run_id: str, name: str, designs: int) -> Any:
    from django.utils import timezone

    from chiplet_dse.server.runs.models import OptimizationRun
    from chiplet_dse.server.runs.store import create_unique

    now = timezone.now()
    run = create_unique(
        OptimizationRun, "run_id", run_id, name=name, algorithm="NSGA2", model="CASCADE",
        population_size=max(designs // 10, 1), generations=10, total_generations=10,
        current_generation=10, objectives=OBJECTIVES, experiment="bench", trace_name="bench",
        status="completed", seed=0, started_at=now, completed_at=now,
    )  # fmt: skip
    assert run.run_id == run_id, run.run_id
    return run


def fill(run: Any, n: int, batch: int, rng: np.random.Generator) -> None:
    """``n`` designs with uniformly random objectives, in ``add_designs`` calls of ``batch``.

    The points are inserted in increasing order of max(t, e): a later point then never
    dominates an earlier one, so no stored rank changes and ``add_designs`` only inserts
    (random order would re-rank and UPDATE most stored rows on every call). The stored set is
    still a uniform random sample; only its evaluation order follows the objectives.
    """
    from chiplet_dse.server.runs.store import NewDesign, add_designs

    points = rng.random((n, 2))
    points = points[np.argsort(points.max(axis=1), kind="stable")]
    times = (1.0 + 99.0 * points[:, 0]).tolist()
    energies = (1.0 + 999.0 * points[:, 1]).tolist()
    for start in range(0, n, batch):
        stop = min(start + batch, n)
        designs = [
            NewDesign(
                (i % 1000, i // 1000 % 1000, i // 10**6, 1),
                {"execution_time_ms": times[i], "energy_mj": energies[i]},
                i // batch,
            )
            for i in range(start, stop)
        ]
        added = add_designs(run, designs, current_generation=stop // batch)
        assert added == stop - start, (added, stop - start)
    run.refresh_from_db()
    assert run.total_designs_evaluated == n, run.total_designs_evaluated


def populate(sizes: Sizes) -> dict[str, Any]:
    """The store: the exported runs (the largest is the big run), then small runs up to
    ``sizes.runs`` runs. Returns run ids and timings."""
    rng = np.random.default_rng(1)
    info: dict[str, Any] = {"export": {}, "seconds": {}}
    for n in sorted(sizes.export_runs):
        start = time.perf_counter()
        run = new_run(f"bench_{n}", f"bench run of {n} designs", n)
        fill(run, n, sizes.batch, rng)
        info["export"][n] = run.run_id
        info["seconds"][n] = time.perf_counter() - start
        print(f"stored {n:,} designs in {info['seconds'][n]:.1f} s", file=sys.stderr)
    info["big"] = info["export"][sizes.big]
    info["mid"] = info["export"][min(sizes.export_runs)]
    start = time.perf_counter()
    small = sizes.runs - len(sizes.export_runs)
    for k in range(small):
        run = new_run(f"bench_small_{k:04d}", f"small bench run {k}", sizes.small)
        fill(run, sizes.small, sizes.small, rng)
        if k == 0:
            info["small"] = run.run_id
    info["seconds"]["small"] = time.perf_counter() - start
    print(f"stored {small} small runs in {info['seconds']['small']:.1f} s", file=sys.stderr)
    from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun

    info["total_runs"] = OptimizationRun.objects.count()
    info["total_designs"] = DesignPoint.objects.count()
    return info


# -- exports (in child processes) ------------------------------------------------------------------
def child_export(run_id: str, warmup_run_id: str, traced: bool) -> dict[str, Any]:
    """One measured export in this (fresh) process, after a warm-up export."""
    import tracemalloc

    from chiplet_dse.server.exports.services import export_run

    warm = export_run(warmup_run_id, "warmup")
    warm.path.unlink()
    before = rss_mib()
    hwm_reset = reset_peak_rss()
    if traced:
        tracemalloc.start()
    start = time.perf_counter()
    result = export_run(run_id, "bench")
    seconds = time.perf_counter() - start
    out: dict[str, Any] = {"seconds": seconds, "rows": result.designs,
                           "size_bytes": result.size_bytes}  # fmt: skip
    if traced:
        out["tracemalloc_peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    else:
        peak = peak_rss_mib() if hwm_reset else None
        out.update(rss_before_mib=before, rss_peak_mib=peak, rss_after_mib=rss_mib())
    result.path.unlink()
    return out


def measure_export(run_id: str, warmup_run_id: str, traced: bool) -> dict[str, Any]:
    cmd = [sys.executable, str(HERE), "--child-export", run_id, warmup_run_id]
    if traced:
        cmd.append("--traced")
    done = subprocess.run(cmd, capture_output=True, text=True, env=os.environ.copy(),
                          timeout=3600)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"export child failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_exports(sizes: Sizes, info: dict[str, Any]) -> list[str]:
    lines = [
        "", "## Exports", "",
        "`exports.services.export_run` (deflated, default level) of one run with uniformly random",
        "objectives, each in a fresh process after a warm-up export of a small run. RSS growth:",
        "peak RSS during the export minus RSS before it. tracemalloc: peak of Python allocations,",
        "measured in a second process (tracing slows the export; its time is in brackets).",
        "",
        "| designs | seconds | zip MB | RSS before (MiB) | RSS growth, peak (MiB) "
        "| tracemalloc peak (MiB) |",
        "|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for n in sorted(sizes.export_runs):
        plain = measure_export(info["export"][n], info["small"], traced=False)
        traced = measure_export(info["export"][n], info["small"], traced=True)
        assert plain["rows"] == traced["rows"] == n, (plain, traced)
        growth = (
            f"{plain['rss_peak_mib'] - plain['rss_before_mib']:.1f}"
            if plain.get("rss_peak_mib") is not None
            else "n/a"
        )
        lines.append(
            f"| {n:,} | {plain['seconds']:.2f} | {plain['size_bytes'] / 1e6:.1f} "
            f"| {plain['rss_before_mib']:.0f} | {growth} "
            f"| {traced['tracemalloc_peak_mib']:.1f} ({traced['seconds']:.1f} s) |"
        )
        print(lines[-1], file=sys.stderr)
    return lines


# -- API latency ---------------------------------------------------------------------------------
def timed(client: Any, url: str, count: int) -> dict[str, Any]:
    for _ in range(3):  # warm-up: imports, caches, SQLite pages
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    ms = np.array(samples) * 1000
    return {"median": float(np.median(ms)), "p95": float(np.percentile(ms, 95)),
            "max": float(ms.max()), "bytes": len(response.content)}  # fmt: skip


def bench_api(sizes: Sizes, info: dict[str, Any]) -> list[str]:
    from django.test import Client

    client = Client()
    big, mid, small = info["big"], info["mid"], info["small"]
    endpoints: list[tuple[Any, ...]] = [
        ("`GET /api/runs/` (first page, 50 runs)", "/api/runs/"),
        (f"`GET /api/runs/<id>/`, run of {sizes.big:,}", f"/api/runs/{big}/"),
        (f"`GET /api/runs/<id>/`, run of {sizes.small}", f"/api/runs/{small}/"),
        (f"`GET /api/runs/<id>/plot/`, run of {sizes.big:,}", f"/api/runs/{big}/plot/"),
        (f"`GET /api/runs/<id>/plot/`, run of {min(sizes.export_runs):,}",
         f"/api/runs/{mid}/plot/"),
        (f"`GET /api/runs/<id>/plot/`, run of {sizes.small}", f"/api/runs/{small}/plot/"),
    ]  # fmt: skip
    lines = [
        "", "## API latency", "",
        f"{info['total_runs']:,} runs holding {info['total_designs']:,} designs (one run of "
        f"{sizes.big:,}, one of {min(sizes.export_runs):,},",
        f"the others {sizes.small} each), SQLite. Requests through Django's test `Client`, "
        "in-process: URL",
        "routing, middleware, DRF and JSON rendering are included, the network and waitress "
        "are not.",
        f"{sizes.requests} timed requests per row after 3 warm-up requests; plot requests use "
        "the default",
        "`max_points=5000`.",
        "",
        "| request | median (ms) | p95 (ms) | max (ms) | response KB |",
        "|---|---:|---:|---:|---:|",
    ]  # fmt: skip
    # The plot requests again with Python's cyclic garbage collector off: the difference is
    # the full collections that the many row tuples of a plot response trigger.
    endpoints += [
        (f"{label}, cyclic GC disabled", url, False)
        for label, url in endpoints
        if "/plot/" in url and small not in url
    ]
    for label, url, *gc_on in endpoints:
        if gc_on and not gc_on[0]:
            gc.disable()
        try:
            r = timed(client, url, sizes.requests)
        finally:
            gc.enable()
        lines.append(
            f"| {label} | {r['median']:.1f} | {r['p95']:.1f} | {r['max']:.1f} "
            f"| {r['bytes'] / 1000:.0f} |"
        )
        print(lines[-1], file=sys.stderr)
    return lines


# -- main ----------------------------------------------------------------------------------------
def machine() -> list[str]:
    import sqlite3

    import django

    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        cpu = names[0].strip() if names else cpu
    return [
        f"Machine: {cpu}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"Django {django.get_version()}, SQLite {sqlite3.sqlite_version}; "
        f"measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", help="append the Markdown to this file (else print it)")
    parser.add_argument("--quick", action="store_true", help="10x smaller data: a fast check")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--child-export", nargs=2, metavar=("RUN_ID", "WARMUP_RUN_ID"),
                        help=argparse.SUPPRESS)  # fmt: skip
    parser.add_argument("--traced", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child_export:
        setup_django()
        print(json.dumps(child_export(*args.child_export, traced=args.traced)))
        return 0

    home = Path(tempfile.mkdtemp(prefix="chiplet-dse-bench-api-"))
    os.environ["CHIPLET_DSE_HOME"] = str(home)
    os.environ.pop("DATABASE_URL", None)  # always SQLite in the throw-away directory
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)
    try:
        setup_django()
        sizes = (Sizes.quick if args.quick else Sizes.full)(args.requests)
        start = time.perf_counter()
        info = populate(sizes)
        db_mb = (home / "db.sqlite3").stat().st_size / 1e6
        lines = ["", "## Exports and API reads at scale" + (" (quick)" if args.quick else ""), ""]
        lines += [
            "Produced by `python benchmarks/bench_api.py`"
            + (" --quick" if args.quick else "")
            + f". {', '.join(machine())}",
            "",
            f"Store: {info['total_runs']:,} runs, {info['total_designs']:,} designs, "
            f"SQLite file {db_mb:,.0f} MB, built in {time.perf_counter() - start:.0f} s "
            f"(`add_designs` in batches of {sizes.batch:,}).",
        ]
        lines += bench_exports(sizes, info)
        lines += bench_api(sizes, info)
        text = "\n".join(lines) + "\n"
        if args.output:
            with Path(args.output).open("a", encoding="utf-8") as fh:
                fh.write(text)
            print(f"appended to {args.output}", file=sys.stderr)
        else:
            print(text)
    finally:
        if args.keep:
            print(f"data directory kept: {home}", file=sys.stderr)
        else:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
