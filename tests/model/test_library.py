"""Custom chiplet libraries (``load_library`` / ``library_from_dict``).

A library file that restates CASCADE's defaults must reproduce the default results bit for
bit; changed parameters must move the results in the physically expected direction; bad files
raise ``InputError`` naming the file and the field.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest

from chiplet_dse.errors import InputError
from chiplet_dse.model import (
    CHIPLET_TYPES,
    DEFAULT_LIBRARY,
    ChipletLibrary,
    Design,
    Evaluation,
    Experiment,
    evaluate,
    library_from_dict,
    load_experiment,
    load_library,
)

# CASCADE's library, every parameter written out by hand (spec §2.1, §13).
_SPLIT = {"compute": 0.5, "memory": 0.3, "base": 0.2}
RESTATED: dict[str, Any] = {
    "system": {
        "memory_channels": 16,
        "channel_gbps": 64,
        "bytes_per_element": 2,
        "fusion_leak": 0.03,
        "cache_buffer_factor": 1.2,
    },
    "chiplets": {
        "gpu": {
            "peak_gflops": 10000,
            "gflops": 10000,
            "kernel_gflops": {},
            "bw_sat_gbps": 64,
            "tdp_w": 15,
            "tdp_split": _SPLIT,
            "area_mm2": 25,
            "sram_mb": 4,
        },
        "atten": {
            "peak_gflops": 30000,
            "gflops": 7500,
            "kernel_gflops": {"Attention": 30000},
            "bw_sat_gbps": 64,
            "tdp_w": 15,
            "tdp_split": _SPLIT,
            "area_mm2": 25,
            "sram_mb": 8,
        },
        "sparse": {
            "peak_gflops": 1000,
            "gflops": 1000,
            "kernel_gflops": {},
            "bw_sat_gbps": 96.0,
            "tdp_w": 4,
            "tdp_split": _SPLIT,
            "area_mm2": 25,
            "sram_mb": 8,
        },
        "conv": {
            "peak_gflops": 30000,
            "gflops": 7500,
            "kernel_gflops": {"Conv2d": 30000},
            "bw_sat_gbps": 64,
            "tdp_w": 10,
            "tdp_split": _SPLIT,
            "area_mm2": 25,
            "sram_mb": 8,
        },
    },
}

RESTATED_TOML = """\
# CASCADE's chiplet library, restated parameter by parameter.
[system]
memory_channels = 16
channel_gbps = 64
bytes_per_element = 2
fusion_leak = 0.03
cache_buffer_factor = 1.2

[chiplets.gpu]
peak_gflops = 10000
gflops = 10000
kernel_gflops = {}
bw_sat_gbps = 64
tdp_w = 15
tdp_split = { compute = 0.5, memory = 0.3, base = 0.2 }
area_mm2 = 25
sram_mb = 4

[chiplets.atten]
peak_gflops = 30000
gflops = 7500
kernel_gflops = { Attention = 30000 }
bw_sat_gbps = 64
tdp_w = 15
tdp_split = { compute = 0.5, memory = 0.3, base = 0.2 }
area_mm2 = 25
sram_mb = 8

[chiplets.sparse]
peak_gflops = 1000
gflops = 1000
kernel_gflops = {}
bw_sat_gbps = 96.0
tdp_w = 4
tdp_split = { compute = 0.5, memory = 0.3, base = 0.2 }
area_mm2 = 25
sram_mb = 8

[chiplets.conv]
peak_gflops = 30000
gflops = 7500
kernel_gflops = { Conv2d = 30000 }
bw_sat_gbps = 64
tdp_w = 10
tdp_split = { compute = 0.5, memory = 0.3, base = 0.2 }
area_mm2 = 25
sram_mb = 8
"""

# (experiment, design) pairs the restatement is checked on.
BIT_IDENTICAL_CASES = [("rmc1-test", (3, 3, 3, 3)), ("gpt-j-second-65536", (0, 2, 5, 5))]

_experiments: dict[str, Experiment] = {}


def experiment(name: str) -> Experiment:
    if name not in _experiments:
        _experiments[name] = load_experiment(name)
    return _experiments[name]


def run(name: str, counts: tuple[int, int, int, int], library: ChipletLibrary) -> Evaluation:
    return evaluate(experiment(name), Design(*counts), library, details=False)


_default_results: dict[tuple[str, tuple[int, ...]], Evaluation] = {}


def default(name: str, counts: tuple[int, int, int, int]) -> Evaluation:
    key = (name, counts)
    if key not in _default_results:
        _default_results[key] = run(name, counts, DEFAULT_LIBRARY)
    return _default_results[key]


def custom(**chiplets: dict[str, Any]) -> ChipletLibrary:
    return library_from_dict({"chiplets": chiplets}, "custom.json")


def every_type(**params: Any) -> dict[str, dict[str, Any]]:
    return {t: dict(params) for t in CHIPLET_TYPES}


def scaled(param: str, factor: float) -> ChipletLibrary:
    """Every chiplet's ``param`` multiplied by ``factor``."""
    spec = {t: {param: getattr(DEFAULT_LIBRARY[t], param) * factor} for t in CHIPLET_TYPES}
    return library_from_dict({"chiplets": spec}, "scaled.json")


def same_numbers(a: Evaluation, b: Evaluation) -> bool:
    return (a.execution_time_ms, a.energy_mj, a.area_mm2, a.peak_power_w) == (
        b.execution_time_ms,
        b.energy_mj,
        b.area_mm2,
        b.peak_power_w,
    )


# -- restating the defaults ---------------------------------------------------------------------
@pytest.fixture
def json_restatement(tmp_path: Path) -> Path:
    path = tmp_path / "cascade.json"
    path.write_text(json.dumps(RESTATED, indent=2))
    return path


@pytest.fixture
def toml_restatement(tmp_path: Path) -> Path:
    path = tmp_path / "cascade.toml"
    path.write_text(RESTATED_TOML)
    return path


def test_the_restatements_really_state_every_default() -> None:
    restated = library_from_dict(RESTATED, "r.json")
    assert restated.to_dict()["chiplets"] == DEFAULT_LIBRARY.to_dict()["chiplets"]
    assert restated.system == DEFAULT_LIBRARY.system
    assert set(RESTATED["chiplets"]) == set(CHIPLET_TYPES)


@pytest.mark.parametrize(("name", "counts"), BIT_IDENTICAL_CASES)
@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_restated_library_file_gives_bit_identical_results(
    request: pytest.FixtureRequest, fmt: str, name: str, counts: tuple[int, int, int, int]
) -> None:
    path = request.getfixturevalue(f"{fmt}_restatement")
    library = load_library(path)
    assert library.name == "CASCADE"
    ours = evaluate(experiment(name), Design(*counts), library)
    reference = evaluate(experiment(name), Design(*counts), DEFAULT_LIBRARY)
    assert same_numbers(ours, reference)
    # ... and kernel by kernel, not only in total.
    ours_kernels = [(k.total_time_s, k.total_energy_j) for k in ours.workloads[0].kernels]
    ref_kernels = [(k.total_time_s, k.total_energy_j) for k in reference.workloads[0].kernels]
    assert ours_kernels == ref_kernels


def test_restated_results_match_the_reference_numbers(toml_restatement: Path) -> None:
    result = run("rmc1-test", (3, 3, 3, 3), load_library(toml_restatement))
    assert result.execution_time_ms == pytest.approx(0.054210416198764176, rel=1e-12)
    assert result.energy_mj == pytest.approx(3.5753519380007646, rel=1e-12)
    result = run("gpt-j-second-65536", (0, 0, 12, 0), load_library(toml_restatement))
    assert result.execution_time_ms == pytest.approx(1.343569597, rel=1e-9)
    assert result.energy_mj == pytest.approx(45.82916989, rel=1e-9)


def test_json_and_toml_restatements_load_to_the_same_library(
    json_restatement: Path, toml_restatement: Path
) -> None:
    assert load_library(json_restatement).to_dict() == load_library(toml_restatement).to_dict()


@pytest.mark.parametrize(
    "doc",
    [
        {},
        {"chiplets": {}},
        {"system": {}},
        {"chiplets": {"gpu": {}}},
        {"chiplets": {"sparse": {"sram_mb": 8}}, "system": {"channel_gbps": 64}},
        {"chiplets": {"atten": {"kernel_gflops": {"Attention": 30000}}}},
        {"chiplets": {"gpu": {"tdp_split": {"compute": 0.5}}}},
    ],
    ids=repr,
)
def test_partial_restatement_is_named_cascade(doc: dict[str, Any]) -> None:
    assert library_from_dict(doc, "partial.json").name == "CASCADE"


def test_empty_toml_file_is_the_default_library(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("# nothing changed\n")
    library = load_library(path)
    assert library.name == "CASCADE"
    assert library.to_dict() == DEFAULT_LIBRARY.to_dict()


def test_default_library_round_trips_through_to_dict() -> None:
    library = library_from_dict(DEFAULT_LIBRARY.to_dict(), "dump.json")
    assert library.name == "CASCADE"
    assert library.to_dict() == DEFAULT_LIBRARY.to_dict()


@pytest.mark.parametrize(
    "doc",
    [
        {"chiplets": {"gpu": {"tdp_w": 16}}},
        {"chiplets": {"sparse": {"sram_mb": 16}}},
        {"chiplets": {"conv": {"area_mm2": 30}}},
        {"chiplets": {"atten": {"kernel_gflops": {"Linear": 30000}}}},
        {"chiplets": {"gpu": {"tdp_split": {"compute": 0.6, "memory": 0.2}}}},
        {"system": {"channel_gbps": 32}},
        {"system": {"memory_channels": 8}},
        {"system": {"fusion_leak": 0.0}},
    ],
    ids=repr,
)
def test_any_change_is_named_custom(doc: dict[str, Any]) -> None:
    assert library_from_dict(doc, "custom.json").name == "CUSTOM"


def test_custom_library_round_trips_through_to_dict() -> None:
    library = custom(gpu={"tdp_w": 20, "kernel_gflops": {"Linear": 12000}}, sparse={"sram_mb": 2})
    again = library_from_dict(library.to_dict(), "dump.json")
    assert again.to_dict() == library.to_dict()
    assert again.name == "CUSTOM"


def test_changed_library_is_not_labelled_cascade_even_if_its_file_says_so() -> None:
    doc = copy.deepcopy(DEFAULT_LIBRARY.to_dict())
    assert doc["name"] == "CASCADE"
    doc["chiplets"]["gpu"]["tdp_w"] = 20
    assert library_from_dict(doc, "edited.json").name != "CASCADE"


# -- how parameters are merged ------------------------------------------------------------------
def test_peak_override_of_a_single_rate_type_moves_its_general_rate() -> None:
    library = custom(gpu={"peak_gflops": 20000})
    assert library["gpu"].peak_gflops == 20000
    assert library["gpu"].gflops == 20000
    assert library["gpu"].rate_flops("Linear") == 20000 * 10**9


def test_peak_override_of_a_specialised_type_keeps_its_general_rate() -> None:
    library = custom(atten={"peak_gflops": 60000})
    assert library["atten"].peak_gflops == 60000
    assert library["atten"].gflops == 7500
    assert library["atten"].rate_flops("Attention") == 30000 * 10**9  # kernel_gflops untouched


def test_kernel_gflops_are_merged_with_the_defaults() -> None:
    library = custom(atten={"kernel_gflops": {"Linear": 20000}})
    assert dict(library["atten"].kernel_gflops) == {"Attention": 30000, "Linear": 20000}
    assert library["atten"].rate_flops("Linear") == 20000 * 10**9
    assert library["atten"].rate_flops("ReLU") == 7500 * 10**9


def test_partial_tdp_split_keeps_the_other_default_shares() -> None:
    library = custom(gpu={"tdp_split": {"compute": 0.6, "memory": 0.2}})
    assert library["gpu"].power_split_w == pytest.approx((9.0, 3.0, 3.0))


def test_other_types_are_untouched_by_an_override() -> None:
    library = custom(gpu={"tdp_w": 99})
    for t in ("atten", "sparse", "conv"):
        assert library[t] == DEFAULT_LIBRARY[t]
    assert library.system == DEFAULT_LIBRARY.system


# -- physical directions ------------------------------------------------------------------------
def test_halving_system_bandwidth_does_not_speed_up_a_memory_bound_design() -> None:
    halved = library_from_dict({"system": {"channel_gbps": 32}}, "half-bw.json")
    for name, counts in [("gpt-j-second-65536", (0, 0, 12, 0)), ("rmc1-test", (0, 0, 12, 0))]:
        base, slow = default(name, counts), run(name, counts, halved)
        assert slow.execution_time_ms >= base.execution_time_ms
        assert slow.execution_time_ms > base.execution_time_ms  # memory-bound: it must slow down
    # GPT-J's decode step is bandwidth-bound on 12 sparse chiplets: time nearly doubles.
    base, slow = (
        default("gpt-j-second-65536", (0, 0, 12, 0)),
        run("gpt-j-second-65536", (0, 0, 12, 0), halved),
    )
    assert slow.execution_time_ms / base.execution_time_ms == pytest.approx(2.0, rel=0.01)


def test_fewer_memory_channels_do_not_speed_up_a_design() -> None:
    fewer = library_from_dict({"system": {"memory_channels": 8}}, "channels.json")
    base = default("gpt-j-second-65536", (0, 0, 12, 0))
    assert run("gpt-j-second-65536", (0, 0, 12, 0), fewer).execution_time_ms > (
        base.execution_time_ms
    )


def test_larger_elements_move_more_bytes_and_take_longer() -> None:
    wide = library_from_dict({"system": {"bytes_per_element": 4}}, "fp32.json")
    base = default("rmc1-test", (12, 0, 0, 0))
    result = run("rmc1-test", (12, 0, 0, 0), wide)
    assert result.execution_time_ms > base.execution_time_ms
    assert result.energy_mj > base.energy_mj


def test_doubling_gpu_peak_rate_does_not_slow_a_12_gpu_design() -> None:
    fast = custom(gpu={"peak_gflops": 20000})
    for name in ("rmc1-test", "gpt-j-second-65536"):
        base, result = default(name, (12, 0, 0, 0)), run(name, (12, 0, 0, 0), fast)
        assert result.execution_time_ms <= base.execution_time_ms
        assert result.energy_mj <= base.energy_mj
    # rmc1's MLPs are partly compute-bound: the faster GPU is strictly faster there.
    assert run("rmc1-test", (12, 0, 0, 0), fast).execution_time_ms < (
        default("rmc1-test", (12, 0, 0, 0)).execution_time_ms
    )


def test_doubling_every_rate_does_not_slow_any_design() -> None:
    spec = {
        t: {
            "peak_gflops": DEFAULT_LIBRARY[t].peak_gflops * 2,
            "gflops": DEFAULT_LIBRARY[t].gflops * 2,
            "kernel_gflops": {k: v * 2 for k, v in DEFAULT_LIBRARY[t].kernel_gflops.items()},
        }
        for t in CHIPLET_TYPES
    }
    fast = library_from_dict({"chiplets": spec}, "fast.json")
    for counts in [(12, 0, 0, 0), (0, 0, 12, 0), (0, 0, 0, 12)]:
        assert run("rmc1-test", counts, fast).execution_time_ms < (
            default("rmc1-test", counts).execution_time_ms
        )


def test_raising_a_kernel_rate_does_not_slow_that_chiplet() -> None:
    # Attention chiplets run Linear at 7500 GFLOP/s by default; raise it to their peak.
    fast_linear = custom(atten={"kernel_gflops": {"Linear": 30000}})
    base = default("rmc1-test", (0, 12, 0, 0))
    result = run("rmc1-test", (0, 12, 0, 0), fast_linear)
    assert result.execution_time_ms < base.execution_time_ms
    assert result.energy_mj < base.energy_mj


def test_raising_the_attention_rate_does_not_slow_gpt_j_on_attention_chiplets() -> None:
    fast = custom(atten={"kernel_gflops": {"Attention": 60000}})
    base = default("gpt-j-second-65536", (0, 12, 0, 0))
    result = run("gpt-j-second-65536", (0, 12, 0, 0), fast)
    assert result.execution_time_ms <= base.execution_time_ms
    assert result.energy_mj <= base.energy_mj


def test_a_kernel_rate_on_an_absent_type_changes_nothing() -> None:
    fast = custom(conv={"kernel_gflops": {"Linear": 90000}, "gflops": 90000})
    assert same_numbers(run("rmc1-test", (12, 0, 0, 0), fast), default("rmc1-test", (12, 0, 0, 0)))


@pytest.mark.parametrize(("name", "counts"), [("rmc1-test", (3, 3, 3, 3)), *BIT_IDENTICAL_CASES])
def test_doubling_every_sram_does_not_make_things_worse(
    name: str, counts: tuple[int, int, int, int]
) -> None:
    base, result = default(name, counts), run(name, counts, scaled("sram_mb", 2))
    assert result.execution_time_ms <= base.execution_time_ms
    assert result.energy_mj <= base.energy_mj


def test_tiny_sram_costs_time_and_energy() -> None:
    tiny = library_from_dict({"chiplets": every_type(sram_mb=0.001)}, "tiny.json")
    for counts in [(12, 0, 0, 0), (3, 3, 3, 3)]:
        base, result = default("rmc1-test", counts), run("rmc1-test", counts, tiny)
        assert result.execution_time_ms > base.execution_time_ms
        assert result.energy_mj > base.energy_mj


def test_sram_large_enough_for_the_weights_makes_gpt_j_decode_much_faster() -> None:
    sizes = [0.001, 0.5, 4, 64, 1024]
    times = [
        run(
            "gpt-j-second-65536",
            (12, 0, 0, 0),
            library_from_dict({"chiplets": {"gpu": {"sram_mb": s}}}, "sram.json"),
        ).execution_time_ms
        for s in sizes
    ]
    assert times == sorted(times, reverse=True)  # more SRAM never slower
    assert times[-1] < times[2] / 10  # 1 GB per chiplet: weights stay on chip


def test_doubling_saturation_bandwidth_does_not_slow_any_design() -> None:
    wide = scaled("bw_sat_gbps", 2)
    for name, counts in [("rmc1-test", (12, 0, 0, 0)), ("gpt-j-second-65536", (3, 3, 3, 3))]:
        assert run(name, counts, wide).execution_time_ms < default(name, counts).execution_time_ms


@pytest.mark.parametrize("counts", [(12, 0, 0, 0), (0, 0, 12, 0), (0, 0, 0, 12)])
def test_doubling_tdp_doubles_energy_and_power_but_not_time(
    counts: tuple[int, int, int, int],
) -> None:
    # On a single-type design there is no distribution to choose, so time cannot depend on power.
    base, result = default("rmc1-test", counts), run("rmc1-test", counts, scaled("tdp_w", 2))
    assert result.execution_time_ms == base.execution_time_ms
    assert result.energy_mj == pytest.approx(2 * base.energy_mj, rel=1e-12)
    assert result.peak_power_w == 2 * base.peak_power_w


def test_tdp_split_changes_energy_not_time_on_a_single_type_design() -> None:
    base = default("rmc1-test", (12, 0, 0, 0))
    compute_only = custom(gpu={"tdp_split": {"compute": 1.0, "memory": 0.0, "base": 0.0}})
    base_only = custom(gpu={"tdp_split": {"compute": 0.0, "memory": 0.0, "base": 1.0}})
    a = run("rmc1-test", (12, 0, 0, 0), compute_only)
    b = run("rmc1-test", (12, 0, 0, 0), base_only)
    assert a.execution_time_ms == b.execution_time_ms == base.execution_time_ms
    assert a.energy_mj != base.energy_mj
    assert b.energy_mj != base.energy_mj
    assert a.peak_power_w == b.peak_power_w == base.peak_power_w


# -- area and peak power ------------------------------------------------------------------------
@pytest.mark.parametrize("counts", [(3, 3, 3, 3), (12, 0, 0, 0), (0, 2, 5, 5), (1, 0, 0, 0)])
def test_default_area_is_25_mm2_per_chiplet(counts: tuple[int, int, int, int]) -> None:
    result = run("rmc1-test", counts, DEFAULT_LIBRARY)
    assert result.area_mm2 == 25 * sum(counts)


@pytest.mark.parametrize(
    ("counts", "watts"),
    [((3, 3, 3, 3), 132), ((12, 0, 0, 0), 180), ((0, 0, 12, 0), 48), ((0, 2, 5, 5), 100)],
)
def test_default_peak_power_is_the_sum_of_tdps(
    counts: tuple[int, int, int, int], watts: float
) -> None:
    assert run("rmc1-test", counts, DEFAULT_LIBRARY).peak_power_w == watts


def test_custom_area_and_tdp_change_area_and_peak_power() -> None:
    library = custom(gpu={"area_mm2": 40, "tdp_w": 20}, conv={"area_mm2": 12.5})
    result = run("rmc1-test", (3, 3, 3, 3), library)
    assert result.area_mm2 == 3 * 40 + 3 * 25 + 3 * 25 + 3 * 12.5
    assert result.peak_power_w == 3 * 20 + 3 * 15 + 3 * 4 + 3 * 10
    # Area is bookkeeping only: time and energy don't move with it.
    area_only = run("rmc1-test", (3, 3, 3, 3), custom(gpu={"area_mm2": 40}))
    assert area_only.execution_time_ms == default("rmc1-test", (3, 3, 3, 3)).execution_time_ms
    assert area_only.energy_mj == default("rmc1-test", (3, 3, 3, 3)).energy_mj


# -- bad library files --------------------------------------------------------------------------
def expect_library_error(path: Path, field: str | None, *words: str) -> InputError:
    with pytest.raises(InputError) as info:
        load_library(path)
    exc = info.value
    assert type(exc) is InputError
    assert exc.file == str(path)
    assert exc.field == field
    assert exc.kernel_index is None
    text = str(exc)
    assert str(path) in text and "\n" not in text
    if field is not None:
        assert f"field '{field}'" in text
    for word in words:
        assert word in text
    return exc


BAD_DOCUMENTS = [
    ({"chiplets": {"tpu": {"tdp_w": 10}}}, "chiplets.tpu", ["unknown chiplet type", "tpu"]),
    ({"chiplets": {"GPU": {"tdp_w": 10}}}, "chiplets.GPU", ["unknown chiplet type"]),
    ({"chiplets": {"gpu": {"frequency_ghz": 2}}}, "chiplets.gpu", ["unknown", "frequency_ghz"]),
    ({"chiplets": {"gpu": {"tdp": 10}}}, "chiplets.gpu", ["unknown", "tdp"]),
    ({"system": {"dram_gbps": 10}}, "system", ["unknown", "dram_gbps"]),
    ({"chips": {}}, None, ["unknown section", "chips"]),
    ({"chiplets": {"gpu": {"tdp_w": 0}}}, "chiplets.gpu.tdp_w", ["positive"]),
    ({"chiplets": {"gpu": {"tdp_w": -15}}}, "chiplets.gpu.tdp_w", ["positive"]),
    ({"chiplets": {"sparse": {"sram_mb": 0}}}, "chiplets.sparse.sram_mb", ["positive"]),
    ({"chiplets": {"conv": {"area_mm2": -1}}}, "chiplets.conv.area_mm2", ["positive"]),
    ({"chiplets": {"atten": {"peak_gflops": 0}}}, "chiplets.atten.peak_gflops", ["positive"]),
    ({"chiplets": {"gpu": {"gflops": -1.5}}}, "chiplets.gpu.gflops", ["positive"]),
    ({"chiplets": {"gpu": {"bw_sat_gbps": 0.0}}}, "chiplets.gpu.bw_sat_gbps", ["positive"]),
    ({"system": {"channel_gbps": 0}}, "system.channel_gbps", ["positive"]),
    ({"system": {"memory_channels": -16}}, "system.memory_channels", ["positive"]),
    ({"system": {"memory_channels": 16.5}}, "system.memory_channels", ["integer"]),
    ({"system": {"bytes_per_element": 0}}, "system.bytes_per_element", ["positive"]),
    ({"system": {"fusion_leak": -0.01}}, "system.fusion_leak", ["negative"]),
    ({"chiplets": {"gpu": {"tdp_w": "15"}}}, "chiplets.gpu.tdp_w", ["number"]),
    ({"chiplets": {"gpu": {"tdp_w": True}}}, "chiplets.gpu.tdp_w", ["number"]),
    ({"chiplets": {"gpu": {"tdp_w": None}}}, "chiplets.gpu.tdp_w", ["number"]),
    ({"chiplets": {"gpu": {"sram_mb": [4]}}}, "chiplets.gpu.sram_mb", ["number"]),
    (
        {"chiplets": {"gpu": {"tdp_split": {"compute": 0.6, "memory": 0.3, "base": 0.2}}}},
        "chiplets.gpu.tdp_split",
        ["sum to 1"],
    ),
    ({"chiplets": {"gpu": {"tdp_split": {"compute": 0.9}}}}, "chiplets.gpu.tdp_split", ["sum"]),
    (
        {"chiplets": {"gpu": {"tdp_split": {"compute": 0.5, "leakage": 0.0}}}},
        "chiplets.gpu.tdp_split",
        ["compute, memory, base"],
    ),
    ({"chiplets": {"gpu": {"tdp_split": [0.5, 0.3, 0.2]}}}, "chiplets.gpu.tdp_split", []),
    (
        {"chiplets": {"gpu": {"tdp_split": {"compute": 1.2, "memory": -0.2, "base": 0.0}}}},
        "chiplets.gpu.tdp_split.memory",
        ["negative"],
    ),
    (
        {"chiplets": {"gpu": {"kernel_gflops": {"Conv3d": 100}}}},
        "chiplets.gpu.kernel_gflops",
        ["unknown kernel type", "Conv3d"],
    ),
    (
        {"chiplets": {"atten": {"kernel_gflops": {"attention": 100}}}},
        "chiplets.atten.kernel_gflops",
        ["unknown kernel type", "attention"],
    ),
    ({"chiplets": {"gpu": {"kernel_gflops": [100]}}}, "chiplets.gpu.kernel_gflops", []),
    (
        {"chiplets": {"gpu": {"kernel_gflops": {"Linear": 0}}}},
        "chiplets.gpu.kernel_gflops.Linear",
        ["positive"],
    ),
    (
        {"chiplets": {"gpu": {"kernel_gflops": {"Linear": "fast"}}}},
        "chiplets.gpu.kernel_gflops.Linear",
        ["number"],
    ),
    ({"chiplets": {"gpu": 15}}, "chiplets.gpu", []),
    ({"chiplets": ["gpu"]}, "chiplets", []),
    ({"system": 16}, "system", []),
]


@pytest.mark.parametrize(
    ("doc", "field", "words"), BAD_DOCUMENTS, ids=[str(i) for i in range(len(BAD_DOCUMENTS))]
)
def test_bad_json_library(tmp_path: Path, doc: Any, field: str | None, words: list[str]) -> None:
    path = tmp_path / "lib.json"
    path.write_text(json.dumps(doc))
    expect_library_error(path, field, *words)


@pytest.mark.parametrize("literal", ["NaN", "Infinity"])
def test_non_finite_number_in_a_json_library(tmp_path: Path, literal: str) -> None:
    path = tmp_path / "lib.json"
    path.write_text('{"chiplets": {"gpu": {"tdp_w": VALUE}}}'.replace("VALUE", literal))
    expect_library_error(path, "chiplets.gpu.tdp_w", "finite")


@pytest.mark.parametrize("doc", [[], "CASCADE", 3, None], ids=repr)
def test_library_that_is_not_an_object(tmp_path: Path, doc: Any) -> None:
    path = tmp_path / "lib.json"
    path.write_text(json.dumps(doc))
    expect_library_error(path, None)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        ("[chiplets.tpu]\ntdp_w = 10\n", "chiplets.tpu", ["unknown chiplet type"]),
        ("[chiplets.gpu]\nwatts = 10\n", "chiplets.gpu", ["watts"]),
        ("[chiplets.gpu]\ntdp_w = 0\n", "chiplets.gpu.tdp_w", ["positive"]),
        ("[chiplets.gpu]\ntdp_w = nan\n", "chiplets.gpu.tdp_w", ["finite"]),
        ("[chiplets.gpu]\ntdp_w = inf\n", "chiplets.gpu.tdp_w", ["finite"]),
        (
            "[chiplets.gpu.tdp_split]\ncompute = 0.4\nmemory = 0.4\nbase = 0.4\n",
            "chiplets.gpu.tdp_split",
            ["sum to 1"],
        ),
        (
            "[chiplets.conv.kernel_gflops]\nConv1d = 100\n",
            "chiplets.conv.kernel_gflops",
            ["Conv1d"],
        ),
        ("[system]\nmemory_channels = 0\n", "system.memory_channels", ["positive"]),
    ],
)
def test_bad_toml_library(tmp_path: Path, text: str, field: str, words: list[str]) -> None:
    path = tmp_path / "lib.toml"
    path.write_text(text)
    expect_library_error(path, field, *words)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("lib.toml", b"[chiplets.gpu\ntdp_w = 10\n"),
        ("lib.toml", b"[chiplets.gpu]\ntdp_w = \n"),
        ("lib.toml", b"[chiplets.gpu]\ntdp_w = 1\ntdp_w = 2\n"),
        ("lib.toml", b'{"chiplets": {}}'),  # JSON in a .toml file
        ("lib.toml", b"\xff\xfe garbage"),
        ("lib.json", b'{"chiplets": {"gpu": {"tdp_w": 10}'),
        ("lib.json", b"chiplets.gpu.tdp_w = 10\n"),  # TOML in a .json file
        ("lib.json", b""),
    ],
    ids=[
        "toml-unclosed-table",
        "toml-missing-value",
        "toml-duplicate-key",
        "toml-holding-json",
        "toml-binary",
        "json-truncated",
        "json-holding-toml",
        "json-empty",
    ],
)
def test_malformed_library_file_names_the_file(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    expect_library_error(path, None, "malformed")


def test_missing_library_file(tmp_path: Path) -> None:
    expect_library_error(tmp_path / "nope.toml", None, "not found")


def test_directory_is_not_a_library_file(tmp_path: Path) -> None:
    folder = tmp_path / "lib.json"
    folder.mkdir()
    expect_library_error(folder, None, "not found")


@pytest.mark.parametrize(
    ("doc", "field"),
    [
        ({"chiplets": {"gpu": {"tdp_w": 10**400}}}, "chiplets.gpu.tdp_w"),
        ({"system": {"channel_gbps": 10**400}}, "system.channel_gbps"),
    ],
    ids=["tdp_w", "channel_gbps"],
)
def test_huge_integer_in_a_library_is_an_input_error(tmp_path: Path, doc: Any, field: str) -> None:
    path = tmp_path / "lib.json"
    path.write_text(json.dumps(doc))
    expect_library_error(path, field, "too large")


def test_json_integer_over_the_digit_limit_in_a_library(tmp_path: Path) -> None:
    path = tmp_path / "lib.json"
    path.write_text('{"system": {"channel_gbps": VALUE}}'.replace("VALUE", "9" * 5000))
    expect_library_error(path, None, "malformed")


def test_deeply_nested_json_library(tmp_path: Path) -> None:
    path = tmp_path / "lib.json"
    path.write_text("[" * 100_000)
    expect_library_error(path, None, "malformed")


def test_boundary_values_are_accepted() -> None:
    # Tiny positive numbers and a zero fusion leak are legal and give finite results.
    library = library_from_dict(
        {
            "chiplets": {"gpu": {"tdp_w": 1e-9, "sram_mb": 0.5}},
            "system": {"fusion_leak": 0, "channel_gbps": 1},
        },
        "edge.json",
    )
    assert library["gpu"].tdp_w == 1e-9
    assert library.system.fusion_leak == 0
    assert math.isfinite(run("rmc1-test", (12, 0, 0, 0), library).execution_time_ms)
