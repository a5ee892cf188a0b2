"""A cheap stand-in for the CASCADE model: smooth, conflicting objectives of the counts."""

from __future__ import annotations

from collections.abc import Sequence

#: Work per chiplet type: time falls as a type's count grows, by less for each extra chiplet.
WORK = (4.0, 3.0, 2.0, 1.0)
#: Energy per chiplet: the types that cut the most time cost the most energy.
ENERGY = (1.0, 2.0, 3.0, 4.0)


def metrics(composition: Sequence[int]) -> dict[str, float]:
    return {
        "execution_time_ms": sum(w / (1 + c) for w, c in zip(WORK, composition, strict=True)),
        "energy_mj": 0.5 + sum(c * e for c, e in zip(composition, ENERGY, strict=True)),
        "area_mm2": 25.0 * sum(composition),
        "peak_power_w": 10.0 * sum(composition),
    }


class Recorder:
    """An ``evaluate`` function that remembers every call and fails on a repeated design."""

    def __init__(self) -> None:
        self.calls: list[list[tuple[int, ...]]] = []
        self.seen: set[tuple[int, ...]] = set()

    def __call__(self, compositions: list[tuple[int, ...]]) -> list[dict[str, float]]:
        assert compositions, "evaluate called with nothing to do"
        for c in compositions:
            assert c not in self.seen, f"{c} evaluated twice"
            self.seen.add(c)
        self.calls.append(list(compositions))
        return [metrics(c) for c in compositions]
