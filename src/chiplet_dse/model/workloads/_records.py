"""Kernel-record builders shared by the workload families (CASCADE's record layout, spec §1.4)."""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]
"""One kernel record: ``{"kernel": str, "input": {...}, "output": {...}, "layer": {...}}``."""


# --------------------------------------------------------------------------------------------
# Kernel-record builders shared by the family modules. Key order follows the shipped traces.
# Every ``params`` in an ``input`` section is the input's element count; ``non-zeros`` is
# data-dependent in the original traces, so we report the dense count (= ``params``).
# --------------------------------------------------------------------------------------------


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Spatial output size of a convolution or pooling window (PyTorch floor rule)."""
    return (size + 2 * padding - kernel) // stride + 1


def _dense_input(fields: dict[str, Any], elements: int) -> dict[str, Any]:
    return {**fields, "params": elements, "non-zeros": elements}


def linear_record(
    batch: int,
    in_dim: int,
    out_dim: int,
    *,
    bias: bool = True,
    layer_out_dim: int | None = None,
    input_params: int | None = None,
) -> Record:
    """A ``Linear`` kernel: ``batch`` rows of ``in_dim`` features mapped to ``out_dim``.

    ``layer_out_dim`` is the width of the weight matrix when it differs from the width the
    next kernel consumes (GEGLU's fused projection); ``input_params`` overrides the recorded
    input element count (a shipped-trace quirk of GPT-J, see ``gpt.py``).
    """
    weights_out = out_dim if layer_out_dim is None else layer_out_dim
    elements = batch * in_dim if input_params is None else input_params
    return {
        "kernel": "Linear",
        "input": _dense_input({"batch-size": batch, "hidden-dim": in_dim}, elements),
        "output": {"batch-size": batch, "output-dim": out_dim},
        "layer": {
            "hidden-dim": in_dim,
            "output-dim": weights_out,
            "params": in_dim * weights_out + (weights_out if bias else 0),
        },
    }


def conv2d_record(
    batch: int,
    in_ch: int,
    height: int,
    width: int,
    out_ch: int,
    *,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    bias: bool,
    uncached: bool = False,
) -> Record:
    """A square-kernel ``Conv2d``; ``uncached`` marks a conv that re-reads an older tensor."""
    inp = _dense_input(
        {"batch-size": batch, "in-channels": in_ch, "img-height": height, "img-width": width},
        batch * in_ch * height * width,
    )
    if uncached:
        inp["uncached"] = True
    return {
        "kernel": "Conv2d",
        "input": inp,
        "output": {
            "batch-size": batch,
            "out-channels": out_ch,
            "img-height": conv_output_size(height, kernel, stride, padding),
            "img-width": conv_output_size(width, kernel, stride, padding),
        },
        "layer": {
            "in-channels": in_ch,
            "out-channels": out_ch,
            "kernel": [kernel, kernel],
            "stride": [stride, stride],
            "padding": [padding, padding],
            "params": kernel * kernel * in_ch * out_ch + (out_ch if bias else 0),
        },
    }


def feature_map_record(
    kind: str,
    batch: int,
    channels: int,
    height: int,
    width: int,
    layer: dict[str, Any],
    out_height: int | None = None,
    out_width: int | None = None,
) -> Record:
    """A per-channel kernel on a feature map: BatchNorm, GroupNorm, MaxPool2d, AdaptiveAvgPool2d.

    The output has the same channel count; its spatial size defaults to the input's.
    """
    return {
        "kernel": kind,
        "input": _dense_input(
            {"batch-size": batch, "in-channels": channels, "img-height": height,
             "img-width": width},
            batch * channels * height * width,
        ),
        "output": {
            "batch-size": batch,
            "out-channels": channels,
            "img-height": height if out_height is None else out_height,
            "img-width": width if out_width is None else out_width,
        },
        "layer": layer,
    }  # fmt: skip


def elementwise_record(kind: str, elements: int) -> Record:
    """An element-wise kernel (Add, ReLU, GeLU, SiLU, Softmax) over ``elements`` values."""
    return {
        "kernel": kind,
        "input": {"elements": elements},
        "output": {"elements": elements},
        "layer": {},
    }


def _sequence(batch: int, beam: int, seq: int, hidden: int) -> dict[str, int]:
    return {"batch-size": batch, "beam-size": beam, "seq-len": seq, "hidden-dim": hidden}


def layernorm_record(batch: int, beam: int, seq: int, hidden: int) -> Record:
    """A ``LayerNorm`` over ``hidden`` features (scale and shift: ``2·hidden`` weights)."""
    return {
        "kernel": "LayerNorm",
        "input": _sequence(batch, beam, seq, hidden),
        "output": _sequence(batch, beam, seq, hidden),
        "layer": {"weights": 2 * hidden, "params": 2 * hidden},
    }


def attention_record(
    batch: int,
    beam: int,
    seq: int,
    hidden: int,
    *,
    kv_cache: int,
    heads: int,
    notes: str | None = None,
) -> Record:
    """A multi-head ``Attention`` (QKV + output projections, ``hidden`` → ``hidden``).

    ``kv_cache > 0`` means incremental decoding of ``beam`` queries against a cache of that
    many keys; otherwise ``seq`` queries attend to themselves. Attention always starts from
    fresh projections, hence ``uncached``. The shipped traces record ``params`` as a single
    ``hidden × hidden`` matrix; we keep that value (the model reads neither).
    """
    inp: dict[str, Any] = {**_sequence(batch, beam, seq, hidden), "kv_cache": kv_cache}
    inp["uncached"] = True
    if notes is not None:
        inp["notes"] = notes
    return {
        "kernel": "Attention",
        "input": inp,
        "output": _sequence(batch, beam, seq, hidden),
        "layer": {
            "hidden-dim": hidden,
            "output-dim": hidden,
            "num-heads": heads,
            "params": hidden * hidden,
        },
    }
