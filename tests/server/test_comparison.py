"""Comparing two runs: numbers checked by hand on small hand-made runs."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from chiplet_dse.errors import NotFoundError
from chiplet_dse.optimize.pareto import hypervolume
from chiplet_dse.server.analytics.comparison import compare, compare_runs, shared_objectives
from chiplet_dse.server.runs.models import OptimizationRun, RunStatus
from chiplet_dse.server.runs.store import NewDesign, add_designs, create_unique, new_run_id

pytestmark = pytest.mark.django_db

TE = ["execution_time_ms", "energy_mj"]
TEA = ["execution_time_ms", "energy_mj", "area_mm2"]


def run_with(designs, objectives=TE, **fields) -> OptimizationRun:
    """A completed run of ``designs``: ((g, a, s, c), time, energy[, area])."""
    defaults = dict(
        name="hand made",
        algorithm="NSGA2",
        population_size=4,
        generations=1,
        objectives=list(objectives),
        status=RunStatus.COMPLETED,
    )
    defaults.update(fields)
    run = create_unique(OptimizationRun, "run_id", new_run_id(), **defaults)
    batch = []
    for c, t, e, *area in designs:
        metrics = {
            "execution_time_ms": t,
            "energy_mj": e,
            "area_mm2": area[0] if area else 25.0 * sum(c),
        }
        batch.append(NewDesign(tuple(c), metrics))
    add_designs(run, batch)
    return run


# Run A's front: (1, 5), (2, 3), (4, 1); (5, 5) is dominated.
A = [
    ((0, 12, 0, 0), 1.0, 5.0),
    ((6, 6, 0, 0), 2.0, 3.0),
    ((4, 4, 4, 0), 4.0, 1.0),
    ((12, 0, 0, 0), 5.0, 5.0),
]
# Run B's front: (2, 2), (5, 0.5); it shares three compositions with A, one with A's values.
B = [
    ((12, 0, 0, 0), 6.0, 6.0),
    ((6, 6, 0, 0), 2.0, 3.0),
    ((0, 0, 12, 0), 2.0, 2.0),
    ((4, 4, 4, 0), 5.0, 0.5),
]


def front_values(summary) -> list[tuple[float, float]]:
    return sorted((d["execution_time_ms"], d["energy_mj"]) for d in summary["front"])


def test_two_hand_made_runs():
    a, b = run_with(A, name="A"), run_with(B, name="B")
    result = compare_runs(a, b)
    assert result["objectives"] == TE
    # Reference point over both fronts: worst + 10% of the range.
    # time: worst 5, range 5 - 1 = 4 -> 5.4; energy: worst 5, range 5 - 0.5 = 4.5 -> 5.45.
    ref = result["reference_point"]
    assert ref["execution_time_ms"] == pytest.approx(5.4)
    assert ref["energy_mj"] == pytest.approx(5.45)
    # Hypervolume by hand, strips in order of time:
    # A: (5.4-1)(5.45-5) + (5.4-2)(5-3) + (5.4-4)(3-1) = 1.98 + 6.8 + 2.8 = 11.58
    # B: (5.4-2)(5.45-2) + (5.4-5)(2-0.5) = 11.73 + 0.6 = 12.33
    ra, rb = result["run_a"], result["run_b"]
    assert ra["hypervolume"] == pytest.approx(11.58)
    assert rb["hypervolume"] == pytest.approx(12.33)
    # (2, 3) of A is dominated by (2, 2) of B; nothing of B is dominated by A.
    assert result["dominated_share"] == {"a_by_b": pytest.approx(1 / 3), "b_by_a": 0.0}
    assert result["common_designs"] == 3
    assert result["common_designs_identical"] == 1
    assert result["common_front_designs"] == [
        {"gpu_count": 4, "attention_count": 4, "sparse_count": 4, "convolution_count": 0}
    ]
    assert (ra["run_id"], ra["name"], ra["algorithm"]) == (a.run_id, "A", "NSGA2")
    assert (ra["designs"], ra["front_size"], rb["designs"], rb["front_size"]) == (4, 3, 4, 2)
    assert front_values(ra) == [(1.0, 5.0), (2.0, 3.0), (4.0, 1.0)]
    assert front_values(rb) == [(2.0, 2.0), (5.0, 0.5)]
    assert ra["front"][0] == {
        "gpu_count": 0,
        "attention_count": 12,
        "sparse_count": 0,
        "convolution_count": 0,
        "execution_time_ms": 1.0,
        "energy_mj": 5.0,
        "area_mm2": 300.0,
    }
    assert ra["best"]["execution_time_ms"]["attention_count"] == 12
    assert ra["best"]["energy_mj"]["execution_time_ms"] == 4.0
    assert rb["best"]["execution_time_ms"]["sparse_count"] == 12
    assert rb["best"]["energy_mj"]["energy_mj"] == 0.5
    comp = result["front_composition"]
    assert comp["a"] == pytest.approx(
        {
            "gpu_count": 10 / 3,
            "attention_count": 22 / 3,
            "sparse_count": 4 / 3,
            "convolution_count": 0.0,
        }
    )
    assert comp["b"] == pytest.approx(
        {"gpu_count": 2.0, "attention_count": 2.0, "sparse_count": 8.0, "convolution_count": 0.0}
    )
    diffs = result["differences"]
    assert "run A's front favours attention chiplets (mean 7.3 vs 2.0)" in diffs
    assert "run B's front favours sparse chiplets (mean 8.0 vs 1.3)" in diffs
    assert "run A's front favours GPU chiplets (mean 3.3 vs 2.0)" in diffs
    assert "33% of run A's front is dominated by run B's" in diffs
    assert "run A's front has 3 designs, run B's 2" in diffs
    assert any(d.startswith("run B's front covers more of the objective space") for d in diffs)
    assert any("run A found the fastest design" in d for d in diffs)
    assert any("run B found the most energy-efficient design" in d for d in diffs)
    assert (
        "2 of the 3 compositions both runs evaluated have different objective values "
        "in the two runs" in diffs
    )
    json.dumps(result, allow_nan=False)  # JSON-able
    # Swapping the runs swaps the roles.
    swapped = compare_runs(b, a)
    assert swapped["dominated_share"] == {"a_by_b": 0.0, "b_by_a": pytest.approx(1 / 3)}
    assert swapped["run_a"]["hypervolume"] == pytest.approx(12.33)


def test_compare_by_id_and_unknown_ids():
    a, b = run_with(A), run_with(B)
    assert compare(a.run_id, b.run_id) == compare_runs(a, b)
    with pytest.raises(NotFoundError):
        compare(a.run_id, "run_missing")


def test_the_number_of_queries_does_not_grow_with_the_runs(django_assert_max_num_queries):
    small_a, small_b = run_with(A), run_with(B)
    grid = [
        ((g, a, 12 - g - a, 0), 1.0 + g + 0.1 * a, 20.0 - g + 0.2 * a)
        for g in range(13)
        for a in range(13 - g)
    ]
    big_a, big_b = run_with(grid), run_with(grid[::2])
    with django_assert_max_num_queries(8):
        compare_runs(small_a, small_b)
    with django_assert_max_num_queries(8):
        result = compare_runs(big_a, big_b)
    assert result["common_designs"] == len(grid[::2]) == result["common_designs_identical"]


def test_three_shared_objectives_hand_computed():
    a = run_with([((12, 0, 0, 0), 1.0, 1.0, 1.0)], TEA)
    b = run_with([((0, 12, 0, 0), 2.0, 2.0, 2.0)], TEA)
    result = compare_runs(a, b)
    assert result["objectives"] == TEA
    # Reference: worst 2 plus 10% of the range 1 -> 2.1 per objective.
    assert result["reference_point"] == pytest.approx(dict.fromkeys(TEA, 2.1))
    assert result["run_a"]["hypervolume"] == pytest.approx(1.1**3)
    assert result["run_b"]["hypervolume"] == pytest.approx(0.1**3)
    assert result["dominated_share"] == {"a_by_b": 0.0, "b_by_a": 1.0}
    assert result["run_a"]["best"]["area_mm2"]["area_mm2"] == 1.0


def test_a_three_objective_run_is_compared_on_the_shared_two():
    # (3, 3) survives A's three-objective front only through its small area.
    designs = [
        ((12, 0, 0, 0), 1.0, 5.0, 300.0),
        ((0, 12, 0, 0), 2.0, 2.0, 300.0),
        ((0, 0, 12, 0), 3.0, 3.0, 100.0),
        ((0, 0, 0, 12), 4.0, 1.0, 300.0),
        ((6, 6, 0, 0), 4.0, 1.0, 300.0),
    ]
    a = run_with(designs, TEA)
    assert a.pareto_front_size == 5
    b = run_with(B)
    assert shared_objectives(a, b) == TE
    result = compare_runs(a, b)
    assert result["objectives"] == TE
    # The two-objective front, duplicates (4, 1) included.
    assert front_values(result["run_a"]) == [(1.0, 5.0), (2.0, 2.0), (4.0, 1.0), (4.0, 1.0)]
    F = np.array(front_values(result["run_a"]))
    ref = [result["reference_point"][o] for o in TE]
    assert result["run_a"]["hypervolume"] == pytest.approx(hypervolume(F, ref))


def test_a_run_ranked_on_other_objectives_gets_its_front_computed():
    # A is ranked on time and area; compared with B, time and energy are used, so A's
    # time–energy front is computed from all its designs.
    designs = [
        ((12, 0, 0, 0), 1.0, 9.0, 300.0),
        ((0, 12, 0, 0), 1.0, 8.0, 200.0),
        ((0, 0, 12, 0), 2.0, 8.0, 100.0),
        ((0, 0, 0, 12), 3.0, 4.0, 900.0),
        ((6, 6, 0, 0), 3.0, 4.0, 900.0),
        ((0, 6, 6, 0), 5.0, 4.5, 50.0),
        ((0, 0, 6, 6), 6.0, 1.0, 900.0),
    ]
    a = run_with(designs, ["execution_time_ms", "area_mm2"])
    b = run_with(B, ["execution_time_ms", "energy_mj"])
    assert shared_objectives(a, b) == TE
    result = compare_runs(a, b)
    brute = sorted(
        (t, e)
        for _, t, e, _ in designs
        if not any(t2 <= t and e2 <= e and (t2, e2) != (t, e) for _, t2, e2, _ in designs)
    )
    assert (
        front_values(result["run_a"]) == brute == [(1.0, 8.0), (3.0, 4.0), (3.0, 4.0), (6.0, 1.0)]
    )


def test_a_run_without_designs():
    a, empty = run_with(A), run_with([])
    result = compare_runs(a, empty)
    assert result["run_b"]["front"] == [] and result["run_b"]["hypervolume"] == 0.0
    assert result["run_b"]["best"] == {}
    assert result["dominated_share"] == {"a_by_b": 0.0, "b_by_a": None}
    assert result["front_composition"]["b"] == dict.fromkeys(
        ("gpu_count", "attention_count", "sparse_count", "convolution_count")
    )
    assert result["run_a"]["hypervolume"] > 0
    assert result["common_designs"] == 0
    json.dumps(result, allow_nan=False)
    both_empty = compare_runs(run_with([]), run_with([]))
    assert both_empty["reference_point"] is None
    assert both_empty["run_a"]["hypervolume"] == both_empty["run_b"]["hypervolume"] == 0.0
    assert both_empty["differences"] == ["no notable differences: the runs' fronts are alike"]


def test_identical_runs_have_no_differences():
    a, b = run_with(A), run_with(A)
    result = compare_runs(a, b)
    assert result["dominated_share"] == {"a_by_b": 0.0, "b_by_a": 0.0}
    assert result["run_a"]["hypervolume"] == result["run_b"]["hypervolume"]
    assert len(result["common_front_designs"]) == 3
    assert result["differences"] == ["no notable differences: the runs' fronts are alike"]
    # Reference from A's front alone: (4 + 0.3, 5 + 0.4); 3.3*0.4 + 2.3*2 + 0.3*2 = 6.52.
    assert math.isclose(result["run_a"]["hypervolume"], 6.52)


def test_differences_mention_different_workloads_and_libraries():
    a = run_with(A, trace_name="dlrm/rmc1/512*1", experiment="rmc1-test")
    b = run_with(
        A, trace_name="gpt/gpt-j-first/1024*1", experiment="gpt", model="CUSTOM", algorithm="MOEA"
    )
    diffs = compare_runs(a, b)["differences"]
    assert any(
        "different workloads (dlrm/rmc1/512*1 vs gpt/gpt-j-first/1024*1)" in d for d in diffs
    )
    assert "the runs use different chiplet libraries (CASCADE vs CUSTOM)" in diffs
    assert "run A uses NSGA2, run B MOEA" in diffs
