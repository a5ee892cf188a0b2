"""Why designs are good: analytics over a run's designs (pure: no Django, no I/O).

* :func:`mine_rules` (with :func:`region_mask`, :func:`describe_region`): which chiplet counts
  go with a region of the design space, as rules with support, both confidences and lift.
* :func:`distance_correlations`: distance correlation of each count (and the total) with each
  objective, with permutation-test p-values.
* :func:`front_analysis`: ranks, hypervolume, extreme, knee and EDP designs, the front's mix.
* :func:`sensitivity`: what one chiplet more or less of each type does to each objective.
* :func:`igd_plus`, :func:`hypervolume_ratio`, :func:`true_front_share`, :func:`convergence`:
  quality against a known true front.

Every result is a JSON-able dict (plain floats, ints, strings, lists, dicts and None) that
includes the parameters used and ``n``, the number of designs seen. Bad parameters raise
:class:`chiplet_dse.errors.InputError` naming the parameter as its ``field``.
"""

from chiplet_dse.optimize.analytics.correlation import (
    PERMUTATION_CAP,
    VARIABLES,
    distance_correlations,
)
from chiplet_dse.optimize.analytics.front import front_analysis
from chiplet_dse.optimize.analytics.rules import (
    DEFAULT_BINS,
    describe_region,
    mine_rules,
    region_mask,
    validate_bins,
)
from chiplet_dse.optimize.analytics.sensitivity import sensitivity
from chiplet_dse.optimize.analytics.truth import (
    convergence,
    hypervolume_ratio,
    igd_plus,
    true_front_share,
)

__all__ = [
    "DEFAULT_BINS",
    "PERMUTATION_CAP",
    "VARIABLES",
    "convergence",
    "describe_region",
    "distance_correlations",
    "front_analysis",
    "hypervolume_ratio",
    "igd_plus",
    "mine_rules",
    "region_mask",
    "sensitivity",
    "true_front_share",
    "validate_bins",
]
