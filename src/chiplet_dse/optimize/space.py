"""The design space: which chiplet compositions a search may propose.

A composition is four counts in system order (GPU, Attention, Sparse, Convolution). The space
bounds each count and the total. The default is CASCADE's set-up: exactly 12 chiplets of any
mix, 455 compositions (the original encoded them as 12 slots of a chiplet type).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from chiplet_dse.errors import InputError

#: A design as four chiplet counts in system order (GPU, Attention, Sparse, Convolution).
Composition = tuple[int, int, int, int]

#: Names of the four counts, in system order (used in error messages).
COUNT_NAMES = ("gpu", "attention", "sparse", "convolution")

#: Largest allowed per-type count and total. It keeps every count (at most 1025**4) inside
#: int64, so sizes and ranks need no big integers.
MAX_COUNT = 1024
MAX_TOTAL = 4 * MAX_COUNT

_KEYS = ("lower", "upper", "total_min", "total_max")


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def as_composition(value: Any, name: str = "composition") -> Composition:
    """``value`` (four integers, e.g. a list or array row) as a tuple of Python ints.

    Raises InputError, naming ``name`` as the field, for anything else.
    """
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise InputError(f"expected four integer counts, got {value!r}", field=name)
    items = list(value)
    if len(items) != 4 or not all(_is_int(v) for v in items):
        raise InputError(f"expected four integer counts, got {value!r}", field=name)
    a, b, c, d = (int(v) for v in items)
    return (a, b, c, d)


@dataclass(frozen=True)
class DesignSpace:
    """Per-type count bounds plus bounds on the total number of chiplets (all inclusive)."""

    lower: tuple[int, int, int, int] = (0, 0, 0, 0)
    upper: tuple[int, int, int, int] = (12, 12, 12, 12)
    total_min: int = 12
    total_max: int = 12

    def __post_init__(self) -> None:
        # Normalise lists and NumPy integers (from JSON or arrays) to tuples of Python ints so
        # equal spaces compare and hash equal.
        object.__setattr__(self, "lower", as_composition(self.lower, "lower"))
        object.__setattr__(self, "upper", as_composition(self.upper, "upper"))
        for name in ("total_min", "total_max"):
            value = getattr(self, name)
            if not _is_int(value):
                raise InputError(f"expected an integer, got {value!r}", field=name)
            object.__setattr__(self, name, int(value))
        for name in ("lower", "upper"):
            for type_name, value in zip(COUNT_NAMES, getattr(self, name), strict=True):
                if value < 0:
                    raise InputError(f"{type_name} count must not be negative", field=name)
                if value > MAX_COUNT:
                    raise InputError(f"{type_name} count must be at most {MAX_COUNT}", field=name)
        for type_name, lo, hi in zip(COUNT_NAMES, self.lower, self.upper, strict=True):
            if lo > hi:
                raise InputError(
                    f"{type_name}: lower bound {lo} exceeds upper bound {hi}", field="lower"
                )
        if self.total_max < 1:
            raise InputError("a design needs at least one chiplet", field="total_max")
        if self.total_max > MAX_TOTAL:
            raise InputError(f"at most {MAX_TOTAL} chiplets are supported", field="total_max")
        if self.total_min < 1:
            raise InputError("a design needs at least one chiplet", field="total_min")
        if self.total_min > self.total_max:
            raise InputError(
                f"total_min {self.total_min} exceeds total_max {self.total_max}", field="total_min"
            )
        if sum(self.lower) > self.total_max:
            raise InputError(
                f"the lower bounds need {sum(self.lower)} chiplets, more than total_max "
                f"{self.total_max}: the space is empty",
                field="lower",
            )
        if sum(self.upper) < self.total_min:
            raise InputError(
                f"the upper bounds allow {sum(self.upper)} chiplets, fewer than total_min "
                f"{self.total_min}: the space is empty",
                field="upper",
            )

    # -- size, enumeration, ranking ------------------------------------------------------------

    def bounds(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """Tightest per-type bounds: every value within them occurs in some composition.

        A count can be no larger than ``total_max`` minus the other types' lower bounds, and no
        smaller than ``total_min`` minus their upper bounds.
        """
        lo_sum, hi_sum = sum(self.lower), sum(self.upper)
        lo = tuple(
            max(lo, self.total_min - (hi_sum - hi))
            for lo, hi in zip(self.lower, self.upper, strict=True)
        )
        hi = tuple(
            min(hi, self.total_max - (lo_sum - lo))
            for lo, hi in zip(self.lower, self.upper, strict=True)
        )
        return lo, hi

    def size(self) -> int:
        """Number of compositions, counted by dynamic programming (never enumerates)."""
        return _tables(self).completions(0, 0)

    def compositions(self) -> Iterator[Composition]:
        """Every composition once, in lexicographic order of (gpu, attention, sparse, conv)."""
        lo, hi = self.bounds()
        tmin, tmax = self.total_min, self.total_max
        # What the remaining types can still add, so dead branches are never entered.
        rest_lo = [sum(lo[i + 1 :]) for i in range(4)]
        rest_hi = [sum(hi[i + 1 :]) for i in range(4)]

        def values(i: int, used: int) -> range:
            return range(
                max(lo[i], tmin - used - rest_hi[i]), min(hi[i], tmax - used - rest_lo[i]) + 1
            )

        for g in values(0, 0):
            for a in values(1, g):
                for s in values(2, g + a):
                    for c in values(3, g + a + s):
                        yield (g, a, s, c)

    def composition_at(self, index: int) -> Composition:
        """The ``index``-th composition of :meth:`compositions` (0-based), without enumerating."""
        tables = _tables(self)
        if not _is_int(index) or not 0 <= index < tables.completions(0, 0):
            raise InputError(f"no composition number {index!r} in this space", field="index")
        lo, hi = self.bounds()
        rest, used, counts = int(index), 0, []
        for i in range(4):
            values = np.arange(lo[i], hi[i] + 1)
            sizes = np.cumsum(tables.completions_many(i + 1, used + values))
            k = int(np.searchsorted(sizes, rest, side="right"))
            rest -= int(sizes[k - 1]) if k else 0
            counts.append(int(values[k]))
            used += counts[-1]
        g, a, s, c = counts
        return (g, a, s, c)

    def contains(self, composition: Sequence[int]) -> bool:
        """Whether ``composition`` (four integer counts) lies in the space."""
        try:
            counts = as_composition(composition, "composition")
        except InputError:
            return False
        return all(
            lo <= n <= hi for n, lo, hi in zip(counts, self.lower, self.upper, strict=True)
        ) and (self.total_min <= sum(counts) <= self.total_max)

    # -- repair and sampling --------------------------------------------------------------------

    def repair(self, X: Any) -> np.ndarray:
        """Map real or integer rows of four counts to feasible compositions (int64, ``(n, 4)``).

        Rule, row by row: clip each count into :meth:`bounds` and round half up. If the total is
        then out of range, aim for the nearest allowed total: shift all clipped counts by one
        common amount (the Euclidean projection onto ``lower <= x <= upper, sum(x) = total``,
        which keeps the mix of the proposal) and round by largest remainder, ties to the
        earlier type. Deterministic, and feasible rows come back unchanged.
        """
        x = np.asarray(X, dtype=float)
        if x.ndim != 2 or x.shape[1] != 4:
            raise InputError(
                f"expected an (n, 4) array of counts, got shape {x.shape}", field="compositions"
            )
        if not np.isfinite(x).all():
            raise InputError("counts to repair must be finite", field="compositions")
        lo, hi = (np.array(b, dtype=float) for b in self.bounds())
        x = np.clip(x, lo, hi)
        counts = np.floor(x + 0.5)
        totals = counts.sum(axis=1)
        targets = np.clip(totals, self.total_min, self.total_max)
        bad = totals != targets
        if bad.any():
            counts[bad] = _fit_total(x[bad], targets[bad], lo, hi)
        return counts.astype(np.int64)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` distinct compositions drawn uniformly (int64, ``(n, 4)``); all if n >= size."""
        if not _is_int(n) or n < 0:
            raise InputError(f"sample size must be a non-negative integer, got {n!r}", field="n")
        if not isinstance(rng, np.random.Generator):
            raise TypeError("rng must be a numpy.random.Generator")
        size = self.size()
        if n >= size:
            rows: list[Composition] = list(self.compositions())
        else:
            # Distinct ranks, uniformly (NumPy uses a hash set when the space is huge).
            rows = [self.composition_at(int(i)) for i in rng.choice(size, int(n), replace=False)]
        return np.array(rows, dtype=np.int64).reshape(-1, 4)

    # -- serialisation --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form; :meth:`from_dict` reads it back."""
        return {
            "lower": list(self.lower),
            "upper": list(self.upper),
            "total_min": self.total_min,
            "total_max": self.total_max,
        }

    @classmethod
    def from_dict(cls, data: Any) -> DesignSpace:
        """Read :meth:`to_dict`'s form; every key is required and unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise InputError(f"a design space must be an object, got {data!r}", field="space")
        for key in data:
            if key not in _KEYS:
                raise InputError(f"unknown key {key!r}; expected {', '.join(_KEYS)}", field=key)
        for key in _KEYS:
            if key not in data:
                raise InputError("missing from the design space", field=key)
        return cls(**{key: data[key] for key in _KEYS})


def _fit_total(x: np.ndarray, targets: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Integer rows within [lo, hi] summing to ``targets``, near the clipped real rows ``x``."""
    # Bisection for the shift t with sum(clip(x + t)) = target; the sum is monotone in t.
    below, above = (lo - x).min(axis=1), (hi - x).max(axis=1)
    for _ in range(64):
        mid = (below + above) / 2
        short = np.clip(x + mid[:, None], lo, hi).sum(axis=1) < targets
        below, above = np.where(short, mid, below), np.where(short, above, mid)
    z = np.clip(x + above[:, None], lo, hi)
    # The small tolerance keeps 2.9999999 from flooring to 2 after the bisection's rounding.
    counts = np.clip(np.floor(z + 1e-9), lo, hi)
    rows = np.arange(len(x))
    # Hand out (or take back) the few remaining units one at a time by largest remainder;
    # a feasible target always leaves room, so each pass fixes one unit of every open row.
    while (missing := targets - counts.sum(axis=1)).any():
        # Rounded so that remainders equal up to the bisection's noise tie (to the earlier type).
        residual = np.round(z - counts, 9)
        add = np.where(counts < hi, residual, -np.inf).argmax(axis=1)
        take = np.where(counts > lo, residual, np.inf).argmin(axis=1)
        step = np.sign(missing)
        column = np.where(step > 0, add, take)
        counts[rows, column] += step
    return counts


class _Tables:
    """``ways[i][s]``: how many ways types ``i..3`` sum to exactly ``s`` (int64)."""

    def __init__(self, space: DesignSpace) -> None:
        lo, hi = space.bounds()
        top = sum(hi)
        ways = [np.zeros(top + 1, dtype=np.int64) for _ in range(5)]
        ways[4][0] = 1
        for i in range(3, -1, -1):
            # new[s] = sum of old[s - v] over v in [lo, hi], via a running sum of old.
            running = np.concatenate(([0], np.cumsum(ways[i + 1])))
            s = np.arange(top + 1)
            upper_idx = np.clip(s - lo[i] + 1, 0, top + 1)
            lower_idx = np.clip(s - hi[i], 0, top + 1)
            ways[i] = running[upper_idx] - running[lower_idx]
        # cumulative[i][k] = sum of ways[i][:k], so a range of totals costs two look-ups.
        self.cumulative = [np.concatenate(([0], np.cumsum(w))) for w in ways]
        self.top = top
        self.total_min, self.total_max = space.total_min, space.total_max

    def completions_many(self, i: int, used: np.ndarray) -> np.ndarray:
        """For each already-used count, how many ways types ``i..3`` complete a composition."""
        first = np.clip(self.total_min - used, 0, self.top + 1)
        last = np.clip(self.total_max - used + 1, 0, self.top + 1)
        cumulative = self.cumulative[i]
        return np.maximum(cumulative[last] - cumulative[first], 0)

    def completions(self, i: int, used: int) -> int:
        return int(self.completions_many(i, np.array([used]))[0])


@functools.lru_cache(maxsize=64)
def _tables(space: DesignSpace) -> _Tables:
    # Kept outside the frozen dataclass so spaces stay small when pickled into checkpoints.
    return _Tables(space)
