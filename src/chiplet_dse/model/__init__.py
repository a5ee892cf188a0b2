"""The CASCADE chiplet performance and energy model (pure: NumPy and SciPy, no Django).

Typical use::

    from chiplet_dse.model import Design, evaluate, load_experiment
    result = evaluate(load_experiment("resnet50-test"), Design(3, 3, 3, 3))
    result.execution_time_ms, result.energy_mj
"""

from chiplet_dse.model.cascade import (
    Design,
    Evaluation,
    WorkloadResult,
    characterise,
    evaluate,
    evaluate_many,
)
from chiplet_dse.model.chiplets import (
    CHIPLET_TYPES,
    DEFAULT_LIBRARY,
    TYPE_LABELS,
    ChipletLibrary,
    library_from_dict,
    load_library,
)
from chiplet_dse.model.engine import GOALS
from chiplet_dse.model.experiments import (
    BUILTIN_EXPERIMENTS,
    DEFAULT_EXPERIMENT,
    Experiment,
    Workload,
    experiment_from_dict,
    load_experiment,
)
from chiplet_dse.model.trace import Trace, load_trace, parse_trace

__all__ = [
    "BUILTIN_EXPERIMENTS",
    "CHIPLET_TYPES",
    "DEFAULT_EXPERIMENT",
    "DEFAULT_LIBRARY",
    "GOALS",
    "TYPE_LABELS",
    "ChipletLibrary",
    "Design",
    "Evaluation",
    "Experiment",
    "Trace",
    "Workload",
    "WorkloadResult",
    "characterise",
    "evaluate",
    "evaluate_many",
    "experiment_from_dict",
    "library_from_dict",
    "load_experiment",
    "load_library",
    "load_trace",
    "parse_trace",
]
