"""Analytics on hand-made design sets with known answers: rules, distance correlation, Pareto
analysis, sensitivity and ground-truth metrics."""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chiplet_dse.errors import InputError
from chiplet_dse.optimize import DesignSpace, pareto_ranks
from chiplet_dse.optimize.analytics import (
    DEFAULT_BINS,
    PERMUTATION_CAP,
    convergence,
    describe_region,
    distance_correlations,
    front_analysis,
    hypervolume_ratio,
    igd_plus,
    mine_rules,
    region_mask,
    sensitivity,
    true_front_share,
    validate_bins,
)


def assert_plain(value: Any) -> None:
    """Only plain JSON types (no NumPy scalars), no NaN or infinity, and a JSON round trip."""

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            assert all(type(k) is str for k in v), v
            for item in v.values():
                walk(item)
        elif isinstance(v, list):
            for item in v:
                walk(item)
        else:
            assert v is None or type(v) in (str, int, float, bool), (type(v), v)
            if type(v) is float:
                assert math.isfinite(v)

    walk(value)
    assert json.loads(json.dumps(value, allow_nan=False)) == value


# -- rules ---------------------------------------------------------------------------------------


def planted() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """100 designs: 40 without sparse chiplets (30 of them ranked 1–2), 60 with 4 sparse
    chiplets (20 of them ranked 1–2); the other counts are 3 everywhere."""
    sparse = np.array([0] * 40 + [4] * 60)
    ranks = np.array([1] * 15 + [2] * 15 + [3] * 10 + [1] * 20 + [5] * 40)
    C = np.column_stack([np.full(100, 3), np.full(100, 3), sparse, np.full(100, 3)])
    F = np.column_stack([ranks.astype(float), -ranks.astype(float)])
    return C, ranks, F


def find(rules: list[dict[str, Any]], text: str) -> dict[str, Any]:
    matches = [r for r in rules if r["text"] == text]
    assert len(matches) == 1, [r["text"] for r in rules]
    return matches[0]


def test_a_planted_rule_is_found_with_exact_statistics() -> None:
    C, ranks, F = planted()
    in_region = region_mask(ranks, F, ["a", "b"], rank_range=[1, 2])
    assert in_region.sum() == 50
    name = describe_region(rank_range=[1, 2])
    assert name == "Pareto ranks 1–2"
    result = mine_rules(C, in_region, region=name, max_rules=1000)
    assert_plain(result)
    assert (result["n"], result["n_region"], result["p_region"]) == (100, 50, 0.5)
    rule = find(result["rules"], "no sparse chiplets → Pareto ranks 1–2")
    assert rule["support"] == pytest.approx(0.30)
    assert rule["feature_support"] == pytest.approx(0.40)
    assert rule["confidence_feature_to_region"] == pytest.approx(0.75)
    assert rule["confidence_region_to_feature"] == pytest.approx(0.60)
    assert rule["lift"] == pytest.approx(1.5)
    assert (rule["designs_with_feature"], rule["designs_with_feature_in_region"]) == (40, 30)
    assert rule["items"] == [
        {"type": "sparse", "bin": "none", "min": 0, "max": 0, "text": "no sparse chiplets"}
    ]
    other = find(result["rules"], "3–5 sparse chiplets → Pareto ranks 1–2")
    assert other["support"] == pytest.approx(0.2)
    assert other["confidence_feature_to_region"] == pytest.approx(1 / 3)
    assert other["confidence_region_to_feature"] == pytest.approx(0.4)
    assert other["lift"] == pytest.approx(2 / 3)
    # Conjunctions on distinct types only, with the constant counts.
    both = find(result["rules"], "3–5 attention chiplets AND no sparse chiplets → Pareto ranks 1–2")
    assert both["support"] == pytest.approx(0.30)
    assert all(len({i["type"] for i in r["items"]}) == len(r["items"]) for r in result["rules"])
    # Up to 3 of the 3 constant counts (7 rules), alone or with either sparse bin (2 x 7) ...
    assert result["n_rules"] == 7 + 2 * 7
    # ... and the best by lift comes first.
    assert result["rules"][0]["lift"] == pytest.approx(1.5)
    assert len(result["rules"][0]["items"]) == 1


def test_pareto_rules_trade_the_two_confidences() -> None:
    C, ranks, F = planted()
    result = mine_rules(C, region_mask(ranks, F, ["a", "b"], rank_range=[1, 2]))
    pairs = {
        (r["confidence_feature_to_region"], r["confidence_region_to_feature"])
        for r in result["pareto_rules"]
    }
    # "no sparse" (and conjunctions adding constant counts) vs. the constant counts alone.
    assert pairs == {(0.75, 0.6), (0.5, 1.0)}
    assert result["pareto_rules"][0]["text"] == "no sparse chiplets → region"


def test_min_support_and_max_rules() -> None:
    C, ranks, F = planted()
    in_region = region_mask(ranks, F, ["a", "b"], rank_range=[1, 2])
    kept = mine_rules(C, in_region, min_support=0.3, max_items=1)
    # Exactly at the threshold (30 of 100) is kept; the 20-design rule is not.
    assert {r["text"] for r in kept["rules"]} == {
        "no sparse chiplets → region",
        "3–5 gpu chiplets → region",
        "3–5 attention chiplets → region",
        "3–5 convolution chiplets → region",
    }
    capped = mine_rules(C, in_region, max_rules=2)
    assert len(capped["rules"]) == 2 and capped["n_rules"] > 2
    assert capped["max_rules"] == 2 and capped["max_items"] == 3


def test_custom_bins_and_item_texts() -> None:
    C = np.array([[1, 0, 9, 12], [1, 2, 0, 0], [0, 1, 3, 8]])
    bins = [("many", 4, None), ("few", 0, 3)]
    result = mine_rules(C, np.array([True, True, False]), bins=bins, max_items=1)
    assert [b["label"] for b in result["bins"]] == ["few", "many"]
    texts = {r["text"] for r in result["rules"]}
    assert "0–3 gpu chiplets → region" in texts
    assert "≥4 sparse chiplets → region" in texts
    default = mine_rules(C, np.array([True, False, False]), max_items=1, min_support=0.1)
    assert {r["text"] for r in default["rules"]} == {
        "1–2 gpu chiplets → region",
        "no attention chiplets → region",
        "≥9 sparse chiplets → region",
        "≥9 convolution chiplets → region",
    }
    singles = [("zero", 0, 0), ("one", 1, 1), ("more", 2, None)]
    texts = {r["text"] for r in mine_rules(C, np.array([True, False, False]), bins=singles,
                                           max_items=1)["rules"]}  # fmt: skip
    assert texts == {
        "1 gpu chiplet → region",
        "no attention chiplets → region",
        "≥2 sparse chiplets → region",
        "≥2 convolution chiplets → region",
    }


def test_region_by_objective_bounds() -> None:
    F = np.array([[1.0, 9.0], [2.0, 5.0], [3.0, 4.0], [8.0, 1.0]])
    ranks = pareto_ranks(F)
    names = ["execution_time_ms", "energy_mj"]
    mask = region_mask(
        ranks, F, names, bounds={"energy_mj": [None, 5], "execution_time_ms": [2, 8]}
    )
    assert mask.tolist() == [False, True, True, True]
    both = region_mask(ranks, F, names, rank_range=[1, 1], bounds={"energy_mj": [4, 5]})
    assert both.tolist() == [False, True, True, False]
    assert region_mask(ranks, F, names, rank_range=[2, None]).tolist() == [False] * 4
    assert describe_region(bounds={"energy_mj": [None, 5]}) == "energy_mj ≤ 5"
    assert describe_region(rank_range=[1, 1], bounds={"energy_mj": [1, 2.5]}) == (
        "Pareto rank 1 AND energy_mj in [1, 2.5]"
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({}, "rank_range"),
        ({"rank_range": [0, 2]}, "rank_range"),
        ({"rank_range": [3, 2]}, "rank_range"),
        ({"rank_range": "1-2"}, "rank_range"),
        ({"bounds": {"area_mm2": [0, 1]}}, "bounds"),
        ({"bounds": {"energy_mj": [5, 1]}}, "bounds"),
        ({"bounds": {"energy_mj": [0, float("nan")]}}, "bounds"),
        ({"bounds": {"energy_mj": 3}}, "bounds"),
        ({"bounds": {}}, "bounds"),
    ],
)
def test_region_validation(kwargs: dict[str, Any], field: str) -> None:
    F = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(InputError) as info:
        region_mask([1, 1], F, ["execution_time_ms", "energy_mj"], **kwargs)
    assert info.value.field == field


def test_region_validation_of_arrays() -> None:
    F = np.array([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(InputError) as info:
        region_mask([1, 1, 1], F, ["a", "b"], rank_range=[1, 1])
    assert info.value.field == "ranks"
    with pytest.raises(InputError) as info:
        region_mask([1, 1], F, ["a"], rank_range=[1, 1])
    assert info.value.field == "objectives"


@pytest.mark.parametrize(
    "bins",
    [
        [],
        [("a", 0, 2), ("b", 2, None)],  # overlap
        [("a", 0, 2), ("b", 4, None)],  # gap
        [("a", 1, 2), ("b", 3, None)],  # 0 not covered
        [("a", 0, 2), ("b", 3, 9)],  # not open
        [("a", 0, None), ("b", 1, None)],
        [("a", 0, 2), ("a", 3, None)],  # duplicate label
        [("a", 0, -1), ("b", 0, None)],
        [("", 0, None)],
        "none",
    ],
)
def test_bins_are_validated(bins: Any) -> None:
    with pytest.raises(InputError) as info:
        validate_bins(bins)
    assert info.value.field == "bins"


def test_default_bins() -> None:
    assert validate_bins(DEFAULT_BINS) == DEFAULT_BINS
    assert [b[0] for b in DEFAULT_BINS] == ["none", "low", "medium", "high", "very high"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"max_items": 0}, "max_items"),
        ({"max_items": 5}, "max_items"),
        ({"min_support": 0}, "min_support"),
        ({"min_support": 1.5}, "min_support"),
        ({"max_rules": 0}, "max_rules"),
        ({"region": ""}, "region"),
    ],
)
def test_mining_parameters_are_validated(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InputError) as info:
        mine_rules([[1, 2, 3, 4]], np.array([True]), **kwargs)
    assert info.value.field == field


def test_mining_inputs_are_validated() -> None:
    for compositions, in_region, field in [
        ([[1, 2, 3]], np.array([True]), "compositions"),
        ([[1, 2, 3, -1]], np.array([True]), "compositions"),
        ([[1, 2, 3, 4]], np.array([True, False]), "in_region"),
        ([[1, 2, 3, 4]], np.array([1]), "in_region"),
        (np.zeros((0, 4), dtype=int), np.zeros(0, dtype=bool), "compositions"),
    ]:
        with pytest.raises(InputError) as info:
            mine_rules(compositions, in_region)
        assert info.value.field == field


@st.composite
def design_sets(draw: Any) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 40))
    counts = st.lists(st.integers(0, 11), min_size=4, max_size=4)
    C = np.array(draw(st.lists(counts, min_size=n, max_size=n)))
    region = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool)
    return C, region


@settings(max_examples=60, deadline=None)
@given(design_sets(), st.sampled_from([0.01, 0.1, 0.3]), st.integers(1, 4))
def test_rule_statistics_match_brute_force(
    data: tuple[np.ndarray, np.ndarray], min_support: float, max_items: int
) -> None:
    C, region = data
    n = len(C)
    result = mine_rules(C, region, min_support=min_support, max_items=max_items, max_rules=10_000)
    assert result["n_rules"] == len(result["rules"])
    seen = set()
    for rule in result["rules"]:
        feature = np.ones(n, dtype=bool)
        for item in rule["items"]:
            column = C[:, ["gpu", "attention", "sparse", "convolution"].index(item["type"])]
            high = np.inf if item["max"] is None else item["max"]
            feature &= (column >= item["min"]) & (column <= high)
        assert rule["designs_with_feature"] == feature.sum()
        assert rule["designs_with_feature_in_region"] == (feature & region).sum()
        for key in ("support", "confidence_feature_to_region", "confidence_region_to_feature"):
            assert 0 <= rule[key] <= 1
        assert rule["support"] >= min_support - 1e-12
        assert rule["lift"] * result["p_region"] == pytest.approx(
            rule["confidence_feature_to_region"]
        )
        assert 1 <= len(rule["items"]) <= max_items
        seen.add(rule["text"])
    assert len(seen) == len(result["rules"])
    # Nothing is missed: every supported single item is a rule.
    for t, name in enumerate(["gpu", "attention", "sparse", "convolution"]):
        for label, lo, hi in DEFAULT_BINS:
            column = C[:, t]
            feature = (column >= lo) & (column <= (np.inf if hi is None else hi))
            if (feature & region).sum() >= min_support * n * (1 - 1e-12):
                assert any(
                    [(i["type"], i["bin"]) for i in r["items"]] == [(name, label)]
                    for r in result["rules"]
                )
    # The Pareto rules are mutually non-dominated and dominate every other rule.
    conf = [
        (r["confidence_feature_to_region"], r["confidence_region_to_feature"])
        for r in result["pareto_rules"]
    ]

    def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
        return a[0] >= b[0] and a[1] >= b[1] and a != b

    assert not any(dominates(a, b) for a, b in itertools.permutations(conf, 2))
    pareto_texts = {r["text"] for r in result["pareto_rules"]}
    for rule in result["rules"]:
        c = (rule["confidence_feature_to_region"], rule["confidence_region_to_feature"])
        assert (rule["text"] in pareto_texts) == (not any(dominates(p, c) for p in conf))


def test_rule_mining_is_fast_on_100000_designs() -> None:
    rng = np.random.default_rng(1)
    C = rng.integers(0, 13, size=(100_000, 4))
    region = C[:, 2] == 0
    result = mine_rules(C, region, max_items=4, min_support=0.001)
    # Every rule containing "no sparse" has confidence 1; the single item has most support.
    top = result["rules"][0]
    assert top["text"] == "no sparse chiplets → region"
    assert top["confidence_feature_to_region"] == 1.0
    assert top["confidence_region_to_feature"] == 1.0
    assert top["designs_with_feature"] == (C[:, 2] == 0).sum()
    assert result["pareto_rules"][0]["text"] == top["text"]


# -- distance correlation ------------------------------------------------------------------------


def naive_dcor(x: np.ndarray, y: np.ndarray) -> float:
    """Distance correlation by its definition (double-centred distance matrices)."""

    def centred(v: np.ndarray) -> np.ndarray:
        d = np.abs(v[:, None] - v[None, :])
        return d - d.mean(axis=0) - d.mean(axis=1)[:, None] + d.mean()

    a, b = centred(x), centred(y)
    return math.sqrt((a * b).mean() / math.sqrt((a * a).mean() * (b * b).mean()))


def correlation_designs(n: int = 300) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    rng = np.random.default_rng(42)
    C = np.column_stack(
        [rng.integers(0, 13, n), rng.integers(0, 13, n), np.zeros(n, int), rng.integers(0, 3, n)]
    )
    return C, {"time": 2.0 * C[:, 0] + 1.0, "noise": rng.normal(size=n)}


def test_distance_correlation_of_dependent_independent_and_constant_variables() -> None:
    C, objectives = correlation_designs()
    result = distance_correlations(C, objectives, permutations=199, seed=3)
    assert_plain(result)
    res = result["results"]
    assert result["variables"] == ["gpu", "attention", "sparse", "convolution", "total_chiplets"]
    assert (result["n"], result["permutations"], result["seed"]) == (300, 199, 3)
    assert not result["subsampled"] and result["permutation_designs"] == 300
    # time is a linear function of the GPU count.
    assert res["gpu"]["time"]["dcor"] == pytest.approx(1.0)
    assert res["gpu"]["time"]["p_value"] == pytest.approx(1 / 200)
    assert res["gpu"]["time"]["p_value"] < 0.01
    # the attention count has nothing to do with time or the noise.
    assert res["attention"]["time"]["dcor"] < 0.12
    assert res["attention"]["time"]["p_value"] > 0.1
    assert res["gpu"]["noise"]["p_value"] > 0.1
    # no design has sparse chiplets: nothing to correlate.
    assert res["sparse"]["time"] == {"dcor": 0.0, "p_value": 1.0, "test_statistic": 0.0}
    for var in result["variables"]:
        for obj in result["objectives"]:
            x = C.sum(axis=1) if var == "total_chiplets" else C[:, result["variables"].index(var)]
            expected = 0.0 if np.ptp(x) == 0 else naive_dcor(x.astype(float), objectives[obj])
            assert res[var][obj]["dcor"] == pytest.approx(expected, abs=1e-9)
            assert 1 / 200 <= res[var][obj]["p_value"] <= 1
    # seeded: the same call gives the same p-values; another seed may differ but stays valid.
    assert distance_correlations(C, objectives, permutations=199, seed=3) == result


def test_shuffles_that_reproduce_the_statistic_count() -> None:
    # With four designs a perfect dependence is not significant: a twelfth of the shuffles
    # (the identity and the reversal) give the same distance correlation of 1.
    C = np.array([[0, 1, 0, 0], [1, 1, 0, 0], [2, 1, 0, 0], [3, 1, 0, 0]])
    result = distance_correlations(C, {"time": [0.0, 1.0, 2.0, 3.0]}, permutations=199)
    assert result["results"]["gpu"]["time"]["dcor"] == pytest.approx(1.0)
    assert 0.05 < result["results"]["gpu"]["time"]["p_value"] < 0.2
    assert result["results"]["attention"]["time"]["p_value"] == 1.0


def test_permutation_test_subsample_for_large_runs() -> None:
    C, objectives = correlation_designs(400)
    result = distance_correlations(C, objectives, permutations=49, permutation_cap=100)
    assert result["subsampled"] and result["permutation_designs"] == 100
    assert result["permutation_cap"] == 100
    gpu_noise = result["results"]["attention"]["noise"]
    assert gpu_noise["dcor"] == pytest.approx(
        naive_dcor(C[:, 1].astype(float), objectives["noise"]), abs=1e-9
    )
    assert gpu_noise["test_statistic"] != gpu_noise["dcor"]  # the subsample's own statistic
    assert result["results"]["gpu"]["time"]["p_value"] == pytest.approx(1 / 50)
    assert PERMUTATION_CAP == 2000


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"permutations": 0}, "permutations"),
        ({"permutations": 2.5}, "permutations"),
        ({"seed": -1}, "seed"),
        ({"permutation_cap": 1}, "permutation_cap"),
        ({"objectives": {}}, "objectives"),
        ({"objectives": {"time": [1.0, 2.0]}}, "objectives"),
        ({"objectives": {"time": [1.0, 2.0, float("inf")]}}, "objectives"),
        ({"compositions": [[1, 2, 3]] * 3}, "compositions"),
    ],
)
def test_correlation_parameters_are_validated(kwargs: dict[str, Any], field: str) -> None:
    args: dict[str, Any] = {
        "compositions": [[1, 0, 0, 0], [2, 0, 0, 0], [3, 0, 0, 0]],
        "objectives": {"time": [1.0, 2.0, 3.0]},
    } | kwargs
    with pytest.raises(InputError) as info:
        distance_correlations(args.pop("compositions"), args.pop("objectives"), **args)
    assert info.value.field == field


# -- Pareto analysis -----------------------------------------------------------------------------

TINY_F = np.array([[1.0, 10.0], [2.0, 4.0], [4.0, 2.5], [10.0, 1.0], [5.0, 5.0], [12.0, 12.0]])
TINY_C = np.array(
    [[4, 0, 0, 0], [2, 2, 0, 0], [1, 1, 1, 0], [0, 0, 1, 3], [3, 3, 3, 3], [1, 1, 1, 1]]
)
NAMES = ["execution_time_ms", "energy_mj"]


def test_front_analysis_of_a_tiny_set() -> None:
    ranks = pareto_ranks(TINY_F)
    assert ranks.tolist() == [1, 1, 1, 1, 2, 3]
    result = front_analysis(TINY_F, TINY_C, ranks, NAMES, reference=[13, 13])
    assert_plain(result)
    assert result["n"] == 6 and result["front_size"] == 4
    assert result["rank_distribution"] == {"1": 4, "2": 1, "3": 1}
    # Strips by time: 12 x 3 + 11 x 6 + 9 x 1.5 + 3 x 1.5.
    assert result["hypervolume"] == pytest.approx(36 + 66 + 13.5 + 4.5)
    assert result["reference_point"] == [13.0, 13.0] and result["reference_rule"] == "given"
    assert result["extremes"]["execution_time_ms"]["index"] == 0
    assert result["extremes"]["energy_mj"] == {
        "index": 3,
        "rank": 1,
        "gpu": 0,
        "attention": 0,
        "sparse": 1,
        "convolution": 3,
        "total_chiplets": 4,
        "execution_time_ms": 10.0,
        "energy_mj": 1.0,
    }
    # Scaled to [0, 1] over the front: (1/9, 3/9) is nearest the ideal point.
    assert result["knee"]["index"] == 1
    # Energy-delay products 10, 8, 10, 10, 25, 144.
    assert result["best_edp"]["index"] == 1 and result["best_edp"]["edp"] == 8.0
    composition = result["front_composition"]
    assert composition["gpu"] == {"mean": 1.75, "min": 0, "max": 4, "share_using": 0.75}
    assert composition["attention"] == {"mean": 0.75, "min": 0, "max": 2, "share_using": 0.5}
    assert composition["sparse"] == {"mean": 0.5, "min": 0, "max": 1, "share_using": 0.5}
    assert composition["convolution"] == {"mean": 0.75, "min": 0, "max": 3, "share_using": 0.25}
    assert composition["total_chiplets"] == {"mean": 3.75, "min": 3, "max": 4}


def test_front_analysis_default_reference_and_no_edp() -> None:
    ranks = pareto_ranks(TINY_F)
    result = front_analysis(TINY_F, TINY_C, ranks, NAMES)
    # Worst 12 plus 0.1 x the range 11, in both objectives.
    assert result["reference_point"] == pytest.approx([13.1, 13.1])
    assert result["hypervolume"] == pytest.approx(12.1 * 3.1 + 11.1 * 6 + 9.1 * 1.5 + 3.1 * 1.5)
    other = front_analysis(TINY_F, TINY_C, ranks, ["execution_time_ms", "area_mm2"])
    assert other["best_edp"] is None
    assert set(other["extremes"]) == {"execution_time_ms", "area_mm2"}


def test_front_extremes_and_edp_break_ties() -> None:
    F = np.array([[1.0, 3.0, 6.0], [1.0, 4.0, 4.0], [1.0, 3.0, 5.0], [3.0, 1.0, 1.0]])
    C = np.ones((4, 4), dtype=int)
    result = front_analysis(F, C, pareto_ranks(F), ["execution_time_ms", "energy_mj", "area_mm2"])
    assert result["rank_distribution"] == {"1": 3, "2": 1}  # row 0 is dominated by row 2
    # Rows 1 and 2 tie on time among the front; row 2 has the better energy.
    assert result["extremes"]["execution_time_ms"]["index"] == 2
    assert result["extremes"]["energy_mj"]["index"] == 3
    assert result["extremes"]["area_mm2"]["index"] == 3
    # Rows 0, 2 and 3 have EDP 3: the lower rank wins, then the lower index.
    assert result["best_edp"]["index"] == 2 and result["best_edp"]["edp"] == 3.0


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ((TINY_F, TINY_C[:5], [1, 1, 1, 1, 2, 3], NAMES), "compositions"),
        ((TINY_F, TINY_C, [1, 1, 1, 1, 2], NAMES), "ranks"),
        ((TINY_F, TINY_C, [0, 1, 1, 1, 2, 3], NAMES), "ranks"),
        ((TINY_F, TINY_C, [2, 2, 2, 2, 2, 3], NAMES), "ranks"),
        ((TINY_F, TINY_C, [1, 1, 1, 1, 2, 3], ["a"]), "objective_names"),
        ((TINY_F, TINY_C, [1, 1, 1, 1, 2, 3], ["a", "a"]), "objective_names"),
        ((TINY_F, TINY_C, [1, 1, 1, 1, 2, 3], ["gpu", "a"]), "objective_names"),
        ((np.zeros((0, 2)), np.zeros((0, 4), int), [], NAMES), "F"),
    ],
)
def test_front_analysis_validation(args: tuple[Any, ...], field: str) -> None:
    with pytest.raises(InputError) as info:
        front_analysis(*args)
    assert info.value.field == field
    with pytest.raises(InputError) as info:
        front_analysis(TINY_F, TINY_C, pareto_ranks(TINY_F), NAMES, reference=[1, 2, 3])
    assert info.value.field == "reference"


# -- sensitivity ---------------------------------------------------------------------------------

TIME_GAIN = (1.0, 2.0, 3.0, 4.0)
ENERGY_COST = (5.0, 6.0, 7.0, 8.0)


def linear(c: tuple[int, ...]) -> dict[str, float]:
    return {
        "time": 100.0 - sum(w * n for w, n in zip(TIME_GAIN, c, strict=True)),
        "energy": 10.0 + sum(e * n for e, n in zip(ENERGY_COST, c, strict=True)),
        "gpus": float(c[0]),
    }


class LinearRecorder:
    def __init__(self) -> None:
        self.calls: list[list[tuple[int, ...]]] = []

    def __call__(self, compositions: list[tuple[int, ...]]) -> list[dict[str, float]]:
        assert all(type(v) is int for c in compositions for v in c)
        self.calls.append(list(compositions))
        return [linear(c) for c in compositions]


def test_sensitivity_with_a_linear_model() -> None:
    designs = [(1, 0, 2, 0), (0, 0, 1, 0), (0, 0, 2, 0)]
    evaluate = LinearRecorder()
    space = DesignSpace(total_min=1, total_max=3)
    result = sensitivity([(c, linear(c)) for c in designs], evaluate, space=space)
    assert_plain(result)
    # One call; each new composition once; the given designs are never re-evaluated.
    assert len(evaluate.calls) == 1
    called = evaluate.calls[0]
    assert len(called) == len(set(called)) == result["evaluated"] == 10
    assert set(called) == {
        (2, 0, 2, 0),
        (1, 1, 2, 0),
        (1, 0, 3, 0),
        (1, 0, 1, 0),
        (1, 0, 2, 1),
        (0, 1, 1, 0),
        (0, 0, 1, 1),
        (0, 1, 2, 0),
        (0, 0, 3, 0),
        (0, 0, 2, 1),
    }
    assert result["n"] == 3 and result["objectives"] == ["time", "energy", "gpus"]
    assert result["space"] == space.to_dict()
    first = result["designs"][0]
    assert first["composition"] == {"gpu": 1, "attention": 0, "sparse": 2, "convolution": 0}
    assert first["metrics"] == {"time": 93.0, "energy": 29.0, "gpus": 1.0}
    # No attention or convolution chiplet to remove.
    moves = [(n["type"], n["direction"]) for n in first["neighbours"]]
    assert moves == [
        ("gpu", "add"),
        ("gpu", "remove"),
        ("attention", "add"),
        ("sparse", "add"),
        ("sparse", "remove"),
        ("convolution", "add"),
    ]
    for neighbour in first["neighbours"]:
        t = ["gpu", "attention", "sparse", "convolution"].index(neighbour["type"])
        step = 1 if neighbour["direction"] == "add" else -1
        assert neighbour["change"]["time"] == -TIME_GAIN[t] * step
        assert neighbour["change"]["energy"] == ENERGY_COST[t] * step
        assert neighbour["relative_change_pct"]["time"] == pytest.approx(
            -100 * TIME_GAIN[t] * step / 93
        )
        assert neighbour["relative_change_pct"]["energy"] == pytest.approx(
            100 * ENERGY_COST[t] * step / 29
        )
        total = sum(neighbour["composition"].values())
        assert neighbour["in_space"] is (total <= 3)
    removal = first["neighbours"][1]
    assert removal["among_designs"] and removal["composition"]["gpu"] == 0
    # The second design has one sparse chiplet: removing it would leave none.
    second = [(n["type"], n["direction"]) for n in result["designs"][1]["neighbours"]]
    assert ("sparse", "remove") not in second and len(second) == 4
    # A base value of 0 has no relative change (unless nothing changed).
    gpu_add = result["designs"][1]["neighbours"][0]
    assert gpu_add["relative_change_pct"]["gpus"] is None
    assert gpu_add["relative_change_pct"]["energy"] == pytest.approx(100 * 5 / 17)

    summary = result["summary"]
    assert summary["gpu"]["add"]["neighbours"] == 3
    assert summary["gpu"]["remove"]["neighbours"] == 1
    assert summary["attention"]["remove"] == {
        "neighbours": 0,
        "mean_change": {"time": None, "energy": None, "gpus": None},
        "mean_relative_change_pct": {"time": None, "energy": None, "gpus": None},
    }
    times = (93.0, 97.0, 94.0)
    assert summary["gpu"]["add"]["mean_change"]["time"] == -1.0
    assert summary["gpu"]["add"]["mean_relative_change_pct"]["time"] == pytest.approx(
        sum(-100 / t for t in times) / 3
    )
    assert summary["gpu"]["add"]["mean_relative_change_pct"]["gpus"] == pytest.approx(100.0)
    assert summary["sparse"]["remove"]["neighbours"] == 2
    assert summary["sparse"]["remove"]["mean_change"]["energy"] == -7.0
    assert summary["convolution"]["add"]["mean_relative_change_pct"]["energy"] == pytest.approx(
        (800 / 29 + 800 / 17 + 800 / 24) / 3
    )


def test_sensitivity_without_space_or_new_neighbours() -> None:
    evaluate = LinearRecorder()
    # (0,0,0,1)'s only neighbours are the additions; all of them are given designs.
    single = (0, 0, 0, 1)
    designs = [single, (1, 0, 0, 1), (0, 1, 0, 1), (0, 0, 1, 1), (0, 0, 0, 2)]
    result = sensitivity([(c, linear(c)) for c in designs[:1]], evaluate, objectives=["time"])
    assert result["space"] is None and result["evaluated"] == 4
    assert all(n["in_space"] is None for n in result["designs"][0]["neighbours"])
    evaluate = LinearRecorder()
    given = [(c, linear(c) | {"time": 0.0}) for c in designs]  # given metrics are used as given
    result = sensitivity(given, evaluate, objectives=["time"])
    first = result["designs"][0]["neighbours"]
    assert [n["change"]["time"] for n in first] == [0.0, 0.0, 0.0, 0.0]
    assert all(n["among_designs"] for n in first)
    assert result["evaluated"] == len(evaluate.calls[0])
    assert not set(evaluate.calls[0]) & set(designs)
    empty = sensitivity([], LinearRecorder())
    assert empty["n"] == 0 and empty["designs"] == [] and empty["evaluated"] == 0


def test_sensitivity_validation() -> None:
    for designs, kwargs, field in [
        ([((1, 2, 3), {"time": 1.0})], {}, "designs"),
        ([((0, 0, 0, 0), {"time": 1.0})], {}, "designs"),
        ([((1, 0, 0, 0), [1.0])], {}, "designs"),
        ([((1, 0, 0, 0), {"time": 1.0})], {"objectives": ["energy"]}, "objectives"),
        ([((1, 0, 0, 0), {"time": 1.0})], {"space": {"lower": [0] * 4}}, "space"),
    ]:
        with pytest.raises(InputError) as info:
            sensitivity(designs, LinearRecorder(), **kwargs)
        assert info.value.field == field
    with pytest.raises(ValueError, match="results"):
        sensitivity([((1, 0, 0, 0), {"time": 1.0})], lambda cs: [])


# -- ground truth --------------------------------------------------------------------------------

Z = np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]])


def test_igd_plus_by_hand() -> None:
    assert igd_plus(Z, Z) == 0.0
    assert igd_plus(Z - 1, Z) == 0.0  # a dominating front covers the reference
    # Shifted by (0.5, 0.5): each reference point's nearest is its own shifted copy.
    assert igd_plus(Z + 0.5, Z, normalize=False) == pytest.approx(math.sqrt(0.5))
    # Normalised by the reference front's ranges (2 and 2): a shift of (0.25, 0.25).
    assert igd_plus(Z + 0.5, Z) == pytest.approx(math.sqrt(0.125))
    # One found point (1, 1): distances (1, 0), 0, (0, 1) -> mean 2/3 raw, 1/3 normalised.
    assert igd_plus([[1.0, 1.0]], Z, normalize=False) == pytest.approx(2 / 3)
    assert igd_plus([[1.0, 1.0]], Z) == pytest.approx(1 / 3)
    with pytest.raises(InputError) as info:
        igd_plus(np.zeros((0, 2)), Z)
    assert info.value.field == "front"
    with pytest.raises(InputError) as info:
        igd_plus(Z, np.zeros((0, 2)))
    assert info.value.field == "reference_front"
    with pytest.raises(InputError) as info:
        igd_plus([[1.0, 2.0, 3.0]], Z)
    assert info.value.field == "front"


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 10), st.floats(0, 10)), min_size=1, max_size=12))
def test_igd_plus_properties(points: list[tuple[float, float]]) -> None:
    P = np.array(points)
    assert igd_plus(P, P) == 0.0
    assert igd_plus(P[:1], P) >= 0.0
    # Adding points never makes the found set worse.
    assert igd_plus(np.vstack([P[:1], P + 1]), P) <= igd_plus(P[:1], P) + 1e-12
    # Part of a set covers at most all of its hypervolume.
    ref = P.max(axis=0) + 1
    assert 0 < hypervolume_ratio(P[: len(P) // 2 + 1], P, ref) <= 1 + 1e-12
    assert hypervolume_ratio(P, P, ref) == pytest.approx(1.0)


def test_hypervolume_ratio_and_share_by_hand() -> None:
    # True front's volume against (3, 3): 3 + 2 + 1 = 6; (1, 1) alone: 2 x 2 = 4.
    assert hypervolume_ratio([[1.0, 1.0]], Z, [3, 3]) == pytest.approx(4 / 6)
    assert hypervolume_ratio(Z, Z, [3, 3]) == 1.0
    assert hypervolume_ratio(np.zeros((0, 2)), Z, [3, 3]) == 0.0
    with pytest.raises(InputError) as info:
        hypervolume_ratio(Z, Z, [0, 0])
    assert info.value.field == "ref"
    true = [(1, 1, 1, 1), (2, 2, 0, 0), (0, 0, 4, 0)]
    found = [(1, 1, 1, 1), (0, 0, 4, 0), (5, 0, 0, 0), (1, 1, 1, 1)]
    assert true_front_share(found, true) == pytest.approx(2 / 3)
    assert true_front_share([], true) == 0.0
    with pytest.raises(InputError) as info:
        true_front_share(found, [])
    assert info.value.field == "true_front_compositions"


def test_convergence_by_hand() -> None:
    A, B, C, D, X = (1, 0, 0, 0), (0, 1, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (1, 1, 1, 1)
    true_F = np.vstack([Z, [[3.0, 3.0]]])  # the dominated row is dropped
    true_C = [C, B, D, X]
    generations = [
        (0, [(A, (1.0, 2.0)), (X, (3.0, 3.0))]),
        (1, [(B, (1.0, 1.0)), (A, (0.5, 0.5))]),  # A again: its first vector is kept
        (3, [(C, (0.0, 2.0)), (D, (2.0, 0.0))]),
    ]
    result = convergence(true_F, true_C, generations)
    assert_plain(result)
    assert result["true_front_size"] == 3 and result["n"] == 5
    # Reference: worst 2 plus 0.1 x range 2 in both objectives; true volume 0.44 + 1.2 + 0.2.
    assert result["reference_point"] == pytest.approx([2.2, 2.2])
    assert result["true_hypervolume"] == pytest.approx(1.84)
    g0, g1, g3 = result["generations"]
    assert [g["generation"] for g in result["generations"]] == [0, 1, 3]
    assert (g0["designs_seen"], g0["front_size"]) == (2, 1)
    assert g0["hypervolume_ratio"] == pytest.approx(1.2 * 0.2 / 1.84)
    assert g0["igd_plus"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert (g0["true_front_found"], g0["true_front_share"]) == (0, 0.0)
    assert (g1["designs_seen"], g1["front_size"]) == (3, 1)
    assert g1["hypervolume_ratio"] == pytest.approx(1.2 * 1.2 / 1.84)
    assert g1["igd_plus"] == pytest.approx(1 / 3)
    assert g1["true_front_share"] == pytest.approx(1 / 3)
    assert g3["hypervolume_ratio"] == pytest.approx(1.0)
    assert g3["igd_plus"] == 0.0 and g3["true_front_share"] == 1.0
    assert result["final"] == g3
    # A given reference point is used as given.
    given = convergence(true_F, true_C, generations[:1], ref=[3, 3])
    assert given["reference_point"] == [3.0, 3.0] and given["reference_rule"] == "given"
    assert given["final"]["hypervolume_ratio"] == pytest.approx(2 / 6)
    assert convergence(true_F, true_C, [])["final"] is None


def test_convergence_validation() -> None:
    A = (1, 0, 0, 0)
    for args, field in [
        ((np.zeros((0, 2)), np.zeros((0, 4), int), []), "true_F"),
        ((Z, [A, A], []), "true_compositions"),
        ((Z, [A] * 3, [(1, []), (1, [])]), "designs_by_generation"),
        ((Z, [A] * 3, [(0, [(A, (1.0, 2.0, 3.0))])]), "designs_by_generation"),
        ((Z, [A] * 3, [(0, [((1, 2), (1.0, 2.0))])]), "designs_by_generation"),
        ((Z, [A] * 3, "x"), "designs_by_generation"),
    ]:
        with pytest.raises(InputError) as info:
            convergence(*args)
        assert info.value.field == field
    with pytest.raises(InputError) as info:
        convergence(Z, [A] * 3, [], ref=[0, 0])
    assert info.value.field == "ref"
