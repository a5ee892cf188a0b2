"""Plain-text reports: one run, a comparison of two runs, several runs.

A run's report covers what it is (run fields, experiment with each workload's trace source and
SHA-256, goal, chiplet library and how it differs from CASCADE's, design space) and what it
found (counts, best design per objective, knee point, the Pareto front). Other parts of the
server add sections with :func:`register_section`; see :data:`EXTRA_SECTIONS`.

Numbers are shown with six significant digits (:func:`num`); the designs CSV of an export has
the exact values.
"""

from __future__ import annotations

import logging
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

import chiplet_dse
from chiplet_dse.errors import InputError
from chiplet_dse.model import DEFAULT_LIBRARY
from chiplet_dse.optimize import DesignSpace
from chiplet_dse.optimize.pareto import knee_point
from chiplet_dse.presentation import table
from chiplet_dse.server.runs.models import Algorithm, DesignPoint, OptimizationRun

log = logging.getLogger(__name__)

COUNT_FIELDS = ("gpu_count", "attention_count", "sparse_count", "convolution_count")
FRONT_FIELDS = (*COUNT_FIELDS, "execution_time_ms", "energy_mj", "area_mm2", "evaluation_order")
OBJECTIVE_LABELS = {
    "execution_time_ms": "Execution time (ms)",
    "energy_mj": "Energy (mJ)",
    "area_mm2": "Area (mm²)",
}
_DESIGN_HEADERS = ("GPU", "Attention", "Sparse", "Conv", "Time (ms)", "Energy (mJ)", "Area (mm²)")
WIDTH = 78

#: Callables ``(run) -> str | list[str] | None`` whose text is appended to every run report
#: as extra sections (e.g. analytics results). Add with :func:`register_section`.
EXTRA_SECTIONS: list[Callable[[OptimizationRun], str | Sequence[str] | None]] = []


def register_section(
    fn: Callable[[OptimizationRun], str | Sequence[str] | None],
) -> Callable[[OptimizationRun], str | Sequence[str] | None]:
    """Add ``fn`` to :data:`EXTRA_SECTIONS` (usable as a decorator; registering twice is a
    no-op)."""
    if fn not in EXTRA_SECTIONS:
        EXTRA_SECTIONS.append(fn)
    return fn


def extra_sections(run: OptimizationRun) -> list[str]:
    """The registered sections' texts for ``run``. A section that fails is logged and replaced
    by a note, so one broken section never breaks a report (or an export)."""
    sections: list[str] = []
    for fn in list(EXTRA_SECTIONS):
        name = getattr(fn, "__qualname__", repr(fn))
        try:
            produced = fn(run)
        except Exception as exc:
            log.exception("report section %s failed for run %s", name, run.run_id)
            sections.append(section(name, [f"(this section failed: {type(exc).__name__}: {exc})"]))
            continue
        if produced is None:
            continue
        texts = [produced] if isinstance(produced, str) else list(produced)
        sections.extend(t.rstrip() for t in texts if t and t.strip())
    return sections


@dataclass(frozen=True)
class RunData:
    """What a report says about a run's designs: how many are stored and its front (rank-1
    designs as dicts with :data:`FRONT_FIELDS`). An export builds it while it streams the
    designs, so the report and the CSV describe the same designs."""

    designs: int
    front: list[dict[str, Any]]


def load_run_data(run: OptimizationRun) -> RunData:
    """The run's counts and front, from the database (only the front is loaded)."""
    designs = DesignPoint.objects.filter(run=run)
    front = list(
        designs.filter(pareto_rank=1)
        .order_by("execution_time_ms", "energy_mj", "evaluation_order")
        .values(*FRONT_FIELDS)
    )
    return RunData(designs=designs.count(), front=front)


# -- formatting helpers ------------------------------------------------------------------------
def num(value: Any) -> str:
    """How the reports show a number: six significant digits; '-' for none."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def when(moment: datetime | None) -> str:
    if moment is None:
        return "-"
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S %Z")


def duration(seconds: float | None) -> str:
    if not seconds:
        return "-"
    whole = int(seconds)
    return f"{seconds:.1f} s ({whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d})"


def title(text: str) -> str:
    return f"{text}\n{'=' * len(text)}"


def section(heading: str, lines: Iterable[str]) -> str:
    body = "\n".join(lines).rstrip()
    return (
        f"{heading}\n{'-' * len(heading)}\n{body}" if body else f"{heading}\n{'-' * len(heading)}"
    )


def fields(pairs: Iterable[tuple[str, Any]], indent: str = "") -> list[str]:
    """``key  value`` lines with the values aligned; multi-line values stay aligned."""
    pairs = [(k, "-" if v is None or v == "" else str(v)) for k, v in pairs]
    width = max((len(k) for k, _ in pairs), default=0)
    lines = []
    for key, value in pairs:
        first, *rest = value.splitlines() or [""]
        lines.append(f"{indent}{key:<{width}}  {first}")
        lines.extend(f"{indent}{'':<{width}}  {line}" for line in rest)
    return lines


def indent(text: str, prefix: str = "  ") -> list[str]:
    return [prefix + line if line else line for line in text.splitlines()]


def composition(d: Mapping[str, Any]) -> str:
    return "/".join(str(d[k]) for k in COUNT_FIELDS)


def design_row(d: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        *(d[k] for k in COUNT_FIELDS),
        num(d["execution_time_ms"]),
        num(d["energy_mj"]),
        num(d.get("area_mm2")),
    )


def design_table(designs: Sequence[Mapping[str, Any]], numbered: bool = True) -> str:
    headers = (("#",) if numbered else ()) + _DESIGN_HEADERS
    rows = [((i,) if numbered else ()) + design_row(d) for i, d in enumerate(designs, start=1)]
    return table(headers, rows, (">" if numbered else "") + ">" * len(_DESIGN_HEADERS))


def sorted_front(front: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Front designs sorted by execution time, then energy, then evaluation order."""
    return sorted(
        front,
        key=lambda d: (d["execution_time_ms"], d["energy_mj"], d.get("evaluation_order", 0)),
    )


def objectives_of(run: OptimizationRun) -> list[str]:
    return list(run.objectives or ("execution_time_ms", "energy_mj"))


def best_per_objective(
    front: Sequence[Mapping[str, Any]], objectives: Sequence[str]
) -> dict[str, Mapping[str, Any]]:
    """Per objective, the front design minimising it (ties: the other objectives in order,
    then evaluation order). The minimum of any ranked objective is always on the front."""
    best = {}
    for objective in objectives:
        candidates = [d for d in front if d.get(objective) is not None]
        if candidates:
            best[objective] = min(
                candidates,
                key=lambda d, o=objective: (
                    d[o],
                    *(d[x] for x in objectives),
                    d.get("evaluation_order", 0),
                ),
            )
    return best


def knee(front: Sequence[Mapping[str, Any]], objectives: Sequence[str]) -> Mapping[str, Any] | None:
    usable = [d for d in front if all(d.get(o) is not None for o in objectives)]
    if not usable:
        return None
    return usable[knee_point([[d[o] for o in objectives] for d in usable])]


# -- one run -------------------------------------------------------------------------------------
def _algorithm(run: OptimizationRun) -> str:
    try:
        label = Algorithm(run.algorithm).label
    except ValueError:
        return run.algorithm
    return run.algorithm if label == run.algorithm else f"{run.algorithm} ({label})"


def _run_section(run: OptimizationRun) -> str:
    progress = f"{run.generations}"
    if run.total_generations and run.total_generations != run.generations:
        progress += f" requested, {run.total_generations} needed"
    progress += f" (completed {run.current_generation})"
    pairs = [
        ("Run id", run.run_id),
        ("Name", run.name),
        ("Description", run.description),
        ("Status", run.status),
    ]
    if run.error_message:
        pairs.append(("Message", run.error_message))
    pairs += [
        ("Algorithm", _algorithm(run)),
        ("Objectives", ", ".join(objectives_of(run)) + " (all minimised)"),
        ("Population size", run.population_size),
        ("Generations", progress),
        ("Seed", run.seed),
        ("Created", when(run.created_at)),
        ("Started", when(run.started_at)),
        ("Completed", when(run.completed_at)),
        ("Run time", duration(run.execution_time_s)),
        ("Attempts", run.attempts),
    ]
    return section("Run", fields(pairs, "  "))


def _experiment_section(run: OptimizationRun) -> str:
    config = run.config or {}
    exp = config.get("experiment")
    if not isinstance(exp, Mapping):
        imported = config.get("import")
        lines = fields([("Workloads", run.trace_name or "unknown")], "  ")
        if isinstance(imported, Mapping):
            lines += fields(
                [("Imported from", imported.get("file")), ("SHA-256", imported.get("sha256"))],
                "  ",
            )
        return section("Experiment", lines)
    workloads = [w for w in exp.get("workloads", []) if isinstance(w, Mapping)]
    lines = fields(
        [
            ("Name", exp.get("name") or run.experiment),
            ("Goal", config.get("goal") or exp.get("goal")),
            ("Workloads", run.trace_name),
        ],
        "  ",
    )
    rows = [
        (
            i,
            f"{w.get('model')}/{w.get('instance')}/{w.get('batch_size')}",
            w.get("weighted_score"),
            w.get("kernels", "-"),
        )
        for i, w in enumerate(workloads, start=1)
    ]
    lines += ["", f"  Workloads ({len(workloads)}):"]
    lines += indent(table(("#", "Workload", "Weighted score", "Kernels"), rows, "><>>"), "    ")
    lines += ["", "  Trace sources:"]
    for i, w in enumerate(workloads, start=1):
        lines.append(f"    {i}  {w.get('source', '-')}")
        lines.append(f"    {' ' * len(str(i))}  SHA-256 {w.get('sha256', '-')}")
    return section("Experiment", lines)


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, Mapping):
        flat: dict[str, Any] = {}
        for key, value in data.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: data}


def library_differences(library: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """(parameter, CASCADE's value, this library's value) for every differing parameter."""
    default = _flatten({k: v for k, v in DEFAULT_LIBRARY.to_dict().items() if k != "name"})
    mine = _flatten({k: v for k, v in library.items() if k != "name"})
    keys = sorted(set(default) | set(mine))
    return [(k, default.get(k), mine.get(k)) for k in keys if default.get(k) != mine.get(k)]


def _library_section(run: OptimizationRun) -> str:
    library = (run.config or {}).get("library")
    if not isinstance(library, Mapping):
        return section("Chiplet library", [f"  {run.model} (no library stored with this run)"])
    diffs = library_differences(library)
    name = library.get("name") or run.model
    if not diffs:
        return section("Chiplet library", [f"  {name}: CASCADE's chiplet library, unchanged"])
    lines = [f"  {name}: CASCADE's library with {len(diffs)} parameter(s) changed:", ""]
    rows = [(k, num(a), num(b)) for k, a, b in diffs]
    lines += indent(table(("Parameter", "CASCADE", "This run"), rows, "<>>"), "    ")
    return section("Chiplet library", lines)


def _space_section(run: OptimizationRun) -> str:
    search = (run.config or {}).get("search")
    space = search.get("space") if isinstance(search, Mapping) else None
    if not isinstance(space, Mapping):
        return section("Design space", ["  (not stored with this run)"])
    try:
        size = f"{DesignSpace.from_dict(space).size():,}"
    except (InputError, TypeError, ValueError):
        size = "-"
    rows = [
        (label, lo, hi)
        for label, lo, hi in zip(
            ("GPU", "Attention", "Sparse", "Convolution"),
            space.get("lower", ["-"] * 4),
            space.get("upper", ["-"] * 4),
            strict=False,
        )
    ]
    lines = indent(table(("Chiplet type", "Min", "Max"), rows, "<>>"), "  ")
    totals = [
        ("Total chiplets", f"{space.get('total_min')} to {space.get('total_max')}"),
        ("Compositions", size),
    ]
    lines += ["", *fields(totals, "  ")]
    if isinstance(search, Mapping) and search.get("algorithm") == "GA":
        lines += fields([("Scalar (GA)", search.get("scalar"))], "  ")
    return section("Design space", lines)


def _results_sections(run: OptimizationRun, data: RunData) -> list[str]:
    objectives = objectives_of(run)
    front = sorted_front(data.front)
    share = f" ({len(front) / data.designs:.2%} of the designs)" if data.designs else ""
    counts = section(
        "Counts",
        fields(
            [
                ("Designs stored", f"{data.designs:,}"),
                ("Model evaluations", f"{run.evaluations:,}"),
                ("Pareto front size", f"{len(front):,}{share}"),
            ],
            "  ",
        ),
    )
    best = best_per_objective(front, objectives)
    if best:
        rows = [(OBJECTIVE_LABELS.get(o, o), num(d[o]), *design_row(d)) for o, d in best.items()]
        body = indent(table(("Objective", "Best", *_DESIGN_HEADERS), rows, "<>" + ">" * 7), "  ")
    else:
        body = ["  (no designs)"]
    best_text = section("Best design per objective", body)
    chosen = knee(front, objectives)
    if chosen is None:
        knee_lines = ["  (no designs)"]
    else:
        knee_lines = fields(
            [
                ("Design (G/A/S/C)", composition(chosen)),
                *((OBJECTIVE_LABELS.get(o, o), num(chosen[o])) for o in objectives),
            ],
            "  ",
        )
        knee_lines += [
            "",
            "  The front design nearest the ideal point once every objective is scaled to",
            "  [0, 1] over the front (Euclidean distance).",
        ]
    knee_text = section("Knee point", knee_lines)
    front_text = section(
        f"Pareto front ({len(front):,} designs, sorted by execution time)",
        indent(design_table(front), "  ") if front else ["  (no designs)"],
    )
    return [counts, best_text, knee_text, front_text]


def _footer(generated_at: datetime | None) -> str:
    moment = when(generated_at or timezone.now())
    return f"Generated {moment} by chiplet_dse {chiplet_dse.__version__}."


def run_report(
    run: OptimizationRun, data: RunData | None = None, *, generated_at: datetime | None = None
) -> str:
    """The full text report of one run."""
    data = data if data is not None else load_run_data(run)
    parts = [
        title(f"Chiplet DSE optimisation run report: {run.name}"),
        _run_section(run),
        _experiment_section(run),
        _library_section(run),
        _space_section(run),
        *_results_sections(run, data),
        *extra_sections(run),
        _footer(generated_at),
    ]
    return "\n\n".join(parts) + "\n"


# -- two runs ------------------------------------------------------------------------------------
def _pct(share: float | None) -> str:
    return "-" if share is None else f"{share:.1%}"


def _mean(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _unique_rows(comparison: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Designs only one run evaluated, and front designs only one run found."""
    rows = []
    unique = comparison.get("unique_designs") or {}
    fronts = comparison.get("unique_front_designs") or {}
    for side in ("a", "b"):
        if side in unique:
            rows.append((f"Designs only run {side.upper()} evaluated", f"{unique[side]:,}"))
        if fronts.get(side):
            text = ", ".join(composition(c) for c in fronts[side]) + " (G/A/S/C)"
            rows.append((f"Front designs only in run {side.upper()}", textwrap.fill(text, 60)))
    return rows


def comparison_report(
    comparison: Mapping[str, Any],
    *,
    study: Mapping[str, Any] | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The text report of :func:`chiplet_dse.server.analytics.comparison.compare_runs`'s
    result; ``study`` (study_id, name, description, shared_parameters) adds a study header."""
    a, b = comparison["run_a"], comparison["run_b"]
    objectives = list(comparison["objectives"])
    if study:
        heading = f"Chiplet DSE comparative study: {study['name']}"
    else:
        heading = f"Chiplet DSE comparison: {a['run_id']} vs {b['run_id']}"
    parts = [title(heading)]
    if study:
        pairs = [("Study id", study.get("study_id")), ("Name", study.get("name"))]
        if study.get("description"):
            pairs.append(("Description", study["description"]))
        parts.append(section("Study", fields(pairs, "  ")))
    shares = comparison["dominated_share"]
    rows = [
        ("Run id", a["run_id"], b["run_id"]),
        ("Name", a["name"], b["name"]),
        ("Algorithm", a["algorithm"], b["algorithm"]),
        ("Status", a.get("status", "-"), b.get("status", "-")),
        ("Workloads", a["trace_name"] or "-", b["trace_name"] or "-"),
        ("Designs", f"{a['designs']:,}", f"{b['designs']:,}"),
        ("Front size", f"{a['front_size']:,}", f"{b['front_size']:,}"),
        ("Hypervolume", num(float(a["hypervolume"])), num(float(b["hypervolume"]))),
        ("Front dominated by the other", _pct(shares["a_by_b"]), _pct(shares["b_by_a"])),
    ]
    parts.append(section("Runs", indent(table(("", "Run A", "Run B"), rows), "  ")))

    ref = comparison.get("reference_point")
    ref_text = "-" if ref is None else ", ".join(f"{o} {num(float(ref[o]))}" for o in objectives)
    common = comparison["common_front_designs"]
    evaluated = f"{comparison['common_designs']:,}"
    if "common_designs_identical" in comparison:
        evaluated += f" ({comparison['common_designs_identical']:,} with identical values)"
    on_both = f"{len(common):,}"
    if common:
        on_both += ": " + ", ".join(composition(c) for c in common) + " (G/A/S/C)"
    rule = textwrap.fill(comparison.get("reference_point_rule", ""), 60)
    measures = fields(
        [
            ("Objectives", ", ".join(objectives) + " (all minimised)"),
            ("Reference point", ref_text + (f"\n{rule}" if rule else "")),
            ("Hypervolume of the union", num(float(comparison.get("hypervolume_union", 0.0)))),
            ("Designs evaluated by both", evaluated),
            ("Designs on both fronts", textwrap.fill(on_both, 60)),
            *_unique_rows(comparison),
        ],
        "  ",
    )
    parts.append(section("Measures", measures))

    comp_a, comp_b = comparison["front_composition"]["a"], comparison["front_composition"]["b"]
    labels = ("GPU", "Attention", "Sparse", "Convolution")
    rows = [
        (label, _mean(comp_a[k]), _mean(comp_b[k]))
        for label, k in zip(labels, COUNT_FIELDS, strict=True)
    ]
    composition_table = table(("Chiplet type", "Run A", "Run B"), rows, "<>>")
    parts.append(section("Mean front composition", indent(composition_table, "  ")))

    rows = []
    for o in objectives:
        for label, run in (("A", a), ("B", b)):
            d = run["best"].get(o)
            if d is not None:
                rows.append((OBJECTIVE_LABELS.get(o, o), label, num(d[o]), *design_row(d)))
    if rows:
        headers = ("Objective", "Run", "Best", *_DESIGN_HEADERS)
        best_lines = indent(table(headers, rows, "<<>" + ">" * len(_DESIGN_HEADERS)), "  ")
    else:
        best_lines = ["  (no designs)"]
    parts.append(section("Best design per objective", best_lines))
    notes = [
        textwrap.fill(line, WIDTH - 4, initial_indent="  - ", subsequent_indent="    ")
        for line in comparison["differences"]
    ]
    parts.append(section("Differences", notes))
    if study and study.get("shared_parameters"):
        pairs = [(k, _short(v)) for k, v in study["shared_parameters"].items()]
        parts.append(section("Shared parameters", fields(pairs, "  ")))
    for label, run in (("A", a), ("B", b)):
        front = sorted_front(run["front"])
        parts.append(
            section(
                f"Pareto front of run {label}, {run['run_id']} ({len(front):,} designs)",
                indent(design_table(front), "  ") if front else ["  (no designs)"],
            )
        )
    parts.append(_footer(generated_at))
    return "\n\n".join(parts) + "\n"


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else repr(value)
    if isinstance(value, list):
        text = ", ".join(map(str, value))
    if isinstance(value, Mapping):
        text = "same in both runs" if len(repr(value)) > limit else repr(value)
    return text


# -- several runs --------------------------------------------------------------------------------
def multiple_runs_report(
    runs: Sequence[tuple[OptimizationRun, RunData]], *, generated_at: datetime | None = None
) -> str:
    """A summary table of several runs followed by each run's full report."""
    rows = []
    for run, data in runs:
        best = best_per_objective(data.front, ("execution_time_ms", "energy_mj"))
        rows.append(
            (
                run.run_id,
                run.name,
                run.algorithm,
                run.status,
                f"{data.designs:,}",
                f"{len(data.front):,}",
                num(best["execution_time_ms"]["execution_time_ms"]) if best else "-",
                num(best["energy_mj"]["energy_mj"]) if best else "-",
            )
        )
    headers = (
        "Run id",
        "Name",
        "Algorithm",
        "Status",
        "Designs",
        "Front",
        "Best time (ms)",
        "Best energy (mJ)",
    )
    parts = [
        title(f"Chiplet DSE report of {len(runs)} optimisation runs"),
        section("Runs", indent(table(headers, rows, "<<<<>>>>"), "  ")),
    ]
    text = "\n\n".join(parts) + "\n"
    for k, (run, data) in enumerate(runs, start=1):
        text += f"\n\n{'#' * WIDTH}\n# Run {k} of {len(runs)}: {run.run_id}\n{'#' * WIDTH}\n\n"
        text += run_report(run, data, generated_at=generated_at)
    return text
