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
:class:`WorkloadInfo`. The kernel-record builders shared by the family modules (``dlrm``,
``dnn``, ``gcn``, ``gpt``, ``sd``) live in ``_records``; families are imported on demand.
"""

from __future__ import annotations

import importlib
import numbers
from dataclasses import dataclass
from typing import Any

from chiplet_dse.errors import InputError

__all__ = ["BUILTIN_WORKLOADS", "WorkloadInfo", "find_workload", "generate_trace"]


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
