"""Built-in CASCADE workloads, generated from architecture descriptions.

The CASCADE model consumes *traces*: ``{"model", "model_instance", "batch_size",
"workload_trace"}`` documents whose ``workload_trace`` is an ordered list of kernel records
(see ``docs/cascade-model.md`` §1.3–1.4). This package builds those documents from small,
public architecture descriptions (layer lists and configuration constants) instead of shipping
trace files. For every trace of the original repository the generated kernel list is identical
in every field, except ``non-zeros`` (which depends on activation data; we report the dense
count, i.e. the same value as ``params``) and the free-text ``notes`` of Stable Diffusion's
Attention records.

Public API: :func:`generate_trace`, :func:`find_workload`, :data:`BUILTIN_WORKLOADS` and
:class:`WorkloadInfo`. The ``*_record`` helpers below build single kernel records; they are
shared by the family modules (``dlrm``, ``dnn``, ``gcn``, ``gpt``, ``sd``), which are imported
lazily so that they can import these helpers from the package without an import cycle.
"""

from __future__ import annotations

import importlib
import numbers
from dataclasses import dataclass
from typing import Any

from chiplet_dse.errors import InputError

__all__ = ["BUILTIN_WORKLOADS", "WorkloadInfo", "find_workload", "generate_trace"]

Record = dict[str, Any]
"""One kernel record: ``{"kernel": str, "input": {...}, "output": {...}, "layer": {...}}``."""


@dataclass(frozen=True)
class WorkloadInfo:
    """Description of one built-in workload instance.

    ``model`` and ``instance`` are the names used by experiments and the trace tree;
    ``batch_meaning`` says what the trace's "batch size" counts for this workload;
    ``shipped_batch_sizes`` are the sizes the original repository shipped traces for (any
    positive integer can be generated).
    """

    model: str
    instance: str
    description: str
    batch_meaning: str
    shipped_batch_sizes: tuple[int, ...]


_DNN_BATCHES = (1, 4, 16, 64, 256, 1024)
_GCN_BATCHES = (1, 4, 16, 64, 256, 512, 1024, 2048, 4096)
_GPT_BATCHES = tuple(2**k for k in range(5, 18))  # 32 … 131072
_IMAGES = "images per inference (ImageNet 3×224×224)"
_DLRM_BATCH = "samples (user–item queries) per inference"
_GCN_BATCH = "hidden embedding width of the 3-layer GCN (full-graph inference)"

BUILTIN_WORKLOADS: tuple[WorkloadInfo, ...] = (
    WorkloadInfo("dlrm", "rmc1", "DLRM RMC1: 10 tables × 100 lookups, dim 32", _DLRM_BATCH,
                 (64, 128, 256, 512, 1024)),
    WorkloadInfo("dlrm", "rmc2", "DLRM RMC2: 100 tables × 100 lookups, dim 64", _DLRM_BATCH,
                 (64, 128, 256, 512, 1024)),
    WorkloadInfo("dlrm", "rmc3", "DLRM RMC3: 10 tables × 10 lookups, dim 32, wide MLPs",
                 _DLRM_BATCH, (64, 128, 256, 512, 1024)),
    WorkloadInfo("dnn", "resnet18", "ResNet-18 (torchvision) inference", _IMAGES, _DNN_BATCHES),
    WorkloadInfo("dnn", "resnet50", "ResNet-50 v1.5 (torchvision) inference", _IMAGES,
                 _DNN_BATCHES),
    WorkloadInfo("dnn", "vgg11", "VGG-11 (torchvision, no batch norm) inference", _IMAGES,
                 _DNN_BATCHES),
    WorkloadInfo("dnn", "vgg19", "VGG-19 (torchvision, no batch norm) inference", _IMAGES,
                 _DNN_BATCHES),
    WorkloadInfo("gcn", "ogbn-arxiv", "3-layer GCN on ogbn-arxiv (169 343 nodes)", _GCN_BATCH,
                 _GCN_BATCHES),
    WorkloadInfo("gcn", "ogbn-products", "3-layer GCN on ogbn-products (2 449 029 nodes)",
                 _GCN_BATCH, (1, 4, 16, 64, 256, 1024)),
    WorkloadInfo("gcn", "ogbn-proteins", "3-layer GCN on ogbn-proteins (132 534 nodes)",
                 _GCN_BATCH, _GCN_BATCHES),
    WorkloadInfo("gpt", "gpt-j-first", "GPT-J-6B, one decoder block, prompt (first token)",
                 "prompt length in tokens (sequence length)", _GPT_BATCHES),
    WorkloadInfo("gpt", "gpt-j-second", "GPT-J-6B, one decoder block, next token, 4 beams",
                 "context length in tokens (KV-cache length)", _GPT_BATCHES),
    WorkloadInfo("sd", "stable-diffusion-v1-4",
                 "Stable Diffusion v1.4 UNet, one denoising step with classifier-free guidance",
                 "image side in pixels (square image; latent side = pixels / 8)",
                 (64, 128, 256, 512, 1024)),
)  # fmt: skip

# The shipped GPT traces say "gpt-j" in the (informational) header for both phases.
_HEADER_INSTANCE = {"gpt-j-first": "gpt-j", "gpt-j-second": "gpt-j"}


def find_workload(model: str, instance: str) -> WorkloadInfo:
    """Return the built-in workload ``(model, instance)``.

    Raises :class:`InputError` naming the valid models (or the valid instances of ``model``)
    when the pair is unknown.
    """
    models = sorted({w.model for w in BUILTIN_WORKLOADS})
    if model not in models:
        raise InputError(
            f"unknown workload model {model!r}; valid models: {', '.join(models)}", field="model"
        )
    instances = [w.instance for w in BUILTIN_WORKLOADS if w.model == model]
    for info in BUILTIN_WORKLOADS:
        if info.model == model and info.instance == instance:
            return info
    raise InputError(
        f"unknown instance {instance!r} of model {model!r}; valid instances: "
        f"{', '.join(instances)}",
        field="model-instance",
    )


def generate_trace(model: str, instance: str, batch_size: int) -> dict[str, Any]:
    """Generate the CASCADE trace document of a built-in workload.

    ``batch_size`` is the number in the trace file name; its meaning depends on the family
    (see :attr:`WorkloadInfo.batch_meaning`). Any positive integer is accepted (Stable Diffusion
    additionally needs a multiple of 8, as its image is encoded to a latent 8× smaller).
    Returns a fresh document on every call: ``{"model", "model_instance", "batch_size",
    "workload_trace"}``.
    """
    info = find_workload(model, instance)
    # bool is an int subclass, but True is not a batch size.
    if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
        raise InputError(
            f"batch size must be a positive integer, got {batch_size!r}", field="batch-size"
        )
    batch = int(batch_size)
    if batch <= 0:
        raise InputError(f"batch size must be a positive integer, got {batch}", field="batch-size")
    family = importlib.import_module(f"{__name__}.{info.model}")
    return {
        "model": info.model,
        "model_instance": _HEADER_INSTANCE.get(info.instance, info.instance),
        "batch_size": batch,
        "workload_trace": family.generate(info.instance, batch),
    }


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
