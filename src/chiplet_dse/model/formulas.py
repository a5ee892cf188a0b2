"""The 16 kernel formulas of CASCADE with sharding folded in (spec §3 and §6).

``compile_kernel`` turns a validated kernel into a function of the per-chiplet work fraction
``w`` (a NumPy array, or a float) returning element counts ``(F, D, W, O)``: FLOPs, input data
read, weights read, output written. The sharded field is ``field * w`` exactly as the original
scales its record, and every product keeps the original's left-to-right order: the optimiser
amplifies last-bit differences (spec §12.3), so ``(a*b)*c`` and ``a*(b*c)`` are not
interchangeable here. Products of integers only are done once, in Python integers, because the
original does them in exact integer arithmetic too.

GCNConv also depends on the chiplet's cached bytes and SRAM; its function has the signature
``(w, cached, sram, dtype)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from chiplet_dse.model.trace import Kernel

Counts = tuple[Any, Any, Any, Any]

WEIGHTS = "weights"
DATA = "data"


@dataclass(frozen=True)
class CompiledKernel:
    """A kernel ready for evaluation: formula, sharding strategy and flags."""

    index: int
    type: str
    formula: Callable[..., Counts]
    strategy: str  # which traffic is shared among chiplets: "weights" (D) or "data" (W)
    uncached: bool
    stateful: bool = False  # GCNConv reads the chiplet's cache state


def _linear(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
    b, h, od = k["input.batch-size"], k["input.hidden-dim"], k["output.output-dim"]
    if batch_cut:
        weights = h * od + od

        def f(w):
            bs = b * w
            return 2 * bs * h * od, bs * h, weights, bs * od

        return f, DATA
    flops_k, data = 2 * b * h, b * h

    def f(w):
        ods = od * w
        return flops_k * ods, data, h * ods + ods, b * ods

    return f, WEIGHTS


def _conv_padding_zeros(k: Kernel) -> float:
    """Multiply-adds that hit padding zeros (spec §3.2), in the original's operation order."""
    h, wd = k["input.img-height"], k["input.img-width"]
    (kh, kw), (sh, sw), (ph, pw) = k["kernel"], k["stride"], k["padding"]
    row: int | float = 0
    for i in range(ph):
        if i % sh == 0:
            row += kw * (ph - i)
    row *= 2 * (h - kh + 1) / sw  # height with the *width* stride, as the original
    if ph == pw and kh == kw:
        col = row
    else:
        col = 0
        for j in range(pw):
            if j % sw == 0:
                col += kh * (pw - j)
        col *= 2 * (wd - kw + 1) / sh
    corner = 0
    for i in range(ph):
        if i % sh == 0:
            for j in range(pw):
                if j % sw == 0:
                    corner += kh * kw - (kh - (ph - i)) * (kw - (pw - j))
    corner *= 4
    return 2 * (row + col + corner)


def _conv2d(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
    b, ci, h, wd = (
        k["input.batch-size"],
        k["input.in-channels"],
        k["input.img-height"],
        k["input.img-width"],
    )
    co, ho, wo = k["output.out-channels"], k["output.img-height"], k["output.img-width"]
    (kh, kw), (sh, sw), (ph, pw) = k["kernel"], k["stride"], k["padding"]
    places = int((h + ph * 2 - kh) / sh + 1) * int((wd + pw * 2 - kw) / sw + 1)
    per_channel = (2 * kh * kw * places - _conv_padding_zeros(k)) * ci
    if batch_cut:
        flops, weights = per_channel * co, (kh * kw) * co * ci

        def f(w):
            bs = b * w
            return bs * flops, bs * ci * h * wd, weights, bs * co * ho * wo

        return f, DATA
    data = b * ci * h * wd

    def f(w):
        cos = co * w
        return b * (per_channel * cos), data, (kh * kw) * cos * ci, b * cos * ho * wo

    return f, WEIGHTS


def _norm(factor: int, feature_key: str):
    def build(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
        b, ci, h, wd = (
            k["input.batch-size"],
            k["input.in-channels"],
            k["input.img-height"],
            k["input.img-width"],
        )
        co, ho, wo = k["output.out-channels"], k["output.img-height"], k["output.img-width"]
        fe = k[feature_key]
        weights, hw = 2 * fe, h * wd
        if batch_cut:

            def f(w):
                bs = b * w
                return bs * factor * fe * hw, bs * ci * h * wd, weights, bs * co * ho * wo

            return f, DATA
        # Weights cut scales channels only: FLOPs and weights stay whole (spec §6).
        flops = b * factor * fe * hw

        def f(w):
            return flops, b * (ci * w) * h * wd, weights, b * (co * w) * ho * wo

        return f, DATA

    return build


def _layer_norm(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
    b, beam, seq, dm = (
        k["input.batch-size"],
        k["input.beam-size"],
        k["input.seq-len"],
        k["input.hidden-dim"],
    )
    weights = k["layer.weights"]

    def f(w):
        beams, seqs = beam * w, seq * w
        s = (
            np.where(beams > 0, beams, seqs)
            if isinstance(w, np.ndarray)
            else (beams if beams > 0 else seqs)
        )
        io = b * s * dm
        return 11 * s * dm, io, weights, io

    return f, DATA


def _elementwise(factor: int):
    def build(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
        e = k["input.elements"]
        if factor == 1:

            def f(w):
                es = e * w
                return es, es, 0, es
        else:

            def f(w):
                es = e * w
                return factor * es, es, 0, es

        return f, DATA

    return build


def _pool(average: bool):
    def build(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
        b, ci, h, wd = (
            k["input.batch-size"],
            k["input.in-channels"],
            k["input.img-height"],
            k["input.img-width"],
        )
        ho, wo = k["output.img-height"], k["output.img-width"]
        if batch_cut:
            chw, cwh = ci * h * wd, ci * wo * ho

            def f(w):
                bs = b * w
                data = bs * ci * h * wd if average else bs * chw
                return (data if average else 0), data, 0, bs * cwh

            return f, DATA

        def f(w):
            cis = ci * w
            data = b * cis * h * wd if average else b * (cis * h * wd)
            return (data if average else 0), data, 0, b * (cis * wo * ho)

        return f, DATA

    return build


def _embedding(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
    b, t, lookups, e = (
        k["input.batch-size"],
        k["input.num-tables"],
        k["input.num-lookups"],
        k["layer.embedding-dim"],
    )

    def f(w):
        bt = b * w * t if batch_cut else b * (t * w)
        btl = bt * lookups
        return btl * e, btl + btl * e, 0, bt * e

    return f, DATA


def _interaction(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
    b, dense, t, e = (
        k["input.batch-size"],
        k["input.dense-features"],
        k["input.num-tables"],
        k["input.embedding-dim"],
    )
    q = k["output.flat-diag-lower-dense"]
    flops = 2 * (t + 1) * e * (t + 1)
    width = t * e + dense
    if batch_cut:

        def f(w):
            bs = b * w
            return flops * 1, bs * width, 0, bs * q

        return f, DATA
    # Weights cut divides FLOPs only; every chiplet reads the inputs and writes the whole output.
    data, out = b * width, b * q

    def f(w):
        return flops * w, data, 0, out

    return f, WEIGHTS


def _attention(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
    b, beam, seq, dm, kv = (
        k["input.batch-size"],
        k["input.beam-size"],
        k["input.seq-len"],
        k["input.hidden-dim"],
        k["input.kv_cache"],
    )
    heads, out_dim = k["layer.num-heads"], k["layer.output-dim"]
    s, s2 = (beam, kv) if kv > 0 else (seq, seq)
    # Integer prefixes of the original's products (exact there, so exact here).
    qkvo, sim, softmax = b * 4 * 2 * s * dm, b * 2 * s * s2, b * (32 * s * s2)
    proj, kv_read, kv_write, out = 4 * dm, 2 * b * kv, 2 * b * s, b * s
    data = b * s * dm

    def f(w):
        hs, ods = heads * w, out_dim * w
        if isinstance(w, np.ndarray):
            dh = np.where(hs > 0, np.trunc(ods / hs), 0.0)  # callers silence 0/0
        else:
            dh = int(ods / hs) if hs > 0 else 0
        flops = qkvo * dh * hs + sim * dh * hs + softmax * hs
        width = dh * hs
        return flops, data, proj * dh * hs + kv_read * width, out * width + kv_write * width

    return f, WEIGHTS


def _gcn(k: Kernel, batch_cut: bool) -> tuple[Callable[..., Counts], str]:
    nodes, edges, emb = k["input.num-nodes"], k["input.num-edges"], k["output.embedding-dim"]
    coeffs = k["curve_fit"]

    def f(w, cached, sram, dtype):
        hot = np.trunc(np.minimum(np.trunc(sram / emb / dtype), nodes))
        rest = np.array([_uncached_accesses(nodes, coeffs, int(h)) for h in hot.tolist()])
        uncached = rest * w
        prev = np.trunc(cached / emb / dtype)
        first = hot - _count_below(nodes, prev, hot)
        es = edges * w
        ns = nodes * w
        return 2 * es * emb, (first + uncached) * emb + ((ns + es) * (4 / dtype) + es), 0, ns * emb

    return f, DATA


@lru_cache(maxsize=16)
def _access_frequency(nodes: int, coeffs: tuple[float, ...]) -> tuple[np.ndarray, Any]:
    """The long-tail access-frequency curve of a graph (spec §3.11 step 4), as the original."""
    a, b, c, d, e = coeffs
    x = np.log(np.linspace(1, int(nodes), int(nodes) - 1))
    freq = a * np.exp(-b * x) + c * x + d * (x**2) + e
    return freq, np.sum(freq)


@lru_cache(maxsize=64)
def _uncached_accesses(nodes: int, coeffs: tuple[float, ...], hot: int) -> Any:
    """Accesses to embeddings outside the ``hot`` most frequent ones (spec §3.11 step 5)."""
    freq, total = _access_frequency(nodes, coeffs)
    # The original sums the prefix with np.sum (pairwise), so a cumulative sum would differ.
    return total - np.sum(freq[:hot])


def _count_below(nodes: int, prev: np.ndarray, hot: np.ndarray) -> np.ndarray:
    """How many of ``prev`` evenly spaced node ids in [1, nodes] are below ``hot`` (step 6)."""
    p_arr, h_arr = np.broadcast_arrays(prev, hot)
    counts = [
        _count_cached(nodes, int(p), int(h))
        for p, h in zip(p_arr.reshape(-1).tolist(), h_arr.reshape(-1).tolist(), strict=True)
    ]
    return np.array(counts, dtype=float).reshape(p_arr.shape)


@lru_cache(maxsize=4096)
def _count_cached(nodes: int, prev: int, hot: int) -> int:
    return int(np.count_nonzero(np.linspace(1, nodes, prev) < hot))


_BUILDERS = {
    "Linear": _linear,
    "Conv2d": _conv2d,
    "BatchNorm": _norm(4, "layer.features"),
    "GroupNorm": _norm(9, "layer.num_channels"),
    "LayerNorm": _layer_norm,
    "Add": _elementwise(1),
    "ReLU": _elementwise(1),
    "GeLU": _elementwise(38),
    "SiLU": _elementwise(23),
    "Softmax": _elementwise(25),
    "MaxPool2d": _pool(average=False),
    "AdaptiveAvgPool2d": _pool(average=True),
    "EmbeddingTable": _embedding,
    "InteractionArch": _interaction,
    "Attention": _attention,
    "GCNConv": _gcn,
}


def compile_kernel(kernel: Kernel, batch_cut: bool) -> CompiledKernel:
    """Bind a kernel to its formula for the workload's cut dimension (batch for DNNs)."""
    formula, strategy = _BUILDERS[kernel.type](kernel, batch_cut)
    gcn = kernel.type == "GCNConv"
    return CompiledKernel(
        index=kernel.index,
        type=kernel.type,
        formula=formula,
        strategy=strategy,
        # Sharding marks every GCNConv shard uncached (spec §6).
        uncached=kernel.uncached or gcn,
        stateful=gcn,
    )
