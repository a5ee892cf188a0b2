"""The model against the original's numbers: spec §11 (worked examples) and §12 (tables)."""

from __future__ import annotations

import math

import pytest

from chiplet_dse.model import Design, evaluate, load_experiment
from chiplet_dse.model.experiments import Experiment, Workload
from chiplet_dse.model.trace import parse_trace

from .reference_values import DESIGNS, REFERENCE, RMC1_3333

# The tables print 9-10 significant digits; 5e-9 relative is half a unit of the last one.
PRINTED = 5e-9


def one_kernel(batch: int, hidden: int, out: int) -> Experiment:
    record = {
        "kernel": "Linear",
        "input": {"batch-size": batch, "hidden-dim": hidden},
        "output": {"output-dim": out},
        "layer": {},
    }
    trace = parse_trace([record], "linear")
    return Experiment("linear", "latency", (Workload("gpt", "linear", 1, 1, trace),))


@pytest.mark.parametrize(
    ("shape", "design", "time_ms", "energy_mj"),
    [
        # §11.1: compute-bound on one GPU chiplet, with the cache carry-over.
        ((1024, 4096, 16384), (1, 0, 0, 0), 13.7438953472, 164.81297443),
        # §11.2: twelve GPU chiplets, saturation-bound bandwidth.
        ((1024, 4096, 16384), (12, 0, 0, 0), 1.14532461, 171.54728),
        # §11.3: memory-bound and share-bound on twelve sparse chiplets.
        ((4, 4096, 16384), (0, 0, 12, 0), 0.12224009, 4.6882617),
    ],
)
def test_worked_examples(shape, design, time_ms, energy_mj):
    result = evaluate(one_kernel(*shape), Design(*design))
    digits = len(str(time_ms).replace(".", "").lstrip("0"))
    assert result.execution_time_ms == pytest.approx(time_ms, rel=10 ** -(digits - 1))
    assert result.energy_mj == pytest.approx(energy_mj, rel=1e-7)


def test_rmc1_per_kernel_table():
    """Spec §12.2: per-kernel time, energy, traffic and work split of rmc1-test on 3,3,3,3."""
    expected = [  # time µs, energy µJ, V bytes, (gpu, atten, sparse, conv) fraction per chiplet
        (3.930133, 288.894705, 271974.4, (0.034786, 0.034786, 0.228976, 0.034786)),
        (0.149946, 4.687539, 67502.1, (0.034786, 0.034786, 0.228976, 0.034786)),
        (0.699051, 8.209304, 66205.4, (0, 0, 0.333333, 0)),
        (0.109143, 0.718753, 33751.0, (0, 0, 0.333333, 0)),
        (37.871026, 2538.370932, 35133440.0, (0.074074, 0.074074, 0.111111, 0.074074)),
        (6.345753, 405.438887, 1416044.8, (0.083333, 0.083333, 0.083333, 0.083333)),
        (0.454067, 31.462154, 10537.0, (0.112667, 0.100378, 0.019910, 0.100378)),
        (0.442684, 26.452611, 270008.3, (0.112667, 0.100378, 0.019910, 0.100378)),
        (3.546497, 262.114087, 266755.2, (0.107372, 0.009512, 0.206968, 0.009481)),
        (0.135535, 5.586775, 67502.1, (0.107372, 0.009512, 0.206968, 0.009481)),
        (0.526581, 3.416191, 67904.7, (0, 0, 0.333333, 0)),
    ]
    result = evaluate(load_experiment("rmc1-test"), Design(3, 3, 3, 3))
    kernels = result.workloads[0].kernels
    assert [k.kernel.type for k in kernels] == [
        "Linear", "ReLU", "Linear", "ReLU", "EmbeddingTable", "InteractionArch",
        "Linear", "ReLU", "Linear", "ReLU", "Linear",
    ]  # fmt: skip
    for k, (time_us, energy_uj, traffic, work) in zip(kernels, expected, strict=True):
        assert k.total_time_s * 1e6 == pytest.approx(time_us, abs=1e-6)
        assert k.total_energy_j * 1e6 == pytest.approx(energy_uj, abs=1e-6)
        assert k.total_traffic == pytest.approx(traffic, abs=0.05)
        assert k.work.tolist() == pytest.approx(work, abs=5e-7)
    assert result.execution_time_ms == pytest.approx(RMC1_3333[0], rel=1e-13)
    assert result.energy_mj == pytest.approx(RMC1_3333[1], rel=1e-13)


def _slow(experiment: str, design: tuple[int, ...]) -> bool:
    mixed = sum(1 for c in design if c) > 1
    return mixed and experiment in {"sd-test", "resnet50-test", "resnet18-test"}


@pytest.mark.parametrize(
    ("experiment", "design"),
    [
        pytest.param(e, d, marks=[pytest.mark.slow] if _slow(e, d) else [], id=f"{e}-{d}")
        for e in REFERENCE
        for d in DESIGNS
    ],
)
def test_reference_totals(experiment, design):
    """Spec §12.1: all 11 runnable experiments x 8 designs, to the digits printed there."""
    ref_time, ref_energy = REFERENCE[experiment][design]
    result = evaluate(load_experiment(experiment), Design(*design), details=False)
    assert math.isclose(result.execution_time_ms, ref_time, rel_tol=PRINTED)
    assert math.isclose(result.energy_mj, ref_energy, rel_tol=PRINTED)


def test_cli_headline_numbers():
    """The issue's acceptance example: resnet50-test on 3,3,3,3."""
    result = evaluate(load_experiment("resnet50-test"), Design(3, 3, 3, 3), details=False)
    assert result.execution_time_ms == pytest.approx(9.085547519818892, rel=1e-12)
    assert result.energy_mj == pytest.approx(673.9606695138455, rel=1e-12)
