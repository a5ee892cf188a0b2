"""What a run is made of, validated once, and how a worker rebuilds it from the database.

A run's ``config`` JSON holds everything needed to execute it on any machine: the experiment
(name, goal and, per workload, where its trace came from with the trace's SHA-256 — and the
trace itself when it was read from a file), the chiplet library, the design space and the
search parameters.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chiplet_dse.errors import InputError
from chiplet_dse.model import (
    DEFAULT_LIBRARY,
    ChipletLibrary,
    Experiment,
    Workload,
    library_from_dict,
    load_experiment,
    load_library,
    parse_trace,
)
from chiplet_dse.model.engine import GOALS
from chiplet_dse.model.workloads import generate_trace
from chiplet_dse.optimize import DesignSpace, SearchConfig

_BUILTIN = "builtin:"
#: Design spaces up to this many compositions get an exact Pareto front (ground truth).
MAX_TRUTH_SPACE = 100_000


@dataclass(frozen=True)
class RunSpec:
    """A validated run request."""

    name: str
    description: str
    experiment: Experiment
    library: ChipletLibrary
    goal: str
    search: SearchConfig
    auto_export: bool = False

    def truth_key(self) -> str:
        """Identifies the exact front this run can be measured against ('' if the space is too
        large): same traces, weights, library, goal, design space and objectives."""
        if self.search.space.size() > MAX_TRUTH_SPACE:
            return ""
        identity = {
            "workloads": [
                (w.model, w.trace.sha256, w.weighted_score) for w in self.experiment.workloads
            ],
            "goal": self.goal,
            "library": {k: v for k, v in self.library.to_dict().items() if k != "name"},
            "space": self.search.space.to_dict(),
            "objectives": list(self.search.objectives),
        }
        text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def config(self) -> dict[str, Any]:
        """The JSON stored on the run (what ``spec_from_config`` reads back)."""
        return {
            "experiment": {
                "name": self.experiment.name,
                "goal": self.experiment.goal,
                "workloads": [_workload_config(w) for w in self.experiment.workloads],
            },
            "goal": self.goal,
            "library": self.library.to_dict(),
            "search": self.search.to_dict(),
        }


def _workload_config(w: Workload) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "model": w.model,
        "instance": w.instance,
        "batch_size": w.batch_size,
        "weighted_score": w.weighted_score,
        "source": w.trace.source,
        "sha256": w.trace.sha256,
        "kernels": len(w.trace.kernels),
    }
    if not w.trace.source.startswith(_BUILTIN):
        # A trace read from a file travels with the run, so any worker can execute it.
        entry["trace"] = _trace_records(w)
    return entry


def _trace_records(w: Workload) -> list[dict[str, Any]]:
    from chiplet_dse.model.trace import read_json

    doc = read_json(w.trace.source)
    return doc["workload_trace"] if isinstance(doc, Mapping) else doc


def build_spec(
    *,
    name: str,
    experiment: str,
    algorithm: str,
    population_size: int,
    generations: int,
    seed: int,
    description: str = "",
    trace_dir: str | None = None,
    library: str | Mapping[str, Any] | None = None,
    goal: str | None = None,
    space: Mapping[str, Any] | None = None,
    objectives: list[str] | tuple[str, ...] | None = None,
    scalar: str = "edp",
    auto_export: bool = False,
) -> RunSpec:
    """Validate a run request (from the CLI or the API) into a :class:`RunSpec`."""
    if not isinstance(name, str) or not name.strip():
        raise InputError("a run needs a name", field="name")
    if len(name) > 200:
        raise InputError("at most 200 characters", field="name")
    exp = load_experiment(experiment, trace_dir)
    if isinstance(library, Mapping):
        lib = library_from_dict(library, "library")
    elif library:
        lib = load_library(library)
    else:
        lib = DEFAULT_LIBRARY
    goal = goal or exp.goal
    if goal not in GOALS:
        raise InputError(f"unknown goal {goal!r}; choose one of {', '.join(GOALS)}", field="goal")
    design_space = DesignSpace.from_dict(space) if space is not None else DesignSpace()
    search = SearchConfig(
        algorithm=algorithm,
        population_size=population_size,
        generations=generations,
        seed=seed,
        space=design_space,
        objectives=tuple(objectives) if objectives else ("execution_time_ms", "energy_mj"),
        scalar=scalar,
    )
    return RunSpec(name.strip(), description or "", exp, lib, goal, search, bool(auto_export))


def spec_from_config(name: str, config: Mapping[str, Any]) -> RunSpec:
    """Rebuild a run's spec from its stored config (in a worker, possibly another machine)."""
    exp_cfg = config["experiment"]
    workloads = []
    for entry in exp_cfg["workloads"]:
        if "trace" in entry:
            trace = parse_trace(entry["trace"], entry["source"])
        else:
            doc = generate_trace(entry["model"], entry["instance"], entry["batch_size"])
            trace = parse_trace(doc, entry["source"])
        if trace.sha256 != entry["sha256"]:
            raise InputError(
                f"the trace of {entry['model']}/{entry['instance']}/{entry['batch_size']} "
                "differs from the one this run was created with (sha256 mismatch)",
                field="workloads",
            )
        workloads.append(
            Workload(
                entry["model"],
                entry["instance"],
                entry["batch_size"],
                entry["weighted_score"],
                trace,
            )
        )
    experiment = Experiment(exp_cfg["name"], exp_cfg["goal"], tuple(workloads))
    return RunSpec(
        name=name,
        description="",
        experiment=experiment,
        library=library_from_dict(config["library"], "library"),
        goal=config["goal"],
        search=SearchConfig.from_dict(config["search"]),
    )


def default_points_csv(home: Path) -> Path:
    return home / "results" / "points.csv"
