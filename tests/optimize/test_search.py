"""The search engine on a cheap synthetic model: reproducibility, caching, resuming, quality."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np
import pytest

from chiplet_dse.errors import InputError
from chiplet_dse.model import load_experiment
from chiplet_dse.optimize import (
    ALGORITHMS,
    DesignSpace,
    ModelEvaluator,
    Search,
    SearchConfig,
    pareto_front_mask,
    run_search,
    scalar_value,
)

from .synthetic import Recorder, metrics

SMALL = {"NSGA2": (10, 6), "GA": (10, 6), "MOEA": (10, 6), "FF": (100, 1)}


def config(algorithm: str, seed: int = 0, **kwargs) -> SearchConfig:
    pop, gens = SMALL[algorithm]
    return SearchConfig(algorithm, pop, gens, seed, **kwargs)


def trace_steps(search: Search) -> Iterator[tuple]:
    """Everything a server would store, generation by generation: counters and new designs."""
    while (g := search.step()) is not None:
        yield (
            g.index,
            g.proposed,
            g.evaluations,
            g.done,
            [(e.composition, e.generation) for e in g.new],
        )


def trace(search: Search) -> list[tuple]:
    return list(trace_steps(search))


def all_designs() -> list[tuple[int, int, int, int]]:
    return list(DesignSpace().compositions())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_same_seed_same_designs(algorithm: str) -> None:
    first = trace(Search(config(algorithm, seed=7), Recorder()))
    assert first == trace(Search(config(algorithm, seed=7), Recorder()))
    assert len(first) == Search(config(algorithm), Recorder()).total_generations


@pytest.mark.parametrize("algorithm", ["NSGA2", "GA", "MOEA"])
def test_different_seeds_differ(algorithm: str) -> None:
    runs = [
        [e.composition for e in run_search(config(algorithm, seed=s), Recorder())] for s in (1, 2)
    ]
    assert runs[0] != runs[1]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "space",
    [DesignSpace(), DesignSpace((1, 0, 2, 0), (6, 3, 8, 5), 4, 15)],
    ids=["default", "bounded"],
)
def test_proposals_are_feasible_and_evaluated_once(algorithm: str, space: DesignSpace) -> None:
    recorder = Recorder()  # fails the test if a design is evaluated twice
    search = Search(config(algorithm, space=space), recorder)
    generations = list(search)
    for call in recorder.calls:
        assert all(space.contains(c) for c in call)
    new = [e.composition for g in generations for e in g.new]
    assert new == [c for call in recorder.calls for c in call]
    assert generations[-1].evaluations == len(new) == search.evaluations
    for g in generations:
        assert 0 < g.proposed <= search.config.population_size
        assert len(g.new) <= g.proposed
        assert all(e.metrics == metrics(e.composition) for e in g.new)
    assert search.step() is None and search.finished


def test_full_factorial_evaluates_the_space_once() -> None:
    recorder = Recorder()
    search = Search(SearchConfig("FF", 40, 1, 0), recorder)
    assert search.total_generations == math.ceil(455 / 40) == 12
    designs = [e for g in search for e in g.new]
    assert [e.composition for e in designs] == all_designs()  # 455, lexicographic
    assert [len(call) for call in recorder.calls] == [40] * 11 + [15]
    # Its front is the true front of the space.
    F = np.array([[e.metrics["execution_time_ms"], e.metrics["energy_mj"]] for e in designs])
    truth = np.array(
        [[metrics(c)["execution_time_ms"], metrics(c)["energy_mj"]] for c in all_designs()]
    )
    assert pareto_front_mask(F).tolist() == pareto_front_mask(truth).tolist()


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "objectives",
    [("execution_time_ms", "energy_mj"), ("execution_time_ms", "energy_mj", "area_mm2")],
)
def test_resume_after_any_generation_equals_the_uninterrupted_run(
    algorithm: str, objectives: tuple[str, ...]
) -> None:
    space = DesignSpace(total_min=8, total_max=12)  # area varies, so 3 objectives conflict
    cfg = config(algorithm, seed=3, space=space, objectives=objectives)
    if algorithm == "FF":
        cfg = SearchConfig("FF", 250, 1, 3, space=space, objectives=objectives)
    reference = trace(Search(cfg, Recorder()))
    assert len(reference) > 1
    for stop in range(len(reference) + 1):
        first = Search(cfg, Recorder())
        head = [s for _, s in zip(range(stop), trace_steps(first), strict=False)]
        known = {c: metrics(c) for *_, new in head for c, _ in new}
        # A fresh process: the config comes back from JSON, the checkpoint from storage.
        stored = SearchConfig.from_dict(json.loads(json.dumps(cfg.to_dict())))
        resumed = Search(stored, Recorder(), known=known, checkpoint=bytes(first.checkpoint()))
        assert resumed.generation == stop
        assert head + trace(resumed) == reference, f"differs after resuming at {stop}"


def test_ga_improves_its_scalar() -> None:
    edp = {c: scalar_value(metrics(c), "edp") for c in all_designs()}
    search = Search(SearchConfig("GA", 20, 10, 0, scalar="edp"), Recorder())
    best_so_far = []
    best = math.inf
    for g in search:
        best = min([best, *(scalar_value(e.metrics, "edp") for e in g.new)])
        best_so_far.append(best)
    assert best_so_far == sorted(best_so_far, reverse=True)
    assert best_so_far[-1] < best_so_far[0]
    assert best_so_far[-1] <= sorted(edp.values())[2]  # among the three best of 455


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_nsga2_finds_most_of_the_true_front(seed: int) -> None:
    space = all_designs()
    F = np.array([[metrics(c)["execution_time_ms"], metrics(c)["energy_mj"]] for c in space])
    front = {space[i] for i in np.flatnonzero(pareto_front_mask(F))}
    found = {e.composition for e in run_search(SearchConfig("NSGA2", 20, 10, seed), Recorder())}
    assert len(found) < 455 / 2  # it did not just try everything
    assert len(front & found) >= 0.8 * len(front)


def test_space_within_one_population_is_one_generation() -> None:
    space = DesignSpace(upper=(2, 2, 0, 0), total_min=1, total_max=4)  # 8 designs
    for algorithm in ALGORITHMS:
        search = Search(SearchConfig(algorithm, 10, 5, 0, space=space), Recorder())
        (generation,) = list(search)
        assert generation.done and generation.proposed == len(generation.new) == 8


def test_known_designs_are_not_evaluated_again() -> None:
    known = {c: metrics(c) for c in all_designs()[::2]}
    recorder = Recorder()
    plain = trace(Search(config("NSGA2"), Recorder()))
    seeded = Search(config("NSGA2"), recorder, known={tuple(c): m for c, m in known.items()})
    # The same search, with the cached designs left out of the new ones.
    assert [(i, p, d) for i, p, _, d, _ in trace(seeded)] == [(i, p, d) for i, p, _, d, _ in plain]
    assert recorder.seen and not recorder.seen & set(known)


def test_non_finite_metrics_fail_clearly_and_leave_the_search_intact() -> None:
    def broken(compositions):
        return [{**metrics(c), "energy_mj": math.nan} for c in compositions]

    search = Search(config("NSGA2"), Recorder())
    search.step()
    saved = search.checkpoint()
    search._evaluate = broken  # the model starts failing
    with pytest.raises(InputError, match="energy_mj") as err:
        search.step()
    assert err.value.field == "energy_mj"
    assert search.checkpoint() == saved and search.generation == 1
    # Repaired, the same object goes on exactly like an untroubled run.
    search._evaluate = lambda cs: [metrics(c) for c in cs]
    rest = trace(search)
    assert rest == trace(Search(config("NSGA2"), Recorder()))[1:]


def test_bad_evaluate_results_are_refused() -> None:
    with pytest.raises(ValueError, match="results"):
        Search(config("GA"), lambda cs: [metrics(c) for c in cs][:-1]).step()
    with pytest.raises(ValueError, match="energy_mj"):
        Search(config("GA"), lambda cs: [{"execution_time_ms": 1.0} for _ in cs]).step()
    with pytest.raises(InputError):
        Search(
            config("GA"), lambda cs: [{**metrics(c), "peak_power_w": math.inf} for c in cs]
        ).step()


def test_checkpoints_are_small_and_checked() -> None:
    search = Search(SearchConfig("NSGA2", 100, 3, 0), Recorder())
    list(search)
    assert len(search.checkpoint()) < 50_000
    with pytest.raises(InputError) as err:
        Search(config("NSGA2", seed=1), Recorder(), checkpoint=search.checkpoint())
    assert err.value.field == "checkpoint"
    with pytest.raises(InputError):
        Search(config("NSGA2"), Recorder(), checkpoint=b"not a checkpoint")
    # As a database driver may return it.
    stored = memoryview(search.checkpoint())
    finished = Search(SearchConfig("NSGA2", 100, 3, 0), Recorder(), checkpoint=stored)
    assert finished.finished and finished.step() is None
    assert finished.checkpoint() == search.checkpoint()
    with pytest.raises(InputError) as err:
        Search(config("NSGA2"), Recorder(), known={"3,3,3,3": metrics((3, 3, 3, 3))})
    assert err.value.field == "known"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"algorithm": "SPEA2"}, "algorithm"),
        ({"population_size": 1}, "population_size"),
        ({"population_size": 10**6}, "population_size"),
        ({"population_size": 2.5}, "population_size"),
        ({"generations": 0}, "generations"),
        ({"generations": 10**6}, "generations"),
        ({"seed": -1}, "seed"),
        ({"seed": "1"}, "seed"),
        ({"objectives": ("execution_time_ms",)}, "objectives"),
        ({"objectives": ("execution_time_ms", "execution_time_ms")}, "objectives"),
        ({"objectives": ("execution_time_ms", "peak_power_w")}, "objectives"),
        ({"objectives": "execution_time_ms"}, "objectives"),
        ({"scalar": "power"}, "scalar"),
        ({"space": "big"}, "space"),
        ({"space": {"lower": [0] * 4}}, "upper"),
        (
            {
                "algorithm": "FF",
                "space": DesignSpace(upper=(1024,) * 4, total_min=1, total_max=400),
            },
            "space",
        ),
    ],
)
def test_invalid_configs_name_the_field(kwargs: dict, field: str) -> None:
    args = {"algorithm": "NSGA2", "population_size": 10, "generations": 5, "seed": 0, **kwargs}
    with pytest.raises(InputError) as err:
        SearchConfig(**args)
    assert err.value.field == field


def test_config_dict_round_trip() -> None:
    cfg = SearchConfig(
        "MOEA", 30, 12, 99, DesignSpace((1, 1, 1, 1), (8, 8, 8, 8), 6, 16),
        ("execution_time_ms", "energy_mj", "area_mm2"), "energy_mj",
    )  # fmt: skip
    assert SearchConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    data = cfg.to_dict()
    del data["scalar"]
    with pytest.raises(InputError) as err:
        SearchConfig.from_dict(data)
    assert err.value.field == "scalar"
    with pytest.raises(InputError) as err:
        SearchConfig.from_dict({**cfg.to_dict(), "mutation": 0.1})
    assert err.value.field == "mutation"


def test_real_model_small_nsga2() -> None:
    evaluator = ModelEvaluator(load_experiment("rmc1-test"), workers=1)
    designs = run_search(SearchConfig("NSGA2", 6, 2, 0), evaluator)
    assert 6 <= len(designs) <= 12
    for e in designs:
        assert sum(e.composition) == 12
        assert set(e.metrics) == {"execution_time_ms", "energy_mj", "area_mm2", "peak_power_w"}
        assert all(math.isfinite(v) and v > 0 for v in e.metrics.values())


def test_model_evaluator_checks_its_options() -> None:
    experiment = load_experiment("rmc1-test")
    with pytest.raises(InputError):
        ModelEvaluator(experiment, goal="speed")
    with pytest.raises(InputError):
        ModelEvaluator(experiment, workers=0)
