"""Kernel records, traces and their validation (spec §1, §5).

A trace is CASCADE's ordered list of kernel records. Here each record is checked once, when it
is loaded, and reduced to the fields the model reads; after that the model trusts it. Every
problem is reported as an :class:`~chiplet_dse.errors.InputError` naming the file, the kernel
index and the field.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chiplet_dse.errors import InputError

#: Kernels whose outputs stay on chip for the next kernel (spec §5).
FUSABLE: frozenset[str] = frozenset({"ReLU", "GeLU", "BatchNorm", "LayerNorm", "GroupNorm"})

_IMAGE_IN = (
    ("input", "batch-size"),
    ("input", "in-channels"),
    ("input", "img-height"),
    ("input", "img-width"),
)
_IMAGE_OUT = (("output", "out-channels"), ("output", "img-height"), ("output", "img-width"))
_ELEMENTS = (("input", "elements"),)

#: The numeric fields each kernel type's formula reads (spec §1.4, bold fields), as
#: (section, key). Conv2d's kernel/stride/padding and GCNConv's curve fit are checked apart.
KERNEL_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Linear": (("input", "batch-size"), ("input", "hidden-dim"), ("output", "output-dim")),
    "Conv2d": (*_IMAGE_IN, *_IMAGE_OUT),
    "BatchNorm": (*_IMAGE_IN, *_IMAGE_OUT, ("layer", "features")),
    "GroupNorm": (*_IMAGE_IN, *_IMAGE_OUT, ("layer", "num_channels")),
    "MaxPool2d": (*_IMAGE_IN, ("output", "img-height"), ("output", "img-width")),
    "AdaptiveAvgPool2d": (*_IMAGE_IN, ("output", "img-height"), ("output", "img-width")),
    "Add": _ELEMENTS,
    "ReLU": _ELEMENTS,
    "GeLU": _ELEMENTS,
    "SiLU": _ELEMENTS,
    "Softmax": _ELEMENTS,
    "EmbeddingTable": (
        ("input", "batch-size"),
        ("input", "num-tables"),
        ("input", "num-lookups"),
        ("layer", "embedding-dim"),
    ),
    "InteractionArch": (
        ("input", "batch-size"),
        ("input", "dense-features"),
        ("input", "num-tables"),
        ("input", "embedding-dim"),
        ("output", "flat-diag-lower-dense"),
    ),
    "Attention": (
        ("input", "batch-size"),
        ("input", "beam-size"),
        ("input", "seq-len"),
        ("input", "hidden-dim"),
        ("input", "kv_cache"),
        ("layer", "num-heads"),
        ("layer", "output-dim"),
    ),
    "LayerNorm": (
        ("input", "batch-size"),
        ("input", "beam-size"),
        ("input", "seq-len"),
        ("input", "hidden-dim"),
        ("layer", "weights"),
    ),
    "GCNConv": (("input", "num-nodes"), ("input", "num-edges"), ("output", "embedding-dim")),
}
KERNEL_TYPES: frozenset[str] = frozenset(KERNEL_FIELDS)


@dataclass(frozen=True)
class Kernel:
    """One validated kernel record: its type, the numbers the model reads, the uncached hint.

    ``fields`` maps ``"section.key"`` (e.g. ``"input.batch-size"``) to the value as written in
    the trace (ints stay ints). Conv2d adds ``kernel``/``stride``/``padding`` pairs, GCNConv
    adds ``curve_fit`` (a, b, c, d, e).
    """

    index: int
    type: str
    fields: Mapping[str, Any]
    uncached: bool

    def __getitem__(self, key: str) -> Any:
        return self.fields[key]


@dataclass(frozen=True)
class Trace:
    """A validated trace: kernels in order, grouped into fused blocks."""

    kernels: tuple[Kernel, ...]
    source: str
    sha256: str

    @property
    def blocks(self) -> tuple[tuple[int, ...], ...]:
        """Fused blocks as tuples of kernel indices (spec §5)."""
        return fuse(self.kernels)


def fuse(kernels: Sequence[Kernel]) -> tuple[tuple[int, ...], ...]:
    """Split a trace into blocks: a kernel closes its block unless the next one is fusable."""
    blocks: list[tuple[int, ...]] = []
    current: list[int] = []
    for i, kernel in enumerate(kernels):
        current.append(kernel.index)
        if i + 1 == len(kernels) or kernels[i + 1].type not in FUSABLE:
            blocks.append(tuple(current))
            current = []
    return tuple(blocks)


def _number(value: Any, source: str, index: int, name: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(
            f"must be a number, got {value!r}", file=source, kernel_index=index, field=name
        )
    if isinstance(value, int) and abs(value) >= 2**63:
        raise InputError("is too large", file=source, kernel_index=index, field=name)
    if not math.isfinite(value) or value < 0:
        raise InputError(
            f"must be a finite non-negative number, got {value!r}",
            file=source,
            kernel_index=index,
            field=name,
        )
    return value


def _pair(value: Any, source: str, index: int, name: str) -> tuple[int, int]:
    # A scalar means the same value for both dimensions (spec §3.2).
    items = [value, value] if isinstance(value, int) and not isinstance(value, bool) else value
    if (
        not isinstance(items, list | tuple)
        or len(items) != 2
        or any(isinstance(v, bool) or not isinstance(v, int) or v < 0 for v in items)
    ):
        raise InputError(
            f"must be a non-negative integer or a list of two, got {value!r}",
            file=source,
            kernel_index=index,
            field=name,
        )
    return int(items[0]), int(items[1])


def _curve_fit(record: Mapping[str, Any], source: str, index: int) -> tuple[float, ...]:
    name = "input.curve-fit-vals"
    try:
        coeffs = record["input"]["curve-fit-vals"]["1"][0]
    except (KeyError, IndexError, TypeError):
        raise InputError(
            'missing or not of the form {"1": [[a, b, c, d, e]]}',
            file=source,
            kernel_index=index,
            field=name,
        ) from None
    if (
        not isinstance(coeffs, list)
        or len(coeffs) != 5
        or any(
            isinstance(c, bool) or not isinstance(c, int | float) or not math.isfinite(c)
            for c in coeffs
        )
    ):
        raise InputError(
            f"must hold five finite numbers, got {coeffs!r}",
            file=source,
            kernel_index=index,
            field=name,
        )
    return tuple(float(c) for c in coeffs)


def parse_kernel(record: Any, index: int, source: str) -> Kernel:
    """Validate one kernel record and keep what the model reads."""
    if not isinstance(record, Mapping):
        raise InputError("kernel record must be an object", file=source, kernel_index=index)
    kind = record.get("kernel")
    if kind is None:
        raise InputError("missing", file=source, kernel_index=index, field="kernel")
    if not isinstance(kind, str) or kind not in KERNEL_FIELDS:
        raise InputError(
            f"unknown kernel type {kind!r}; known: {sorted(KERNEL_TYPES)}",
            file=source,
            kernel_index=index,
            field="kernel",
        )
    for section in ("input", "output", "layer"):
        if not isinstance(record.get(section, {} if section == "layer" else None), Mapping):
            raise InputError(
                "missing or not an object", file=source, kernel_index=index, field=section
            )
    values: dict[str, Any] = {}
    for section, key in KERNEL_FIELDS[kind]:
        part = record.get(section, {})
        name = f"{section}.{key}"
        if kind == "Attention" and key == "kv_cache" and key not in part:
            key = "kv-cache"  # the alternative spelling the original accepts
        if key not in part:
            raise InputError("missing", file=source, kernel_index=index, field=name)
        values[name] = _number(part[key], source, index, name)
    if kind == "Conv2d":
        layer = record.get("layer", {})
        for key in ("kernel", "stride", "padding"):
            if key not in layer:
                raise InputError("missing", file=source, kernel_index=index, field=f"layer.{key}")
            values[key] = _pair(layer[key], source, index, f"layer.{key}")
        if 0 in values["stride"]:
            raise InputError(
                "stride must be positive", file=source, kernel_index=index, field="layer.stride"
            )
    if kind == "GCNConv":
        values["curve_fit"] = _curve_fit(record, source, index)
        if not isinstance(values["input.num-nodes"], int) or values["input.num-nodes"] < 2:
            raise InputError(
                "must be an integer of at least 2",
                file=source,
                kernel_index=index,
                field="input.num-nodes",
            )
        if values["output.embedding-dim"] == 0:
            raise InputError(
                "must be positive", file=source, kernel_index=index, field="output.embedding-dim"
            )
    return Kernel(index=index, type=kind, fields=values, uncached="uncached" in record["input"])


def parse_trace(document: Any, source: str) -> Trace:
    """Validate a trace document (``{"workload_trace": [...], ...}``) or a bare kernel list."""
    records = document.get("workload_trace") if isinstance(document, Mapping) else document
    if not isinstance(records, list):
        raise InputError(
            "expected an object with a 'workload_trace' list", file=source, field="workload_trace"
        )
    if not records:
        raise InputError("the trace has no kernels", file=source, field="workload_trace")
    kernels = tuple(parse_kernel(r, i, source) for i, r in enumerate(records))
    digest = hashlib.sha256(
        json.dumps(records, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return Trace(kernels=kernels, source=source, sha256=digest)


def read_json(path: str | Path) -> Any:
    """Read a JSON file, turning every failure into an InputError naming the file."""
    p = Path(path)
    if not p.is_file():
        raise InputError("file not found", file=str(path))
    try:
        return json.loads(p.read_bytes())
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=str(path)) from None
    except ValueError as exc:  # JSONDecodeError, or an integer beyond Python's digit limit
        raise InputError(f"malformed JSON: {exc}", file=str(path)) from None
    except RecursionError:
        raise InputError("malformed JSON: nested too deeply", file=str(path)) from None


def load_trace(path: str | Path) -> Trace:
    """Load and validate a CASCADE trace file."""
    return parse_trace(read_json(path), str(path))
