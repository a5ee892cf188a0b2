"""Tests of the built-in workload generators (``chiplet_dse.model.workloads``).

The main check regenerates every shipped CASCADE trace and compares it, kernel by kernel, with
the file in ``shared/cascade-traces`` (skipped when that directory is absent).
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chiplet_dse.errors import InputError
from chiplet_dse.model.workloads import (
    BUILTIN_WORKLOADS,
    WorkloadInfo,
    find_workload,
    generate_trace,
)

TRACE_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "cascade-traces"
# <model>/<instance>-<batch>/<model>-<instance>-<batch>-bs.json; experiments/ is one level up.
SHIPPED = sorted(TRACE_DIR.glob("*/*/*-bs.json")) if TRACE_DIR.is_dir() else []

# Fields the CASCADE model reads (bold in §1.4 of docs/cascade-model.md) or that sharding
# rescales ((s) there), per kernel type. The presence of input["uncached"] is compared for
# every kernel, and Attention's KV-cache length under either spelling.
_IMAGE = ("batch-size", "in-channels", "img-height", "img-width")
_IMAGE_OUT = ("batch-size", "out-channels", "img-height", "img-width")
_ELEMENTS = {"input": ("elements",), "output": ("elements",)}
MODEL_FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "Linear": {
        "input": ("batch-size", "hidden-dim"),
        "output": ("batch-size", "output-dim"),
        "layer": ("output-dim",),
    },
    "Conv2d": {
        "input": _IMAGE,
        "output": _IMAGE_OUT,
        "layer": ("out-channels", "kernel", "stride", "padding"),
    },
    "BatchNorm": {"input": _IMAGE, "output": _IMAGE_OUT, "layer": ("features",)},
    "GroupNorm": {"input": _IMAGE, "output": _IMAGE_OUT, "layer": ("num_channels",)},
    "MaxPool2d": {"input": _IMAGE, "output": _IMAGE_OUT},
    "AdaptiveAvgPool2d": {"input": _IMAGE, "output": _IMAGE_OUT},
    "Add": _ELEMENTS,
    "ReLU": _ELEMENTS,
    "GeLU": _ELEMENTS,
    "SiLU": _ELEMENTS,
    "Softmax": _ELEMENTS,
    "EmbeddingTable": {
        "input": ("batch-size", "num-tables", "num-lookups"),
        "output": ("batch-size", "num-tables"),
        "layer": ("num-tables", "embedding-dim"),
    },
    "InteractionArch": {
        "input": ("batch-size", "dense-features", "num-tables", "embedding-dim"),
        "output": ("batch-size", "flat-diag-lower-dense"),
    },
    "Attention": {
        "input": ("batch-size", "beam-size", "seq-len", "hidden-dim"),
        "layer": ("output-dim", "num-heads"),
    },
    "LayerNorm": {
        "input": ("batch-size", "beam-size", "seq-len", "hidden-dim"),
        "output": ("beam-size", "seq-len"),
        "layer": ("weights",),
    },
    "GCNConv": {
        "input": ("num-nodes", "num-edges", "curve-fit-vals"),
        "output": ("num-edges", "embedding-dim"),
    },
}
# Carried but unread fields that our generators do not reproduce: ``non-zeros`` depends on
# activation data (we report the dense count), ``notes`` is free text.
NOT_REPRODUCED = frozenset({"non-zeros", "notes"})
MISSING = "<missing>"

KERNEL_COUNTS = {
    "rmc1": 11, "rmc2": 11, "rmc3": 13, "resnet18": 63, "resnet50": 162, "vgg11": 27,
    "vgg19": 43, "ogbn-arxiv": 9, "ogbn-products": 9, "ogbn-proteins": 9, "gpt-j-first": 6,
    "gpt-j-second": 6, "stable-diffusion-v1-4": 379,
}  # fmt: skip


def _typed(value: Any) -> Any:
    """A comparable form of a JSON value that keeps int, float and bool apart."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)


def model_read_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The fields of one kernel record that the CASCADE model reads, as ``section.field``."""
    kind = record["kernel"]
    if kind not in MODEL_FIELDS:
        raise AssertionError(f"unknown kernel type {kind!r}")
    inp = record["input"]
    fields: dict[str, Any] = {"kernel": kind, "input.uncached (present)": "uncached" in inp}
    for section, names in MODEL_FIELDS[kind].items():
        for name in names:
            fields[f"{section}.{name}"] = _typed(record[section].get(name, MISSING))
    if kind == "Attention":
        fields["input.kv_cache"] = _typed(inp.get("kv_cache", inp.get("kv-cache", MISSING)))
    return fields


def _all_fields(record: dict[str, Any]) -> dict[str, Any]:
    """Every field of a record except the ones in NOT_REPRODUCED, as ``section.field``."""
    fields: dict[str, Any] = {"kernel": record["kernel"]}
    for section in ("input", "output", "layer"):
        for name, value in record[section].items():
            if name not in NOT_REPRODUCED:
                fields[f"{section}.{name}"] = _typed(value)
    return fields


def first_difference(
    generated: list[dict[str, Any]],
    shipped: list[dict[str, Any]],
    extract: Callable[[dict[str, Any]], dict[str, Any]] = model_read_fields,
) -> str | None:
    """Describe the first kernel where ``extract`` differs, or return None if all agree."""
    for index, (gen, ref) in enumerate(zip(generated, shipped, strict=False)):
        gen_fields, ref_fields = extract(gen), extract(ref)
        for name in dict.fromkeys([*ref_fields, *gen_fields]):
            got, want = gen_fields.get(name, MISSING), ref_fields.get(name, MISSING)
            if got != want:
                return (
                    f"kernel {index} ({ref['kernel']}): field {name!r}: "
                    f"generated {got!r}, shipped {want!r}"
                )
    if len(generated) != len(shipped):
        return f"kernel count: generated {len(generated)}, shipped {len(shipped)}"
    return None


def _parse_name(path: Path) -> tuple[str, str, int]:
    instance, batch = path.parent.name.rsplit("-", 1)
    return path.parent.parent.name, instance, int(batch)


@cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


_shipped_params = [pytest.param(p, id=str(p.relative_to(TRACE_DIR))) for p in SHIPPED] or [
    pytest.param(None, id="no-shipped-traces")
]


def _shipped_and_generated(path: Path | None) -> tuple[dict[str, Any], dict[str, Any]]:
    if path is None:
        pytest.skip(f"shipped traces not found at {TRACE_DIR}")
    model, instance, batch = _parse_name(path)
    return _load(path), generate_trace(model, instance, batch)


# --- 1. every shipped trace is reproduced --------------------------------------------------


@pytest.mark.parametrize("path", _shipped_params)
def test_generated_trace_matches_shipped_in_model_read_fields(path: Path | None) -> None:
    shipped, generated = _shipped_and_generated(path)
    diff = first_difference(generated["workload_trace"], shipped["workload_trace"])
    assert diff is None, diff


@pytest.mark.parametrize("path", _shipped_params)
def test_generated_trace_matches_shipped_in_all_other_fields(path: Path | None) -> None:
    """Unread fields (params, entries-per-table, the header) match too, bar NOT_REPRODUCED."""
    shipped, generated = _shipped_and_generated(path)
    header = {key: value for key, value in shipped.items() if key != "workload_trace"}
    assert {key: value for key, value in generated.items() if key != "workload_trace"} == header
    diff = first_difference(
        generated["workload_trace"], shipped["workload_trace"], extract=_all_fields
    )
    assert diff is None, diff


def test_shipped_tree_is_covered_by_builtin_workloads() -> None:
    if not SHIPPED:
        pytest.skip(f"shipped traces not found at {TRACE_DIR}")
    assert len(SHIPPED) == 94
    on_disk: dict[tuple[str, str], list[int]] = {}
    for path in SHIPPED:
        model, instance, batch = _parse_name(path)
        on_disk.setdefault((model, instance), []).append(batch)
    declared = {(w.model, w.instance): w.shipped_batch_sizes for w in BUILTIN_WORKLOADS}
    assert {key: tuple(sorted(sizes)) for key, sizes in on_disk.items()} == declared


def test_first_difference_reports_index_and_field() -> None:
    kernels = generate_trace("dnn", "resnet18", 2)["workload_trace"]
    assert first_difference(kernels, copy.deepcopy(kernels)) is None
    changed = copy.deepcopy(kernels)
    changed[5]["layer"]["params"] += 1  # not read by the model
    assert first_difference(kernels, changed) is None
    changed[7]["output"]["out-channels"] = 64.0  # read, and an int must stay an int
    assert first_difference(kernels, changed) == (
        "kernel 7 (Conv2d): field 'output.out-channels': generated ('int', 64), "
        "shipped ('float', 64.0)"
    )
    changed[7]["output"]["out-channels"] = 64
    del changed[21]["input"]["uncached"]  # the down-sample conv
    assert first_difference(kernels, changed) == (
        "kernel 21 (Conv2d): field 'input.uncached (present)': generated True, shipped False"
    )
    assert first_difference(kernels, kernels[:-1]) == "kernel count: generated 63, shipped 62"


# --- 2. any positive batch size works ------------------------------------------------------

_ZERO_ALLOWED = {"beam-size", "seq-len", "kv_cache", "padding", "params", "non-zeros"}
_FLOAT_FIELDS = {"curve-fit-vals", "entries-per-table"}


def _check_sensible(trace: dict[str, Any], info: WorkloadInfo) -> None:
    kernels = trace["workload_trace"]
    assert len(kernels) == KERNEL_COUNTS[info.instance]
    assert json.loads(json.dumps(trace)) == trace  # plain JSON types only (lists, not tuples)
    for index, record in enumerate(kernels):
        assert record["kernel"] in MODEL_FIELDS
        for section in ("input", "output", "layer"):
            for name, value in record[section].items():
                where = f"kernel {index} {record['kernel']} {section}.{name}"
                if name in _FLOAT_FIELDS or isinstance(value, bool | str):
                    continue
                values = value if isinstance(value, list) else [value]
                for number in values:
                    assert type(number) is int, where
                    assert number > 0 or (number == 0 and name in _ZERO_ALLOWED), where


@pytest.mark.parametrize(
    "info", [pytest.param(w, id=f"{w.model}-{w.instance}") for w in BUILTIN_WORKLOADS]
)
def test_non_shipped_batch_sizes_are_sensible(info: WorkloadInfo) -> None:
    odd = 24 if info.model == "sd" else 3  # SD needs a multiple of 8
    for batch in (odd, 200):
        trace = generate_trace(info.model, info.instance, batch)
        assert trace["batch_size"] == batch
        _check_sensible(trace, info)


def _scale_batch(record: dict[str, Any], factor: int) -> dict[str, Any]:
    scaled = copy.deepcopy(record)
    for section in ("input", "output"):
        for name in ("batch-size", "elements", "params", "non-zeros"):
            if name in scaled[section]:
                scaled[section][name] *= factor
    return scaled


def test_resnet50_batch_3_is_three_times_batch_1() -> None:
    one = generate_trace("dnn", "resnet50", 1)["workload_trace"]
    three = generate_trace("dnn", "resnet50", 3)["workload_trace"]
    assert three == [_scale_batch(record, 3) for record in one]
    assert sum("uncached" in record["input"] for record in three) == 4  # down-sample convs
    assert three[-1]["output"] == {"batch-size": 3, "output-dim": 1000}


def test_gpt_batch_is_the_token_count() -> None:
    first = generate_trace("gpt", "gpt-j-first", 100)["workload_trace"]
    attention, layernorm, fc_in, gelu, fc_out, _ = first
    assert (attention["input"]["seq-len"], attention["input"]["kv_cache"]) == (100, 0)
    assert layernorm["input"]["seq-len"] == 100
    assert fc_in["input"]["batch-size"] == fc_out["output"]["batch-size"] == 100
    assert gelu["input"]["elements"] == 100 * 16384

    second = generate_trace("gpt", "gpt-j-second", 100)["workload_trace"]
    assert second[0]["input"]["kv_cache"] == 100
    assert second[0]["input"]["beam-size"] == second[2]["input"]["batch-size"] == 4
    other = generate_trace("gpt", "gpt-j-second", 32)["workload_trace"]
    other[0]["input"]["kv_cache"] = 100
    assert second == other  # only the cache length depends on the context


def test_stable_diffusion_at_96_pixels_mirrors_the_latent_sizes() -> None:
    kernels = generate_trace("sd", "stable-diffusion-v1-4", 96)["workload_trace"]
    convs = [k for k in kernels if k["kernel"] == "Conv2d"]
    assert convs[0]["input"]["img-height"] == 12  # 96 px / 8
    assert convs[-1]["output"] == {
        "batch-size": 2, "out-channels": 4, "img-height": 12, "img-width": 12
    }  # fmt: skip
    # Down-sampling 12 → 6 → 3 → 2; the up path resizes back to the skip sizes 3, 6, 12.
    down = [c["output"]["img-height"] for c in convs if c["layer"]["stride"] == [2, 2]]
    assert down == [6, 3, 2]
    tokens = sorted({k["input"]["seq-len"] for k in kernels if k["kernel"] == "Attention"})
    assert tokens == [4, 9, 36, 144]  # mid block at 2×2, then 3×3, 6×6, 12×12
    for conv in convs:
        assert conv["output"]["img-height"] > 0


def test_dlrm_and_gcn_at_non_shipped_batches() -> None:
    dlrm = generate_trace("dlrm", "rmc2", 3)["workload_trace"]
    assert all(k["input"].get("batch-size", 3) == 3 for k in dlrm)
    interaction = next(k for k in dlrm if k["kernel"] == "InteractionArch")
    assert interaction["output"]["flat-diag-lower-dense"] == 64 + 101 * 100 // 2

    gcn = generate_trace("gcn", "ogbn-arxiv", 10)["workload_trace"]
    assert [k["output"]["embedding-dim"] for k in gcn if k["kernel"] == "GCNConv"] == [10, 10, 40]
    assert gcn[2] == {
        "kernel": "ReLU", "input": {"elements": 1_693_430}, "output": {"elements": 1_693_430},
        "layer": {},
    }  # fmt: skip


def test_generation_is_deterministic_and_returns_fresh_documents() -> None:
    first = generate_trace("gcn", "ogbn-products", 16)
    first["workload_trace"][1]["input"]["curve-fit-vals"]["1"][0][0] = 0.0
    first["workload_trace"][0]["input"]["batch-size"] = -1
    second = generate_trace("gcn", "ogbn-products", 16)
    assert second["workload_trace"][1]["input"]["curve-fit-vals"]["1"][0][0] == 27450.493757270506
    assert second["workload_trace"][0]["input"]["batch-size"] == 2_449_029
    assert generate_trace("gcn", "ogbn-products", 16) == second


def test_numpy_integer_batch_size_is_accepted() -> None:
    trace = generate_trace("dnn", "vgg11", np.int64(4))
    assert type(trace["batch_size"]) is int
    assert trace == generate_trace("dnn", "vgg11", 4)


# --- 3. bad names and batch sizes ----------------------------------------------------------


def test_builtin_workloads_catalogue() -> None:
    assert len(BUILTIN_WORKLOADS) == len(KERNEL_COUNTS)
    assert {w.instance for w in BUILTIN_WORKLOADS} == set(KERNEL_COUNTS)
    info = find_workload("gpt", "gpt-j-second")
    assert "KV-cache" in info.batch_meaning
    with pytest.raises(AttributeError):
        info.model = "dnn"  # type: ignore[misc]


def test_family_modules_generate_exactly_the_catalogued_instances() -> None:
    for model in sorted({w.model for w in BUILTIN_WORKLOADS}):
        family = importlib.import_module(f"chiplet_dse.model.workloads.{model}")
        catalogued = tuple(w.instance for w in BUILTIN_WORKLOADS if w.model == model)
        assert catalogued == family.INSTANCES


def test_unknown_model_lists_valid_models() -> None:
    with pytest.raises(InputError) as excinfo:
        generate_trace("bert", "base", 8)
    message = str(excinfo.value)
    assert "'bert'" in message
    for model in ("dlrm", "dnn", "gcn", "gpt", "sd"):
        assert model in message


def test_unknown_instance_lists_valid_instances_of_the_model() -> None:
    with pytest.raises(InputError) as excinfo:
        find_workload("dnn", "resnet101")
    message = str(excinfo.value)
    assert "'resnet101'" in message
    for instance in ("resnet18", "resnet50", "vgg11", "vgg19"):
        assert instance in message
    assert "rmc1" not in message


@pytest.mark.parametrize("batch", [0, -4, 1.5, 64.0, True, "64", None])
def test_bad_batch_size_is_an_input_error(batch: object) -> None:
    with pytest.raises(InputError, match="positive integer") as excinfo:
        generate_trace("dnn", "resnet18", batch)  # type: ignore[arg-type]
    assert excinfo.value.field == "batch-size"


def test_stable_diffusion_needs_a_multiple_of_8_pixels() -> None:
    with pytest.raises(InputError, match="multiple of 8") as excinfo:
        generate_trace("sd", "stable-diffusion-v1-4", 100)
    assert excinfo.value.field == "batch-size"
