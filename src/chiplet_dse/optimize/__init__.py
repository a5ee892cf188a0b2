"""Design-space search over chiplet compositions (no Django).

Typical use::

    from chiplet_dse.model import load_experiment
    from chiplet_dse.optimize import ModelEvaluator, Search, SearchConfig

    search = Search(SearchConfig("NSGA2", population_size=20, generations=10, seed=1),
                    ModelEvaluator(load_experiment("rmc1-test")))
    for generation in search:          # or search.step(), storing search.checkpoint()
        for design in generation.new:
            design.composition, design.metrics
"""

from chiplet_dse.optimize.evaluator import ModelEvaluator
from chiplet_dse.optimize.pareto import (
    hypervolume,
    knee_point,
    pareto_front_mask,
    pareto_ranks,
    reference_point,
)
from chiplet_dse.optimize.search import (
    ALGORITHMS,
    OBJECTIVES,
    SCALARS,
    Evaluated,
    Generation,
    Search,
    SearchConfig,
    run_search,
    scalar_value,
)
from chiplet_dse.optimize.space import Composition, DesignSpace, as_composition

__all__ = [
    "ALGORITHMS",
    "OBJECTIVES",
    "SCALARS",
    "Composition",
    "DesignSpace",
    "Evaluated",
    "Generation",
    "ModelEvaluator",
    "Search",
    "SearchConfig",
    "as_composition",
    "hypervolume",
    "knee_point",
    "pareto_front_mask",
    "pareto_ranks",
    "reference_point",
    "run_search",
    "scalar_value",
]
