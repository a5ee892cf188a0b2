"""Migration of the original tool's points.csv into the run store."""

from __future__ import annotations

import pytest

from chiplet_dse.errors import InputError
from chiplet_dse.server.runs.legacy import import_file, import_points
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun, RunStatus

pytestmark = pytest.mark.django_db

POINTS = """\
9.08554752,673.9606695,3,3,3,3
6.818722763,868.4431668,12,0,0,0
4.24107032,337.1156308,0,0,0,12
43.97335022,1491.344452,0,0,12,0
9.131949085,496.5082089,0,2,5,5
"""


def test_import_creates_a_completed_run_with_its_front(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(POINTS)
    run, created = import_file(path)
    assert created and run.status == RunStatus.COMPLETED and run.algorithm == "IMPORT"
    assert run.total_designs_evaluated == 5 == DesignPoint.objects.filter(run=run).count()
    front = set(DesignPoint.objects.filter(run=run, pareto_rank=1).values_list(
        "gpu_count", "attention_count", "sparse_count", "convolution_count"))  # fmt: skip
    # (0,0,0,12) beats everything on both objectives here.
    assert front == {(0, 0, 0, 12)} and run.pareto_front_size == 1
    stored = DesignPoint.objects.get(run=run, gpu_count=3)
    assert (stored.execution_time_ms, stored.energy_mj) == (9.08554752, 673.9606695)


def test_importing_the_same_file_twice_does_not_duplicate(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text(POINTS)
    first, _ = import_file(path)
    again, created = import_file(path)
    assert not created and again.run_id == first.run_id
    assert OptimizationRun.objects.count() == 1 and DesignPoint.objects.count() == 5


def test_repeated_compositions_are_stored_once():
    run, _ = import_points(b"1,2,3,3,3,3\n5,1,3,3,3,3\n2,1,12,0,0,0\n", "p.csv")
    assert run.total_designs_evaluated == 2


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("1,2,3,3,3,3\n1,2,3,3,3\n", 2),
        ("1,2,3,3,3,3\n\n1,x,3,3,3,3\n", 3),
        ("nan,2,3,3,3,3\n", 1),
        ("1,2,0,0,0,0\n", 1),
        ("1,2,-1,3,3,3\n", 1),
        ("1,2,1.5,3,3,3\n", 1),
    ],
)
def test_a_malformed_line_fails_with_its_number_and_writes_nothing(content, line):
    with pytest.raises(InputError, match=f"line {line}"):
        import_points(content.encode(), "points.csv")
    assert not OptimizationRun.objects.exists() and not DesignPoint.objects.exists()


def test_empty_and_missing_files(tmp_path):
    with pytest.raises(InputError, match="no design lines"):
        import_points(b"\n\n", "empty.csv")
    with pytest.raises(InputError, match="not found"):
        import_file(tmp_path / "missing.csv")
