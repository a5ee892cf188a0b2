"""Rule mining: which chiplet counts go with a region of the design space.

A *region* is a set of designs: Pareto ranks ``a..b`` or objective bounds (:func:`region_mask`).
A *feature* is a conjunction of items, each "a count of one chiplet type falls in a bin" (e.g.
"no sparse chiplets AND 3–5 attention chiplets"), on distinct types. For each feature the
miner reports, over the ``n`` designs seen:

* support = P(feature ∧ region) = (designs with the feature in the region) / n,
* confidence feature → region = P(region | feature),
* confidence region → feature = P(feature | region),
* lift = confidence(feature → region) / P(region) (1 = independent, above 1 = attracted).

Counting is done once over the designs: each design falls in one cell of the bins of the four
counts, and every feature's counts are sums of cells, so 100,000 designs cost one ``bincount``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from chiplet_dse.errors import InputError
from chiplet_dse.optimize.pareto import _objectives, pareto_front_mask
from chiplet_dse.optimize.space import COUNT_NAMES

#: A bin of chiplet counts: (label, smallest count, largest count or None for no limit).
Bin = tuple[str, int, int | None]

#: The default bins: none 0, low 1–2, medium 3–5, high 6–8, very high ≥ 9.
DEFAULT_BINS: tuple[Bin, ...] = (
    ("none", 0, 0),
    ("low", 1, 2),
    ("medium", 3, 5),
    ("high", 6, 8),
    ("very high", 9, None),
)

#: At most this many bins: every design's cell is one of ``len(bins) ** 4``.
MAX_BINS = 16
#: Default and largest number of rules returned (the Pareto rules are never cut).
DEFAULT_MAX_RULES = 100
MAX_RULES = 10_000


# -- shared helpers (also used by the other analytics modules) ----------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(
        value, bool | np.bool_
    )


def as_compositions(value: Any, field: str = "compositions") -> np.ndarray:
    """``value`` as an ``(n, 4)`` int64 array of non-negative counts, or InputError."""
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        raise InputError("expected rows of four integer counts", field=field) from None
    if arr.size == 0:
        return np.zeros((0, 4), dtype=np.int64)
    if arr.ndim != 2 or arr.shape[1] != 4:
        raise InputError(f"expected an (n, 4) array of counts, got shape {arr.shape}", field=field)
    if arr.dtype.kind not in "iu" and (
        arr.dtype.kind != "f" or not np.isfinite(arr).all() or (arr != np.round(arr)).any()
    ):
        raise InputError("counts must be integers", field=field)
    arr = arr.astype(np.int64)
    if (arr < 0).any():
        raise InputError("counts must not be negative", field=field)
    return arr


def counts_dict(composition: Sequence[int]) -> dict[str, int]:
    """A composition as ``{"gpu": .., "attention": .., "sparse": .., "convolution": ..}``."""
    return {name: int(c) for name, c in zip(COUNT_NAMES, composition, strict=True)}


def _range_text(lo: int, hi: int | None) -> str:
    if hi is None:
        return f"≥{lo}"
    return str(lo) if lo == hi else f"{lo}–{hi}"


# -- bins ----------------------------------------------------------------------------------------


def validate_bins(bins: Any) -> tuple[Bin, ...]:
    """Bins as a tuple of ``(label, min, max|None)`` sorted by ``min``, or InputError.

    The bins must have distinct non-empty labels, ``0 <= min <= max``, not overlap and cover
    every count ``0, 1, 2, ...``: the first starts at 0, each starts one after the previous
    ends, and only the last is open (``max`` None).
    """
    if isinstance(bins, str | bytes) or not isinstance(bins, Sequence) or not bins:
        raise InputError("expected a non-empty list of (label, min, max) bins", field="bins")
    if len(bins) > MAX_BINS:
        raise InputError(f"at most {MAX_BINS} bins are supported", field="bins")
    parsed: list[Bin] = []
    for entry in bins:
        if isinstance(entry, str | bytes) or not isinstance(entry, Sequence) or len(entry) != 3:
            raise InputError(f"a bin is (label, min, max), got {entry!r}", field="bins")
        label, lo, hi = entry
        if not isinstance(label, str) or not label.strip():
            raise InputError(f"a bin label must be a non-empty string, got {label!r}", field="bins")
        if not _is_int(lo) or lo < 0:
            raise InputError(f"bin {label!r}: min must be an integer >= 0", field="bins")
        if hi is not None and (not _is_int(hi) or hi < lo):
            raise InputError(f"bin {label!r}: max must be an integer >= min, or None", field="bins")
        parsed.append((label, int(lo), None if hi is None else int(hi)))
    if len({b[0] for b in parsed}) != len(parsed):
        raise InputError("bin labels must be distinct", field="bins")
    parsed.sort(key=lambda b: b[1])
    expected = 0
    for k, (label, lo, hi) in enumerate(parsed):
        if lo != expected:
            problem = "overlaps the previous bin" if lo < expected else f"leaves {expected} out"
            raise InputError(f"bin {label!r} starting at {lo} {problem}", field="bins")
        if hi is None:
            if k != len(parsed) - 1:
                raise InputError(f"only the last bin may be open, not {label!r}", field="bins")
        else:
            expected = hi + 1
    if parsed[-1][2] is not None:
        raise InputError(
            f"the last bin must be open (max None) so counts above {parsed[-1][2]} are covered",
            field="bins",
        )
    return tuple(parsed)


def item_text(type_name: str, lo: int, hi: int | None) -> str:
    """Readable item, e.g. "no sparse chiplets", "1 gpu chiplet", "3–5 attention chiplets"."""
    if lo == 0 and hi == 0:
        return f"no {type_name} chiplets"
    if lo == hi == 1:
        return f"1 {type_name} chiplet"
    return f"{_range_text(lo, hi)} {type_name} chiplets"


# -- regions -------------------------------------------------------------------------------------


def _rank_range(rank_range: Any) -> tuple[int, int | None]:
    if isinstance(rank_range, str | bytes) or not isinstance(rank_range, Sequence):
        raise InputError("expected [first rank, last rank]", field="rank_range")
    if len(rank_range) != 2:
        raise InputError("expected [first rank, last rank]", field="rank_range")
    a, b = rank_range
    if not _is_int(a) or a < 1:
        raise InputError(f"the first rank must be an integer >= 1, got {a!r}", field="rank_range")
    if b is not None and (not _is_int(b) or b < a):
        raise InputError(
            f"the last rank must be an integer >= the first ({a}) or None, got {b!r}",
            field="rank_range",
        )
    return int(a), None if b is None else int(b)


def _bounds(bounds: Any, objectives: Sequence[str]) -> dict[str, tuple[float | None, float | None]]:
    if not isinstance(bounds, Mapping) or not bounds:
        raise InputError("expected {objective: [low, high]}", field="bounds")
    parsed: dict[str, tuple[float | None, float | None]] = {}
    for name, pair in bounds.items():
        if name not in objectives:
            raise InputError(
                f"unknown objective {name!r}; choose from {', '.join(map(str, objectives))}",
                field="bounds",
            )
        if isinstance(pair, str | bytes) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InputError(f"{name}: expected [low, high]", field="bounds")
        values: list[float | None] = []
        for v in pair:
            if v is None:
                values.append(None)
            elif _is_number(v) and math.isfinite(float(v)):
                values.append(float(v))
            else:
                raise InputError(f"{name}: bounds must be finite numbers or null", field="bounds")
        lo, hi = values
        if lo is not None and hi is not None and lo > hi:
            raise InputError(f"{name}: low bound {lo} exceeds high bound {hi}", field="bounds")
        parsed[name] = (lo, hi)
    return parsed


def describe_region(*, rank_range: Any = None, bounds: Any = None) -> str:
    """Readable region, e.g. "Pareto ranks 1–2" or "energy_mj ≤ 5 AND execution_time_ms ≥ 1"."""
    parts = []
    if rank_range is not None:
        a, b = _rank_range(rank_range)
        parts.append(f"Pareto rank {a}" if a == b else f"Pareto ranks {_range_text(a, b)}")
    if bounds is not None:
        names = list(bounds) if isinstance(bounds, Mapping) else []
        for name, (lo, hi) in _bounds(bounds, names).items():
            if lo is not None and hi is not None:
                parts.append(f"{name} in [{lo:g}, {hi:g}]")
            elif lo is not None:
                parts.append(f"{name} ≥ {lo:g}")
            elif hi is not None:
                parts.append(f"{name} ≤ {hi:g}")
            else:
                parts.append(f"any {name}")
    return " AND ".join(parts) if parts else "all designs"


def region_mask(
    ranks: Any,
    F: Any,
    objectives: Sequence[str],
    *,
    rank_range: Any = None,
    bounds: Any = None,
) -> np.ndarray:
    """Boolean mask of the designs in a region of the design space.

    ``ranks`` are the designs' Pareto ranks (1 = front), ``F`` their objective values (one
    column per name in ``objectives``). The region is Pareto ranks ``rank_range = [a, b]``
    (inclusive; ``b`` None = no upper limit) and/or objective bounds ``bounds = {objective:
    [low, high]}`` (inclusive; None = open). Given both, a design must satisfy both; at least
    one is required.
    """
    if rank_range is None and bounds is None:
        raise InputError("give rank_range or bounds to define the region", field="rank_range")
    if isinstance(objectives, str | bytes) or not isinstance(objectives, Sequence):
        raise InputError("expected a list of objective names", field="objectives")
    F_arr = _objectives(F, "F")
    if F_arr.shape[1] != len(objectives) and len(F_arr):
        raise InputError(
            f"F has {F_arr.shape[1]} columns but {len(objectives)} objectives are named",
            field="objectives",
        )
    rank_arr = np.asarray(ranks)
    if rank_arr.size == 0:
        rank_arr = rank_arr.reshape(0).astype(np.int64)
    if rank_arr.ndim != 1 or rank_arr.dtype.kind not in "iu":
        raise InputError("expected a list of integer Pareto ranks", field="ranks")
    if len(rank_arr) != len(F_arr):
        raise InputError(
            f"{len(rank_arr)} ranks but {len(F_arr)} rows of objectives", field="ranks"
        )
    mask = np.ones(len(rank_arr), dtype=bool)
    if rank_range is not None:
        a, b = _rank_range(rank_range)
        mask &= rank_arr >= a
        if b is not None:
            mask &= rank_arr <= b
    if bounds is not None:
        for name, (lo, hi) in _bounds(bounds, list(objectives)).items():
            column = F_arr[:, list(objectives).index(name)] if len(F_arr) else np.zeros(0)
            if lo is not None:
                mask &= column >= lo
            if hi is not None:
                mask &= column <= hi
    return mask


# -- mining --------------------------------------------------------------------------------------


def mine_rules(
    compositions: Any,
    in_region: Any,
    *,
    bins: Any = DEFAULT_BINS,
    max_items: int = 3,
    min_support: float = 0.05,
    max_rules: int = DEFAULT_MAX_RULES,
    region: str = "region",
) -> dict[str, Any]:
    """Rules "feature → region" over the designs ``compositions`` (``(n, 4)`` counts) with
    ``in_region`` (``n`` booleans, e.g. from :func:`region_mask`).

    Antecedents are conjunctions of 1..``max_items`` items (type, bin) on distinct types; rules
    with support >= ``min_support`` are kept. ``rules`` holds at most ``max_rules`` of them,
    best first (by lift, then confidence feature → region, support, fewer items); ``n_rules``
    counts all kept. ``pareto_rules`` are the kept rules that no other kept rule beats on both
    confidences (both maximised), by falling confidence feature → region. ``region`` is the
    region's name in the rules' text (see :func:`describe_region`).
    """
    C = as_compositions(compositions)
    n = len(C)
    mask = np.asarray(in_region)
    if mask.ndim != 1 or mask.dtype != bool:
        raise InputError("expected one boolean per design", field="in_region")
    if len(mask) != n:
        raise InputError(f"{len(mask)} region flags for {n} designs", field="in_region")
    if n == 0:
        raise InputError("rule mining needs at least one design", field="compositions")
    bins_t = validate_bins(bins)
    if not _is_int(max_items) or not 1 <= max_items <= len(COUNT_NAMES):
        raise InputError(
            f"max_items must be an integer from 1 to {len(COUNT_NAMES)}, got {max_items!r}",
            field="max_items",
        )
    if not _is_number(min_support) or not 0 < float(min_support) <= 1:
        raise InputError(
            f"min_support must be a number in (0, 1], got {min_support!r}", field="min_support"
        )
    if not _is_int(max_rules) or not 1 <= max_rules <= MAX_RULES:
        raise InputError(
            f"max_rules must be an integer from 1 to {MAX_RULES}, got {max_rules!r}",
            field="max_rules",
        )
    if not isinstance(region, str) or not region.strip():
        raise InputError("the region's name must be a non-empty string", field="region")

    B, T = len(bins_t), len(COUNT_NAMES)
    starts = np.array([b[1] for b in bins_t])
    cell_index = np.searchsorted(starts, C, side="right") - 1  # (n, 4) bin of each count
    cells = np.ravel_multi_index(tuple(cell_index.T), (B,) * T)
    all_counts = np.bincount(cells, minlength=B**T).reshape((B,) * T)
    region_counts = np.bincount(cells[mask], minlength=B**T).reshape((B,) * T)
    n_region = int(mask.sum())
    p_region = n_region / n
    # Supports are compared as counts: support >= min_support <=> count >= min_support * n,
    # with a little slack for 0.3 * 100 = 30.000000000000004.
    min_count = float(min_support) * n * (1 - 1e-12)

    found: list[dict[str, Any]] = []
    for k in range(1, int(max_items) + 1):
        for types in itertools.combinations(range(T), k):
            others = tuple(t for t in range(T) if t not in types)
            both = region_counts.sum(axis=others)
            feature = all_counts.sum(axis=others)
            for cell in np.argwhere(both >= min_count):
                key = tuple(int(i) for i in cell)
                counts = (int(feature[key]), int(both[key]), n, n_region)
                found.append(_rule(types, key, bins_t, *counts, region))
    found.sort(key=_order)
    pareto: list[dict[str, Any]] = []
    if found:
        conf = np.array(
            [[r["confidence_feature_to_region"], r["confidence_region_to_feature"]] for r in found]
        )
        front = pareto_front_mask(-conf)
        pareto = [r for r, keep in zip(found, front, strict=True) if keep]
        pareto.sort(
            key=lambda r: (
                -r["confidence_feature_to_region"],
                -r["confidence_region_to_feature"],
                *_order(r),
            )
        )
    return {
        "n": n,
        "n_region": n_region,
        "p_region": p_region,
        "region": region,
        "bins": [{"label": label, "min": lo, "max": hi} for label, lo, hi in bins_t],
        "max_items": int(max_items),
        "min_support": float(min_support),
        "max_rules": int(max_rules),
        "n_rules": len(found),
        "rules": found[: int(max_rules)],
        "pareto_rules": pareto,
    }


def _order(rule: dict[str, Any]) -> tuple[Any, ...]:
    return (
        -rule["lift"],
        -rule["confidence_feature_to_region"],
        -rule["support"],
        len(rule["items"]),
        rule["text"],
    )


def _rule(
    types: tuple[int, ...],
    cell: tuple[int, ...],
    bins: tuple[Bin, ...],
    n_feature: int,
    n_both: int,
    n: int,
    n_region: int,
    region: str,
) -> dict[str, Any]:
    items = []
    for t, b in zip(types, cell, strict=True):
        label, lo, hi = bins[b]
        items.append(
            {
                "type": COUNT_NAMES[t],
                "bin": label,
                "min": lo,
                "max": hi,
                "text": item_text(COUNT_NAMES[t], lo, hi),
            }
        )
    # n_both >= 1 here (min_support > 0), so n_feature and n_region are positive.
    confidence = n_both / n_feature
    return {
        "items": items,
        "text": " AND ".join(i["text"] for i in items) + f" → {region}",
        "support": n_both / n,
        "feature_support": n_feature / n,
        "confidence_feature_to_region": confidence,
        "confidence_region_to_feature": n_both / n_region,
        "lift": confidence / (n_region / n),
        "designs_with_feature": n_feature,
        "designs_with_feature_in_region": n_both,
    }
