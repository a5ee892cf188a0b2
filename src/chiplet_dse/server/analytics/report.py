"""The analytics sections of a run's text report (registered with the exports' report)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chiplet_dse.server.analytics.services import latest_results
from chiplet_dse.server.exports.report import fields, num, section, table
from chiplet_dse.server.runs.models import OptimizationRun

TYPE_NAMES = {"gpu": "GPU", "attention": "Attention", "sparse": "Sparse",
              "convolution": "Convolution"}  # fmt: skip


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * float(value):.1f}%"


def _design(d: Mapping[str, Any], objectives: list[str]) -> str:
    counts = ",".join(str(d.get(t, d.get(f"{t}_count", "?"))) for t in TYPE_NAMES)
    values = ", ".join(f"{o} {num(float(d[o]))}" for o in objectives if d.get(o) is not None)
    return f"{counts}  ({values})"


def analytics_sections(run: OptimizationRun) -> list[str]:
    """One section per stored analytics type; nothing if the run has none."""
    results = {r.analytics_type: r for r in latest_results(run)}
    writers = {
        "pareto_analysis": _pareto,
        "rule_mining": _rules,
        "distance_correlation": _correlation,
        "sensitivity": _sensitivity,
        "ground_truth": _truth,
    }
    out = []
    for analytics_type, write in writers.items():
        if analytics_type in results:
            r = results[analytics_type]
            stale = r.designs_seen != run.total_designs_evaluated
            note = f" (computed over {r.designs_seen} designs)" if stale else ""
            out.append(write(r.results_data, list(run.objectives or []), note))
    return out


def _pareto(data: Mapping[str, Any], objectives: list[str], note: str) -> str:
    ranks = data.get("rank_distribution", {})
    lines = fields(
        [
            ("Front size", data.get("front_size")),
            ("Ranks", ", ".join(f"{k}: {v}" for k, v in list(ranks.items())[:8])),
            ("Hypervolume", num(float(data["hypervolume"])) if data.get("hypervolume") else "-"),
            ("Reference point", data.get("reference_rule", "")),
        ],
        "  ",
    )
    for label, key in (("Knee point", "knee"), ("Best energy-delay", "best_edp")):
        if data.get(key):
            lines.append(f"  {label}: {_design(data[key], objectives)}")
    for name, d in (data.get("extremes") or {}).items():
        lines.append(f"  Best {name}: {_design(d, objectives)}")
    comp = data.get("front_composition") or {}
    rows = []
    for t, label in TYPE_NAMES.items():
        c = comp.get(t) or comp.get(f"{t}_count")
        if c:
            rows.append((label, num(float(c.get("mean", 0))), c.get("min"), c.get("max"),
                         _pct(c.get("share_using"))))  # fmt: skip
    if rows:
        lines += ["", *("  " + line for line in
                        table(("Front composition", "mean", "min", "max", "using"), rows,
                              "<>>>>").splitlines())]  # fmt: skip
    return section(f"Pareto analysis{note}", lines)


def _rules(data: Mapping[str, Any], objectives: list[str], note: str) -> str:
    region = data.get("parameters", {}).get("region") or data.get("region", "the region")
    rules = data.get("pareto_rules") or data.get("rules") or []
    lines = [f"  Region: {region} ({data.get('region_size', '?')} of {data.get('n', '?')} designs)",
             "  Rules Pareto-optimal in both confidences:", ""]  # fmt: skip
    rows = [
        (r["text"], _pct(r["support"]), _pct(r["confidence_feature_to_region"]),
         _pct(r["confidence_region_to_feature"]), num(float(r["lift"])))
        for r in rules[:12]
    ]  # fmt: skip
    if rows:
        text = table(("Rule", "support", "conf f->r", "conf r->f", "lift"), rows, "<>>>>")
        lines += ["  " + line for line in text.splitlines()]
    else:
        lines.append("  (no rule reaches the minimum support)")
    return section(f"Association rules{note}", lines)


def _correlation(data: Mapping[str, Any], objectives: list[str], note: str) -> str:
    results = data.get("results", {})
    names = list(next(iter(results.values()), {}).keys()) if results else []
    rows = []
    for variable, per_objective in results.items():
        rows.append((variable, *(
            f"{num(float(per_objective[o]['dcor']))} (p={num(float(per_objective[o]['p_value']))})"
            for o in names
        )))  # fmt: skip
    lines = [f"  Distance correlation, {data.get('permutations', '?')} permutations:", ""]
    if rows:
        lines += ["  " + line for line in table(("", *names), rows).splitlines()]
    return section(f"Distance correlation{note}", lines)


def _sensitivity(data: Mapping[str, Any], objectives: list[str], note: str) -> str:
    summary = data.get("summary", {})
    rows = []
    for t, per_direction in summary.items():
        for direction, stats in per_direction.items():
            changes = stats.get("mean_relative_change_pct") or {}
            rows.append((f"{direction} one {TYPE_NAMES.get(t, t)}", stats.get("neighbours", "-"),
                         *(("-" if changes.get(o) is None else f"{changes[o]:+.1f}%")
                           for o in objectives)))  # fmt: skip
    lines = [f"  Over {data.get('designs_analysed', '?')} Pareto designs, mean relative change:",
             ""]  # fmt: skip
    if rows:
        lines += ["  " + line for line in
                  table(("change", "neighbours", *objectives), rows).splitlines()]  # fmt: skip
    return section(f"Sensitivity{note}", lines)


def _truth(data: Mapping[str, Any], objectives: list[str], note: str) -> str:
    truth = data.get("truth") or {}
    if not data.get("available"):
        state = truth.get("state", "unknown")
        return section("Ground truth", [f"  Exact front of the design space: {state}."])
    final = data.get("final") or {}
    found = f"{final.get('true_front_found', '?')} ({_pct(final.get('true_front_share'))})"
    lines = fields(
        [
            ("Design space", f"{truth.get('space_size', '?'):,} compositions"),
            ("True front", f"{data.get('true_front_size', '?')} designs"),
            ("Found", found),
            ("Hypervolume ratio", num(float(final["hypervolume_ratio"]))
             if final.get("hypervolume_ratio") is not None else "-"),
            ("IGD+", num(float(final["igd_plus"])) if final.get("igd_plus") is not None else "-"),
        ],
        "  ",
    )  # fmt: skip
    rows = [
        (g["generation"], g["designs_seen"], g["front_size"], num(float(g["hypervolume_ratio"])),
         "-" if g.get("igd_plus") is None else num(float(g["igd_plus"])),
         _pct(g["true_front_share"]))
        for g in data.get("generations", [])
    ]  # fmt: skip
    if rows:
        text = table(("gen", "designs", "front", "HV ratio", "IGD+", "true front found"), rows,
                     ">>>>>>")  # fmt: skip
        lines += ["", *("  " + line for line in text.splitlines())]
    return section(f"Ground truth{note}", lines)
