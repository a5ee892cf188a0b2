"""Runs executed through the task queue: lifecycle, reproducibility, fronts, failures."""

from __future__ import annotations

import numpy as np
import pytest
from django.utils import timezone

from chiplet_dse.errors import ConflictError, InputError, NotFoundError
from chiplet_dse.model import Design, evaluate, load_experiment
from chiplet_dse.optimize import DesignSpace, pareto_front_mask
from chiplet_dse.server.runs import services
from chiplet_dse.server.runs.executor import execute
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun, RunStatus

from .conftest import designs_of

pytestmark = pytest.mark.django_db


def test_a_run_executes_and_stores_every_generation(make_run):
    run = make_run()
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert (run.current_generation, run.total_generations) == (3, 3)
    rows = designs_of(run)
    assert {r[6] for r in rows} == {1, 2, 3}
    assert run.total_designs_evaluated == len(rows) == run.evaluations
    assert run.pareto_front_size == sum(1 for r in rows if r[7] == 1) > 0
    assert run.started_at <= run.completed_at and run.execution_time_s > 0
    assert run.attempts == 1 and run.error_message == ""
    assert run.config["workloads"] if "workloads" in run.config else run.config["experiment"]
    workload = run.config["experiment"]["workloads"][0]
    assert workload["source"] == "builtin:dlrm/rmc1/512" and len(workload["sha256"]) == 64
    # Every stored value is what the model computes for that composition.
    g, a, s, c, t, e, *_ = rows[0]
    direct = evaluate(load_experiment("rmc1-test"), Design(g, a, s, c), details=False)
    assert (t, e) == (direct.execution_time_ms, direct.energy_mj)


def test_same_seed_same_designs_and_front(make_run):
    a, b = make_run(seed=7), make_run(seed=7)
    assert a.run_id != b.run_id
    assert designs_of(a) == designs_of(b)
    assert designs_of(a) != designs_of(make_run(seed=8))


@pytest.mark.parametrize("algorithm", ["GA", "MOEA"])
def test_other_algorithms_complete(make_run, algorithm):
    run = make_run(algorithm=algorithm)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.total_designs_evaluated > 0


def test_full_factorial_stores_every_composition_and_the_true_front(make_run, settings):
    settings.CHIPLET_DSE_EVAL_WORKERS = 2
    run = make_run(experiment="gpt-j-second-65536", algorithm="FF", population_size=100)
    run.refresh_from_db()
    rows = designs_of(run)
    assert run.status == RunStatus.COMPLETED and len(rows) == 455
    assert {r[:4] for r in rows} == set(DesignSpace().compositions())
    points = np.array([r[4:6] for r in rows])
    assert [r[7] == 1 for r in rows] == pareto_front_mask(points).tolist()


def test_pause_after_a_generation_then_resume_continues_from_there(make_run, on_generation):
    reference = designs_of(make_run(seed=3, generations=4))
    on_generation(2, services.pause_run)
    run = make_run(seed=3, generations=4)
    run.refresh_from_db()
    assert run.status == RunStatus.PAUSED and run.current_generation == 2
    paused = designs_of(run)
    assert {r[6] for r in paused} == {1, 2}
    services.resume_run(run.run_id)  # executed immediately by the test task backend
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED and run.attempts == 2
    # Continued from the stored population: the same designs as an uninterrupted run.
    assert designs_of(run) == reference


def test_stop_keeps_every_design_found(make_run, on_generation):
    on_generation(1, services.stop_run)
    run = make_run()
    run.refresh_from_db()
    assert run.status == RunStatus.CANCELLED and run.completed_at is not None
    assert run.total_designs_evaluated == len(designs_of(run)) > 0
    with pytest.raises(ConflictError):
        services.resume_run(run.run_id)


def test_queued_runs_pause_stop_and_delete_at_once(make_run):
    run = make_run(enqueue=False)
    assert services.pause_run(run.run_id).status == RunStatus.PAUSED
    assert services.stop_run(run.run_id).status == RunStatus.CANCELLED
    assert execute(run.run_id).startswith("skipped")
    services.delete_run(run.run_id)
    assert not OptimizationRun.objects.filter(run_id=run.run_id).exists()
    with pytest.raises(NotFoundError):
        services.get_run(run.run_id)


def test_a_running_run_cannot_be_deleted(make_run, on_generation):
    seen = []

    def try_delete(run_id):
        with pytest.raises(ConflictError, match="stop it"):
            services.delete_run(run_id)
        seen.append(run_id)

    on_generation(1, try_delete)
    run = make_run()
    assert seen == [run.run_id]


def test_errors_are_stored_on_the_run(make_run, monkeypatch):
    def broken(self, compositions):
        raise InputError("the model refused this design", field="design")

    monkeypatch.setattr("chiplet_dse.optimize.ModelEvaluator.__call__", broken)
    run = make_run()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert "the model refused this design" in run.error_message
    assert run.completed_at is not None


def test_internal_errors_are_stored_too(make_run, monkeypatch):
    def crash(self, compositions):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("chiplet_dse.optimize.ModelEvaluator.__call__", crash)
    run = make_run()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "ZeroDivisionError: boom" in run.error_message


def test_stale_running_runs_are_requeued_and_finish_with_their_designs(make_run, on_generation):
    """A worker that died (no heartbeat) leaves a run 'running'; recovery resumes it."""
    on_generation(1, services.pause_run)
    run = make_run(seed=5)  # paused after generation 1 with its designs
    first = designs_of(run)
    long_ago = timezone.now() - timezone.timedelta(hours=1)
    OptimizationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, heartbeat_at=long_ago, control=""
    )  # as if the worker had been killed during generation 2
    assert services.recover_stale_runs() == [run.run_id]
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert "stopped responding" in run.error_message or run.error_message == ""
    assert [r[:7] for r in designs_of(run)[: len(first)]] == [r[:7] for r in first]
    assert services.recover_stale_runs() == []


def test_too_many_attempts_fail_the_run(make_run, settings):
    run = make_run(enqueue=False)
    OptimizationRun.objects.filter(pk=run.pk).update(
        status=RunStatus.RUNNING, attempts=settings.CHIPLET_DSE_MAX_ATTEMPTS,
        heartbeat_at=timezone.now() - timezone.timedelta(hours=1),
    )  # fmt: skip
    services.recover_stale_runs()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "gave up" in run.error_message


def test_a_run_is_claimed_only_once(make_run):
    run = make_run(enqueue=False)
    assert execute(run.run_id) == RunStatus.COMPLETED
    assert execute(run.run_id).startswith("skipped")
    run.refresh_from_db()
    assert run.attempts == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"algorithm": "SIMULATED"}, "algorithm"),
        ({"population_size": 1}, "population_size"),
        ({"generations": 0}, "generations"),
        ({"experiment": "nope"}, None),
        ({"name": " "}, "name"),
        (
            {
                "space": {
                    "lower": [0, 0, 0, 0],
                    "upper": [1, 1, 1, 1],
                    "total_min": 12,
                    "total_max": 12,
                }
            },
            None,
        ),
        ({"objectives": ["energy_mj"]}, "objectives"),
        ({"goal": "speed"}, "goal"),
    ],
)
def test_bad_requests_create_nothing(make_run, overrides, field):
    with pytest.raises(InputError) as info:
        make_run(**overrides)
    if field:
        assert info.value.field == field
    assert not OptimizationRun.objects.exists()
    assert not DesignPoint.objects.exists()


def test_a_worker_that_lost_its_run_stops_writing(make_run, on_generation):
    """If a run was handed to another attempt (its worker presumed dead), the old worker's
    next generation is refused and it does not finish the run."""

    def taken_over(run_id):
        OptimizationRun.objects.filter(run_id=run_id).update(attempts=2)

    on_generation(1, taken_over)
    run = make_run(enqueue=False)
    assert execute(run.run_id) == "lost"
    run.refresh_from_db()
    assert run.status == RunStatus.RUNNING and run.attempts == 2  # still the new owner's
    assert {r[6] for r in designs_of(run)} == {1}
