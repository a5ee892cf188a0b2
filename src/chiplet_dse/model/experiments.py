"""Experiments: weighted lists of workloads plus an optimisation goal (spec §1.1–1.2).

An experiment names its workloads by ``(model, model-instance, batch-size)``. Traces come from
a CASCADE trace directory when one is given (or found beside the experiment file, in the
layout of spec §1.2), otherwise from the built-in generators, which cover any batch size.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chiplet_dse.errors import InputError
from chiplet_dse.model.trace import Trace, load_trace, parse_trace, read_json
from chiplet_dse.model.workloads import BUILTIN_WORKLOADS, generate_trace

GOAL_NAMES = ("latency", "energy", "pareto")


@dataclass(frozen=True)
class Workload:
    """One trace of an experiment and how often its results count."""

    model: str
    instance: str
    batch_size: int
    weighted_score: int
    trace: Trace

    @property
    def name(self) -> str:
        return f"{self.model}/{self.instance}/{self.batch_size}"

    @property
    def provenance(self) -> dict[str, Any]:
        """Where the trace came from and its content hash (stored with every run)."""
        return {
            "workload": self.name,
            "weighted_score": self.weighted_score,
            "source": self.trace.source,
            "sha256": self.trace.sha256,
            "kernels": len(self.trace.kernels),
        }


@dataclass(frozen=True)
class Experiment:
    """A named, validated experiment."""

    name: str
    goal: str
    workloads: tuple[Workload, ...]

    @property
    def trace_name(self) -> str:
        """Short description of the workloads, e.g. ``gpt/gpt-j-first/1024*1 + ...``."""
        return " + ".join(f"{w.name}*{w.weighted_score}" for w in self.workloads)


#: The runnable experiments of the original repository, by name (spec §1.5).
BUILTIN_EXPERIMENTS: dict[str, tuple[tuple[str, str, int, int], ...]] = {
    "gpt-j-1024-weighted": (("gpt", "gpt-j-first", 1024, 1), ("gpt", "gpt-j-second", 1024, 1024)),
    "gpt-j-65536-weighted": (
        ("gpt", "gpt-j-first", 65536, 1),
        ("gpt", "gpt-j-second", 65536, 1024),
    ),
    "gpt-j-second-65536": (("gpt", "gpt-j-second", 65536, 1),),
    "ogbn-arxiv-test": (("gcn", "ogbn-arxiv", 256, 1),),
    "ogbn-products-test": (("gcn", "ogbn-products", 1024, 1),),
    "resnet18-test": (("dnn", "resnet18", 1, 1),),
    "resnet50-test": (("dnn", "resnet50", 64, 1),),
    "rmc1-test": (("dlrm", "rmc1", 512, 1),),
    "rmc2-test": (("dlrm", "rmc2", 512, 1),),
    "rmc3-test": (("dlrm", "rmc3", 512, 1),),
    "sd-test": (("sd", "stable-diffusion-v1-4", 1024, 1),),
}

DEFAULT_EXPERIMENT = "gpt-j-65536-weighted"


def builtin_document(name: str) -> dict[str, Any]:
    """A built-in experiment as the JSON document the original would read."""
    return {
        "workloads": [
            {"model": m, "model-instance": i, "batch-size": b, "weighted_score": w}
            for m, i, b, w in BUILTIN_EXPERIMENTS[name]
        ],
        "optimization-goal": "latency",
    }


def trace_path(trace_dir: str | Path, model: str, instance: str, batch: int) -> Path:
    """Where CASCADE keeps a trace (spec §1.2)."""
    stem = f"{instance}-{batch}"
    return Path(trace_dir) / model / stem / f"{model}-{stem}-bs.json"


def _is_builtin(model: str, instance: str) -> bool:
    return any(w.model == model and w.instance == instance for w in BUILTIN_WORKLOADS)


def _resolve_trace(
    model: str,
    instance: str,
    batch: int,
    trace_dir: Path | None,
    tree: Path | None,
    source: str,
    index: int,
) -> Trace:
    if trace_dir is not None:
        return load_trace(trace_path(trace_dir, model, instance, batch))
    if tree is not None and trace_path(tree, model, instance, batch).is_file():
        return load_trace(trace_path(tree, model, instance, batch))
    if _is_builtin(model, instance):
        doc = generate_trace(model, instance, batch)
        return parse_trace(doc, f"builtin:{model}/{instance}/{batch}")
    raise InputError(
        f"no trace for workload {model}/{instance}/{batch}: not a built-in workload and no "
        "trace directory given (use --trace-dir)",
        file=source,
        field=f"workloads[{index}]",
    )


def _workload_field(spec: Mapping[str, Any], key: str, source: str, index: int) -> Any:
    if key not in spec:
        raise InputError("missing", file=source, field=f"workloads[{index}].{key}")
    return spec[key]


def experiment_from_dict(
    doc: Any,
    name: str,
    source: str,
    trace_dir: str | Path | None = None,
    tree: str | Path | None = None,
) -> Experiment:
    """Validate an experiment document and resolve its traces."""
    if not isinstance(doc, Mapping):
        raise InputError("an experiment must be a JSON object", file=source)
    specs = doc.get("workloads")
    if not isinstance(specs, list) or not specs:
        raise InputError("must be a non-empty list", file=source, field="workloads")
    if "optimization-goal" in doc:
        goal = doc["optimization-goal"]
        if goal not in GOAL_NAMES:
            raise InputError(
                f"unknown goal {goal!r}; choose one of {', '.join(GOAL_NAMES)}",
                file=source,
                field="optimization-goal",
            )
    else:
        warnings.warn(f"{source}: no optimization-goal, using latency", stacklevel=2)
        goal = "latency"
    tdir = Path(trace_dir) if trace_dir is not None else None
    if tdir is not None and not tdir.is_dir():
        raise InputError("trace directory not found", file=str(trace_dir))
    workloads = []
    for i, spec in enumerate(specs):
        if not isinstance(spec, Mapping):
            raise InputError("must be an object", file=source, field=f"workloads[{i}]")
        model = _workload_field(spec, "model", source, i)
        instance = _workload_field(spec, "model-instance", source, i)
        batch = _workload_field(spec, "batch-size", source, i)
        if not isinstance(model, str) or not isinstance(instance, str):
            raise InputError(
                "model and model-instance must be strings", file=source, field=f"workloads[{i}]"
            )
        if isinstance(batch, bool) or not isinstance(batch, int) or batch <= 0:
            raise InputError(
                f"must be a positive integer, got {batch!r}",
                file=source,
                field=f"workloads[{i}].batch-size",
            )
        weight = spec.get("weighted_score", 1)
        try:
            if isinstance(weight, bool):
                raise TypeError
            weight = int(weight)  # the original truncates with int()
        except (TypeError, ValueError, OverflowError):
            raise InputError(
                f"must be an integer, got {spec['weighted_score']!r}",
                file=source,
                field=f"workloads[{i}].weighted_score",
            ) from None
        if weight < 0:
            raise InputError(
                f"must not be negative, got {weight}",
                file=source,
                field=f"workloads[{i}].weighted_score",
            )
        trace = _resolve_trace(
            model, instance, batch, tdir, Path(tree) if tree else None, source, i
        )
        workloads.append(Workload(model, instance, batch, weight, trace))
    return Experiment(name=name, goal=goal, workloads=tuple(workloads))


def load_experiment(name_or_path: str | Path, trace_dir: str | Path | None = None) -> Experiment:
    """A built-in experiment by name, or an experiment JSON file by path."""
    text = str(name_or_path)
    if text in BUILTIN_EXPERIMENTS:
        return experiment_from_dict(builtin_document(text), text, f"builtin:{text}", trace_dir)
    path = Path(text)
    try:
        exists = path.is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte
        exists = False
    if not exists:
        raise InputError(
            f"not a built-in experiment ({', '.join(sorted(BUILTIN_EXPERIMENTS))}) "
            "nor an experiment file",
            file=text,
        )
    # In CASCADE's layout experiments sit in <traces>/experiments/, beside the trace tree.
    tree = path.resolve().parent.parent
    return experiment_from_dict(read_json(path), path.stem, str(path), trace_dir, tree)
