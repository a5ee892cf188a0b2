"""Bad input to the model: every problem is an ``InputError`` that says where it is.

Covers trace files (kernel records and their fields), experiment documents, designs and goals.
Each test checks the exception type (never another one), the ``file`` / ``kernel_index`` /
``field`` attributes and that the message repeats them. The last section checks the three
optimisation goals on small experiments.
"""

from __future__ import annotations

import copy
import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from chiplet_dse.errors import InputError
from chiplet_dse.model import (
    GOALS,
    Design,
    evaluate,
    evaluate_many,
    experiment_from_dict,
    load_experiment,
    load_trace,
    parse_trace,
)
from chiplet_dse.model.workloads import generate_trace

# Fields the model reads, per kernel type, as "section.key" (bold in spec §1.4). Written out
# here from the spec rather than taken from the implementation's own table.
_IMAGE_IN = ("input.batch-size", "input.in-channels", "input.img-height", "input.img-width")
_IMAGE_OUT = ("output.out-channels", "output.img-height", "output.img-width")
_POOL_OUT = ("output.img-height", "output.img-width")
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "Linear": ("input.batch-size", "input.hidden-dim", "output.output-dim"),
    "Conv2d": (*_IMAGE_IN, *_IMAGE_OUT, "layer.kernel", "layer.stride", "layer.padding"),
    "BatchNorm": (*_IMAGE_IN, *_IMAGE_OUT, "layer.features"),
    "GroupNorm": (*_IMAGE_IN, *_IMAGE_OUT, "layer.num_channels"),
    "MaxPool2d": (*_IMAGE_IN, *_POOL_OUT),
    "AdaptiveAvgPool2d": (*_IMAGE_IN, *_POOL_OUT),
    "Add": ("input.elements",),
    "ReLU": ("input.elements",),
    "GeLU": ("input.elements",),
    "SiLU": ("input.elements",),
    "Softmax": ("input.elements",),
    "EmbeddingTable": (
        "input.batch-size",
        "input.num-tables",
        "input.num-lookups",
        "layer.embedding-dim",
    ),
    "InteractionArch": (
        "input.batch-size",
        "input.dense-features",
        "input.num-tables",
        "input.embedding-dim",
        "output.flat-diag-lower-dense",
    ),
    "Attention": (
        "input.batch-size",
        "input.beam-size",
        "input.seq-len",
        "input.hidden-dim",
        "input.kv_cache",
        "layer.num-heads",
        "layer.output-dim",
    ),
    "LayerNorm": (
        "input.batch-size",
        "input.beam-size",
        "input.seq-len",
        "input.hidden-dim",
        "layer.weights",
    ),
    "GCNConv": (
        "input.num-nodes",
        "input.num-edges",
        "input.curve-fit-vals",
        "output.embedding-dim",
    ),
}
MISSING_CASES = [(kind, name) for kind, names in REQUIRED_FIELDS.items() for name in names]

# Small built-in traces that together contain all 16 kernel types.
_SAMPLE_TRACES = (
    ("dlrm", "rmc1", 4),
    ("dnn", "resnet18", 1),
    ("gpt", "gpt-j-second", 32),
    ("gcn", "ogbn-arxiv", 1),
    ("sd", "stable-diffusion-v1-4", 64),
)


@cache
def _samples() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for model, instance, batch in _SAMPLE_TRACES:
        for record in generate_trace(model, instance, batch)["workload_trace"]:
            found.setdefault(record["kernel"], record)
    return found


def sample(kind: str) -> dict[str, Any]:
    """A fresh, valid kernel record of type ``kind``."""
    return copy.deepcopy(_samples()[kind])


def linear(batch: int = 4, hidden: int = 8, out: int = 2) -> dict[str, Any]:
    return {
        "kernel": "Linear",
        "input": {"batch-size": batch, "hidden-dim": hidden},
        "output": {"batch-size": batch, "output-dim": out},
        "layer": {"hidden-dim": hidden, "output-dim": out},
    }


def relu(elements: int = 8) -> dict[str, Any]:
    return {"kernel": "ReLU", "input": {"elements": elements}, "output": {"elements": elements}}


def write_trace(path: Path, records: Any) -> Path:
    doc = {"model": "t", "model_instance": "t", "batch_size": 1, "workload_trace": records}
    path.write_text(json.dumps(doc))
    return path


def expect_error(
    exc: InputError, *, file: str | None, kernel_index: int | None, field: str | None
) -> None:
    """The attributes are as expected and the message names each of them."""
    assert type(exc) is InputError
    assert exc.file == file
    assert exc.kernel_index == kernel_index
    assert exc.field == field
    text = str(exc)
    assert "\n" not in text
    if file is not None:
        assert file in text
    if kernel_index is not None:
        assert f"kernel {kernel_index}" in text
    if field is not None:
        assert f"field '{field}'" in text


def _delete(record: dict[str, Any], dotted: str) -> None:
    section, key = dotted.split(".", 1)
    del record[section][key]


def _set(record: dict[str, Any], dotted: str, value: Any) -> None:
    section, key = dotted.split(".", 1)
    record[section][key] = value


# -- traces: kernel records ---------------------------------------------------------------------
def test_every_kernel_type_has_a_sample_and_a_valid_sample_trace_loads(tmp_path: Path) -> None:
    assert set(_samples()) == set(REQUIRED_FIELDS)
    path = write_trace(tmp_path / "all.json", [sample(k) for k in REQUIRED_FIELDS])
    trace = load_trace(path)
    assert [k.type for k in trace.kernels] == list(REQUIRED_FIELDS)
    assert trace.source == str(path)


@pytest.mark.parametrize(
    ("kind", "name"), MISSING_CASES, ids=[f"{k}-{f}" for k, f in MISSING_CASES]
)
def test_missing_field_names_file_kernel_index_and_field(
    tmp_path: Path, kind: str, name: str
) -> None:
    bad = sample(kind)
    _delete(bad, name)
    path = write_trace(tmp_path / "trace.json", [linear(), relu(), bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=2, field=name)
    assert "missing" in info.value.reason


def test_linear_without_output_dim_is_reported_as_output_dot_output_dim(tmp_path: Path) -> None:
    bad = linear()
    del bad["output"]["output-dim"]
    path = write_trace(tmp_path / "linear.json", [relu(), bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=1, field="output.output-dim")
    assert str(info.value) == f"{path}: kernel 1: field 'output.output-dim': missing"


def test_attention_accepts_the_alternative_kv_cache_spelling() -> None:
    record = sample("Attention")
    record["input"]["kv-cache"] = record["input"].pop("kv_cache")
    trace = parse_trace([record], "alt.json")
    assert trace.kernels[0].type == "Attention"


@pytest.mark.parametrize("kind", ["Conv3d", "linear", "", "GEGLU"])
def test_unknown_kernel_type(tmp_path: Path, kind: str) -> None:
    bad = linear()
    bad["kernel"] = kind
    path = write_trace(tmp_path / "t.json", [linear(), bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=1, field="kernel")
    assert "unknown kernel type" in info.value.reason
    assert repr(kind) in info.value.reason


def test_kernel_record_without_kernel_key(tmp_path: Path) -> None:
    bad = linear()
    del bad["kernel"]
    path = write_trace(tmp_path / "t.json", [bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=0, field="kernel")


@pytest.mark.parametrize("kind", [["Linear"], {"name": "Linear"}])
def test_unhashable_kernel_type_is_an_input_error(tmp_path: Path, kind: Any) -> None:
    bad = linear()
    bad["kernel"] = kind
    path = write_trace(tmp_path / "t.json", [linear(), bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=1, field="kernel")


@pytest.mark.parametrize("value", ["8", None, True, [8], {"v": 8}], ids=repr)
def test_non_numeric_field(tmp_path: Path, value: Any) -> None:
    bad = linear()
    bad["input"]["hidden-dim"] = value
    path = write_trace(tmp_path / "t.json", [linear(), relu(), relu(), bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=3, field="input.hidden-dim")
    assert "must be a number" in info.value.reason


@pytest.mark.parametrize(
    ("kind", "name"),
    [("Linear", "input.batch-size"), ("ReLU", "input.elements"), ("Attention", "layer.num-heads")],
)
@pytest.mark.parametrize("value", [-1, -0.5])
def test_negative_field(tmp_path: Path, kind: str, name: str, value: float) -> None:
    bad = sample(kind)
    _set(bad, name, value)
    path = write_trace(tmp_path / "t.json", [relu(), bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=1, field=name)
    assert "non-negative" in info.value.reason


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinite_fields_in_a_json_file(tmp_path: Path, literal: str) -> None:
    # JSON files written by Python can hold these literals; json.loads accepts them.
    path = tmp_path / "t.json"
    path.write_text(
        '{"workload_trace": [{"kernel": "ReLU", "input": {"elements": 8}, "output": {}},'
        ' {"kernel": "ReLU", "input": {"elements": VALUE}, "output": {}}]}'.replace(
            "VALUE", literal
        )
    )
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=1, field="input.elements")
    assert "finite" in info.value.reason


def test_nan_field_in_a_parsed_document() -> None:
    bad = linear()
    bad["output"]["output-dim"] = math.nan
    with pytest.raises(InputError) as info:
        parse_trace({"workload_trace": [bad]}, "doc")
    expect_error(info.value, file="doc", kernel_index=0, field="output.output-dim")


def test_huge_integer_field_is_an_input_error(tmp_path: Path) -> None:
    bad = linear()
    bad["input"]["hidden-dim"] = 10**400
    path = write_trace(tmp_path / "t.json", [bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=0, field="input.hidden-dim")


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("layer.stride", 0, "positive"),
        ("layer.stride", [1, 0], "positive"),
        ("layer.kernel", [3, 3, 3], "two"),
        ("layer.kernel", 1.5, "two"),
        ("layer.padding", [-1, 0], "two"),
        ("layer.padding", "same", "two"),
    ],
)
def test_conv2d_pairs(tmp_path: Path, name: str, value: Any, reason: str) -> None:
    bad = sample("Conv2d")
    _set(bad, name, value)
    path = write_trace(tmp_path / "t.json", [bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=0, field=name)
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("input.curve-fit-vals", {"1": [[1, 2, 3]]}),
        ("input.curve-fit-vals", {"2": [[1, 2, 3, 4, 5]]}),
        ("input.curve-fit-vals", {"1": [[1, 2, 3, 4, "5"]]}),
        ("input.curve-fit-vals", [1, 2, 3, 4, 5]),
        ("input.num-nodes", 1),
        ("input.num-nodes", 2.5),
        ("output.embedding-dim", 0),
    ],
)
def test_gcnconv_fields(tmp_path: Path, name: str, value: Any) -> None:
    bad = sample("GCNConv")
    _set(bad, name, value)
    path = write_trace(tmp_path / "t.json", [linear(), bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=1, field=name)


@pytest.mark.parametrize("record", [5, "Linear", None, ["Linear"]], ids=repr)
def test_kernel_record_not_an_object(tmp_path: Path, record: Any) -> None:
    path = write_trace(tmp_path / "t.json", [linear(), relu(), record])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=2, field=None)
    assert "object" in info.value.reason


@pytest.mark.parametrize("section", ["input", "output", "layer"])
def test_section_not_an_object(tmp_path: Path, section: str) -> None:
    bad = linear()
    bad[section] = [1, 2]
    path = write_trace(tmp_path / "t.json", [bad])
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=0, field=section)


@pytest.mark.parametrize(
    "document",
    [{"workload_trace": []}, [], {"model": "x"}, {"workload_trace": {"0": {}}}, "trace", 3],
    ids=repr,
)
def test_empty_or_shapeless_trace(tmp_path: Path, document: Any) -> None:
    path = tmp_path / "t.json"
    path.write_text(json.dumps(document))
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=None, field="workload_trace")


def test_empty_trace_says_it_has_no_kernels() -> None:
    with pytest.raises(InputError, match="no kernels"):
        parse_trace({"workload_trace": []}, "empty.json")


@pytest.mark.parametrize(
    "content",
    [b'{"workload_trace": [', b"", b"{'workload_trace': []}", b"\xff\xfe\x00garbage"],
    ids=["truncated", "empty-file", "single-quotes", "binary"],
)
def test_malformed_json_file_names_the_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken-trace.json"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=None, field=None)


def test_json_integer_over_the_digit_limit_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    record = '{"kernel": "ReLU", "input": {"elements": VALUE}, "output": {}}'
    path.write_text(
        '{"workload_trace": [RECORD]}'.replace("RECORD", record.replace("VALUE", "9" * 5000))
    )
    with pytest.raises(InputError) as info:
        load_trace(path)
    assert info.value.file == str(path)


def test_deeply_nested_json_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000)
    with pytest.raises(InputError) as info:
        load_trace(path)
    assert info.value.file == str(path)


def test_missing_trace_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "trace.json"
    with pytest.raises(InputError) as info:
        load_trace(path)
    expect_error(info.value, file=str(path), kernel_index=None, field=None)
    assert "not found" in info.value.reason


def test_directory_is_not_a_trace_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        load_trace(tmp_path)


# -- experiments --------------------------------------------------------------------------------
def workload(**overrides: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"model": "dlrm", "model-instance": "rmc1", "batch-size": 8}
    spec.update(overrides)
    return spec


def experiment_doc(*workloads: dict[str, Any], goal: str = "latency") -> dict[str, Any]:
    return {"workloads": list(workloads) or [workload()], "optimization-goal": goal}


@pytest.mark.parametrize("goal", ["fastest", "Latency", "", None, 1, ["latency"]], ids=repr)
def test_experiment_with_unknown_goal(goal: Any) -> None:
    doc = experiment_doc()
    doc["optimization-goal"] = goal
    with pytest.raises(InputError) as info:
        experiment_from_dict(doc, "x", "exp.json")
    expect_error(info.value, file="exp.json", kernel_index=None, field="optimization-goal")
    assert "unknown goal" in info.value.reason


def test_experiment_file_with_unknown_goal_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "exp.json"
    path.write_text(json.dumps(experiment_doc(goal="throughput")))
    with pytest.raises(InputError) as info:
        load_experiment(path)
    expect_error(info.value, file=str(path), kernel_index=None, field="optimization-goal")
    assert "throughput" in str(info.value)


@pytest.mark.parametrize(
    "doc",
    [
        {"optimization-goal": "latency"},
        {"workloads": [], "optimization-goal": "latency"},
        {"workloads": {"model": "dlrm"}, "optimization-goal": "latency"},
        {"workloads": "rmc1", "optimization-goal": "latency"},
    ],
    ids=["missing", "empty", "object", "string"],
)
def test_experiment_without_workloads(doc: dict[str, Any]) -> None:
    with pytest.raises(InputError) as info:
        experiment_from_dict(doc, "x", "exp.json")
    expect_error(info.value, file="exp.json", kernel_index=None, field="workloads")


@pytest.mark.parametrize("doc", [[], "rmc1-test", 3, None], ids=repr)
def test_experiment_not_an_object(doc: Any) -> None:
    with pytest.raises(InputError) as info:
        experiment_from_dict(doc, "x", "exp.json")
    assert info.value.file == "exp.json"


@pytest.mark.parametrize("key", ["model", "model-instance", "batch-size"])
def test_workload_missing_key(key: str) -> None:
    bad = workload()
    del bad[key]
    with pytest.raises(InputError) as info:
        experiment_from_dict(experiment_doc(workload(), bad), "x", "exp.json")
    expect_error(info.value, file="exp.json", kernel_index=None, field=f"workloads[1].{key}")


def test_workload_not_an_object() -> None:
    with pytest.raises(InputError) as info:
        experiment_from_dict(experiment_doc(workload(), "dlrm/rmc1/8"), "x", "exp.json")  # type: ignore[arg-type]
    expect_error(info.value, file="exp.json", kernel_index=None, field="workloads[1]")


@pytest.mark.parametrize("batch", [2.5, 512.0, "512", True, None, 0, -4, [512]], ids=repr)
def test_non_integer_or_non_positive_batch_size(batch: Any) -> None:
    with pytest.raises(InputError) as info:
        experiment_from_dict(experiment_doc(workload(**{"batch-size": batch})), "x", "exp.json")
    expect_error(info.value, file="exp.json", kernel_index=None, field="workloads[0].batch-size")


@pytest.mark.parametrize("weight", [-1, -3, "-2"], ids=repr)
def test_negative_weighted_score(weight: Any) -> None:
    with pytest.raises(InputError) as info:
        experiment_from_dict(experiment_doc(workload(weighted_score=weight)), "x", "exp.json")
    expect_error(
        info.value, file="exp.json", kernel_index=None, field="workloads[0].weighted_score"
    )
    assert "negative" in info.value.reason


@pytest.mark.parametrize("weight", ["many", None, [1], {"n": 1}, math.nan], ids=repr)
def test_non_integer_weighted_score(weight: Any) -> None:
    with pytest.raises(InputError) as info:
        experiment_from_dict(experiment_doc(workload(weighted_score=weight)), "x", "exp.json")
    expect_error(
        info.value, file="exp.json", kernel_index=None, field="workloads[0].weighted_score"
    )


def test_infinite_weighted_score_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "inf.json"
    path.write_text(
        '{"workloads": [{"model": "dlrm", "model-instance": "rmc1", "batch-size": 8,'
        ' "weighted_score": 1e400}], "optimization-goal": "latency"}'
    )
    with pytest.raises(InputError) as info:
        load_experiment(path)
    expect_error(info.value, file=str(path), kernel_index=None, field="workloads[0].weighted_score")


def test_weighted_score_is_truncated_and_multiplies_the_totals() -> None:
    once = experiment_from_dict(experiment_doc(workload()), "once", "once.json")
    thrice = experiment_from_dict(
        experiment_doc(workload(weighted_score=3.9)), "thrice", "thrice.json"
    )
    assert thrice.workloads[0].weighted_score == 3
    a = evaluate(once, Design(1, 1, 1, 1))
    b = evaluate(thrice, Design(1, 1, 1, 1))
    assert b.execution_time_ms == pytest.approx(3 * a.execution_time_ms, rel=1e-12)
    assert b.energy_mj == pytest.approx(3 * a.energy_mj, rel=1e-12)


def test_experiment_without_goal_warns_and_uses_latency() -> None:
    doc = {"workloads": [workload()]}
    with pytest.warns(UserWarning, match="optimization-goal"):
        experiment = experiment_from_dict(doc, "x", "exp.json")
    assert experiment.goal == "latency"


def test_unknown_workload_without_trace_dir_names_the_workload() -> None:
    doc = experiment_doc(workload(), workload(model="bert", **{"model-instance": "base"}))
    with pytest.raises(InputError) as info:
        experiment_from_dict(doc, "x", "exp.json")
    expect_error(info.value, file="exp.json", kernel_index=None, field="workloads[1]")
    assert "bert/base/8" in info.value.reason
    assert "--trace-dir" in info.value.reason


def test_missing_trace_in_trace_dir_names_the_trace_path(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        experiment_from_dict(experiment_doc(workload()), "x", "exp.json", trace_dir=tmp_path)
    expected = tmp_path / "dlrm" / "rmc1-8" / "dlrm-rmc1-8-bs.json"
    expect_error(info.value, file=str(expected), kernel_index=None, field=None)
    assert "not found" in info.value.reason


def test_trace_dir_that_is_not_a_directory(tmp_path: Path) -> None:
    missing = tmp_path / "no-traces"
    with pytest.raises(InputError) as info:
        experiment_from_dict(experiment_doc(workload()), "x", "exp.json", trace_dir=missing)
    expect_error(info.value, file=str(missing), kernel_index=None, field=None)


def test_bad_trace_in_trace_dir_names_the_trace_file_kernel_and_field(tmp_path: Path) -> None:
    trace_file = tmp_path / "dlrm" / "rmc1-8" / "dlrm-rmc1-8-bs.json"
    trace_file.parent.mkdir(parents=True)
    bad = linear()
    bad["input"]["batch-size"] = "eight"
    write_trace(trace_file, [linear(), relu(), bad, relu()])
    exp_file = tmp_path / "exp.json"
    exp_file.write_text(json.dumps(experiment_doc(workload())))
    with pytest.raises(InputError) as info:
        load_experiment(exp_file, trace_dir=tmp_path)
    expect_error(info.value, file=str(trace_file), kernel_index=2, field="input.batch-size")


def test_trace_beside_experiment_file_is_found_in_the_cascade_layout(tmp_path: Path) -> None:
    # <root>/experiments/exp.json finds <root>/dlrm/rmc1-8/... without --trace-dir.
    trace_file = tmp_path / "dlrm" / "rmc1-8" / "dlrm-rmc1-8-bs.json"
    trace_file.parent.mkdir(parents=True)
    write_trace(trace_file, [linear(), relu()])
    (tmp_path / "experiments").mkdir()
    exp_file = tmp_path / "experiments" / "exp.json"
    exp_file.write_text(json.dumps(experiment_doc(workload())))
    experiment = load_experiment(exp_file)
    assert experiment.workloads[0].trace.source == str(trace_file)
    assert len(experiment.workloads[0].trace.kernels) == 2


@pytest.mark.parametrize("name", ["no-such-experiment", "rmc1", "RMC1-TEST"])
def test_unknown_experiment_name(name: str) -> None:
    with pytest.raises(InputError) as info:
        load_experiment(name)
    assert info.value.file == name
    assert "not a built-in experiment" in info.value.reason
    assert "rmc1-test" in info.value.reason  # lists the names one can use


def test_malformed_experiment_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "exp.json"
    path.write_text('{"workloads": [')
    with pytest.raises(InputError) as info:
        load_experiment(path)
    expect_error(info.value, file=str(path), kernel_index=None, field=None)
    assert "malformed JSON" in info.value.reason


# -- designs ------------------------------------------------------------------------------------
def test_design_with_zero_chiplets() -> None:
    with pytest.raises(InputError) as info:
        Design(0, 0, 0, 0)
    expect_error(info.value, file=None, kernel_index=None, field="design")
    assert "at least one chiplet" in info.value.reason


@pytest.mark.parametrize(
    ("counts", "field"),
    [
        ((-1, 3, 3, 3), "gpu"),
        ((3, -1, 3, 3), "attention"),
        ((3, 3, -2, 3), "sparse"),
        ((3, 3, 3, -12), "convolution"),
    ],
)
def test_design_with_negative_count(counts: tuple[int, ...], field: str) -> None:
    with pytest.raises(InputError) as info:
        Design(*counts)
    expect_error(info.value, file=None, kernel_index=None, field=field)
    assert "negative" in info.value.reason


@pytest.mark.parametrize("value", [1.0, 2.5, "3", True, None, math.nan], ids=repr)
def test_design_with_non_integer_count(value: Any) -> None:
    with pytest.raises(InputError) as info:
        Design(3, 3, value, 3)
    expect_error(info.value, file=None, kernel_index=None, field="sparse")
    assert "integer" in info.value.reason


def test_design_accepts_numpy_integers() -> None:
    design = Design(np.int64(3), np.int32(0), 0, 1)
    assert design.total == 4


@pytest.mark.parametrize(
    "text",
    ["", "3,3,3", "3,3,3,3,3", "a,b,c,d", "1.5,0,0,0", "3;3;3;3", "3 3 3 3", ",,,", "0x3,0,0,0"],
    ids=repr,
)
def test_design_parse_garbage(text: str) -> None:
    with pytest.raises(InputError) as info:
        Design.parse(text)
    assert info.value.field == "design"
    assert repr(text) in info.value.reason


@pytest.mark.parametrize(
    ("text", "field"), [("0,0,0,0", "design"), ("-1,0,0,1", "gpu"), ("1,0,0,-1", "convolution")]
)
def test_design_parse_rejects_impossible_counts(text: str, field: str) -> None:
    with pytest.raises(InputError) as info:
        Design.parse(text)
    assert info.value.field == field


def test_design_parse_accepts_spaces_and_round_trips() -> None:
    design = Design.parse(" 3, 0 ,12,1 ")
    assert design == Design(3, 0, 12, 1)
    assert str(design) == "3,0,12,1"
    assert Design.parse(str(design)) == design


# -- goals --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def rmc1() -> Any:
    return load_experiment("rmc1-test")


@pytest.mark.parametrize("goal", ["fastest", "Latency", "edp"])
def test_unknown_goal_passed_to_evaluate(rmc1: Any, goal: str) -> None:
    with pytest.raises(InputError) as info:
        evaluate(rmc1, Design(3, 3, 3, 3), goal=goal)
    expect_error(info.value, file=None, kernel_index=None, field="optimization-goal")
    assert repr(goal) in info.value.reason


def test_unknown_goal_passed_to_evaluate_many(rmc1: Any) -> None:
    with pytest.raises(InputError) as info:
        evaluate_many(rmc1, [Design(3, 3, 3, 3)], goal="fastest", workers=1)
    assert info.value.field == "optimization-goal"


def test_goals_are_the_three_of_the_spec() -> None:
    assert tuple(GOALS) == ("latency", "energy", "pareto")


def test_pareto_goal_minimises_per_block_energy_delay_product_and_gives_finite_positive_totals(
    rmc1: Any,
) -> None:
    # The original crashes on "pareto"; here it scores each block by its energy-delay product
    # (block energy x block time). It must run and give usable, positive numbers.
    result = evaluate(rmc1, Design(3, 3, 3, 3), goal="pareto")
    assert math.isfinite(result.execution_time_ms) and result.execution_time_ms > 0
    assert math.isfinite(result.energy_mj) and result.energy_mj > 0
    for kernel in result.workloads[0].kernels:
        assert kernel.total_time_s > 0
        assert kernel.total_energy_j > 0
    latency = evaluate(rmc1, Design(3, 3, 3, 3), goal="latency")
    # It trades time for energy: more energy-frugal than the latency goal on this design.
    assert result.energy_mj < latency.energy_mj


def test_energy_goal_uses_no_more_energy_than_the_latency_goal(rmc1: Any) -> None:
    # The energy goal minimises each block's energy, so the total can only be lower or equal.
    energy = evaluate(rmc1, Design(3, 3, 3, 3), goal="energy")
    latency = evaluate(rmc1, Design(3, 3, 3, 3), goal="latency")
    assert latency.energy_mj == pytest.approx(3.5753519380007646, rel=1e-12)
    assert energy.energy_mj <= latency.energy_mj


def test_energy_goal_uses_no_more_energy_on_gpt_j_second() -> None:
    experiment = load_experiment("gpt-j-second-65536")
    energy = evaluate(experiment, Design(3, 3, 3, 3), goal="energy", details=False)
    latency = evaluate(experiment, Design(3, 3, 3, 3), goal="latency", details=False)
    assert energy.energy_mj <= latency.energy_mj


@pytest.mark.parametrize("design", [Design(12, 0, 0, 0), Design(0, 0, 12, 0)], ids=str)
def test_goals_agree_on_a_single_type_design_where_there_is_nothing_to_distribute(
    rmc1: Any, design: Design
) -> None:
    results = {g: evaluate(rmc1, design, goal=g, details=False) for g in GOALS}
    times = {r.execution_time_ms for r in results.values()}
    energies = {r.energy_mj for r in results.values()}
    assert len(times) == 1 and len(energies) == 1


def test_experiment_goal_is_used_when_none_is_given() -> None:
    doc = {
        "workloads": [{"model": "dlrm", "model-instance": "rmc1", "batch-size": 512}],
        "optimization-goal": "energy",
    }
    experiment = experiment_from_dict(doc, "rmc1-energy", "rmc1-energy.json")
    by_experiment = evaluate(experiment, Design(3, 3, 3, 3), details=False)
    by_argument = evaluate(experiment, Design(3, 3, 3, 3), goal="energy", details=False)
    overridden = evaluate(experiment, Design(3, 3, 3, 3), goal="latency", details=False)
    assert by_experiment.energy_mj == by_argument.energy_mj
    assert overridden.energy_mj == pytest.approx(3.5753519380007646, rel=1e-12)
    assert by_experiment.energy_mj != overridden.energy_mj
