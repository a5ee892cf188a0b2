"""CASCADE's per-design procedure: work-distribution search, reporting pass, aggregation.

``characterise`` is spec §8.5 (three DSE passes of warm-up + SLSQP optimisation per block, then
a cleaned warm-up + eval pass whose kernel results are reported); ``evaluate`` is §9.1 (one
fresh system per trace, results repeated ``weighted_score`` times and summed).
"""

from __future__ import annotations

import math
import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from chiplet_dse.errors import InputError
from chiplet_dse.model.chiplets import CHIPLET_TYPES, DEFAULT_LIBRARY, TYPE_LABELS, ChipletLibrary
from chiplet_dse.model.engine import (
    GOALS,
    DesignPlan,
    KernelResult,
    State,
    TraceEngine,
    clean,
    expand,
)
from chiplet_dse.model.experiments import Experiment
from chiplet_dse.model.slsqp import minimize_many

DSE_PASSES = 3
SEED = 42


@dataclass(frozen=True)
class Design:
    """Chiplet counts per type, in system order (GPU, Attention, Sparse, Convolution)."""

    gpu: int
    attention: int
    sparse: int
    convolution: int

    def __post_init__(self) -> None:
        for name, value in zip(
            ("gpu", "attention", "sparse", "convolution"), self.counts, strict=True
        ):
            if isinstance(value, bool) or not isinstance(value, int | np.integer):
                raise InputError(f"chiplet count must be an integer, got {value!r}", field=name)
            if value < 0:
                raise InputError(f"chiplet count must not be negative, got {value}", field=name)
        if sum(self.counts) == 0:
            raise InputError("a design needs at least one chiplet", field="design")

    @property
    def counts(self) -> tuple[int, int, int, int]:
        return (self.gpu, self.attention, self.sparse, self.convolution)

    @property
    def total(self) -> int:
        return sum(self.counts)

    @classmethod
    def parse(cls, text: str) -> Design:
        """Parse ``"GPU,ATTN,SPARSE,CONV"``, e.g. ``"3,3,3,3"``."""
        parts = [p.strip() for p in str(text).split(",")]
        if len(parts) != 4:
            raise InputError(
                f"expected four counts GPU,ATTN,SPARSE,CONV, got {text!r}", field="design"
            )
        try:
            counts = [int(p) for p in parts]
        except ValueError:
            raise InputError(
                f"chiplet counts must be integers, got {text!r}", field="design"
            ) from None
        return cls(*counts)

    def __str__(self) -> str:
        return ",".join(str(c) for c in self.counts)


@dataclass(frozen=True)
class WorkloadResult:
    """Kernel results of one trace (before repetition by its weighted score)."""

    model: str
    instance: str
    batch_size: int
    weighted_score: int
    kernels: tuple[KernelResult, ...]
    chiplet_types: tuple[str, ...]  # the present types, in column order of the kernel arrays


@dataclass(frozen=True)
class Evaluation:
    """One design on one experiment: the reported numbers and, if asked, the breakdown."""

    design: Design
    execution_time_ms: float
    energy_mj: float
    area_mm2: float
    peak_power_w: float
    workloads: tuple[WorkloadResult, ...] = field(default=(), repr=False)


def characterise(engine: TraceEngine, goal: str) -> list[KernelResult]:
    """Spec §8.5: optimise each block's work distribution, then report a cleaned pass."""
    # Idle chiplets divide zero by zero; their results are masked, as the original skips them.
    with np.errstate(divide="ignore", invalid="ignore"):
        return _characterise(engine, goal)


def _characterise(engine: TraceEngine, goal: str) -> list[KernelResult]:
    plan = engine.plan
    g = len(plan.types)
    best: list[Sequence[float]] = [[1 / g] * g for _ in engine.blocks]
    onehots = [[1.0 if j == i else 0.0 for j in range(g)] for i in range(g)]
    state = State.fresh(g)
    for _ in range(DSE_PASSES):
        # The original re-seeds NumPy's legacy global generator; a private one gives the same
        # stream without touching global state.
        rng = np.random.RandomState(SEED)
        state = state.start_warmup()
        for b in range(len(engine.blocks)):
            state = engine.warmup_block(b, expand(best[b], plan), state)
        state = state.start_eval(plan.sram)
        for b in range(len(engine.blocks)):
            best[b], state = _optimise_block(engine, b, state, best[b], onehots, rng, goal)
    state = state.start_warmup()
    distributions = [clean(expand(x, plan)[0], plan)[None, :] for x in best]
    for b, w in enumerate(distributions):
        state = engine.warmup_block(b, w, state)
    state = state.start_eval(plan.sram)
    records: list[KernelResult] = []
    for b, w in enumerate(distributions):
        results, state = engine.record_block(b, w, state)
        records.extend(results)
    return records


def _optimise_block(
    engine: TraceEngine,
    b: int,
    snapshot: State,
    best: Sequence[float],
    onehots: list[list[float]],
    rng: np.random.RandomState,
    goal: str,
) -> tuple[Sequence[float], State]:
    plan = engine.plan
    draw = rng.random_sample(len(plan.types))
    starts = [best, *onehots, draw / sum(draw)]

    def scores(points: np.ndarray) -> list[float]:
        return engine.score_block(b, expand(points, plan), snapshot, goal)[0]

    finals = minimize_many(starts, scores)
    values, states = engine.score_block(b, expand(np.array(finals), plan), snapshot, goal)
    best_score, chosen = math.inf, None
    for i, value in enumerate(values):
        if value < best_score:
            best_score, chosen = value, i
    if chosen is None:  # every candidate scored NaN: keep the stored distribution
        _, states = engine.score_block(b, expand(best, plan), snapshot, goal)
        return best, states.row(0, 1)
    return finals[chosen], states.row(chosen, len(finals))


def _check(experiment: Experiment, goal: str | None) -> str:
    goal = experiment.goal if goal is None else goal
    if goal not in GOALS:
        raise InputError(
            f"unknown goal {goal!r}; choose one of {', '.join(GOALS)}", field="optimization-goal"
        )
    return goal


def evaluate(
    experiment: Experiment,
    design: Design,
    library: ChipletLibrary = DEFAULT_LIBRARY,
    goal: str | None = None,
    details: bool = True,
) -> Evaluation:
    """Execution time (ms) and energy (mJ) of ``design`` on ``experiment`` (spec §9.1)."""
    goal = _check(experiment, goal)
    plan = DesignPlan.build(design.counts, library)
    time_s = energy_j = 0.0
    workloads = []
    for wl in experiment.workloads:
        engine = TraceEngine(wl.trace, wl.model == "dnn", plan)
        kernels = characterise(engine, goal)
        # The original appends the trace's records weighted_score times and sums the list.
        for _ in range(wl.weighted_score):
            for k in kernels:
                time_s += k.total_time_s
                energy_j += k.total_energy_j
        if details:
            workloads.append(
                WorkloadResult(
                    wl.model,
                    wl.instance,
                    wl.batch_size,
                    wl.weighted_score,
                    tuple(kernels),
                    plan.types,
                )
            )
    return Evaluation(
        design=design,
        execution_time_ms=float(time_s * 1000),
        energy_mj=float(energy_j * 10**3),
        area_mm2=float(
            sum(n * library[t].area_mm2 for t, n in zip(CHIPLET_TYPES, design.counts, strict=True))
        ),
        peak_power_w=float(
            sum(n * library[t].tdp_w for t, n in zip(CHIPLET_TYPES, design.counts, strict=True))
        ),
        workloads=tuple(workloads),
    )


_worker_args: tuple[Experiment, ChipletLibrary, str | None] | None = None


def _init_worker(experiment: Experiment, library: ChipletLibrary, goal: str | None) -> None:
    global _worker_args
    _worker_args = (experiment, library, goal)


def _evaluate_in_worker(design: Design) -> Evaluation:
    assert _worker_args is not None
    experiment, library, goal = _worker_args
    return evaluate(experiment, design, library, goal, details=False)


def evaluate_many(
    experiment: Experiment,
    designs: Iterable[Design],
    library: ChipletLibrary = DEFAULT_LIBRARY,
    goal: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[Evaluation]:
    """Evaluate many designs, in order, on all cores (``workers`` processes; 1 = in-process).

    ``progress(done, total)`` is called after each design. Results carry no breakdown.
    """
    designs = list(designs)
    _check(experiment, goal)
    workers = min(workers or os.cpu_count() or 1, len(designs)) if designs else 1
    results: list[Evaluation] = []
    if workers <= 1:
        for design in designs:
            results.append(evaluate(experiment, design, library, goal, details=False))
            if progress:
                progress(len(results), len(designs))
        return results
    ctx = _context()
    with ctx.Pool(workers, initializer=_init_worker, initargs=(experiment, library, goal)) as pool:
        for evaluation in pool.imap(_evaluate_in_worker, designs, chunksize=1):
            results.append(evaluation)
            if progress:
                progress(len(results), len(designs))
    return results


def _context() -> mp.context.BaseContext:
    """fork is cheapest but only safe in a single-threaded process (a server or worker has
    threads); a fork server forks workers from a clean process that has the model imported."""
    if threading.active_count() == 1:
        return mp.get_context("fork")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["chiplet_dse.model"])
    return ctx


def design_label(design: Design) -> dict[str, int]:
    """Counts keyed by the user-facing type names."""
    return {TYPE_LABELS[t]: n for t, n in zip(CHIPLET_TYPES, design.counts, strict=True)}
