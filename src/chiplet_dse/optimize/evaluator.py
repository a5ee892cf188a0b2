"""The CASCADE model as a search's ``evaluate`` function."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chiplet_dse.errors import InputError
from chiplet_dse.model import (
    DEFAULT_LIBRARY,
    GOALS,
    ChipletLibrary,
    Design,
    Experiment,
    evaluate_many,
)


class ModelEvaluator:
    """Evaluates compositions on one experiment and library with the CASCADE model.

    ``workers`` processes run designs in parallel (None = all cores, 1 = in this process);
    ``goal`` overrides the experiment's optimisation goal; ``progress(done, total)`` is called
    after each design of a call.
    """

    def __init__(
        self,
        experiment: Experiment,
        library: ChipletLibrary = DEFAULT_LIBRARY,
        goal: str | None = None,
        workers: int | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        if goal is not None and goal not in GOALS:
            raise InputError(
                f"unknown goal {goal!r}; choose one of {', '.join(GOALS)}",
                field="optimization-goal",
            )
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, int) or workers < 1
        ):
            raise InputError(
                f"workers must be a positive integer, got {workers!r}", field="workers"
            )
        self.experiment = experiment
        self.library = library
        self.goal = goal
        self.workers = workers
        self.progress = progress

    def __call__(self, compositions: Sequence[Sequence[int]]) -> list[dict[str, Any]]:
        """Metrics of each composition, in order (keys: execution_time_ms, energy_mj,
        area_mm2, peak_power_w)."""
        designs = [Design(*(int(n) for n in c)) for c in compositions]
        results = evaluate_many(
            self.experiment,
            designs,
            self.library,
            self.goal,
            workers=self.workers,
            progress=self.progress,
        )
        return [
            {
                "execution_time_ms": r.execution_time_ms,
                "energy_mj": r.energy_mj,
                "area_mm2": r.area_mm2,
                "peak_power_w": r.peak_power_w,
            }
            for r in results
        ]
