"""Turning evaluations into text for people: tables, CSV, JSON and a progress bar."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from chiplet_dse.model import CHIPLET_TYPES, TYPE_LABELS, Evaluation, Experiment

DESIGN_COLUMNS = ("gpu", "attention", "sparse", "convolution")
RESULT_COLUMNS = ("execution_time_ms", "energy_mj")


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], align: str | None = None) -> str:
    """A plain aligned text table; ``align`` has one of ``<``/``>`` per column."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = align or "<" * len(headers)
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(f"{c:{a}{w}}" for c, a, w in zip(row, align, widths, strict=True)))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def evaluation_dict(ev: Evaluation, experiment: Experiment, goal: str) -> dict[str, Any]:
    """The JSON shape of one evaluation."""
    return {
        "experiment": experiment.name,
        "workloads": experiment.trace_name,
        "goal": goal,
        "design": dict(zip(DESIGN_COLUMNS, ev.design.counts, strict=True)),
        "execution_time_ms": ev.execution_time_ms,
        "energy_mj": ev.energy_mj,
        "area_mm2": ev.area_mm2,
        "peak_power_w": ev.peak_power_w,
    }


def single_text(ev: Evaluation, experiment: Experiment, goal: str) -> str:
    counts = "  ".join(
        f"{TYPE_LABELS[t]}={n}" for t, n in zip(CHIPLET_TYPES, ev.design.counts, strict=True)
    )
    rows = [
        ("experiment", f"{experiment.name}  ({experiment.trace_name}, goal {goal})"),
        ("design", counts),
        ("execution time", f"{ev.execution_time_ms!r} ms"),
        ("energy", f"{ev.energy_mj!r} mJ"),
        ("area", f"{ev.area_mm2:g} mm²"),
        ("peak power", f"{ev.peak_power_w:g} W"),
    ]
    return "\n".join(f"{k:<16}{v}" for k, v in rows)


def breakdown_rows(ev: Evaluation) -> list[dict[str, Any]]:
    """One row per kernel and trace: time, energy, traffic and who did the work."""
    rows = []
    for wl in ev.workloads:
        for k in wl.kernels:
            work = {t: 0.0 for t in CHIPLET_TYPES}
            for t, frac, n in zip(
                wl.chiplet_types, k.work.tolist(), _counts(ev, wl.chiplet_types), strict=True
            ):
                work[t] = frac * n
            rows.append(
                {
                    "workload": f"{wl.model}/{wl.instance}/{wl.batch_size}",
                    "weighted_score": wl.weighted_score,
                    "index": k.kernel.index,
                    "kernel": k.kernel.type,
                    "time_us": k.total_time_s * 1e6,
                    "energy_uj": k.total_energy_j * 1e6,
                    "traffic_bytes": k.total_traffic,
                    "flops": k.total_flops,
                    **{f"{TYPE_LABELS[t].lower()}_share": work[t] for t in CHIPLET_TYPES},
                }
            )
    return rows


def _counts(ev: Evaluation, types: Sequence[str]) -> list[int]:
    by_type = dict(zip(CHIPLET_TYPES, ev.design.counts, strict=True))
    return [by_type[t] for t in types]


def breakdown_text(ev: Evaluation) -> str:
    rows = breakdown_rows(ev)
    headers = ("workload", "#", "kernel", "time µs", "energy µJ", "traffic MB", "GPU", "Attn",
               "Sparse", "Conv")  # fmt: skip
    body = [
        (
            r["workload"] + (f" ×{r['weighted_score']}" if r["weighted_score"] != 1 else ""),
            r["index"],
            r["kernel"],
            f"{r['time_us']:.4f}",
            f"{r['energy_uj']:.4f}",
            f"{r['traffic_bytes'] / 2**20:.3f}",
            *(_share(r[f"{TYPE_LABELS[t].lower()}_share"]) for t in CHIPLET_TYPES),
        )
        for r in rows
    ]
    return table(headers, body, "<><>>>>>>>")


def _share(value: float) -> str:
    return "-" if value == 0 else f"{value:.1%}"


def write_csv(out: TextIO, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([repr(v) if isinstance(v, float) else v for v in row])


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    buf = io.StringIO()
    write_csv(buf, header, rows)
    return buf.getvalue()


class ProgressBar:
    """A one-line progress bar on stderr, shown only when stderr is a terminal."""

    def __init__(self, label: str, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty()
        self.label, self.width = label, width
        self.start = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        elapsed = time.monotonic() - self.start
        filled = int(self.width * done / total)
        eta = elapsed / done * (total - done) if done else 0.0
        self.stream.write(
            f"\r{self.label} [{'#' * filled}{'.' * (self.width - filled)}] {done}/{total}"
            f"  {elapsed:.0f}s elapsed, ~{eta:.0f}s left "
        )
        if done == total:
            self.stream.write("\n")
        self.stream.flush()
