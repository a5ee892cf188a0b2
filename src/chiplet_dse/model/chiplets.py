"""Chiplet types and the system they sit in (CASCADE's chiplet library, spec §2 and §13).

The defaults are CASCADE's. Every parameter can be overridden from a JSON or TOML file with
:func:`load_library`; a library that restates the defaults gives bit-identical results.

Numbers are kept in the units and Python types the original uses (ints stay ints) because the
model's arithmetic order and types are part of what makes its results reproducible.
"""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from chiplet_dse.errors import InputError

#: Chiplet type names in system order (spec §2.3): a design is one count per type, in this order.
CHIPLET_TYPES: tuple[str, ...] = ("gpu", "atten", "sparse", "conv")

#: User-facing names of the types, as the CLI, CSV files and the spec's models use them.
TYPE_LABELS: dict[str, str] = {
    "gpu": "GPU",
    "atten": "Attention",
    "sparse": "Sparse",
    "conv": "Convolution",
}

Number = int | float


@dataclass(frozen=True)
class ChipletType:
    """One chiplet type of the library.

    ``gflops`` is the rate for every kernel not listed in ``kernel_gflops``; ``peak_gflops`` is
    the advertised peak (reported, and the rate of the kernels listed at peak in CASCADE).
    """

    name: str
    peak_gflops: Number
    gflops: Number
    kernel_gflops: Mapping[str, Number]
    bw_sat_gbps: Number
    tdp_w: Number
    tdp_compute_share: float
    tdp_memory_share: float
    tdp_base_share: float
    area_mm2: Number
    sram_mb: Number

    def rate_flops(self, kernel: str) -> Number:
        """Compute rate in FLOP/s for a kernel type (GFLOP/s x 10^9, as the original)."""
        return self.kernel_gflops.get(kernel, self.gflops) * (10**9)

    @property
    def bw_sat_bytes(self) -> Number:
        """Saturation bandwidth in bytes/s (GB/s x 1024^3)."""
        return self.bw_sat_gbps * (1024**3)

    @property
    def sram_bytes(self) -> Number:
        """On-chip SRAM in bytes (MB x 1024^2)."""
        return self.sram_mb * (1024**2)

    @property
    def power_split_w(self) -> tuple[float, float, float]:
        """(compute, memory, base) power in W: the TDP split of spec §2.1."""
        return (
            self.tdp_compute_share * self.tdp_w,
            self.tdp_memory_share * self.tdp_w,
            self.tdp_base_share * self.tdp_w,
        )


@dataclass(frozen=True)
class SystemParams:
    """System-level parameters: DRAM channels, bandwidth per channel, element size."""

    memory_channels: int = 16
    channel_gbps: Number = 64
    bytes_per_element: Number = 2
    fusion_leak: float = 3 / 100
    cache_buffer_factor: float = 1.2

    @property
    def bandwidth_bytes(self) -> Number:
        """System memory bandwidth in bytes/s."""
        return self.channel_gbps * self.memory_channels * (1024**3)


@dataclass(frozen=True)
class ChipletLibrary:
    """The four chiplet types plus the system parameters.

    ``name`` is the spec's model type: ``CASCADE`` for the defaults (however they were given),
    ``CUSTOM`` for anything else. A ``name`` key in a library file is accepted and ignored.
    """

    types: Mapping[str, ChipletType]
    system: SystemParams = field(default_factory=SystemParams)
    name: str = "CASCADE"

    def __getitem__(self, type_name: str) -> ChipletType:
        return self.types[type_name]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able description (what :func:`load_library` reads back)."""
        chiplets = {}
        for t in CHIPLET_TYPES:
            c = self.types[t]
            chiplets[t] = {
                "peak_gflops": c.peak_gflops,
                "gflops": c.gflops,
                "kernel_gflops": dict(c.kernel_gflops),
                "bw_sat_gbps": c.bw_sat_gbps,
                "tdp_w": c.tdp_w,
                "tdp_split": {
                    "compute": c.tdp_compute_share,
                    "memory": c.tdp_memory_share,
                    "base": c.tdp_base_share,
                },
                "area_mm2": c.area_mm2,
                "sram_mb": c.sram_mb,
            }
        system = {f.name: getattr(self.system, f.name) for f in fields(SystemParams)}
        return {"name": self.name, "system": system, "chiplets": chiplets}


def _cascade_type(
    name: str,
    peak: Number,
    bw: Number,
    tdp: Number,
    sram: Number,
    at_peak: tuple[str, ...],
    other: Number | None = None,
) -> ChipletType:
    return ChipletType(
        name=name,
        peak_gflops=peak,
        gflops=peak if other is None else other,
        kernel_gflops={k: peak for k in at_peak} if other is not None else {},
        bw_sat_gbps=bw,
        tdp_w=tdp,
        tdp_compute_share=0.50,
        tdp_memory_share=0.30,
        tdp_base_share=0.20,
        area_mm2=25,
        sram_mb=sram,
    )


#: CASCADE's library (spec §2.1). ``64 * 1.5`` is written as the original writes it.
DEFAULT_LIBRARY = ChipletLibrary(
    types={
        "gpu": _cascade_type("gpu", 10000, 64, 15, 4, ()),
        "atten": _cascade_type("atten", 30000, 64, 15, 8, ("Attention",), other=7500),
        "sparse": _cascade_type("sparse", 1000, 64 * 1.5, 4, 8, ()),
        "conv": _cascade_type("conv", 30000, 64, 10, 8, ("Conv2d",), other=7500),
    },
)

_TYPE_KEYS = {
    "peak_gflops",
    "gflops",
    "kernel_gflops",
    "bw_sat_gbps",
    "tdp_w",
    "tdp_split",
    "area_mm2",
    "sram_mb",
}
_SYSTEM_KEYS = {f.name for f in fields(SystemParams)}


def _number(value: Any, where: str, source: str, *, positive: bool = True) -> Number:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
        raise InputError("is too large", file=source, field=where)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InputError(f"must be a finite number, got {value!r}", file=source, field=where)
    if positive and value <= 0:
        raise InputError(f"must be positive, got {value!r}", file=source, field=where)
    if not positive and value < 0:
        raise InputError(f"must not be negative, got {value!r}", file=source, field=where)
    return value


def _override_type(base: ChipletType, spec: Any, where: str, source: str) -> ChipletType:
    if not isinstance(spec, Mapping):
        raise InputError("must be a table of parameters", file=source, field=where)
    unknown = set(spec) - _TYPE_KEYS
    if unknown:
        raise InputError(
            f"unknown parameter(s) {sorted(unknown)}; known: {sorted(_TYPE_KEYS)}",
            file=source,
            field=where,
        )
    changes: dict[str, Any] = {}
    for key in ("peak_gflops", "gflops", "bw_sat_gbps", "tdp_w", "sram_mb"):
        if key in spec:
            changes[key] = _number(spec[key], f"{where}.{key}", source)
    if "area_mm2" in spec:
        changes["area_mm2"] = _number(spec["area_mm2"], f"{where}.area_mm2", source)
    if "peak_gflops" in spec and "gflops" not in spec and not base.kernel_gflops:
        changes["gflops"] = changes["peak_gflops"]
    if "kernel_gflops" in spec:
        rates = spec["kernel_gflops"]
        if not isinstance(rates, Mapping):
            raise InputError(
                "must map kernel names to GFLOP/s", file=source, field=f"{where}.kernel_gflops"
            )
        from chiplet_dse.model.trace import KERNEL_TYPES  # the kernel names the model knows

        merged = dict(base.kernel_gflops)
        for kernel, rate in rates.items():
            if kernel not in KERNEL_TYPES:
                raise InputError(
                    f"unknown kernel type {kernel!r}; known: {sorted(KERNEL_TYPES)}",
                    file=source,
                    field=f"{where}.kernel_gflops",
                )
            merged[kernel] = _number(rate, f"{where}.kernel_gflops.{kernel}", source)
        changes["kernel_gflops"] = merged
    if "tdp_split" in spec:
        split = spec["tdp_split"]
        if not isinstance(split, Mapping) or set(split) - {"compute", "memory", "base"}:
            raise InputError(
                "must be a table with keys compute, memory, base",
                file=source,
                field=f"{where}.tdp_split",
            )
        shares = {
            "compute": base.tdp_compute_share,
            "memory": base.tdp_memory_share,
            "base": base.tdp_base_share,
        }
        for part in split:
            shares[part] = _number(split[part], f"{where}.tdp_split.{part}", source, positive=False)
        if abs(sum(shares.values()) - 1.0) > 1e-9:
            raise InputError(
                f"shares must sum to 1, got {sum(shares.values())}",
                file=source,
                field=f"{where}.tdp_split",
            )
        changes.update(
            tdp_compute_share=shares["compute"],
            tdp_memory_share=shares["memory"],
            tdp_base_share=shares["base"],
        )
    return replace(base, **changes)


def library_from_dict(data: Any, source: str = "<library>") -> ChipletLibrary:
    """Build a library from a parsed JSON/TOML document: CASCADE defaults plus overrides.

    Layout::

        [system]            # memory_channels, channel_gbps, bytes_per_element, ...
        [chiplets.gpu]      # peak_gflops, gflops, kernel_gflops, bw_sat_gbps, tdp_w,
                            # tdp_split = {compute, memory, base}, area_mm2, sram_mb
    """
    if not isinstance(data, Mapping):
        raise InputError("a chiplet library must be a table/object", file=source)
    unknown = set(data) - {"name", "system", "chiplets"}
    if unknown:
        raise InputError(
            f"unknown section(s) {sorted(unknown)}; expected system, chiplets", file=source
        )
    system = DEFAULT_LIBRARY.system
    if "system" in data:
        spec = data["system"]
        if not isinstance(spec, Mapping):
            raise InputError("must be a table", file=source, field="system")
        bad = set(spec) - _SYSTEM_KEYS
        if bad:
            raise InputError(
                f"unknown parameter(s) {sorted(bad)}; known: {sorted(_SYSTEM_KEYS)}",
                file=source,
                field="system",
            )
        changes = {
            k: _number(v, f"system.{k}", source, positive=k != "fusion_leak")
            for k, v in spec.items()
        }
        if "memory_channels" in changes and not isinstance(changes["memory_channels"], int):
            raise InputError("must be an integer", file=source, field="system.memory_channels")
        if changes.get("fusion_leak", 0) > 1:
            raise InputError(
                "is a fraction and must be at most 1", file=source, field="system.fusion_leak"
            )
        system = replace(system, **changes)
    types = dict(DEFAULT_LIBRARY.types)
    chiplets = data.get("chiplets", {})
    if not isinstance(chiplets, Mapping):
        raise InputError("must be a table", file=source, field="chiplets")
    for name, spec in chiplets.items():
        if name not in types:
            raise InputError(
                f"unknown chiplet type {name!r}; known: {list(CHIPLET_TYPES)}",
                file=source,
                field=f"chiplets.{name}",
            )
        types[name] = _override_type(types[name], spec, f"chiplets.{name}", source)
    library = ChipletLibrary(types=types, system=system, name="CUSTOM")
    if library.to_dict()["chiplets"] == DEFAULT_LIBRARY.to_dict()["chiplets"] and (
        library.system == DEFAULT_LIBRARY.system
    ):
        # A file that restates CASCADE's values is CASCADE: the spec's model names the
        # parameters, not where they came from.
        return replace(library, name="CASCADE")
    return library


def parse_library_text(text: str, source: str = "<library>") -> dict[str, Any]:
    """The document of a library given as the text of a JSON or TOML file."""
    stripped = text.lstrip()
    try:
        data = json.loads(text) if stripped.startswith("{") else tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"neither valid JSON nor TOML: {exc}", field=source) from None
    if not isinstance(data, dict):
        raise InputError("a chiplet library must be a table/object", field=source)
    return data


def load_library(path: str | Path) -> ChipletLibrary:
    """Load a custom chiplet library from a ``.json`` or ``.toml`` file."""
    source = str(path)
    p = Path(path)
    if not p.is_file():
        raise InputError("chiplet library file not found", file=source)
    raw = p.read_bytes()
    try:
        if p.suffix.lower() == ".toml":
            data = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # TOML/JSON/UTF-8 decode errors are ValueErrors
        raise InputError(f"malformed library file: {exc}", file=source) from None
    return library_from_dict(data, source)
