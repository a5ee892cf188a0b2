"""The ``chiplet-dse`` command line, driven in-process through ``cli.main`` (and, for a few
cases, through the installed console script).

Bad input must exit with status 2 and print one line, ``chiplet-dse: error: ...``, on stderr.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chiplet_dse.cli import main

TRACE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "cascade-traces"
needs_traces = pytest.mark.skipif(
    not TRACE_DIR.is_dir(), reason=f"CASCADE traces not available at {TRACE_DIR}"
)

# Reference numbers (spec §12.1; rmc1-test 3,3,3,3 from this implementation, exact to 1e-12).
RMC1_3333 = (0.054210416198764176, 3.5753519380007646)
RMC1_12000 = (0.05898059907, 5.397137802)
GPTJ2_00120 = (1.343569597, 45.82916989)
RESULT_COLUMNS = ["execution_time_ms", "energy_mj"]

RMC1_KERNELS = [
    "Linear",
    "ReLU",
    "Linear",
    "ReLU",
    "EmbeddingTable",
    "InteractionArch",
    "Linear",
    "ReLU",
    "Linear",
    "ReLU",
    "Linear",
]

BUILTIN_EXPERIMENT_NAMES = [
    "gpt-j-1024-weighted",
    "gpt-j-65536-weighted",
    "gpt-j-second-65536",
    "ogbn-arxiv-test",
    "ogbn-products-test",
    "resnet18-test",
    "resnet50-test",
    "rmc1-test",
    "rmc2-test",
    "rmc3-test",
    "sd-test",
]
BUILTIN_WORKLOADS = [
    ("dlrm", "rmc1"),
    ("dlrm", "rmc2"),
    ("dlrm", "rmc3"),
    ("dnn", "resnet18"),
    ("dnn", "resnet50"),
    ("dnn", "vgg11"),
    ("dnn", "vgg19"),
    ("gcn", "ogbn-arxiv"),
    ("gcn", "ogbn-products"),
    ("gcn", "ogbn-proteins"),
    ("gpt", "gpt-j-first"),
    ("gpt", "gpt-j-second"),
    ("sd", "stable-diffusion-v1-4"),
]


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``chiplet-dse ARGS`` in-process: (exit status, stdout, stderr)."""
    capsys.readouterr()
    try:
        code = main(list(args))
    except SystemExit as exc:  # argparse
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def evaluate_args(*args: str, experiment: str = "rmc1-test") -> list[str]:
    return ["evaluate", "--experiment", experiment, *args]


def assert_input_error(result: tuple[int, str, str], *words: str) -> str:
    """Exit status 2, nothing on stdout, one line on stderr naming every word."""
    code, out, err = result
    assert code == 2, (code, err)
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert line.startswith("chiplet-dse: error: ")
    assert "Traceback" not in err
    for word in words:
        assert word in line, (word, line)
    return line


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def single_design_table_numbers(text: str) -> tuple[float, float]:
    time = re.search(r"^execution time\s+(\S+) ms$", text, re.MULTILINE)
    energy = re.search(r"^energy\s+(\S+) mJ$", text, re.MULTILINE)
    assert time and energy, text
    return float(time.group(1)), float(energy.group(1))


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


# -- workloads ----------------------------------------------------------------------------------
def test_workloads_table_lists_every_experiment_and_workload(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, "workloads")
    assert code == 0 and err == ""
    lines = out.splitlines()
    for name in BUILTIN_EXPERIMENT_NAMES:
        assert any(line.split()[:1] == [name] for line in lines), name
    for model, instance in BUILTIN_WORKLOADS:
        assert any(line.split()[:2] == [model, instance] for line in lines), instance
    rmc1_line = next(line for line in lines if line.startswith("rmc1-test "))
    assert "dlrm/rmc1/512*1" in rmc1_line
    weighted = next(line for line in lines if line.startswith("gpt-j-1024-weighted "))
    assert "gpt/gpt-j-first/1024*1" in weighted and "gpt/gpt-j-second/1024*1024" in weighted


def test_workloads_json_lists_every_experiment_and_workload(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = cli(capsys, "workloads", "--format", "json")
    assert code == 0 and err == ""
    data = json.loads(out)
    assert sorted(data["experiments"]) == BUILTIN_EXPERIMENT_NAMES
    assert data["experiments"]["rmc1-test"] == "dlrm/rmc1/512*1"
    assert data["experiments"]["gpt-j-65536-weighted"] == (
        "gpt/gpt-j-first/65536*1 + gpt/gpt-j-second/65536*1024"
    )
    assert [(w["model"], w["instance"]) for w in data["workloads"]] == BUILTIN_WORKLOADS
    rmc1 = data["workloads"][0]
    assert rmc1["shipped_batch_sizes"] == [64, 128, 256, 512, 1024]
    assert rmc1["batch_meaning"] and rmc1["description"]


def test_workloads_rejects_an_unknown_format(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, "workloads", "--format", "csv")
    assert code == 2 and out == "" and "invalid choice" in err


# -- evaluate one design ------------------------------------------------------------------------
def test_single_design_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, *evaluate_args("--design", "3,3,3,3"))
    assert code == 0 and err == ""
    time, energy = single_design_table_numbers(out)
    assert time == pytest.approx(RMC1_3333[0], rel=1e-12)
    assert energy == pytest.approx(RMC1_3333[1], rel=1e-12)
    assert re.search(r"^experiment\s+rmc1-test\s", out, re.MULTILINE)
    assert "goal latency" in out
    assert "GPU=3  Attention=3  Sparse=3  Convolution=3" in out
    assert re.search(r"^area\s+300 mm²$", out, re.MULTILINE)
    assert re.search(r"^peak power\s+132 W$", out, re.MULTILINE)


def test_single_design_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--format", "json"))
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["experiment"] == "rmc1-test"
    assert data["workloads"] == "dlrm/rmc1/512*1"
    assert data["goal"] == "latency"
    assert data["design"] == {"gpu": 3, "attention": 3, "sparse": 3, "convolution": 3}
    assert data["execution_time_ms"] == pytest.approx(RMC1_3333[0], rel=1e-12)
    assert data["energy_mj"] == pytest.approx(RMC1_3333[1], rel=1e-12)
    assert data["area_mm2"] == 300
    assert data["peak_power_w"] == 132
    assert "kernels" not in data


def test_single_design_csv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--format", "csv"))
    assert code == 0 and err == ""
    rows = read_csv(out)
    assert rows[0] == [
        "gpu",
        "attention",
        "sparse",
        "convolution",
        "execution_time_ms",
        "energy_mj",
        "area_mm2",
        "peak_power_w",
    ]
    assert len(rows) == 2
    assert rows[1][:4] == ["3", "3", "3", "3"]
    assert float(rows[1][4]) == pytest.approx(RMC1_3333[0], rel=1e-12)
    assert float(rows[1][5]) == pytest.approx(RMC1_3333[1], rel=1e-12)
    assert float(rows[1][6]) == 300 and float(rows[1][7]) == 132


@pytest.mark.parametrize(
    ("experiment", "design", "expected"),
    [
        ("rmc1-test", "12,0,0,0", RMC1_12000),
        ("gpt-j-second-65536", "0,0,12,0", GPTJ2_00120),
    ],
)
def test_single_design_reference_numbers(
    capsys: pytest.CaptureFixture[str],
    experiment: str,
    design: str,
    expected: tuple[float, float],
) -> None:
    code, out, _ = cli(
        capsys, *evaluate_args("--design", design, "--format", "json", experiment=experiment)
    )
    assert code == 0
    data = json.loads(out)
    assert data["execution_time_ms"] == pytest.approx(expected[0], rel=1e-9)
    assert data["energy_mj"] == pytest.approx(expected[1], rel=1e-9)


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_output_file_holds_what_stdout_would(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, fmt: str
) -> None:
    target = tmp_path / f"result.{fmt}"
    code, out, err = cli(
        capsys, *evaluate_args("--design", "3,3,3,3", "--format", fmt, "--output", str(target))
    )
    assert code == 0 and out == "" and err == ""
    _, printed, _ = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--format", fmt))
    assert target.read_text(encoding="utf-8") == printed
    assert printed.endswith("\n")


def test_goal_option_overrides_the_experiment_goal(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--format", "json"))
    _, out_energy, _ = cli(
        capsys, *evaluate_args("--design", "3,3,3,3", "--format", "json", "--goal", "energy")
    )
    latency, energy = json.loads(out), json.loads(out_energy)
    assert energy["goal"] == "energy"
    assert energy["energy_mj"] <= latency["energy_mj"]
    assert energy["energy_mj"] != latency["energy_mj"]


# -- breakdown ----------------------------------------------------------------------------------
def test_breakdown_table_has_one_row_per_kernel(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--breakdown"))
    assert code == 0 and err == ""
    summary, table = out.split("\n\n", 1)
    assert single_design_table_numbers(summary)[0] == pytest.approx(RMC1_3333[0], rel=1e-12)
    lines = table.rstrip("\n").splitlines()
    header, rule, body = lines[0], lines[1], lines[2:]
    assert header.split()[:3] == ["workload", "#", "kernel"]
    assert set(rule.replace(" ", "")) == {"-"}
    assert len(body) == 11
    assert [line.split()[0] for line in body] == ["dlrm/rmc1/512"] * 11
    assert [int(line.split()[1]) for line in body] == list(range(11))
    assert [line.split()[2] for line in body] == RMC1_KERNELS
    # time column (µs, 4 decimals) adds up to the total (ms)
    total_us = sum(float(line.split()[3]) for line in body)
    assert total_us / 1000 == pytest.approx(RMC1_3333[0], abs=11 * 0.00005 / 1000)


def test_breakdown_json_rows_sum_to_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        capsys, *evaluate_args("--design", "3,3,3,3", "--breakdown", "--format", "json")
    )
    assert code == 0
    data = json.loads(out)
    kernels = data["kernels"]
    assert [k["kernel"] for k in kernels] == RMC1_KERNELS
    assert [k["index"] for k in kernels] == list(range(11))
    assert {k["workload"] for k in kernels} == {"dlrm/rmc1/512"}
    assert sum(k["time_us"] for k in kernels) / 1000 == pytest.approx(
        data["execution_time_ms"], rel=1e-12
    )
    assert sum(k["energy_uj"] for k in kernels) / 1000 == pytest.approx(
        data["energy_mj"], rel=1e-12
    )
    assert data["execution_time_ms"] == pytest.approx(RMC1_3333[0], rel=1e-12)
    for k in kernels:
        shares = [k["gpu_share"], k["attention_share"], k["sparse_share"], k["convolution_share"]]
        assert sum(shares) == pytest.approx(1.0, rel=1e-9)
        assert all(s >= 0 for s in shares)
        assert k["time_us"] > 0 and k["energy_uj"] > 0


def test_breakdown_csv_rows_sum_to_the_total(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = cli(
        capsys, *evaluate_args("--design", "3,3,3,3", "--breakdown", "--format", "csv")
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 11
    assert [r["kernel"] for r in rows] == RMC1_KERNELS
    assert sum(float(r["time_us"]) for r in rows) / 1000 == pytest.approx(RMC1_3333[0], rel=1e-12)
    assert sum(float(r["energy_uj"]) for r in rows) / 1000 == pytest.approx(RMC1_3333[1], rel=1e-12)


def test_breakdown_of_a_weighted_experiment_sums_with_the_weights(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = {
        "workloads": [
            {"model": "dlrm", "model-instance": "rmc1", "batch-size": 64, "weighted_score": 1},
            {"model": "dlrm", "model-instance": "rmc3", "batch-size": 64, "weighted_score": 3},
        ],
        "optimization-goal": "latency",
    }
    exp = write(tmp_path / "weighted.json", json.dumps(doc))
    code, out, _ = cli(
        capsys,
        *evaluate_args("--design", "2,1,1,1", "--breakdown", "--format", "json", experiment=exp),
    )
    assert code == 0
    data = json.loads(out)
    weights = {k["workload"]: k["weighted_score"] for k in data["kernels"]}
    assert weights == {"dlrm/rmc1/64": 1, "dlrm/rmc3/64": 3}
    weighted_us = sum(k["time_us"] * k["weighted_score"] for k in data["kernels"])
    assert weighted_us / 1000 == pytest.approx(data["execution_time_ms"], rel=1e-12)
    _, table, _ = cli(capsys, *evaluate_args("--design", "2,1,1,1", "--breakdown", experiment=exp))
    assert "dlrm/rmc3/64 ×3" in table


# -- evaluate many designs ----------------------------------------------------------------------
DESIGNS_CSV = (
    "name,gpu,attention,sparse,convolution,note\n"
    "balanced,3,3,3,3,first\n"
    'all-gpu,12,0,0,0,"quoted, with comma"\n'
    "all-sparse,0,0,12,0,last\n"
)


@pytest.fixture
def designs_csv(tmp_path: Path) -> str:
    return write(tmp_path / "designs.csv", DESIGNS_CSV)


def test_designs_csv_keeps_rows_and_extra_columns(
    capsys: pytest.CaptureFixture[str], designs_csv: str
) -> None:
    code, out, err = cli(capsys, *evaluate_args("--designs", designs_csv, "--workers", "1"))
    assert code == 0 and "Traceback" not in err
    rows = read_csv(out)
    assert rows[0] == [
        "name",
        "gpu",
        "attention",
        "sparse",
        "convolution",
        "note",
        "execution_time_ms",
        "energy_mj",
    ]
    assert [r[:6] for r in rows[1:]] == [
        ["balanced", "3", "3", "3", "3", "first"],
        ["all-gpu", "12", "0", "0", "0", "quoted, with comma"],
        ["all-sparse", "0", "0", "12", "0", "last"],
    ]
    assert float(rows[1][6]) == pytest.approx(RMC1_3333[0], rel=1e-12)
    assert float(rows[1][7]) == pytest.approx(RMC1_3333[1], rel=1e-12)
    assert float(rows[2][6]) == pytest.approx(RMC1_12000[0], rel=1e-9)
    assert float(rows[2][7]) == pytest.approx(RMC1_12000[1], rel=1e-9)
    assert all(len(r) == 8 for r in rows)


def test_designs_json_keeps_rows_and_extra_columns(
    capsys: pytest.CaptureFixture[str], designs_csv: str
) -> None:
    code, out, _ = cli(
        capsys, *evaluate_args("--designs", designs_csv, "--format", "json", "--workers", "1")
    )
    assert code == 0
    data = json.loads(out)
    assert [list(d) for d in data] == [
        ["name", "gpu", "attention", "sparse", "convolution", "note", *RESULT_COLUMNS]
    ] * 3
    assert [d["name"] for d in data] == ["balanced", "all-gpu", "all-sparse"]
    assert data[1]["note"] == "quoted, with comma"
    assert data[0]["execution_time_ms"] == pytest.approx(RMC1_3333[0], rel=1e-12)
    assert data[0]["energy_mj"] == pytest.approx(RMC1_3333[1], rel=1e-12)


def test_designs_table_keeps_rows_and_extra_columns(
    capsys: pytest.CaptureFixture[str], designs_csv: str
) -> None:
    code, out, _ = cli(
        capsys, *evaluate_args("--designs", designs_csv, "--format", "table", "--workers", "1")
    )
    assert code == 0
    lines = out.rstrip("\n").splitlines()
    assert lines[0].split() == [
        "name",
        "gpu",
        "attention",
        "sparse",
        "convolution",
        "note",
        "execution_time_ms",
        "energy_mj",
    ]
    body = lines[2:]
    assert [line.split()[0] for line in body] == ["balanced", "all-gpu", "all-sparse"]
    assert "quoted, with comma" in body[1]
    assert f"{RMC1_3333[0]:.6g}" in body[0] and f"{RMC1_3333[1]:.6g}" in body[0]


def test_designs_columns_are_matched_by_name_not_position(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(tmp_path / "reordered.csv", "Convolution,SPARSE,attention,gpu\n0,0,0,12\n")
    code, out, _ = cli(capsys, *evaluate_args("--designs", path, "--workers", "1"))
    assert code == 0
    rows = read_csv(out)
    assert rows[0] == [
        "Convolution",
        "SPARSE",
        "attention",
        "gpu",
        "execution_time_ms",
        "energy_mj",
    ]
    assert rows[1][:4] == ["0", "0", "0", "12"]
    assert float(rows[1][4]) == pytest.approx(RMC1_12000[0], rel=1e-9)


def test_designs_output_file(
    capsys: pytest.CaptureFixture[str], designs_csv: str, tmp_path: Path
) -> None:
    target = tmp_path / "out.csv"
    code, out, _ = cli(
        capsys, *evaluate_args("--designs", designs_csv, "--workers", "1", "--output", str(target))
    )
    assert code == 0 and out == ""
    rows = read_csv(target.read_text(encoding="utf-8"))
    assert len(rows) == 4 and rows[0][-2:] == ["execution_time_ms", "energy_mj"]


def test_one_and_two_workers_give_identical_numbers(
    capsys: pytest.CaptureFixture[str], designs_csv: str, tmp_path: Path
) -> None:
    outputs = []
    for workers in ("1", "2"):
        target = tmp_path / f"w{workers}.csv"
        code, _, _ = cli(
            capsys,
            *evaluate_args("--designs", designs_csv, "--workers", workers, "--output", str(target)),
        )
        assert code == 0
        outputs.append(target.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
    assert len(read_csv(outputs[0])) == 4


# -- custom library on the command line ---------------------------------------------------------
def test_library_option_restated_and_changed(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    same = write(tmp_path / "same.toml", "[chiplets.gpu]\ntdp_w = 15\narea_mm2 = 25\n")
    changed = write(tmp_path / "changed.json", json.dumps({"chiplets": {"gpu": {"tdp_w": 30}}}))
    _, base, _ = cli(capsys, *evaluate_args("--design", "12,0,0,0", "--format", "json"))
    _, restated, _ = cli(
        capsys, *evaluate_args("--design", "12,0,0,0", "--format", "json", "--library", same)
    )
    code, custom, _ = cli(
        capsys, *evaluate_args("--design", "12,0,0,0", "--format", "json", "--library", changed)
    )
    assert code == 0
    assert json.loads(restated) == json.loads(base)
    b, c = json.loads(base), json.loads(custom)
    assert c["execution_time_ms"] == b["execution_time_ms"]
    assert c["energy_mj"] == pytest.approx(2 * b["energy_mj"], rel=1e-12)
    assert c["peak_power_w"] == 360


# -- experiment files and trace directories -----------------------------------------------------
@needs_traces
@pytest.mark.parametrize(
    ("model", "instance", "batch", "builtin", "design"),
    [
        ("dlrm", "rmc1", 512, "rmc1-test", "3,3,3,3"),
        ("gpt", "gpt-j-second", 65536, "gpt-j-second-65536", "0,0,12,0"),
    ],
)
def test_experiment_file_with_trace_dir_matches_the_builtin(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    model: str,
    instance: str,
    batch: int,
    builtin: str,
    design: str,
) -> None:
    doc = {
        "workloads": [{"model": model, "model-instance": instance, "batch-size": batch}],
        "optimization-goal": "latency",
    }
    exp = write(tmp_path / "mine.json", json.dumps(doc))
    code, out, err = cli(
        capsys,
        *evaluate_args(
            "--design", design, "--format", "json", "--trace-dir", str(TRACE_DIR), experiment=exp
        ),
    )
    assert code == 0, err
    _, ref, _ = cli(
        capsys, *evaluate_args("--design", design, "--format", "json", experiment=builtin)
    )
    ours, theirs = json.loads(out), json.loads(ref)
    assert ours["experiment"] == "mine"
    for key in ("execution_time_ms", "energy_mj", "area_mm2", "peak_power_w"):
        assert ours[key] == pytest.approx(theirs[key], rel=1e-12), key


@needs_traces
def test_shipped_experiment_file_finds_its_trace_tree(capsys: pytest.CaptureFixture[str]) -> None:
    exp = TRACE_DIR / "experiments" / "rmc1-test.json"
    if not exp.is_file():
        pytest.skip(f"{exp} not available")
    code, out, _ = cli(
        capsys, *evaluate_args("--design", "3,3,3,3", "--format", "json", experiment=str(exp))
    )
    assert code == 0
    assert json.loads(out)["execution_time_ms"] == pytest.approx(RMC1_3333[0], rel=1e-12)


@needs_traces
def test_missing_trace_in_the_shared_trace_dir_names_the_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = {
        "workloads": [{"model": "dlrm", "model-instance": "rmc1", "batch-size": 500}],
        "optimization-goal": "latency",
    }
    exp = write(tmp_path / "rmc1-500.json", json.dumps(doc))
    missing = TRACE_DIR / "dlrm" / "rmc1-500" / "dlrm-rmc1-500-bs.json"
    result = cli(
        capsys, *evaluate_args("--design", "3,3,3,3", "--trace-dir", str(TRACE_DIR), experiment=exp)
    )
    assert_input_error(result, str(missing), "not found")


def test_missing_trace_in_a_trace_dir_names_the_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    traces = tmp_path / "traces"
    (traces / "dlrm").mkdir(parents=True)
    doc = {
        "workloads": [{"model": "dlrm", "model-instance": "rmc1", "batch-size": 512}],
        "optimization-goal": "latency",
    }
    exp = write(tmp_path / "exp.json", json.dumps(doc))
    missing = traces / "dlrm" / "rmc1-512" / "dlrm-rmc1-512-bs.json"
    result = cli(
        capsys, *evaluate_args("--design", "3,3,3,3", "--trace-dir", str(traces), experiment=exp)
    )
    assert_input_error(result, str(missing), "not found")


def test_builtin_name_with_an_empty_trace_dir_reads_the_trace_dir(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--trace-dir", str(tmp_path)))
    assert_input_error(result, str(tmp_path / "dlrm" / "rmc1-512" / "dlrm-rmc1-512-bs.json"))


def test_trace_dir_that_does_not_exist(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--trace-dir", str(missing)))
    assert_input_error(result, str(missing), "trace directory not found")


def test_bad_trace_in_a_trace_dir_names_file_kernel_and_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    trace = tmp_path / "dlrm" / "rmc1-8" / "dlrm-rmc1-8-bs.json"
    trace.parent.mkdir(parents=True)
    records = [
        {"kernel": "ReLU", "input": {"elements": 8}, "output": {"elements": 8}},
        {"kernel": "Linear", "input": {"batch-size": 8, "hidden-dim": 4}, "output": {}},
    ]
    trace.write_text(json.dumps({"workload_trace": records}))
    doc = {
        "workloads": [{"model": "dlrm", "model-instance": "rmc1", "batch-size": 8}],
        "optimization-goal": "latency",
    }
    exp = write(tmp_path / "exp.json", json.dumps(doc))
    result = cli(
        capsys, *evaluate_args("--design", "1,0,0,0", "--trace-dir", str(tmp_path), experiment=exp)
    )
    assert_input_error(result, str(trace), "kernel 1", "field 'output.output-dim'", "missing")


def test_experiment_naming_an_unknown_workload(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    doc = {
        "workloads": [{"model": "bert", "model-instance": "base", "batch-size": 8}],
        "optimization-goal": "latency",
    }
    exp = write(tmp_path / "bert.json", json.dumps(doc))
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", experiment=exp))
    assert_input_error(result, exp, "bert/base/8", "--trace-dir")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"workloads": [', ["malformed JSON"]),
        ('{"workloads": [], "optimization-goal": "latency"}', ["field 'workloads'"]),
        (
            '{"workloads": [{"model": "dlrm", "model-instance": "rmc1", "batch-size": 8}],'
            ' "optimization-goal": "fast"}',
            ["field 'optimization-goal'", "fast"],
        ),
        (
            '{"workloads": [{"model": "dlrm", "model-instance": "rmc1", "batch-size": "8"}],'
            ' "optimization-goal": "latency"}',
            ["field 'workloads[0].batch-size'"],
        ),
        (
            '{"workloads": [{"model": "dlrm", "model-instance": "rmc1", "batch-size": 8,'
            ' "weighted_score": -1}], "optimization-goal": "latency"}',
            ["field 'workloads[0].weighted_score'", "negative"],
        ),
    ],
    ids=["malformed", "no-workloads", "bad-goal", "string-batch", "negative-weight"],
)
def test_bad_experiment_file(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, words: list[str]
) -> None:
    exp = write(tmp_path / "bad.json", content)
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", experiment=exp))
    assert_input_error(result, exp, *words)


def test_infinite_weighted_score_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    exp = write(
        tmp_path / "inf.json",
        '{"workloads": [{"model": "dlrm", "model-instance": "rmc1", "batch-size": 8,'
        ' "weighted_score": 1e400}], "optimization-goal": "latency"}',
    )
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", experiment=exp))
    assert_input_error(result, exp, "weighted_score")


# -- bad input: one line, exit status 2 ---------------------------------------------------------
def test_unknown_experiment(capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", experiment="rmc9-test"))
    assert_input_error(result, "rmc9-test", "not a built-in experiment", "rmc1-test")


@pytest.mark.parametrize(
    ("design", "words"),
    [
        ("3,3,3", ["design", "four counts", "'3,3,3'"]),
        ("3,3,3,3,3", ["design", "four counts"]),
        ("a,b,c,d", ["design", "integers", "'a,b,c,d'"]),
        ("1.5,0,0,0", ["design", "integers"]),
        ("3;3;3;3", ["design", "four counts"]),
    ],
)
def test_malformed_design_string(
    capsys: pytest.CaptureFixture[str], design: str, words: list[str]
) -> None:
    assert_input_error(cli(capsys, *evaluate_args("--design", design)), *words)


@pytest.mark.parametrize(("design", "field"), [("-1,3,3,3", "gpu"), ("3,3,3,-2", "convolution")])
def test_negative_count(capsys: pytest.CaptureFixture[str], design: str, field: str) -> None:
    result = cli(capsys, *evaluate_args(f"--design={design}"))
    assert_input_error(result, f"field '{field}'", "negative")


def test_zero_chiplets(capsys: pytest.CaptureFixture[str]) -> None:
    result = cli(capsys, *evaluate_args("--design", "0,0,0,0"))
    assert_input_error(result, "at least one chiplet")


@pytest.mark.parametrize("option", ["--design", "--designs"])
def test_empty_design_option_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], option: str
) -> None:
    code, _, err = cli(capsys, *evaluate_args(option, ""))
    assert code == 2
    assert err.startswith("chiplet-dse: error: ")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("gpu,attention,sparse\n1,2,3\n", ["missing column", "convolution"]),
        ("gpu,atten,sparse,conv\n1,2,3,4\n", ["missing column", "attention", "convolution"]),
        ("1,2,3,4\n", ["missing column"]),
        ("", ["missing column"]),
        ("gpu,attention,sparse,convolution\n", ["no designs"]),
        ("gpu,attention,sparse,convolution\n1,2,3,4\n1,x,3,4\n", ["line 3", "integers", "'x'"]),
        ("gpu,attention,sparse,convolution\n1.0,2,3,4\n", ["line 2", "integers"]),
        ("gpu,attention,sparse,convolution\n1,2,3,4\n2,2,2,2\n1,2,3\n", ["line 4"]),
        ("gpu,attention,sparse,convolution\n1,2,3,4\n0,-1,0,2\n", ["line 3", "negative"]),
        ("gpu,attention,sparse,convolution\n1,2,3,4\n0,0,0,0\n", ["line 3", "at least one"]),
    ],
    ids=[
        "missing-column",
        "misnamed-columns",
        "no-header",
        "empty-file",
        "header-only",
        "letter-cell",
        "float-cell",
        "short-row",
        "negative-cell",
        "zero-row",
    ],
)
def test_bad_designs_csv(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str, words: list[str]
) -> None:
    path = write(tmp_path / "designs.csv", content)
    assert_input_error(cli(capsys, *evaluate_args("--designs", path)), path, *words)


@pytest.mark.parametrize(
    "content",
    [
        "gpu,attention,sparse,convolution\n1,2,3,4\n\n1,x,3,4\n",
        'name,gpu,attention,sparse,convolution\n"two\nlines",1,2,3,4\nc,1,x,3,4\n',
    ],
    ids=["blank-line", "multiline-cell"],
)
def test_designs_csv_error_reports_the_real_line_number(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: str
) -> None:
    path = write(tmp_path / "designs.csv", content)
    assert_input_error(cli(capsys, *evaluate_args("--designs", path)), path, "line 4")


def test_designs_csv_that_is_not_text(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "designs.csv"
    path.write_bytes(b"\xff\xfe\x00\x01binary")
    assert_input_error(cli(capsys, *evaluate_args("--designs", str(path))), str(path))


def test_missing_designs_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = str(tmp_path / "nope.csv")
    assert_input_error(cli(capsys, *evaluate_args("--designs", path)), path, "not found")


def test_breakdown_without_design(capsys: pytest.CaptureFixture[str], designs_csv: str) -> None:
    result = cli(capsys, *evaluate_args("--designs", designs_csv, "--breakdown"))
    assert_input_error(result, "--breakdown", "--design")


@pytest.mark.parametrize("workers", ["0", "-3"])
def test_workers_below_one(capsys: pytest.CaptureFixture[str], workers: str) -> None:
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", f"--workers={workers}"))
    assert_input_error(result, "--workers", workers)


def test_missing_library_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = str(tmp_path / "lib.toml")
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--library", path))
    assert_input_error(result, path, "not found")


def test_malformed_library_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path / "lib.json", '{"chiplets": {"gpu": ')
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--library", path))
    assert_input_error(result, path, "malformed")


def test_library_with_a_bad_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(tmp_path / "lib.toml", "[chiplets.gpu]\ntdp_w = -1\n")
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--library", path))
    assert_input_error(result, path, "field 'chiplets.gpu.tdp_w'", "positive")


def test_unknown_goal_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--goal", "fastest"))
    assert code == 2 and out == ""
    assert "--goal" in err and "invalid choice" in err and "'fastest'" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args",
    [
        ["evaluate", "--experiment", "rmc1-test"],
        ["evaluate", "--design", "3,3,3,3", "--designs", "x.csv"],
        ["evaluate", "--design", "3,3,3,3", "--format", "xml"],
        ["evaluate", "--design", "3,3,3,3", "--workers", "two"],
        ["frobnicate"],
        [],
    ],
    ids=["no-design", "both", "bad-format", "workers-not-int", "unknown-command", "no-command"],
)
def test_argparse_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, out, err = cli(capsys, *args)
    assert code == 2 and out == ""
    assert "usage: chiplet-dse" in err and "error:" in err


@pytest.mark.parametrize("where", ["missing-dir", "is-a-dir"])
def test_unwritable_output_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, where: str
) -> None:
    target = tmp_path / "no-such-dir" / "out.json" if where == "missing-dir" else tmp_path
    result = cli(capsys, *evaluate_args("--design", "3,3,3,3", "--output", str(target)))
    assert_input_error(result, str(target))


# -- the installed console script ---------------------------------------------------------------
def _script() -> str:
    path = Path(sys.executable).with_name("chiplet-dse")
    if not path.is_file():
        pytest.skip("chiplet-dse console script not installed next to the interpreter")
    return str(path)


def _run_script(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONWARNINGS": "error::UserWarning"}
    return subprocess.run(
        [_script(), *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_console_script_evaluates_a_design() -> None:
    proc = _run_script(*evaluate_args("--design", "3,3,3,3", "--format", "json"))
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    assert data["execution_time_ms"] == pytest.approx(RMC1_3333[0], rel=1e-12)
    assert data["energy_mj"] == pytest.approx(RMC1_3333[1], rel=1e-12)


def test_console_script_bad_input_exits_2_with_one_line() -> None:
    proc = _run_script(*evaluate_args("--design", "3,3,3"))
    assert_input_error((proc.returncode, proc.stdout, proc.stderr), "four counts")
