"""The run store: ids, batches of designs, Pareto ranks and counters always consistent."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from chiplet_dse.errors import InputError
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun
from chiplet_dse.server.runs.store import NewDesign, add_designs, create_unique, new_run_id

pytestmark = pytest.mark.django_db


def make_run(**fields) -> OptimizationRun:
    defaults = dict(name="t", algorithm="NSGA2", population_size=4, generations=2,
                    objectives=["execution_time_ms", "energy_mj"])  # fmt: skip
    defaults.update(fields)
    return create_unique(OptimizationRun, "run_id", new_run_id(), **defaults)


def design(c, t, e, gen=0):
    return NewDesign(tuple(c), {"execution_time_ms": t, "energy_mj": e, "area_mm2": 25.0 * sum(c)},
                     gen)  # fmt: skip


def brute_force_ranks(points):
    """Rank 1 = not dominated; rank k = not dominated once ranks < k are removed."""
    remaining = dict(enumerate(points))
    ranks, rank = {}, 1
    while remaining:
        front = [i for i, p in remaining.items()
                 if not any(all(q[k] <= p[k] for k in range(2)) and q != p
                            for q in remaining.values())]  # fmt: skip
        for i in front:
            ranks[i] = rank
            del remaining[i]
        rank += 1
    return [ranks[i] for i in range(len(points))]


def assert_consistent(run: OptimizationRun) -> None:
    run.refresh_from_db()
    stored = list(DesignPoint.objects.filter(run=run).order_by("evaluation_order"))
    assert run.total_designs_evaluated == len(stored)
    assert run.pareto_front_size == sum(1 for d in stored if d.pareto_rank == 1)
    expected = brute_force_ranks([(d.execution_time_ms, d.energy_mj) for d in stored])
    assert [d.pareto_rank for d in stored] == expected
    assert all(d.is_pareto_optimal == (d.pareto_rank == 1) for d in stored)
    assert [d.evaluation_order for d in stored] == list(range(len(stored)))


def test_run_id_looks_like_the_spec():
    assert new_run_id(datetime(2025, 8, 2, 20, 51, 53, tzinfo=UTC)) == "run_20250802_205153"


def test_two_runs_in_the_same_second_get_distinct_ids():
    base = new_run_id(datetime(2025, 8, 2, 20, 51, 53, tzinfo=UTC))
    ids = [create_unique(OptimizationRun, "run_id", base, name=f"r{i}", algorithm="GA",
                         population_size=2, generations=1).run_id for i in range(3)]  # fmt: skip
    assert ids == ["run_20250802_205153", "run_20250802_205153_2", "run_20250802_205153_3"]


def test_batches_are_ranked_and_counted():
    run = make_run()
    added = add_designs(run, [design((12, 0, 0, 0), 5.0, 5.0), design((0, 12, 0, 0), 4.0, 6.0),
                              design((0, 0, 12, 0), 6.0, 6.0)])  # fmt: skip
    assert added == 3
    assert_consistent(run)
    assert run.pareto_front_size == 2
    # A later generation dominates an earlier front member: its rank must change.
    add_designs(run, [design((3, 3, 3, 3), 3.0, 4.0, gen=1), design((6, 6, 0, 0), 4.0, 6.0, 1)])
    assert_consistent(run)
    front = set(
        DesignPoint.objects.filter(run=run, is_pareto_optimal=True).values_list(
            "gpu_count", "attention_count", "sparse_count", "convolution_count"
        )
    )
    assert front == {(3, 3, 3, 3)}


def test_a_composition_is_stored_once_per_run():
    run = make_run()
    add_designs(run, [design((12, 0, 0, 0), 5.0, 5.0), design((12, 0, 0, 0), 1.0, 1.0)])
    added = add_designs(run, [design((12, 0, 0, 0), 9.0, 9.0), design((1, 11, 0, 0), 2.0, 8.0)])
    assert added == 1
    assert DesignPoint.objects.filter(run=run).count() == 2
    assert DesignPoint.objects.get(run=run, gpu_count=12).execution_time_ms == 5.0
    assert_consistent(run)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, None])
def test_non_finite_objectives_are_rejected_and_nothing_is_written(bad):
    run = make_run()
    add_designs(run, [design((12, 0, 0, 0), 5.0, 5.0)])
    batch = [design((0, 12, 0, 0), 1.0, 1.0), design((0, 0, 12, 0), bad, 1.0)]
    with pytest.raises(InputError, match="execution_time_ms"):
        add_designs(run, batch)
    assert DesignPoint.objects.filter(run=run).count() == 1
    assert_consistent(run)


def test_run_updates_are_saved_with_the_batch():
    run = make_run()
    add_designs(run, [design((12, 0, 0, 0), 5.0, 5.0)], current_generation=1, evaluations=7,
                checkpoint=b"state")  # fmt: skip
    run.refresh_from_db()
    assert (run.current_generation, run.evaluations, bytes(run.checkpoint)) == (1, 7, b"state")


def test_three_objective_runs_rank_on_area_too():
    run = make_run(objectives=["execution_time_ms", "energy_mj", "area_mm2"])
    add_designs(run, [design((1, 0, 0, 0), 5.0, 5.0), design((2, 0, 0, 0), 4.0, 4.0)])
    run.refresh_from_db()
    # (2,0,0,0) is faster and cheaper but larger: both are Pareto-optimal in three objectives.
    assert run.pareto_front_size == 2


class TestRanksStayConsistent(HypothesisTestCase):
    @settings(max_examples=25, deadline=None)
    @given(st.lists(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), max_size=12),
                    min_size=1, max_size=4))  # fmt: skip
    def test_random_batches(self, batches):
        run = make_run()
        counter = 0
        for gen, batch in enumerate(batches):
            designs = []
            for t, e in batch:
                counter += 1
                comp = (counter, 0, 0, 0)
                designs.append(design(comp, float(t), float(e), gen))
            add_designs(run, designs)
            assert_consistent(run)


def test_store_speed_sanity():
    run = make_run()
    rng = np.random.default_rng(0)
    pts = rng.random((2000, 2))
    add_designs(run, [design((i, 1, 2, 3), float(t), float(e)) for i, (t, e) in enumerate(pts)])
    run.refresh_from_db()
    assert run.total_designs_evaluated == 2000
    assert run.pareto_front_size == int(
        sum(
            1
            for p in pts
            if not ((pts[:, 0] <= p[0]) & (pts[:, 1] <= p[1]) & (pts != p).any(1)).any()
        )
    )
