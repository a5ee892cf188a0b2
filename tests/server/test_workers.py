"""Real worker processes (`chiplet-dse worker`, `chiplet-dse serve`) against the real database.

Runs are created in the test process with django-tasks-db's DatabaseBackend and executed by
worker subprocesses that share the test database, so the tests need committed rows
(``transaction=True``). They pass on SQLite and on PostgreSQL (``DATABASE_URL=postgres://…``);
the test with several concurrent workers needs PostgreSQL.

Every subprocess gets its own session and is killed at teardown; its output (stdout and
stderr together) is printed at teardown, so a failing test shows what the workers said.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from chiplet_dse.optimize.pareto import pareto_ranks
from chiplet_dse.server.runs.executor import execute
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun, RunStatus
from chiplet_dse.server.runs.services import create_run
from chiplet_dse.server.runs.specs import build_spec

from .conftest import designs_of

transactional = pytest.mark.django_db(transaction=True)

HEARTBEAT_SECONDS = 0.5
STALE_SECONDS = 3.0
#: About 0.3 s a generation on one core: killed after generation 2, it leaves about 2 s of
#: margin before it would have finished.
KILLABLE = dict(
    experiment="gpt-j-second-65536", algorithm="NSGA2", population_size=8, generations=10
)
#: About 0.25 s a generation.
QUICK = dict(experiment="gpt-j-second-65536", algorithm="NSGA2", population_size=6, generations=4)


# -- helpers -----------------------------------------------------------------------------------
def shared_database_url() -> str:
    """``DATABASE_URL`` of the database this test session uses (the *test* database)."""
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        name = str(s["NAME"])
        assert name and ":memory:" not in name and "mode=memory" not in name, name
        return "sqlite:///" + str(Path(name).resolve())
    if connection.vendor == "postgresql":
        auth = quote(s["USER"] or "", safe="")
        if s.get("PASSWORD"):
            auth += ":" + quote(s["PASSWORD"], safe="")
        host = s.get("HOST") or ""
        port = f":{s['PORT']}" if s.get("PORT") else ""
        return f"postgres://{auth}@{host}{port}/{quote(s['NAME'], safe='')}"
    pytest.skip(f"no DATABASE_URL form for {connection.vendor}")


def clean_environ() -> dict[str, str]:
    """The test process's environment without anything that configures Django or the app."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL") and not k.startswith("CHIPLET_DSE_")
    }


class Processes:
    """Subprocesses of one test, each in its own session, output kept in a file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.directory / f"{name}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "chiplet_dse", *args],
                env=env,
                cwd=self.directory,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append((name, proc, log))
        return proc

    def log(self, proc: subprocess.Popen[bytes]) -> str:
        for _, p, path in self.started:
            if p is proc:
                return path.read_text(errors="replace")
        raise KeyError(proc)

    def logs(self) -> str:
        parts = []
        for name, proc, path in self.started:
            text = path.read_text(errors="replace") if path.exists() else ""
            parts.append(f"----- {name} (pid {proc.pid}, exit {proc.poll()}) -----\n{text}")
        return "\n".join(parts)

    def kill_all(self) -> None:
        for _, proc, _ in self.started:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)  # the process and whatever it started
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.kill_all()  # before the database is flushed or dropped
        print(procs.logs())  # shown by pytest when the test failed


def wait_until(
    condition: Callable[[], Any],
    timeout: float,
    what: str,
    procs: Processes,
    watch: tuple[subprocess.Popen[bytes], ...] = (),
    interval: float = 0.05,
) -> Any:
    """Poll ``condition`` until it is truthy; fail after ``timeout`` s or when a watched
    process exits."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        exited = [p for p in watch if p.poll() is not None]
        if exited or time.monotonic() > deadline:
            reason = f"exited: {[p.pid for p in exited]}" if exited else f"timeout {timeout} s"
            pytest.fail(f"waiting for {what} ({reason})\n{procs.logs()}")
        time.sleep(interval)


def finish(proc: subprocess.Popen[bytes], procs: Processes, timeout: float = 60) -> int:
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"process {proc.pid} still running after {timeout} s\n{procs.logs()}")


@pytest.fixture
def db_tasks(settings: Any) -> None:
    """Enqueue into django-tasks-db (django_tasks drops its backend cache on setting_changed)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}
    }


@pytest.fixture
def worker_env(tmp_path: Path, db_tasks: None) -> Callable[..., dict[str, str]]:
    """The environment of a worker that uses the test database."""

    def make(**overrides: str) -> dict[str, str]:
        env = clean_environ()
        env.update(
            CHIPLET_DSE_HOME=str(tmp_path / "worker-home"),
            DATABASE_URL=shared_database_url(),
            CHIPLET_DSE_TASK_BACKEND="django_tasks_db.DatabaseBackend",
            CHIPLET_DSE_EVAL_WORKERS="1",
            CHIPLET_DSE_AUTO_ANALYTICS="0",  # analytics (and ground truths) are tested apart
            CHIPLET_DSE_HEARTBEAT_SECONDS=str(HEARTBEAT_SECONDS),
            CHIPLET_DSE_STALE_SECONDS=str(STALE_SECONDS),
            CHIPLET_DSE_MAX_ATTEMPTS="3",
            PYTHONUNBUFFERED="1",
        )
        env.update(overrides)
        return env

    return make


def new_run(name: str, seed: int, enqueue: bool = True, **fields: Any) -> OptimizationRun:
    return create_run(build_spec(name=name, seed=seed, **fields), enqueue=enqueue)


def fresh(run: OptimizationRun) -> OptimizationRun:
    return OptimizationRun.objects.get(pk=run.pk)


def stored_rows(run: OptimizationRun) -> list[tuple[Any, ...]]:
    """Every stored column that must never change once a design is stored (not its rank)."""
    return list(
        DesignPoint.objects.filter(run=run)
        .order_by("evaluation_order")
        .values_list(
            "id",
            "gpu_count",
            "attention_count",
            "sparse_count",
            "convolution_count",
            "execution_time_ms",
            "energy_mj",
            "generation",
            "evaluation_order",
            "additional_metrics",
        )
    )


def assert_consistent(run: OptimizationRun) -> list[tuple[Any, ...]]:
    """Counters equal COUNTs, ranks are the true non-dominated ranks, orders are contiguous."""
    run = fresh(run)
    rows = list(
        DesignPoint.objects.filter(run=run)
        .order_by("evaluation_order")
        .values_list(
            "execution_time_ms",
            "energy_mj",
            "pareto_rank",
            "is_pareto_optimal",
            "generation",
            "evaluation_order",
        )
    )
    assert rows, f"{run.run_id} has no designs"
    assert run.total_designs_evaluated == len(rows)
    assert run.pareto_front_size == sum(1 for r in rows if r[2] == 1) > 0
    assert [r[2] for r in rows] == pareto_ranks(np.array([r[:2] for r in rows])).tolist()
    assert all(r[3] == (r[2] == 1) for r in rows)
    assert [r[5] for r in rows] == list(range(len(rows)))
    assert min(r[4] for r in rows) >= 1 and max(r[4] for r in rows) <= run.current_generation
    return rows


@pytest.fixture
def in_thread() -> Iterator[Callable[..., Future[Any]]]:
    """Call a function in a thread (with its own database connection, closed at its end)."""

    def call(fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        yield lambda fn, *args: pool.submit(call, fn, *args)


def tasks_of(run: OptimizationRun) -> list[DBTaskResult]:
    return [
        t
        for t in DBTaskResult.objects.order_by("enqueued_at")
        if t.args_kwargs["args"] == [run.run_id]
    ]


# -- 1. a worker killed mid-run ------------------------------------------------------------------
@transactional
def test_a_killed_worker_leaves_a_consistent_run_that_a_new_worker_finishes(
    processes, worker_env, in_thread
):
    run = new_run("killed", seed=11, **KILLABLE)
    first = processes.start("worker-1", ["worker", "--interval", "0.2"], worker_env())
    # Meanwhile, the same run uninterrupted, in this process.
    reference = new_run("reference", seed=11, enqueue=False, **KILLABLE)
    uninterrupted = in_thread(execute, reference.run_id)

    def mid_run() -> bool:
        r = fresh(run)
        assert r.status in (RunStatus.QUEUED, RunStatus.RUNNING), (r.status, r.error_message)
        return r.status == RunStatus.RUNNING and r.current_generation >= 2

    wait_until(mid_run, 60, "generation 2 of the run to be stored", processes, (first,))
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    print(f"worker-1 killed after generation {fresh(run).current_generation}")

    killed = fresh(run)
    assert killed.status == RunStatus.RUNNING and killed.attempts == 1
    assert 2 <= killed.current_generation < killed.total_generations == KILLABLE["generations"], (
        "the run finished before the worker was killed; make it longer"
    )
    assert killed.worker.endswith(f":{first.pid}")
    rows = assert_consistent(killed)
    assert {r[4] for r in rows} <= set(range(1, killed.current_generation + 1))
    before = stored_rows(killed)

    def stale() -> bool:
        beat = fresh(run).heartbeat_at
        return timezone.now() - beat > timezone.timedelta(seconds=STALE_SECONDS + 0.2)

    wait_until(stale, 30, "the killed worker's heartbeat to go stale", processes)
    assert fresh(run).status == RunStatus.RUNNING  # nobody touched it meanwhile
    second = processes.start("worker-2", ["worker", "--batch", "--interval", "0.2"], worker_env())
    assert finish(second, processes) == 0, processes.logs()
    assert f"recovered abandoned runs: {run.run_id}" in processes.log(second)

    done = fresh(run)
    assert done.status == RunStatus.COMPLETED, (done.status, done.error_message)
    assert done.attempts == 2 and done.error_message == ""
    assert done.current_generation == done.total_generations == KILLABLE["generations"]
    assert done.worker.endswith(f":{second.pid}")
    assert_consistent(done)
    # Nothing stored before the kill was rewritten or deleted (same ids, same values)…
    assert stored_rows(done)[: len(before)] == before
    # …and the search continued from its checkpoint: the designs of an uninterrupted run.
    assert uninterrupted.result(timeout=60) == RunStatus.COMPLETED
    assert designs_of(done) == designs_of(reference)
    # (A restart that re-proposed the stored designs from the cache would give the same
    # designs; its evaluation counter would lose the evaluations made before the kill.)
    reference = fresh(reference)
    assert done.evaluations == reference.evaluations == done.total_designs_evaluated
    # The killed worker's task stays claimed forever; recovery enqueued a second one.
    orphan, retry = tasks_of(run)
    assert orphan.status == "RUNNING" and orphan.return_value is None
    assert (retry.status, retry.return_value) == ("SUCCESSFUL", RunStatus.COMPLETED)


# -- 2. four workers, eight runs -----------------------------------------------------------------
@transactional
def test_four_workers_execute_eight_runs_exactly_once(processes, worker_env):
    if connection.vendor != "postgresql":
        pytest.skip(
            "concurrent workers are tested on PostgreSQL only; run with "
            "DATABASE_URL=postgres://… (SQLite serialises every writer)"
        )
    seeds = [1, 1, 2, 2, 3, 3, 4, 4]  # equal seeds must give equal designs
    runs = [new_run(f"fleet {i}", seed=s, **QUICK) for i, s in enumerate(seeds)]
    assert DBTaskResult.objects.filter(status="READY").count() == 8
    # max-tasks 2 each: all eight finish only if every worker takes its share.
    env = worker_env(CHIPLET_DSE_STALE_SECONDS="15")  # periodic recovery on, never stale
    workers = [
        processes.start(
            f"worker-{k}",
            ["worker", "--max-tasks", "2", "--interval", "0.1", "--worker-id", f"fleet-{k}"],
            env,
        )
        for k in range(4)
    ]

    def all_final() -> bool:
        return not OptimizationRun.objects.filter(pk__in=[r.pk for r in runs]).exclude(
            status__in=[RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED]
        )

    wait_until(all_final, 120, "eight runs to finish", processes, interval=0.2)
    for w in workers:
        assert finish(w, processes, timeout=30) == 0, processes.logs()

    pids = {str(w.pid) for w in workers}
    limit = QUICK["population_size"] * QUICK["generations"]
    by_seed: dict[int, list[list[tuple[Any, ...]]]] = {}
    for run, seed in zip(runs, seeds, strict=True):
        r = fresh(run)
        assert (r.status, r.error_message) == (RunStatus.COMPLETED, "")
        assert r.attempts == 1, f"{r.run_id} executed {r.attempts} times"
        assert r.worker.rsplit(":", 1)[1] in pids
        assert r.current_generation == r.total_generations == QUICK["generations"]
        rows = assert_consistent(r)
        assert len(rows) <= limit, f"{r.run_id}: {len(rows)} designs, at most {limit} proposed"
        compositions = DesignPoint.objects.filter(run=r).values_list(
            "gpu_count", "attention_count", "sparse_count", "convolution_count"
        )
        assert len(set(compositions)) == len(rows)
        by_seed.setdefault(seed, []).append(designs_of(r))
    for seed, (a, b) in by_seed.items():
        assert a == b, f"the two runs with seed {seed} differ"
    assert len({json.dumps(v[0]) for v in by_seed.values()}) == len(by_seed)

    results = list(DBTaskResult.objects.filter(task_path__endswith=".execute_run"))
    assert len(results) == 8
    assert {t.args_kwargs["args"][0] for t in results} == {r.run_id for r in runs}
    assert {(t.status, t.return_value) for t in results} == {("SUCCESSFUL", "completed")}
    assert all(len(t.worker_ids) == 1 for t in results)
    used = {t.worker_ids[0] for t in results}
    assert used == {f"fleet-{k}" for k in range(4)}, used  # 2 tasks each


# -- 3. a stale run found at start ---------------------------------------------------------------
@transactional
@pytest.mark.parametrize(("attempts", "outcome"), [(1, "completed"), (3, "failed")])
def test_a_worker_recovers_a_stale_run_at_start(processes, worker_env, attempts, outcome):
    run = new_run("abandoned", seed=2, **QUICK)
    (task,) = tasks_of(run)
    # As if a worker had claimed run and task, then died before storing a generation.
    long_ago = timezone.now() - timezone.timedelta(minutes=5)
    DBTaskResult.objects.filter(pk=task.pk).update(
        status="RUNNING", started_at=long_ago, worker_ids=["dead-worker"]
    )
    OptimizationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING,
        attempts=attempts,
        heartbeat_at=long_ago,
        started_at=long_ago,
        worker="gone:1",
    )
    worker = processes.start("worker", ["worker", "--batch", "--interval", "0.2"], worker_env())
    assert finish(worker, processes) == 0, processes.logs()
    assert f"recovered abandoned runs: {run.run_id}" in processes.log(worker)

    done = fresh(run)
    assert done.status == outcome, (done.status, done.error_message)
    if outcome == "completed":
        assert done.attempts == attempts + 1 and done.error_message == ""
        assert done.worker.endswith(f":{worker.pid}")
        assert_consistent(done)
        orphan, retry = tasks_of(run)
        assert (orphan.pk, orphan.status) == (task.pk, "RUNNING")
        assert (retry.status, retry.return_value) == ("SUCCESSFUL", "completed")
    else:  # out of attempts: failed with the reason, nothing executed or enqueued
        assert done.attempts == attempts and done.completed_at is not None
        assert "stopped responding" in done.error_message
        assert f"gave up after {attempts} attempts" in done.error_message
        assert not DesignPoint.objects.filter(run=run).exists()
        assert [t.pk for t in tasks_of(run)] == [task.pk]


# -- 4. chiplet-dse serve ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())
    except (OSError, urllib.error.URLError, ValueError):
        return None


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_serve_answers_and_its_worker_executes_runs(processes, tmp_path):
    env = clean_environ()  # its own fresh SQLite database in its own data directory
    env.update(
        CHIPLET_DSE_HOME=str(tmp_path / "serve-home"),
        CHIPLET_DSE_EVAL_WORKERS="1",
        CHIPLET_DSE_AUTO_ANALYTICS="0",
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    serve = processes.start("serve", ["serve", "--port", str(port)], env)
    health = wait_until(
        lambda: get_json(f"http://127.0.0.1:{port}/health/"),
        60,
        "/health/ to answer",
        processes,
        (serve,),
        interval=0.2,
    )
    assert health["status"] == "ok" and health["runs"] == {}
    assert (tmp_path / "serve-home" / "db.sqlite3").exists()
    workers = wait_until(lambda: children_of(serve.pid), 10, "serve's worker", processes)
    assert len(workers) == 1

    client = subprocess.run(
        [sys.executable, "-m", "chiplet_dse", "run", "--name", "x", "--experiment",
         "rmc1-test", "--population", "6", "--generations", "2", "--seed", "1", "--wait"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert client.returncode == 0, (client.stdout, client.stderr, processes.logs())
    assert ": completed after 2/2 generations" in client.stdout, client.stdout
    counts = get_json(f"http://127.0.0.1:{port}/health/")
    assert counts == {"status": "ok", "runs": {"completed": 1}}

    serve.send_signal(signal.SIGTERM)
    assert finish(serve, processes, timeout=45) == 0, processes.logs()
    wait_until(lambda: not alive(workers[0]), 10, "serve's worker to exit", processes)
    assert get_json(f"http://127.0.0.1:{port}/health/") is None
