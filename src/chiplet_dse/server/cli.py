"""Command-line handlers of the server side: runs, workers, the web server, legacy import.

Django is configured only when one of these commands runs, so model-only commands stay light.
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import threading
import time
from typing import Any

from chiplet_dse import presentation as fmt
from chiplet_dse.errors import InputError
from chiplet_dse.model import DEFAULT_EXPERIMENT, GOALS


def _setup() -> None:
    from chiplet_dse.server import bootstrap

    bootstrap.setup()


def _counts(text: str, name: str) -> list[int]:
    parts = text.split(",")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise InputError(
            f"expected four integers GPU,ATTN,SPARSE,CONV, got {text!r}", field=name
        ) from None
    if len(values) != 4:
        raise InputError(f"expected four integers GPU,ATTN,SPARSE,CONV, got {text!r}", field=name)
    return values


def space_from_args(args: argparse.Namespace) -> dict[str, Any] | None:
    """The design space options as DesignSpace.to_dict() input, or None for the default."""
    given = any(v is not None for v in (args.lower, args.upper, args.total, args.total_min,
                                         args.total_max))  # fmt: skip
    if not given:
        return None
    if args.total is not None and (args.total_min is not None or args.total_max is not None):
        raise InputError("give --total or --total-min/--total-max, not both", field="total")
    total_min = args.total if args.total is not None else args.total_min
    total_max = args.total if args.total is not None else args.total_max
    space: dict[str, Any] = {
        "lower": _counts(args.lower, "lower") if args.lower else [0, 0, 0, 0],
        "upper": _counts(args.upper, "upper") if args.upper else [12, 12, 12, 12],
        "total_min": 12 if total_min is None else total_min,
        "total_max": 12 if total_max is None else total_max,
    }
    return space


# -- run ---------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    _setup()
    from chiplet_dse.server.runs.services import create_run, get_run
    from chiplet_dse.server.runs.specs import build_spec

    objectives = args.objectives.split(",") if args.objectives else None
    spec = build_spec(
        name=args.name,
        experiment=args.experiment,
        algorithm=args.algorithm.upper(),
        population_size=args.population,
        generations=args.generations,
        seed=args.seed if args.seed is not None else random.SystemRandom().randrange(2**31),
        description=args.description or "",
        trace_dir=args.trace_dir,
        library=args.library,
        goal=args.goal,
        space=space_from_args(args),
        objectives=objectives,
        scalar=args.scalar,
        auto_export=args.auto_export,
    )
    run = create_run(spec, enqueue=not args.inline)
    print(f"{run.run_id}  {run.status}  {run.name}  ({run.algorithm}, seed {run.seed})")
    if args.inline:
        from chiplet_dse.server.runs.executor import execute

        execute(run.run_id)
        run = get_run(run.run_id)
        _print_final(run)
        return 0 if run.status == "completed" else 1
    if args.wait:
        return _wait(run.run_id)
    return 0


def _wait(run_id: str) -> int:
    from chiplet_dse.server.runs.services import get_run

    bar = fmt.ProgressBar(f"{run_id}")
    started = time.monotonic()
    hinted = False
    while True:
        run = get_run(run_id)
        total = max(run.total_generations, 1)
        bar(min(run.current_generation, total - 1 if not run.is_final else total), total)
        if run.is_final or run.status == "paused":
            if run.is_final:
                bar(total, total)
            _print_final(run)
            return 0 if run.status in ("completed", "paused") else 1
        if not hinted and run.status == "queued" and time.monotonic() - started > 10:
            print(
                "\nstill queued: is a worker running? Start one with `chiplet-dse worker` "
                "(or use --inline).",
                file=sys.stderr,
            )
            hinted = True
        time.sleep(0.5)


def _print_final(run: Any) -> None:
    print(
        f"{run.run_id}: {run.status} after {run.current_generation}/{run.total_generations} "
        f"generations, {run.total_designs_evaluated} designs, Pareto front "
        f"{run.pareto_front_size}, {run.execution_time_s:.1f} s"
    )
    if run.error_message:
        print(f"  {run.error_message}", file=sys.stderr if run.status == "failed" else sys.stdout)


# -- runs --------------------------------------------------------------------------------------
def _run_dict(run: Any) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "name": run.name,
        "status": run.status,
        "algorithm": run.algorithm,
        "model": run.model,
        "experiment": run.experiment,
        "trace_name": run.trace_name,
        "population_size": run.population_size,
        "generations": run.generations,
        "seed": run.seed,
        "objectives": run.objectives,
        "generation": run.current_generation,
        "total_generations": run.total_generations,
        "total_designs_evaluated": run.total_designs_evaluated,
        "pareto_front_size": run.pareto_front_size,
        "evaluations": run.evaluations,
        "created_at": run.created_at.isoformat(),
        "started_at": run.started_at.isoformat() if run.started_at else None,
        "completed_at": run.completed_at.isoformat() if run.completed_at else None,
        "execution_time_s": run.execution_time_s,
        "error_message": run.error_message,
    }


def cmd_runs(args: argparse.Namespace) -> int:
    _setup()
    from chiplet_dse.server.runs import services
    from chiplet_dse.server.runs.models import OptimizationRun

    action = args.action
    if action == "list":
        runs = OptimizationRun.objects.all()
        if args.status:
            runs = runs.filter(status=args.status)
        runs = list(runs[: args.limit])
        if args.format == "json":
            print(fmt.to_json([_run_dict(r) for r in runs]))
            return 0
        rows = [
            (r.run_id, r.name, r.status, r.algorithm, r.experiment,
             f"{r.current_generation}/{r.total_generations}", r.total_designs_evaluated,
             r.pareto_front_size, f"{r.created_at:%Y-%m-%d %H:%M:%S}")
            for r in runs
        ]  # fmt: skip
        headers = ("run id", "name", "status", "alg", "experiment", "gen", "designs", "front",
                   "created")  # fmt: skip
        print(fmt.table(headers, rows) if rows else "no runs")
        return 0
    if not args.run_id:
        raise InputError(f"`runs {action}` needs a RUN_ID")
    if action == "show":
        return _show(services.get_run(args.run_id), args)
    handler = {
        "pause": services.pause_run,
        "resume": services.resume_run,
        "stop": services.stop_run,
    }.get(action)
    if handler is not None:
        run = handler(args.run_id)
        note = f" (will {run.control} after the current generation)" if run.control else ""
        print(f"{run.run_id}: {run.status}{note}")
        return 0
    services.delete_run(args.run_id)
    print(f"{args.run_id}: deleted")
    return 0


def _show(run: Any, args: argparse.Namespace) -> int:
    designs = run.designs.order_by("pareto_rank", "execution_time_ms")
    if args.front:
        designs = designs.filter(pareto_rank=1)
    designs = list(designs[: args.designs])
    if args.format == "json":
        data = _run_dict(run)
        data["config"] = run.config
        data["designs"] = [
            {"gpu_count": d.gpu_count, "attention_count": d.attention_count,
             "sparse_count": d.sparse_count, "convolution_count": d.convolution_count,
             "execution_time_ms": d.execution_time_ms, "energy_mj": d.energy_mj,
             "pareto_rank": d.pareto_rank, "generation": d.generation}
            for d in designs
        ]  # fmt: skip
        print(fmt.to_json(data))
        return 0
    info = _run_dict(run)
    for key in ("run_id", "name", "status", "algorithm", "model", "experiment", "trace_name",
                "population_size", "generations", "seed", "objectives", "generation",
                "total_designs_evaluated", "pareto_front_size", "evaluations", "created_at",
                "started_at", "completed_at", "execution_time_s", "error_message"):  # fmt: skip
        if info[key] not in (None, ""):
            print(f"{key:<24}{info[key]}")
    if designs:
        print()
        rows = [
            (d.pareto_rank, d.gpu_count, d.attention_count, d.sparse_count,
             d.convolution_count, f"{d.execution_time_ms:.6g}", f"{d.energy_mj:.6g}",
             d.generation)
            for d in designs
        ]  # fmt: skip
        print(fmt.table(("rank", "GPU", "Attn", "Sparse", "Conv", "time ms", "energy mJ", "gen"),
                        rows, ">>>>>>>>"))  # fmt: skip
    return 0


# -- worker ------------------------------------------------------------------------------------
def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    from django.conf import settings
    from django.core.management import call_command

    from chiplet_dse.server.runs.services import recover_stale_ground_truths, recover_stale_runs

    recovered = recover_stale_runs()
    recover_stale_ground_truths()
    if recovered:
        print(f"recovered abandoned runs: {', '.join(recovered)}", file=sys.stderr)
    stop = threading.Event()
    if not args.batch:
        interval = max(settings.CHIPLET_DSE_STALE_SECONDS / 2, 1.0)
        threading.Thread(
            target=_recover_periodically, args=(stop, interval), daemon=True, name="recovery"
        ).start()
    options: dict[str, Any] = {"interval": args.interval, "reload": False}
    if args.batch:
        options["batch"] = True
    if args.max_tasks:
        options["max_tasks"] = args.max_tasks
    if args.worker_id:
        options["worker_id"] = args.worker_id
    try:
        call_command("db_worker", **options)
    finally:
        stop.set()
    return 0


def _recover_periodically(stop: threading.Event, interval: float) -> None:
    from django.db import connection

    from chiplet_dse.server.exports.services import scheduled_cleanup
    from chiplet_dse.server.runs.services import recover_stale_ground_truths, recover_stale_runs

    while not stop.wait(interval):
        try:
            recover_stale_runs()
            recover_stale_ground_truths()
            scheduled_cleanup()
        except Exception as exc:  # keep the worker alive; the next round retries
            print(f"periodic maintenance failed: {exc}", file=sys.stderr)
        finally:
            connection.close()


# -- serve -------------------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace) -> int:
    _setup()
    from waitress import serve

    from chiplet_dse.server.config.wsgi import application

    worker = None
    if not args.no_worker:
        worker = subprocess.Popen([sys.executable, "-m", "chiplet_dse", "worker"])

    def shutdown(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, shutdown)
    print(f"Chiplet DSE on http://{args.host}:{args.port}/ (Ctrl+C to stop)", flush=True)
    try:
        serve(application, host=args.host, port=args.port, threads=8, ident="chiplet-dse")
    except KeyboardInterrupt:
        pass
    finally:
        if worker is not None:
            # The worker finishes its current generation if it can; an interrupted run is
            # resumed from its last generation by the next worker, so waiting long is not needed.
            worker.terminate()
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
    return 0


# -- import-csv ------------------------------------------------------------------------------
def cmd_import_csv(args: argparse.Namespace) -> int:
    _setup()
    from django.conf import settings

    from chiplet_dse.server.runs.legacy import import_file

    path = args.file or str(settings.RESULTS_DIR / "points.csv")
    run, created = import_file(path, args.name)
    verb = "imported into" if created else "already imported as"
    print(f"{path}: {verb} {run.run_id} ({run.total_designs_evaluated} designs, "
          f"Pareto front {run.pareto_front_size})")  # fmt: skip
    return 0


# -- export ------------------------------------------------------------------------------------
def cmd_export(args: argparse.Namespace) -> int:
    _setup()
    from chiplet_dse.server.exports import services as exports

    options = {"compression": args.compression, "level": args.level}
    if args.compare:
        if args.run_id:
            raise InputError("give RUN_ID or --compare A B, not both")
        a, b = args.compare
        name = args.study_name or args.base_name or f"{a}_vs_{b}"
        result = exports.export_comparative_study(a, b, name, **options)
    elif args.runs:
        if not args.base_name:
            raise InputError("--runs needs --base-name")
        result = exports.export_multiple_runs(args.runs, args.base_name, **options)
    elif args.run_id:
        result = exports.export_run(args.run_id, args.base_name, **options)
    else:
        raise InputError("give a RUN_ID, --compare A B or --runs A B ...")
    print(f"{result.path}  ({result.size_bytes:,} bytes)")
    return 0


def cmd_exports(args: argparse.Namespace) -> int:
    _setup()
    from chiplet_dse.server.exports import services as exports

    if args.action == "cleanup":
        if args.max_age_days is None:
            raise InputError("exports cleanup needs --max-age-days N")
        deleted = exports.cleanup_exports(args.max_age_days)
        print(f"deleted {len(deleted)} export(s)" + "".join(f"\n  {d}" for d in deleted))
        return 0
    files = exports.list_exports()
    if args.format == "json":
        print(fmt.to_json(files))
    else:
        rows = [(f["name"], f"{f['size_bytes']:,}", f["modified"]) for f in files]
        print(fmt.table(("file", "bytes", "modified"), rows, "<><") if rows else "no exports")
    return 0


# -- parser ------------------------------------------------------------------------------------
def add_commands(sub: Any) -> None:
    p = sub.add_parser("run", help="create an optimisation run (executed by a worker)")
    p.add_argument("--name", required=True)
    p.add_argument("--experiment", default=DEFAULT_EXPERIMENT, metavar="NAME_OR_FILE")
    p.add_argument("--algorithm", default="NSGA2", help="NSGA2, GA, MOEA or FF")
    p.add_argument("--population", type=int, default=50, help="population (FF: batch) size")
    p.add_argument("--generations", type=int, default=20)
    p.add_argument("--seed", type=int, help="random seed (default: drawn and stored)")
    p.add_argument("--description")
    p.add_argument("--trace-dir", metavar="DIR")
    p.add_argument("--library", metavar="FILE")
    p.add_argument("--goal", choices=GOALS)
    p.add_argument("--objectives", help="comma-separated, default execution_time_ms,energy_mj")
    p.add_argument("--scalar", default="edp", help="GA objective: edp, execution_time_ms, ...")
    p.add_argument("--lower", metavar="G,A,S,C", help="minimum count per chiplet type")
    p.add_argument("--upper", metavar="G,A,S,C", help="maximum count per chiplet type")
    p.add_argument("--total", type=int, help="exact number of chiplets (default 12)")
    p.add_argument("--total-min", type=int)
    p.add_argument("--total-max", type=int)
    p.add_argument("--auto-export", action="store_true", help="export a zip when it completes")
    p.add_argument("--wait", action="store_true", help="show progress until the run ends")
    p.add_argument("--inline", action="store_true", help="execute in this process, no worker")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("runs", help="list, show, pause, resume, stop or delete runs")
    p.add_argument("action", choices=("list", "show", "pause", "resume", "stop", "delete"))
    p.add_argument("run_id", nargs="?", metavar="RUN_ID")
    p.add_argument("--status")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--designs", type=int, default=20, help="show: how many designs to list")
    p.add_argument("--front", action="store_true", help="show: only the Pareto front")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(handler=cmd_runs)

    p = sub.add_parser("worker", help="execute queued runs (run one per machine, or many)")
    p.add_argument("--interval", type=float, default=1.0, help="seconds between queue polls")
    p.add_argument("--batch", action="store_true", help="exit when the queue is empty")
    p.add_argument("--max-tasks", type=int)
    p.add_argument("--worker-id")
    p.set_defaults(handler=cmd_worker)

    p = sub.add_parser("serve", help="start the web server and one worker")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--no-worker", action="store_true", help="do not start a worker")
    p.set_defaults(handler=cmd_serve)

    p = sub.add_parser("import-csv", help="import a legacy points.csv as a completed run")
    p.add_argument("file", nargs="?", help="default: results/points.csv in the data directory")
    p.add_argument("--name")
    p.set_defaults(handler=cmd_import_csv)

    p = sub.add_parser("export", help="export a run (or a comparison, or several runs) to a zip")
    p.add_argument("run_id", nargs="?", metavar="RUN_ID")
    p.add_argument("--compare", nargs=2, metavar=("RUN_A", "RUN_B"), help="comparative study")
    p.add_argument("--runs", nargs="+", metavar="RUN_ID", help="several runs in one zip")
    p.add_argument("--base-name", help="file name start (letters, digits, - _ .)")
    p.add_argument("--study-name", help="with --compare: the study's name")
    p.add_argument("--compression", default="deflated",
                   choices=("stored", "deflated", "bzip2", "lzma"))  # fmt: skip
    p.add_argument("--level", type=int, help="compression level (deflated 0-9, bzip2 1-9)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("exports", help="list export zips or delete old ones")
    p.add_argument("action", choices=("list", "cleanup"))
    p.add_argument("--max-age-days", type=float)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(handler=cmd_exports)

    p = sub.add_parser("migrate", help="create or update the database schema")
    p.set_defaults(handler=lambda args: (_setup(), print("database is up to date"), 0)[2])
