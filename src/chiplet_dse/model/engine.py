"""Vectorised evaluation of fused blocks (spec §4, §7, §8.2).

Chiplets of one type always receive the same work fraction and start from the same state, so
their results are identical: the engine computes one column per chiplet *type* (``G`` <= 4)
and many work distributions (rows, ``P``) at once, and expands to the ``N`` chiplets only where
the original sums over chiplets, reproducing NumPy's pairwise summation order by summing the
expanded rows with NumPy itself.

Bit-exactness notes (each matters because the solver amplifies last-bit differences):

* work fractions are expanded with a sequential, unfused sum of products (see :func:`expand`);
* kernel totals use ``np.sum`` over the chiplets (pairwise order), block latency uses Python's
  sequential ``sum`` and the exact sample variance of ``statistics.variance``;
* the energy model's ``(x - 1)**2`` is libm's ``pow``, which is not always ``x*x``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chiplet_dse.model.chiplets import CHIPLET_TYPES, ChipletLibrary
from chiplet_dse.model.formulas import WEIGHTS, CompiledKernel, compile_kernel
from chiplet_dse.model.trace import Trace

LATENCY, ENERGY, PARETO = "latency", "energy", "pareto"
GOALS = (LATENCY, ENERGY, PARETO)


@dataclass(frozen=True)
class DesignPlan:
    """A design bound to a library: the present types (``G``) and per-type constants."""

    counts: tuple[int, ...]  # one count per CHIPLET_TYPES entry
    types: tuple[str, ...]  # present types, in system order
    n_per_type: np.ndarray  # (G,) ints
    chip_type: np.ndarray  # (N,) index of each chiplet's type column
    sram: np.ndarray
    bw_sat: np.ndarray
    p_compute: np.ndarray
    p_memory: np.ndarray
    p_base: np.ndarray
    bw_sys: Any
    dtype: Any
    leak: float
    kappa: float
    library: ChipletLibrary = field(repr=False)

    @classmethod
    def build(cls, counts: tuple[int, ...], library: ChipletLibrary) -> DesignPlan:
        types = tuple(t for t, n in zip(CHIPLET_TYPES, counts, strict=True) if n > 0)
        n_per = np.array([n for n in counts if n > 0], dtype=np.int64)
        chips = [library[t] for t in types]
        power = np.array([c.power_split_w for c in chips], dtype=float).reshape(-1, 3)
        return cls(
            counts=tuple(counts),
            types=types,
            n_per_type=n_per,
            chip_type=np.repeat(np.arange(len(types)), n_per),
            sram=np.array([c.sram_bytes for c in chips], dtype=float),
            bw_sat=np.array([c.bw_sat_bytes for c in chips], dtype=float),
            p_compute=power[:, 0],
            p_memory=power[:, 1],
            p_base=power[:, 2],
            bw_sys=library.system.bandwidth_bytes,
            dtype=library.system.bytes_per_element,
            leak=library.system.fusion_leak,
            kappa=library.system.cache_buffer_factor,
            library=library,
        )

    @property
    def n_chiplets(self) -> int:
        return int(self.n_per_type.sum())

    def rates(self, kernel_type: str) -> np.ndarray:
        return np.array([self.library[t].rate_flops(kernel_type) for t in self.types], dtype=float)


@dataclass
class State:
    """Per-type chiplet state: cached output bytes, warm-up high-water mark, free SRAM."""

    cached: np.ndarray
    maxc: np.ndarray
    avail: np.ndarray

    @classmethod
    def fresh(cls, g: int) -> State:
        z = np.zeros(g)
        return cls(z, z.copy(), z.copy())

    def row(self, i: int, rows: int) -> State:
        """The state after evaluating distribution ``i`` of a batch of ``rows``."""
        g = self.cached.shape[-1]
        return State(
            *(np.broadcast_to(a, (rows, g))[i].copy() for a in (self.cached, self.maxc, self.avail))
        )

    def start_warmup(self) -> State:
        return State(self.cached, np.zeros_like(self.maxc), self.avail)

    def start_eval(self, sram: np.ndarray) -> State:
        return State(self.cached, self.maxc, np.maximum(sram - self.maxc, 0.0))


@dataclass
class KernelResult:
    """Per-type results of one kernel for one work distribution (seconds, joules, bytes)."""

    kernel: CompiledKernel
    work: np.ndarray  # (G,) fraction per chiplet of each type
    flops: np.ndarray
    traffic: np.ndarray  # V_i, bytes moved by each chiplet
    time_s: np.ndarray
    energy_j: np.ndarray
    total_time_s: float
    total_energy_j: float
    total_traffic: float
    total_flops: float


def expand(x: np.ndarray, plan: DesignPlan) -> np.ndarray:
    """Per-chiplet fractions from per-type weights: ``x_g / sum(x_g * n_g)`` (spec §8.1).

    The sum is accumulated in type order with a rounding after every product and every
    addition: this is what reproduces the reference numbers (a fused multiply-add, as some
    BLAS builds use inside ``np.dot``, does not).
    """
    x = np.atleast_2d(np.asarray(x, dtype=float))
    total = x[:, 0] * float(plan.n_per_type[0])
    for g in range(1, x.shape[1]):
        total = total + x[:, g] * float(plan.n_per_type[g])
    return x / total[:, None]


def clean(w: np.ndarray, plan: DesignPlan) -> np.ndarray:
    """Zero fractions below 0.05 % and renormalise over all chiplets (spec §8.5 step 3)."""
    per_chip = w[plan.chip_type]
    per_chip = np.where(per_chip < (0.05 / 100), 0, per_chip)
    total = np.sum(per_chip)
    return np.where(w < (0.05 / 100), 0, w) / total


def _pow2(d: np.ndarray) -> np.ndarray:
    """libm's ``pow(d, 2.0)`` elementwise.

    ``d*d`` is correctly rounded; glibc's ``pow`` errs by up to 0.52 ulp, so the two can only
    differ where the exact square lies near a rounding midpoint. Those rare entries (found from
    the exact product error) are recomputed with ``math.pow``.
    """
    p = d * d
    c = 134217729.0 * d
    hi = c - (c - d)
    lo = d - hi
    err = ((hi * hi - p) + 2 * hi * lo) + lo * lo
    risky = (np.abs(err) >= 0.45 * np.spacing(np.abs(p))) | (np.frexp(p)[0] == 0.5)
    risky &= np.isfinite(p)
    if risky.any():
        p[risky] = [math.pow(v, 2.0) for v in d[risky].tolist()]
    return p


def _utilisation(x: np.ndarray) -> np.ndarray:
    """f(x) = 1 - (x - 1)^2, computed as the original: ``-1 * (x - 1)**2 + 1``."""
    return 1 - _pow2(x - 1)


def chip_sum(values: Any, plan: DesignPlan) -> Any:
    """``np.sum`` over the N chiplets of per-type values (..., G) -> (...), in NumPy's order.

    The original sums one array of N chiplet values per kernel, which NumPy does pairwise
    (eight accumulators). Expanding to a fresh C-ordered (..., N) array and reducing its last
    axis makes NumPy apply that same inner loop to every row; a 2-D reduction over a
    differently laid-out array would sum sequentially instead (tests pin this down).
    """
    return np.add.reduce(np.take(values, plan.chip_type, axis=-1), axis=-1)


@dataclass(frozen=True)
class _Step:
    """One kernel of a block with everything its evaluation needs, resolved once."""

    kernel: CompiledKernel
    fuse_prev: bool
    fuse_next: bool
    rate: np.ndarray  # (G,) FLOP/s of each present type for this kernel type


class TraceEngine:
    """One trace compiled for one design: evaluates its blocks for batches of distributions.

    Work distributions ``w`` are (P, G) arrays: P candidate distributions, one fraction per
    chiplet of each present type.
    """

    def __init__(self, trace: Trace, batch_cut: bool, plan: DesignPlan) -> None:
        self.plan = plan
        rates = {t: plan.rates(t) for t in {k.type for k in trace.kernels}}
        kernels = [compile_kernel(k, batch_cut) for k in trace.kernels]
        self.blocks = [
            [
                _Step(kernels[i], j != 0, j != len(block) - 1, rates[kernels[i].type])
                for j, i in enumerate(block)
            ]
            for block in trace.blocks
        ]

    def _memory(self, step: _Step, w: np.ndarray, state: State, warm: bool):
        """Spec §3-§4: FLOPs, shared and private bytes of each chiplet; the new state."""
        ck, plan = step.kernel, self.plan
        dtype = plan.dtype
        if ck.stateful:
            flops, data, weights, out = ck.formula(w, state.cached, plan.sram, dtype)
        else:
            flops, data, weights, out = ck.formula(w)
        data, weights, out = data * dtype, weights * dtype, out * dtype
        if step.fuse_prev:
            data = data * plan.leak
        else:
            cached = 0.0 if ck.uncached else state.cached
            data = np.maximum((data - cached) + data * plan.leak, 0.0)
        cached = np.minimum(out, plan.sram)
        if warm:
            maxc = np.maximum(state.maxc, plan.kappa * (cached + weights))
            return State(cached, maxc, state.avail), None
        resident = np.minimum(state.avail, weights)
        new = State(cached, state.maxc, state.avail - resident)
        weights = weights - resident
        if step.fuse_next:
            out = out * plan.leak
        if ck.strategy == WEIGHTS:
            return new, (flops, data, weights + out)
        return new, (flops, weights, data + out)

    def _kernel(self, step: _Step, w: np.ndarray, idle_w: np.ndarray, state: State, energy: bool):
        """Spec §7 for one kernel in an eval pass: per-type time (and energy) per row of w."""
        plan = self.plan
        new, (flops, shared, private) = self._memory(step, w, state, False)
        traffic = shared + private
        total = np.max(shared, axis=-1) + chip_sum(private, plan)
        if traffic.ndim == 2:
            total = total[:, None]
        compute = flops / step.rate
        memory = traffic / np.minimum((traffic / total) * plan.bw_sys, plan.bw_sat)
        idle = (traffic == 0) | idle_w
        time = np.where(idle, 0.0, np.maximum(compute, memory))
        joules = None
        if energy:
            joules = time * (
                (
                    plan.p_compute * _utilisation(compute / time)
                    + plan.p_memory * _utilisation(memory / time)
                )
                + plan.p_base
            )
            joules = np.where(idle, 0.0, joules)
        return new, time, joules, (flops, traffic, total)

    def warmup_block(self, b: int, w: np.ndarray, state: State) -> State:
        """Evaluate block ``b`` in a warm-up pass; only the state matters."""
        for step in self.blocks[b]:
            state = self._memory(step, w, state, True)[0]
        return state

    def score_block(
        self, b: int, w: np.ndarray, state: State, goal: str
    ) -> tuple[list[float], State]:
        """Scores (spec §8.2) of block ``b`` in an eval pass for each row of ``w``."""
        plan = self.plan
        idle_w = w == 0
        if goal == LATENCY:
            busy = None
            for step in self.blocks[b]:
                state, time, _, _ = self._kernel(step, w, idle_w, state, False)
                busy = time if busy is None else busy + time
            return _latency_scores(busy, plan), state
        joules_sum = block_time = None
        for step in self.blocks[b]:
            state, time, joules, _ = self._kernel(step, w, idle_w, state, True)
            if goal == ENERGY:
                joules_sum = joules if joules_sum is None else joules_sum + joules
            else:
                kt, ke = np.max(time, axis=1), chip_sum(joules, plan)
                block_time = kt if block_time is None else block_time + kt
                joules_sum = ke if joules_sum is None else joules_sum + ke
        if goal == ENERGY:
            return (chip_sum(joules_sum, plan) * (10**6)).tolist(), state
        # pareto: the block's energy-delay product, in uJ x us.
        return ((joules_sum * 1e6) * (block_time * 1e6)).tolist(), state

    def record_block(self, b: int, w: np.ndarray, state: State) -> tuple[list[KernelResult], State]:
        """Full per-kernel results of block ``b`` for one distribution (reporting pass)."""
        w = np.atleast_2d(w)
        results = []
        for step in self.blocks[b]:
            state, time, joules, (flops, traffic, total) = self._kernel(
                step, w, w == 0, state, True
            )
            flops = np.broadcast_to(np.asarray(flops, dtype=float), w.shape)
            traffic = np.broadcast_to(traffic, w.shape)
            results.append(
                KernelResult(
                    kernel=step.kernel,
                    work=w[0].copy(),
                    flops=flops[0].copy(),
                    traffic=traffic[0].copy(),
                    time_s=time[0].copy(),
                    energy_j=joules[0].copy(),
                    total_time_s=float(np.max(time[0])),
                    total_energy_j=float(chip_sum(joules[0], self.plan)),
                    total_traffic=float(np.asarray(total).reshape(-1)[0]),
                    total_flops=float(chip_sum(flops[0], self.plan)),
                )
            )
        return results, state


def _latency_scores(busy: np.ndarray, plan: DesignPlan) -> list[float]:
    """10^6 x sample variance of each chiplet's share of the block's busy time."""
    n = plan.n_chiplets
    if n == 1:
        return [0] * busy.shape[0]
    per_chip = busy[:, plan.chip_type]
    # Python's sum() is sequential; cumsum is the same order in one call.
    totals = np.cumsum(per_chip, axis=1)[:, -1]
    shares = busy / totals[:, None]
    mult = plan.n_per_type.tolist()
    return [_sample_variance(row, mult, n) * (10**6) for row in shares.tolist()]


def _sample_variance(values: list[float], mult: list[int], n: int) -> float:
    """Exact sample variance of ``values`` repeated ``mult`` times, rounded once.

    Equals ``statistics.variance`` (exact rational arithmetic, one rounding) at a fraction of
    its cost: every double is an integer over a power of two, so a common denominator makes
    the sums exact integers and Python's int division rounds correctly.
    """
    try:
        ratios = [v.as_integer_ratio() for v in values]
    except (ValueError, OverflowError):
        return math.nan
    q = max(d for _, d in ratios)
    s1 = s2 = 0
    for (p, d), m in zip(ratios, mult, strict=True):
        scaled = p * (q // d)
        s1 += m * scaled
        s2 += m * scaled * scaled
    return (n * s2 - s1 * s1) / (n * (n - 1) * q * q)
