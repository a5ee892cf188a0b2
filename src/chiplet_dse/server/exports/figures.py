"""Figures for exports: a run's Pareto front, and several runs' fronts on one plot (PNG bytes).

Rendering uses matplotlib's Agg canvas explicitly (``FigureCanvasAgg`` on a bare ``Figure``):
pyplot and its global backend are never touched, so no GUI is ever opened and figures drawn in
several threads do not share state.

Memory stays bounded for huge runs: only the front and at most :data:`MAX_BACKGROUND` other
designs are plotted; the others are sampled by the database (every k-th design in evaluation
order), never loaded in full.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.db.models.functions import Mod
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from chiplet_dse.optimize.pareto import pareto_front_mask
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun

#: Most designs other than the front drawn in grey.
MAX_BACKGROUND = 20_000

TIME_LABEL = "Execution time (ms)"
ENERGY_LABEL = "Energy (mJ)"
_FRONT_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2")
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")


@dataclass(frozen=True)
class Series:
    """One run's front (``points``: (n, 2) array of execution time, energy) and its label."""

    label: str
    points: np.ndarray


def _as_points(values: object) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    return arr.reshape(-1, 2) if arr.size else np.empty((0, 2))


def _front_line(points: np.ndarray) -> np.ndarray:
    """The time–energy non-dominated points, sorted by time (the line drawn through a front;
    for a front of three objectives, its time–energy projection's front)."""
    if len(points) == 0:
        return points
    line = points[pareto_front_mask(points)]
    line = np.unique(line, axis=0)  # sorted by time, then energy
    return line


def _use_log(values: np.ndarray) -> bool:
    return len(values) > 1 and values.min() > 0 and values.max() / values.min() > 50


def _render(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _new_figure() -> tuple[Figure, object]:
    fig = Figure(figsize=(8, 6), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_xlabel(TIME_LABEL)
    ax.set_ylabel(ENERGY_LABEL)
    ax.grid(True, color="#e6e6e6", linewidth=0.6)
    ax.set_axisbelow(True)
    return fig, ax


def _scales(ax: object, *arrays: np.ndarray) -> None:
    points = np.vstack([a for a in arrays if len(a)] or [np.empty((0, 2))])
    if len(points):
        if _use_log(points[:, 0]):
            ax.set_xscale("log")
        if _use_log(points[:, 1]):
            ax.set_yscale("log")


def pareto_png(
    title: str, front: object, others: object = (), total_designs: int | None = None
) -> bytes:
    """A run's designs in light grey and its Pareto front highlighted and connected.

    ``front`` and ``others`` are (n, 2) sequences of (execution time, energy); ``others`` may
    be a sample, in which case ``total_designs`` says how many designs the run has.
    """
    front, others = _as_points(front), _as_points(others)
    fig, ax = _new_figure()
    shown = len(front) + len(others)
    total = shown if total_designs is None else max(total_designs, shown)
    if len(others):
        label = f"other designs ({len(others):,}"
        label += f" of {total - len(front):,} shown)" if shown < total else ")"
        ax.scatter(
            others[:, 0],
            others[:, 1],
            s=6,
            color="#c8c8c8",
            linewidths=0,
            label=label,
            rasterized=True,
        )
    if len(front):
        line = _front_line(front)
        ax.plot(line[:, 0], line[:, 1], "-", color=_FRONT_COLOURS[0], linewidth=1.2, zorder=3)
        ax.scatter(
            front[:, 0],
            front[:, 1],
            s=22,
            color=_FRONT_COLOURS[0],
            zorder=4,
            edgecolors="black",
            linewidths=0.4,
            label=f"Pareto front ({len(front):,} designs)",
        )
    else:
        ax.text(0.5, 0.5, "no designs stored", ha="center", va="center", transform=ax.transAxes)
    _scales(ax, front, others)
    ax.set_title(title)
    if shown:
        ax.legend(loc="upper right", fontsize="small")
    return _render(fig)


def fronts_png(title: str, series: Sequence[Series]) -> bytes:
    """Several runs' Pareto fronts on one plot, each connected, with a legend."""
    fig, ax = _new_figure()
    arrays = []
    for k, s in enumerate(series):
        points = _as_points(s.points)
        arrays.append(points)
        colour, marker = _FRONT_COLOURS[k % len(_FRONT_COLOURS)], _MARKERS[k % len(_MARKERS)]
        label = f"{s.label} ({len(points):,} designs)"
        if len(points) == 0:
            ax.plot([], [], marker=marker, color=colour, label=f"{s.label} (no designs)")
            continue
        line = _front_line(points)
        ax.plot(line[:, 0], line[:, 1], "-", color=colour, linewidth=1.2, alpha=0.8, zorder=3)
        ax.scatter(
            points[:, 0],
            points[:, 1],
            s=26,
            marker=marker,
            color=colour,
            zorder=4,
            edgecolors="black",
            linewidths=0.4,
            label=label,
        )
    _scales(ax, *arrays)
    ax.set_title(title)
    if series:
        ax.legend(loc="upper right", fontsize="small")
    return _render(fig)


# -- from the database ---------------------------------------------------------------------------
def front_points(run: OptimizationRun) -> np.ndarray:
    """(execution time, energy) of the run's rank-1 designs."""
    rows = DesignPoint.objects.filter(run=run, pareto_rank=1).values_list(
        "execution_time_ms", "energy_mj"
    )
    return _as_points(list(rows))


def sample_others(run: OptimizationRun, limit: int = MAX_BACKGROUND) -> tuple[np.ndarray, int]:
    """At most ``limit`` designs off the front, every k-th in evaluation order, chosen by the
    database; returns them and the number of designs off the front."""
    others = DesignPoint.objects.filter(run=run).exclude(pareto_rank=1)
    count = others.count()
    step = max(1, math.ceil(count / limit)) if limit > 0 else 1
    if step > 1:
        others = others.annotate(_every=Mod("evaluation_order", step)).filter(_every=0)
    rows = others.order_by("evaluation_order").values_list("execution_time_ms", "energy_mj")
    values = np.fromiter(
        (v for row in rows[:limit].iterator(chunk_size=5000) for v in row), dtype=float
    )
    return _as_points(values), count


def run_title(run: OptimizationRun) -> str:
    return f"Pareto front: {run.name} ({run.run_id})"


def run_pareto_png(run: OptimizationRun) -> bytes:
    """The Pareto front figure of a stored run."""
    front = front_points(run)
    others, count = sample_others(run)
    return pareto_png(run_title(run), front, others, total_designs=len(front) + count)
