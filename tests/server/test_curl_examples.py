"""The spec's curl examples, verbatim, against `chiplet-dse serve` on 127.0.0.1:8000.

The spec (run-storage-and-export.md, "Usage Examples" and "Migration from Existing Data")
shows four curl commands against ``http://localhost:8000``. This test starts the server exactly
as ``make run`` does (``python -m chiplet_dse serve --host 127.0.0.1 --port 8000``) with a fresh
data directory and SQLite, stores the three runs the examples name, then runs each command
character for character through ``bash -c``. It is skipped when port 8000 is taken.

The commands do not print the HTTP status; a ``.curlrc`` in ``CURL_HOME`` adds
``--write-out`` (and ``--silent``), so the command text stays the spec's while the status can
be asserted.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PORT = 8000
SPEC = Path(__file__).resolve().parents[2].parent / "shared" / "spec" / "run-storage-and-export.md"
RUN_IDS = ("run_20250802_205153", "run_20250802_205154", "run_20250802_205155")

# -- the spec's commands, copied character for character ------------------------------------------
EXPORT_RUN = r"""curl -X POST http://localhost:8000/api/runs/run_20250802_205153/export/ \
  -H "Content-Type: application/json" \
  -d '{"base_name": "my_optimization"}'"""

EXPORT_STUDY = r"""curl -X POST http://localhost:8000/api/exports/comparative-study/ \
  -H "Content-Type: application/json" \
  -d '{
    "run_a_id": "run_20250802_205153",
    "run_b_id": "run_20250802_205154",
    "study_name": "gpt_vs_resnet_comparison"
  }'"""

EXPORT_RUNS = r"""curl -X POST http://localhost:8000/api/exports/multiple-runs/ \
  -H "Content-Type: application/json" \
  -d '{
    "run_ids": ["run_20250802_205153", "run_20250802_205154", "run_20250802_205155"],
    "base_name": "batch_optimization"
  }'"""

MIGRATE = r"""curl -X POST http://localhost:8000/api/migrate-data/"""

COMMANDS = (EXPORT_RUN, EXPORT_STUDY, EXPORT_RUNS, MIGRATE)

CSV_HEADER = (
    "execution_time_ms,energy_mj,gpu_count,attention_count,sparse_count,convolution_count,"
    "total_chiplets,is_pareto_optimal"
)
MONTH = "(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"


def export_name(base: str) -> re.Pattern[str]:
    """``{base}_{YYYY}{Mon}{DD}_{HHMMSS}.zip`` (spec "File Naming Convention")."""
    return re.compile(rf"{re.escape(base)}_[0-9]{{4}}{MONTH}[0-9]{{2}}_[0-9]{{6}}\.zip")


#: Per run: (composition, execution_time_ms, energy_mj, generation); a trade-off with a front
#: of several designs and some dominated ones.
DESIGNS = (
    ((12, 0, 0, 0), 10.0, 90.0, 0),
    ((0, 12, 0, 0), 20.0, 60.0, 0),
    ((0, 0, 12, 0), 40.0, 30.0, 0),
    ((0, 0, 0, 12), 80.0, 15.0, 0),
    ((3, 3, 3, 3), 30.0, 70.0, 1),
    ((6, 6, 0, 0), 50.0, 50.0, 1),
    ((0, 6, 6, 0), 90.0, 40.0, 1),
    ((4, 4, 4, 0), 25.0, 95.0, 1),
)

#: Run in a subprocess against the server's database: the three runs of the examples.
MAKE_RUNS = """
import json, sys
from chiplet_dse.server import bootstrap
bootstrap.setup()
from django.utils import timezone
from chiplet_dse.server.runs.models import OptimizationRun
from chiplet_dse.server.runs.store import NewDesign, add_designs, create_unique
designs = json.loads(sys.argv[1])
for k, run_id in enumerate(sys.argv[2:]):
    now = timezone.now()
    run = create_unique(
        OptimizationRun, "run_id", run_id, name=f"curl example {k + 1}", algorithm="NSGA2",
        model="CASCADE", population_size=4, generations=2, total_generations=2,
        objectives=["execution_time_ms", "energy_mj"], experiment="rmc1-test",
        trace_name="rmc1-test", status="completed", seed=k, started_at=now, completed_at=now,
    )
    scale = 1.0 + 0.1 * k
    add_designs(
        run,
        [NewDesign(tuple(c), {"execution_time_ms": t * scale, "energy_mj": e / scale}, g)
         for c, t, e, g in designs],
        current_generation=2, evaluations=len(designs),
    )
    run.refresh_from_db()
    print(run.run_id, run.total_designs_evaluated, run.pareto_front_size)
"""

LEGACY_POINTS = (
    "12.5,80.0,12,0,0,0\n"
    "15.0,60.0,0,12,0,0\n"
    "30.0,30.0,0,0,12,0\n"
    "60.0,20.0,0,0,0,12\n"
    "35.0,65.0,3,3,3,3\n"
)


# -- helpers ---------------------------------------------------------------------------------------
def port_taken() -> str | None:
    """Why port 8000 cannot be ours (the server binds 127.0.0.1; curl tries ::1 first), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does
        try:
            s.bind(("127.0.0.1", PORT))
        except OSError as exc:
            return f"127.0.0.1:{PORT} is already in use ({exc.strerror})"
    with contextlib.suppress(OSError), socket.create_connection(("::1", PORT), timeout=1):
        return f"something listens on [::1]:{PORT} (curl's localhost would reach it)"
    return None


def clean_environ() -> dict[str, str]:
    """The test process's environment without anything that configures Django or the app."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL") and not k.startswith("CHIPLET_DSE_")
    }


def get_json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None


class Server:
    """`python -m chiplet_dse serve` in its own session, output kept in a file."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.log = home.parent / "serve.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "chiplet_dse", "serve", "--host", "127.0.0.1",
                 "--port", str(PORT)],
                env=env, cwd=home.parent, stdin=subprocess.DEVNULL, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def wait_healthy(self, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"serve exited with {self.proc.returncode}\n{self.output()}")
            health = get_json(f"http://127.0.0.1:{PORT}/health/")
            if health is not None:
                return health
            time.sleep(0.1)
        pytest.fail(f"/health/ did not answer within {timeout} s\n{self.output()}")

    def stop(self) -> int:
        """SIGTERM, as Ctrl+C would; serve stops its worker and exits."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve still running 20 s after SIGTERM\n{self.output()}")

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # serve and its worker
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    reason = port_taken()
    if reason:
        pytest.skip(f"the spec's curl examples need port {PORT}: {reason}")
    return tmp_path / "chiplet-server"


@pytest.fixture
def env(home: Path, tmp_path: Path) -> dict[str, str]:
    """The server's environment: its own data directory, SQLite (no DATABASE_URL)."""
    environ = clean_environ()
    environ.update(
        CHIPLET_DSE_HOME=str(home),
        CHIPLET_DSE_EVAL_WORKERS="1",
        PYTHONUNBUFFERED="1",
        CHIPLET_DSE_AUTO_ANALYTICS="0",
    )
    return environ


@pytest.fixture
def curl_env(env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Where curl reads a .curlrc that prints the HTTP status after the body."""
    curl_home = tmp_path / "curl-home"
    curl_home.mkdir()
    (curl_home / ".curlrc").write_text(
        'silent\nshow-error\nmax-time = 60\nnoproxy = "*"\n'
        'write-out = "\\nHTTP_STATUS=%{http_code}\\n"\n'
    )
    return {**env, "CURL_HOME": str(curl_home), "HOME": str(curl_home)}


@pytest.fixture
def server(home: Path, env: dict[str, str]) -> Iterator[Server]:
    server = Server(home, env)
    try:
        yield server
    finally:
        server.kill()  # no-op after a clean stop
        print(server.output())  # shown by pytest when the test failed


def curl(cmd: str, env: dict[str, str]) -> tuple[int, str]:
    """Run a command line with bash; (HTTP status, body) of the curl in it."""
    done = subprocess.run(["bash", "-c", cmd], env=env, capture_output=True, text=True,
                          timeout=90)  # fmt: skip
    assert done.returncode == 0, (cmd, done.returncode, done.stdout, done.stderr)
    body, marker, status = done.stdout.rstrip("\n").rpartition("\nHTTP_STATUS=")
    assert marker, (cmd, done.stdout, done.stderr)
    return int(status), body


def success(cmd: str, env: dict[str, str]) -> dict[str, Any]:
    status, body = curl(cmd, env)
    assert status == 200, (cmd, status, body)
    data = json.loads(body)
    assert data["status"] == "success", data
    return data


def check_export(data: dict[str, Any], base: str, exports: Path) -> Path:
    """The export answer names a zip ``{base}_{YYYY}{Mon}{DD}_{HHMMSS}.zip`` that exists."""
    url = data["download_url"]
    match = re.fullmatch(r"/media/exports/(?P<name>[^/]+)", url)
    assert match and export_name(base).fullmatch(match["name"]), url
    assert data["file_path"].endswith(url), (data["file_path"], url)
    path = Path(data["file_path"])
    assert path == exports / match["name"] and path.is_file(), (path, exports)
    return path


def download(url_path: str, env: dict[str, str], target: Path) -> bytes:
    status, body = curl(f"curl -o {target} http://localhost:{PORT}{url_path}", env)
    assert status == 200, (url_path, status, body)
    return target.read_bytes()


def csv_rows(zf: zipfile.ZipFile, member: str) -> list[list[str]]:
    text = zf.read(member).decode("utf-8")
    assert text.splitlines()[0] == CSV_HEADER, text[:200]
    return list(csv.reader(io.StringIO(text)))[1:]


# -- the tests -------------------------------------------------------------------------------------
def test_commands_are_the_specs(tmp_path: Path) -> None:
    """Guard against drift: every command above appears verbatim in a ```bash block."""
    if not SPEC.is_file():
        pytest.skip(f"spec not found at {SPEC}")
    blocks = re.findall(r"```bash\n(.*?)\n```", SPEC.read_text(encoding="utf-8"), re.S)
    for cmd in COMMANDS:
        assert cmd in blocks, cmd


@pytest.mark.skipif(sys.platform == "win32", reason="needs bash and POSIX signals")
def test_spec_curl_examples(home: Path, env, curl_env, server: Server, tmp_path: Path) -> None:
    started = time.monotonic()
    assert server.wait_healthy() == {"status": "ok", "runs": {}}
    exports = home / "media" / "exports"

    # The three runs the examples name, written to the server's SQLite database.
    made = subprocess.run(
        [sys.executable, "-c", MAKE_RUNS, json.dumps(DESIGNS), *RUN_IDS],
        env={**env, "DATABASE_URL": f"sqlite:///{home / 'db.sqlite3'}"},
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert made.returncode == 0, (made.stdout, made.stderr)
    stored = [line.split() for line in made.stdout.splitlines()]
    assert [s[0] for s in stored] == list(RUN_IDS), made.stdout
    assert all(int(s[1]) == len(DESIGNS) and int(s[2]) >= 2 for s in stored), stored
    assert get_json(f"http://127.0.0.1:{PORT}/health/")["runs"] == {"completed": 3}

    # Export a Single Run
    data = success(EXPORT_RUN, curl_env)
    assert data["message"] == "Run my_optimization exported successfully", data
    path = check_export(data, "my_optimization", exports)
    stem = path.name.removesuffix(".zip")
    zipped = download(data["download_url"], curl_env, tmp_path / "single.zip")
    assert zipped == path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        names = zf.namelist()
        for suffix in ("designs.csv", "report.txt", "metadata.json"):
            assert f"{stem}_{suffix}" in names, names
        rows = csv_rows(zf, f"{stem}_designs.csv")
        assert len(rows) == len(DESIGNS)
        assert {tuple(int(v) for v in r[2:6]) for r in rows} == {d[0] for d in DESIGNS}
        assert {r[7] for r in rows} == {"True", "False"}
        metadata = json.loads(zf.read(f"{stem}_metadata.json"))
        assert metadata["run"]["run_id"] == RUN_IDS[0]
        assert zf.read(f"{stem}_report.txt").decode("utf-8").strip()

    # Export Comparative Study
    data = success(EXPORT_STUDY, curl_env)
    path = check_export(data, "gpt_vs_resnet_comparison", exports)
    stem = path.name.removesuffix(".zip")
    zipped = download(data["download_url"], curl_env, tmp_path / "study.zip")
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        names = zf.namelist()
        assert f"{stem}_report.txt" in names and f"{stem}_metadata.json" in names, names
        for run_id in RUN_IDS[:2]:
            assert len(csv_rows(zf, f"{stem}_{run_id}_designs.csv")) == len(DESIGNS)
        study = json.loads(zf.read(f"{stem}_metadata.json"))
        assert [r["run"]["run_id"] for r in study["runs"]] == list(RUN_IDS[:2])

    # Export Multiple Runs
    data = success(EXPORT_RUNS, curl_env)
    path = check_export(data, "batch_optimization", exports)
    stem = path.name.removesuffix(".zip")
    zipped = download(data["download_url"], curl_env, tmp_path / "batch.zip")
    with zipfile.ZipFile(io.BytesIO(zipped)) as zf:
        names = zf.namelist()
        assert f"{stem}_report.txt" in names and f"{stem}_metadata.json" in names, names
        for run_id in RUN_IDS:
            assert len(csv_rows(zf, f"{stem}_{run_id}_designs.csv")) == len(DESIGNS)

    # Migration from Existing Data: results/points.csv in the data directory.
    (home / "results" / "points.csv").write_text(LEGACY_POINTS)
    data = success(MIGRATE, curl_env)
    run = data["run"]
    assert data["created"] is True and run["status"] == "completed", data
    assert run["total_designs_evaluated"] == len(LEGACY_POINTS.splitlines()), data
    assert run["run_id"] not in RUN_IDS and run["pareto_front_size"] >= 1, data
    status, body = curl(f"curl http://localhost:{PORT}/api/runs/{run['run_id']}/", curl_env)
    assert status == 200 and json.loads(body)["run"]["status"] == "completed", body
    assert get_json(f"http://127.0.0.1:{PORT}/health/")["runs"] == {"completed": 4}

    assert server.stop() == 0, server.output()
    assert get_json(f"http://127.0.0.1:{PORT}/health/") is None
    assert time.monotonic() - started < 60, "the curl examples took over a minute"
