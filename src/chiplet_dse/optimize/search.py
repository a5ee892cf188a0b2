"""Seeded, resumable design-space search, driven one generation at a time.

A :class:`Search` proposes chiplet compositions, asks a caller-supplied ``evaluate`` function for
the metrics of those it has not seen, and feeds the objectives back to the algorithm. A server
stores each :class:`Generation`, may stop at any point, and resumes later from
:meth:`Search.checkpoint` plus the designs it stored: the resumed run proposes exactly what the
uninterrupted one would have.

Encoding: the four chiplet counts are the integer variables, bounded by the space. SBX and
polynomial mutation work on reals and round; the space's repair then moves every proposal onto
the space (e.g. back to exactly 12 chiplets).
"""

from __future__ import annotations

import math
import pickle
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.algorithms.moo.sms import SMSEMOA, cv_and_dom_tournament
from pymoo.algorithms.soo.nonconvex.ga import GA, comp_by_cv_and_fitness
from pymoo.core.algorithm import Algorithm
from pymoo.core.evaluator import Evaluator
from pymoo.core.problem import Problem
from pymoo.core.repair import Repair
from pymoo.core.sampling import Sampling
from pymoo.core.termination import NoTermination
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.repair.rounding import RoundingRepair
from pymoo.operators.selection.tournament import TournamentSelection
from pymoo.problems.static import StaticProblem
from pymoo.version import __version__ as PYMOO_VERSION

from chiplet_dse.errors import InputError
from chiplet_dse.optimize.space import Composition, DesignSpace, as_composition

#: NSGA-II, a single-objective GA on :data:`SCALARS`, SMS-EMOA, and full factorial.
ALGORITHMS = ("NSGA2", "GA", "MOEA", "FF")
#: Metrics a multi-objective search may minimise (area is the optional third).
OBJECTIVES = ("execution_time_ms", "energy_mj", "area_mm2")
#: What the GA minimises; ``edp`` is execution_time_ms x energy_mj.
SCALARS = ("edp", "execution_time_ms", "energy_mj", "area_mm2")
SCALAR_INPUTS: dict[str, tuple[str, ...]] = {
    "edp": ("execution_time_ms", "energy_mj"),
    "execution_time_ms": ("execution_time_ms",),
    "energy_mj": ("energy_mj",),
    "area_mm2": ("area_mm2",),
}

MAX_POPULATION = 10_000
MAX_GENERATIONS = 10_000
#: Full factorial evaluates every composition: refuse spaces no run could finish.
MAX_EXHAUSTIVE = 1_000_000
MAX_SEED = 2**63 - 1

CHECKPOINT_FORMAT = 1

Metrics = dict[str, Any]
EvaluateFn = Callable[[list[Composition]], Sequence[Mapping[str, Any]]]

_CONFIG_KEYS = (
    "algorithm",
    "population_size",
    "generations",
    "seed",
    "space",
    "objectives",
    "scalar",
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _bounded_int(value: Any, name: str, low: int, high: int) -> int:
    if not _is_int(value) or not low <= value <= high:
        raise InputError(f"expected an integer from {low} to {high}, got {value!r}", field=name)
    return int(value)


@dataclass(frozen=True)
class SearchConfig:
    """Everything that determines a search's sequence of designs.

    ``generations`` counts the initial population as the first; FF ignores it (it needs
    ``ceil(size / population_size)``), and only GA uses ``scalar``.
    """

    algorithm: str
    population_size: int
    generations: int
    seed: int
    space: DesignSpace = field(default_factory=DesignSpace)
    #: Minimised by NSGA2 and MOEA; every algorithm's metrics must include them.
    objectives: tuple[str, ...] = ("execution_time_ms", "energy_mj")
    #: Minimised by GA; ignored by the others.
    scalar: str = "edp"

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise InputError(
                f"unknown algorithm {self.algorithm!r}; choose one of {', '.join(ALGORITHMS)}",
                field="algorithm",
            )
        for name, low, high in (
            ("population_size", 2, MAX_POPULATION),
            ("generations", 1, MAX_GENERATIONS),
            ("seed", 0, MAX_SEED),
        ):
            object.__setattr__(self, name, _bounded_int(getattr(self, name), name, low, high))
        space = self.space
        if isinstance(space, Mapping):
            space = DesignSpace.from_dict(space)
        if not isinstance(space, DesignSpace):
            raise InputError(f"expected a design space, got {space!r}", field="space")
        object.__setattr__(self, "space", space)
        objectives = self.objectives
        if isinstance(objectives, str) or not isinstance(objectives, Sequence):
            raise InputError(
                f"expected a list of objectives, got {objectives!r}", field="objectives"
            )
        objectives = tuple(objectives)
        for name in objectives:
            if name not in OBJECTIVES:
                raise InputError(
                    f"unknown objective {name!r}; choose from {', '.join(OBJECTIVES)}",
                    field="objectives",
                )
        if len(set(objectives)) != len(objectives):
            raise InputError("an objective is listed twice", field="objectives")
        if not 2 <= len(objectives) <= 3:
            raise InputError("choose two or three objectives", field="objectives")
        object.__setattr__(self, "objectives", objectives)
        if self.scalar not in SCALARS:
            raise InputError(
                f"unknown scalar {self.scalar!r}; choose one of {', '.join(SCALARS)}",
                field="scalar",
            )
        if self.algorithm == "FF" and space.size() > MAX_EXHAUSTIVE:
            raise InputError(
                f"full factorial would evaluate {space.size()} designs; "
                f"narrow the space to at most {MAX_EXHAUSTIVE}",
                field="space",
            )

    @property
    def required_metrics(self) -> tuple[str, ...]:
        """Metric keys every evaluation must provide: the objectives and the scalar's inputs."""
        return tuple(dict.fromkeys((*self.objectives, *SCALAR_INPUTS[self.scalar])))

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; :meth:`from_dict` reads it back."""
        return {
            "algorithm": self.algorithm,
            "population_size": self.population_size,
            "generations": self.generations,
            "seed": self.seed,
            "space": self.space.to_dict(),
            "objectives": list(self.objectives),
            "scalar": self.scalar,
        }

    @classmethod
    def from_dict(cls, data: Any) -> SearchConfig:
        """Read :meth:`to_dict`'s form; every key is required and unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise InputError(f"a search configuration must be an object, got {data!r}")
        for key in data:
            if key not in _CONFIG_KEYS:
                raise InputError(
                    f"unknown key {key!r}; expected {', '.join(_CONFIG_KEYS)}", field=key
                )
        for key in _CONFIG_KEYS:
            if key not in data:
                raise InputError("missing from the search configuration", field=key)
        return cls(
            **{key: data[key] for key in _CONFIG_KEYS if key != "space"},
            space=DesignSpace.from_dict(data["space"]),
        )


@dataclass(frozen=True)
class Evaluated:
    """A composition evaluated for the first time in a run, and in which generation."""

    composition: Composition
    metrics: Metrics
    generation: int


@dataclass
class Generation:
    """What one :meth:`Search.step` did."""

    index: int  #: 1-based
    new: list[Evaluated] = field(default_factory=list)  #: first evaluations, in order
    proposed: int = 0  #: designs the algorithm asked for (seen ones come from the cache)
    evaluations: int = 0  #: model evaluations in this run so far, this generation included
    done: bool = False  #: the planned last generation


def scalar_value(metrics: Mapping[str, Any], scalar: str) -> float:
    """The GA's figure of merit for one design (``edp`` = time x energy)."""
    if scalar == "edp":
        return float(metrics["execution_time_ms"]) * float(metrics["energy_mj"])
    return float(metrics[scalar])


class Search:
    """One seeded run of :class:`SearchConfig`, advanced by :meth:`step`.

    ``evaluate(compositions)`` returns one metrics mapping per composition (with at least
    ``config.required_metrics``); it is only ever given compositions this run has not seen, so
    each is evaluated once. ``known`` (composition -> metrics) seeds that cache, e.g. with the
    designs already stored when resuming from ``checkpoint``.
    """

    def __init__(
        self,
        config: SearchConfig,
        evaluate: EvaluateFn,
        known: Mapping[Sequence[int], Mapping[str, Any]] | None = None,
        checkpoint: bytes | None = None,
    ) -> None:
        if not isinstance(config, SearchConfig):
            raise TypeError("config must be a SearchConfig")
        self.config = config
        self._evaluate = evaluate
        self._cache: dict[Composition, Metrics] = {}
        for key, metrics in (known or {}).items():
            self._cache[as_composition(key, "known")] = dict(metrics)
        size = config.space.size()
        if config.algorithm == "FF":
            self._total = math.ceil(size / config.population_size)
        else:
            # A first population holding the whole space leaves nothing to breed.
            self._total = 1 if size <= config.population_size else config.generations
        self._generation = 0
        self._evaluations = 0
        self._finished = False
        self._engine: _Exhaustive | _Evolutionary
        if checkpoint is None:
            self._engine = (
                _Exhaustive(config) if config.algorithm == "FF" else _Evolutionary(config)
            )
            self._saved = self._dump()
        else:
            if not isinstance(checkpoint, bytes | bytearray | memoryview):
                raise InputError("a checkpoint must be bytes", field="checkpoint")
            self._saved = bytes(checkpoint)  # databases may hand back a memoryview
            self._load(self._saved)

    @property
    def total_generations(self) -> int:
        """Planned generations: ``generations`` (1 if the space fits in one population), or
        ``ceil(size / population_size)`` for FF."""
        return self._total

    @property
    def generation(self) -> int:
        """Generations completed so far."""
        return self._generation

    @property
    def evaluations(self) -> int:
        """Model evaluations made by this run so far."""
        return self._evaluations

    @property
    def finished(self) -> bool:
        """Whether :meth:`step` has nothing more to do."""
        return self._finished

    def step(self) -> Generation | None:
        """Run the next generation; None once the search is over.

        A search also ends early (None before the planned last generation) when its algorithm
        can breed no design that differs from its population. If ``evaluate`` or a check
        fails, the search is left as it was before the call, so it can be retried.
        """
        if self._finished:
            return None
        try:
            generation = self._advance()
        except BaseException:
            self._load(self._saved)
            raise
        self._saved = self._dump()
        return generation

    def __iter__(self) -> Iterator[Generation]:
        """The remaining generations."""
        while (generation := self.step()) is not None:
            yield generation

    def checkpoint(self) -> bytes:
        """The state after the last completed generation (small: no metrics cache).

        Resume with ``Search(config, evaluate, known=<every design so far>, checkpoint=...)``.
        Checkpoints are pickles: only load ones this code wrote.
        """
        return self._saved

    # -- internals ------------------------------------------------------------------------------

    def _advance(self) -> Generation | None:
        proposal = self._engine.ask()
        if not proposal:
            self._finished = True
            return None
        space = self.config.space
        if not all(space.contains(c) for c in proposal):  # the repair guarantees this
            raise RuntimeError(f"{self.config.algorithm} proposed a design outside the space")
        index = self._generation + 1
        fresh = self._evaluate_fresh(proposal)
        metrics = [fresh[c] if c in fresh else self._cache[c] for c in proposal]
        self._engine.tell(self._fitness(proposal, metrics))
        # Only now, with nothing left to fail, does the run's state change.
        self._cache.update(fresh)
        self._generation = index
        self._evaluations += len(fresh)
        self._finished = index >= self._total
        return Generation(
            index=index,
            new=[Evaluated(c, m, index) for c, m in fresh.items()],
            proposed=len(proposal),
            evaluations=self._evaluations,
            done=self._finished,
        )

    def _evaluate_fresh(self, proposal: list[Composition]) -> dict[Composition, Metrics]:
        todo = [c for c in dict.fromkeys(proposal) if c not in self._cache]
        if not todo:
            return {}
        results = list(self._evaluate(list(todo)))
        if len(results) != len(todo):
            raise ValueError(f"evaluate returned {len(results)} results for {len(todo)} designs")
        fresh: dict[Composition, Metrics] = {}
        for composition, metrics in zip(todo, results, strict=True):
            if not isinstance(metrics, Mapping):
                raise ValueError(f"evaluate must return mappings, got {metrics!r}")
            for key, value in metrics.items():
                if isinstance(value, int | float | np.number) and not np.isfinite(value):
                    raise InputError(
                        f"the model gave {value} for design {_label(composition)}; "
                        "check the chiplet library and the workload",
                        field=str(key),
                    )
            fresh[composition] = dict(metrics)
        return fresh

    def _fitness(self, proposal: list[Composition], metrics: list[Metrics]) -> np.ndarray:
        """Objective rows for the algorithm (one column, the scalar, for GA)."""
        for composition, row in zip(proposal, metrics, strict=True):
            for key in self.config.required_metrics:
                if key not in row:
                    raise ValueError(f"no {key!r} in the metrics of {_label(composition)}")
                value = row[key]
                if not isinstance(value, int | float | np.number) or not np.isfinite(value):
                    raise InputError(
                        f"design {_label(composition)} has no finite value ({value!r})",
                        field=key,
                    )
        if self.config.algorithm == "GA":
            return np.array([[scalar_value(m, self.config.scalar)] for m in metrics])
        return np.array([[float(m[k]) for k in self.config.objectives] for m in metrics])

    def _dump(self) -> bytes:
        state = {
            "format": CHECKPOINT_FORMAT,
            "pymoo": PYMOO_VERSION,
            "config": self.config.to_dict(),
            "generation": self._generation,
            "evaluations": self._evaluations,
            "finished": self._finished,
            "engine": self._engine,
        }
        return zlib.compress(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))

    def _load(self, checkpoint: bytes) -> None:
        try:
            state = pickle.loads(zlib.decompress(checkpoint))
        except Exception:
            raise InputError("not a search checkpoint", field="checkpoint") from None
        if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
            raise InputError("not a search checkpoint of this version", field="checkpoint")
        if state["config"] != self.config.to_dict():
            raise InputError("the checkpoint belongs to another configuration", field="checkpoint")
        if state["pymoo"] != PYMOO_VERSION:
            raise InputError(
                f"the checkpoint was written with pymoo {state['pymoo']}, this is "
                f"{PYMOO_VERSION}; the run cannot resume identically",
                field="checkpoint",
            )
        self._generation = state["generation"]
        self._evaluations = state["evaluations"]
        self._finished = state["finished"]
        self._engine = state["engine"]


def run_search(config: SearchConfig, evaluate: EvaluateFn) -> list[Evaluated]:
    """Run a whole search; every design it evaluated, in order."""
    return [e for generation in Search(config, evaluate) for e in generation.new]


def _label(composition: Sequence[int]) -> str:
    return ",".join(str(n) for n in composition)


# -- engines ------------------------------------------------------------------------------------


class _Exhaustive:
    """FF: the whole space in lexicographic order, ``population_size`` designs at a time."""

    def __init__(self, config: SearchConfig) -> None:
        self.space = config.space
        self.batch = config.population_size
        self.offset = 0  # designs handed out and told so far
        self._pending = 0
        self._iter: Iterator[Composition] | None = None

    def ask(self) -> list[Composition]:
        if self._iter is None:  # fresh or unpickled: skip what earlier generations covered
            self._iter = islice(self.space.compositions(), self.offset, None)
        batch = list(islice(self._iter, self.batch))
        self._pending = len(batch)
        return batch

    def tell(self, fitness: np.ndarray) -> None:
        self.offset += self._pending
        self._pending = 0

    def __getstate__(self) -> dict[str, Any]:
        # Generators do not pickle; the offset is enough to recreate the position.
        return {"space": self.space, "batch": self.batch, "offset": self.offset}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.space, self.batch, self.offset = state["space"], state["batch"], state["offset"]
        self._pending, self._iter = 0, None


class _CountsProblem(Problem):
    """The four counts as integer variables; never evaluated here (ask/tell does that)."""

    def __init__(self, space: DesignSpace, n_obj: int) -> None:
        lower, upper = space.bounds()
        super().__init__(n_var=4, n_obj=n_obj, xl=np.array(lower), xu=np.array(upper), vtype=int)


class _SpaceSampling(Sampling):
    """Distinct compositions, uniformly, from the algorithm's own generator."""

    def __init__(self, space: DesignSpace) -> None:
        super().__init__()
        self.space = space

    def _do(self, problem: Problem, n_samples: int, *args: Any, **kwargs: Any) -> np.ndarray:
        return self.space.sample(n_samples, kwargs["random_state"])


class _SpaceRepair(Repair):
    """Moves every offspring onto the space (see :meth:`DesignSpace.repair`)."""

    def __init__(self, space: DesignSpace) -> None:
        super().__init__()
        self.space = space

    def _do(self, problem: Problem, X: np.ndarray, **kwargs: Any) -> np.ndarray:
        return self.space.repair(X)


# pymoo's own GA and SMS-EMOA tournaments are closures of a decorator, which do not pickle;
# these module-level forwards do, and behave the same (pymoo always passes random_state).
def _ga_tournament(pop: Any, P: np.ndarray, **kwargs: Any) -> np.ndarray:
    return comp_by_cv_and_fitness(pop, P, **kwargs)


def _sms_tournament(pop: Any, P: np.ndarray, **kwargs: Any) -> np.ndarray:
    return cv_and_dom_tournament(pop, P, **kwargs)


class _Evolutionary:
    """A pymoo algorithm driven by ask/tell; its state, random generator included, pickles."""

    def __init__(self, config: SearchConfig) -> None:
        space = config.space
        options: dict[str, Any] = {
            "pop_size": config.population_size,
            "sampling": _SpaceSampling(space),
            # The original tool's operators; rounding after each keeps the counts integral.
            "crossover": SBX(eta=15, prob=0.9, vtype=float, repair=RoundingRepair()),
            "mutation": PM(eta=20, vtype=float, repair=RoundingRepair()),
            "repair": _SpaceRepair(space),
            "eliminate_duplicates": True,
            "output": None,  # no progress indicators: they cost time and bloat checkpoints
        }
        algorithm: Algorithm
        if config.algorithm == "NSGA2":
            algorithm = NSGA2(**options)
        elif config.algorithm == "MOEA":
            algorithm = SMSEMOA(selection=TournamentSelection(_sms_tournament), **options)
        else:
            algorithm = GA(selection=TournamentSelection(_ga_tournament), **options)
        n_obj = 1 if config.algorithm == "GA" else len(config.objectives)
        # setup() seeds algorithm.random_state, which every operator draws from. The run's
        # length is ours to decide, so pymoo's own termination never fires.
        algorithm.setup(_CountsProblem(space, n_obj), seed=config.seed, termination=NoTermination())
        self.algorithm = algorithm
        self._pending: Any = None

    def ask(self) -> list[Composition]:
        pop = self.algorithm.ask()
        if pop is None or len(pop) == 0:  # mating found nothing new
            return []
        self._pending = pop
        return [(int(g), int(a), int(s), int(c)) for g, a, s, c in pop.get("X")]

    def tell(self, fitness: np.ndarray) -> None:
        pop, self._pending = self._pending, None
        Evaluator().eval(StaticProblem(self.algorithm.problem, F=fitness), pop)
        self.algorithm.tell(infills=pop)

    def __getstate__(self) -> dict[str, Any]:
        return {"algorithm": self.algorithm}  # checkpoints fall between generations

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.algorithm, self._pending = state["algorithm"], None
