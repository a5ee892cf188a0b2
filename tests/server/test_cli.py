"""The server-side commands of the CLI: run, runs, import-csv (executed in-process)."""

from __future__ import annotations

import json

import pytest

from chiplet_dse.cli import main
from chiplet_dse.server.runs.models import OptimizationRun, RunStatus

pytestmark = pytest.mark.django_db

RUN = ["run", "--name", "cli run", "--experiment", "rmc1-test", "--population", "6",
       "--generations", "2", "--seed", "4"]  # fmt: skip


def test_run_inline_then_list_and_show(capsys):
    assert main([*RUN, "--inline"]) == 0
    out = capsys.readouterr().out
    run = OptimizationRun.objects.get()
    assert run.run_id in out and "completed" in out and run.status == RunStatus.COMPLETED
    assert main(["runs", "list", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["run_id"] for r in listed] == [run.run_id]
    assert listed[0]["total_designs_evaluated"] == run.total_designs_evaluated
    assert main(["runs", "show", run.run_id, "--front", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert len(shown["designs"]) == run.pareto_front_size
    assert all(d["pareto_rank"] == 1 for d in shown["designs"])
    assert main(["runs", "show", run.run_id]) == 0
    assert "pareto_front_size" in capsys.readouterr().out


def test_run_with_a_custom_space_and_area_objective(capsys):
    args = [*RUN, "--algorithm", "FF", "--population", "10", "--lower", "1,0,0,0",
            "--upper", "4,4,4,4", "--total", "4", "--objectives",
            "execution_time_ms,energy_mj,area_mm2", "--inline"]  # fmt: skip
    assert main(args) == 0
    run = OptimizationRun.objects.get()
    # compositions of 4 chiplets with at least one GPU: those of 3 chiplets over 4 types
    assert run.total_designs_evaluated == 20
    assert run.objectives == ["execution_time_ms", "energy_mj", "area_mm2"]


def test_queued_run_controls(capsys, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    assert main(RUN) == 0
    run_id = OptimizationRun.objects.get().run_id
    assert main(["runs", "pause", run_id]) == 0
    assert "paused" in capsys.readouterr().out
    assert main(["runs", "resume", run_id]) == 0
    assert main(["runs", "stop", run_id]) == 0
    assert OptimizationRun.objects.get().status == RunStatus.CANCELLED
    assert main(["runs", "resume", run_id]) == 2
    assert "only paused runs resume" in capsys.readouterr().err
    assert main(["runs", "delete", run_id]) == 0
    assert not OptimizationRun.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["runs", "show", "run_nope"], "no run with id"),
        (["runs", "pause"], "needs a RUN_ID"),
        ([*RUN[:-2], "--seed", "1", "--algorithm", "SA", "--inline"], "algorithm"),
        ([*RUN, "--lower", "1,2", "--inline"], "four integers"),
        ([*RUN, "--total", "12", "--total-min", "3", "--inline"], "not both"),
        (["import-csv", "/nonexistent/points.csv"], "not found"),
    ],
)
def test_bad_input_exits_2(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_import_csv_defaults_to_the_data_directory(capsys, settings):
    (settings.RESULTS_DIR / "points.csv").write_text("1,2,3,3,3,3\n2,1,0,12,0,0\n")
    assert main(["import-csv"]) == 0
    assert "imported into" in capsys.readouterr().out
    assert main(["import-csv"]) == 0
    assert "already imported" in capsys.readouterr().out
    (settings.RESULTS_DIR / "points.csv").unlink()
