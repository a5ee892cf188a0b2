"""Zip exports of runs (spec "Zip File Contents", "CSV Format", "File Naming Convention").

Every export is one zip in ``settings.EXPORTS_DIR`` named ``{base}_{YYYY}{Mon}{DD}_{HHMMSS}.zip``
whose members are prefixed by that name without ``.zip`` (the *stem*):

* ``{stem}_designs.csv`` — every stored design in evaluation order (several runs:
  ``{stem}_{run_id}_designs.csv`` each), columns :data:`CSV_COLUMNS`, floats as ``repr``;
* ``{stem}_report.txt`` — the text report (:mod:`.report`);
* ``{stem}_pareto_front.png`` (``{stem}_pareto_fronts.png`` for several runs) — the figure;
* ``{stem}_metadata.json`` — run fields, config, export information.

Designs are streamed from the database into the zip member (memory stays bounded whatever
the run's size); the report, front and figure are built from the same stream, so they
describe exactly the designs in the CSV. The archive is written to a hidden temporary file
and moved over its reserved name only when complete: an export that fails leaves nothing.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import logging
import math
import os
import tempfile
import time
import zipfile
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISREG
from typing import Any

import numpy as np
from django.conf import settings
from django.utils import timezone

import chiplet_dse
from chiplet_dse.errors import InputError, NotFoundError
from chiplet_dse.server.exports import naming, report
from chiplet_dse.server.exports.naming import sanitize_base_name, validate_base_name
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun
from chiplet_dse.server.runs.services import get_run

log = logging.getLogger(__name__)

__all__ = [
    "CSV_COLUMNS",
    "ExportResult",
    "cleanup_exports",
    "export_comparative_study",
    "export_file",
    "export_multiple_runs",
    "export_run",
    "list_exports",
    "scheduled_cleanup",
    "validate_base_name",
]

#: The designs CSV's header, in this order (spec "CSV Format").
CSV_COLUMNS = (
    "execution_time_ms", "energy_mj", "gpu_count", "attention_count", "sparse_count",
    "convolution_count", "total_chiplets", "is_pareto_optimal",
)  # fmt: skip
_STREAM_FIELDS = (*CSV_COLUMNS, "area_mm2", "evaluation_order")
_PARETO = CSV_COLUMNS.index("is_pareto_optimal")
#: Rows fetched from the database at a time while streaming a CSV.
CHUNK_SIZE = 2000
#: Designs off the front drawn (in grey) in a run's figure, at most.
FIGURE_SAMPLE = 20_000

COMPRESSIONS = {
    "stored": zipfile.ZIP_STORED,
    "deflated": zipfile.ZIP_DEFLATED,
    "bzip2": zipfile.ZIP_BZIP2,
    "lzma": zipfile.ZIP_LZMA,
}
#: Valid ``level`` per method; methods absent here take no level.
LEVELS = {"deflated": (0, 9), "bzip2": (1, 9)}
DOWNLOAD_PREFIX = "/media/exports/"
#: Temporary files and empty reservations younger than this are never cleaned up.
GRACE_SECONDS = 60.0
METADATA_FORMAT = "chiplet-dse-export"
METADATA_VERSION = 1

#: Run fields written to the metadata (and in this order).
RUN_FIELDS = (
    "run_id", "name", "description", "algorithm", "model", "population_size", "generations",
    "objectives", "trace_name", "experiment", "status", "total_designs_evaluated",
    "pareto_front_size", "seed", "created_at", "updated_at", "started_at", "completed_at",
    "execution_time_s", "current_generation", "total_generations", "evaluations",
    "error_message", "attempts", "auto_export",
)  # fmt: skip


@dataclass(frozen=True)
class ExportResult:
    """A finished export: the zip's name, where it is, where to download it."""

    file_name: str
    path: Path
    download_url: str
    size_bytes: int
    designs: int  # CSV rows written, over all runs
    members: tuple[str, ...] = ()
    study_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file_name": self.file_name,
            "path": str(self.path),
            "download_url": self.download_url,
            "size_bytes": self.size_bytes,
            "designs": self.designs,
            "members": list(self.members),
            "study_id": self.study_id,
        }


# -- validation ----------------------------------------------------------------------------------
def validate_compression(compression: object, level: object) -> tuple[int, int | None]:
    """(zipfile method, level) for a compression name and optional level, or InputError."""
    if not isinstance(compression, str) or compression not in COMPRESSIONS:
        raise InputError(
            f"unknown compression {compression!r}; choose one of {', '.join(COMPRESSIONS)}",
            field="compression",
        )
    if level is None:
        return COMPRESSIONS[compression], None
    if compression not in LEVELS:
        raise InputError(f"{compression} takes no compression level", field="level")
    low, high = LEVELS[compression]
    if isinstance(level, bool) or not isinstance(level, int) or not low <= level <= high:
        raise InputError(
            f"{compression} levels are integers from {low} to {high}, got {level!r}",
            field="level",
        )
    return COMPRESSIONS[compression], level


def default_base_name(run: OptimizationRun) -> str:
    """The run's name with unsafe characters replaced by ``_`` (else its id)."""
    return sanitize_base_name(run.name or "", run.run_id)


def exports_dir() -> Path:
    directory = Path(settings.EXPORTS_DIR)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def _now() -> datetime:
    """The moment an export is named after, in the server's time zone (tests replace it)."""
    return timezone.localtime()


def _download_url(file_name: str) -> str:
    return DOWNLOAD_PREFIX + file_name


# -- writing an archive --------------------------------------------------------------------------
class _Archive:
    """A zip written to a temporary file and moved over its reserved name when complete.

    On entry the final name is reserved (created empty with O_EXCL, so concurrent exports in
    the same second never share it); on a clean exit the finished zip replaces the
    reservation (``os.replace``); on any exception both files are removed.
    """

    def __init__(self, base: str, method: int, level: int | None, moment: datetime) -> None:
        self.base, self.method, self.level, self.moment = base, method, level, moment
        self.members: list[str] = []

    def __enter__(self) -> _Archive:
        directory = exports_dir()
        self.path = naming.reserve(directory, self.base, naming.timestamp(self.moment))
        self.file_name = self.path.name
        self.stem = naming.stem(self.file_name)
        self._tmp: str | None = None
        try:
            fd, self._tmp = tempfile.mkstemp(
                dir=directory, prefix=naming.TEMP_PREFIX, suffix=naming.TEMP_SUFFIX
            )
            self._file = os.fdopen(fd, "wb")
            self.zip = zipfile.ZipFile(
                self._file, "w", compression=self.method, compresslevel=self.level
            )
        except BaseException:
            self._discard()
            raise
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            self.zip.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.chmod(self._tmp, 0o644)
            os.replace(self._tmp, self.path)
        except BaseException:
            self._discard()
            raise

    def _discard(self) -> None:
        for handle in (getattr(self, "zip", None), getattr(self, "_file", None)):
            if handle is not None:
                with contextlib.suppress(Exception):  # the archive is thrown away anyway
                    handle.close()
        if self._tmp:
            Path(self._tmp).unlink(missing_ok=True)
        try:
            if self.path.stat().st_size == 0:  # still our empty reservation
                self.path.unlink()
        except FileNotFoundError:
            pass

    def member_name(self, suffix: str) -> str:
        return f"{self.stem}_{suffix}"

    def member(self, suffix: str) -> str:
        """The name of a new member, recorded in :attr:`members`."""
        name = self.member_name(suffix)
        self.members.append(name)
        return name

    def write_text(self, suffix: str, text: str) -> str:
        name = self.member(suffix)
        self.zip.writestr(name, text.encode("utf-8"))
        return name

    def write_bytes(self, suffix: str, data: bytes) -> str:
        name = self.member(suffix)
        self.zip.writestr(name, data)
        return name

    def result(self, designs: int, study_id: str | None = None) -> ExportResult:
        return ExportResult(
            file_name=self.file_name,
            path=self.path,
            download_url=_download_url(self.file_name),
            size_bytes=self.path.stat().st_size,
            designs=designs,
            members=tuple(self.members),
            study_id=study_id,
        )


@dataclass
class _Stream:
    """What streaming one run's designs into a CSV saw: row count, front, figure sample."""

    member: str
    rows: int = 0
    front: list[dict[str, Any]] = field(default_factory=list)
    sample: array = field(default_factory=lambda: array("d"))

    def data(self) -> report.RunData:
        return report.RunData(designs=self.rows, front=self.front)

    def front_points(self) -> np.ndarray:
        return np.array(
            [(d["execution_time_ms"], d["energy_mj"]) for d in self.front], dtype=float
        ).reshape(-1, 2)

    def sample_points(self) -> np.ndarray:
        return np.frombuffer(self.sample, dtype=float).reshape(-1, 2)


def _designs_query(run: OptimizationRun) -> Iterable[tuple[Any, ...]]:
    return (
        DesignPoint.objects.filter(run=run)
        .order_by("evaluation_order", "id")
        .values_list(*_STREAM_FIELDS)
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _stream_designs(
    archive: _Archive, suffix: str, run: OptimizationRun, sample_limit: int = FIGURE_SAMPLE
) -> _Stream:
    """Write the run's designs CSV into the archive row by row (never all in memory); keep
    the front (rank-1 rows) and every k-th other design (at most ``sample_limit``)."""
    stream = _Stream(archive.member(suffix))
    step = max(1, math.ceil(run.total_designs_evaluated / sample_limit)) if sample_limit else 0
    front, sample = stream.front, stream.sample
    limit = 2 * sample_limit
    rows = 0
    with (
        archive.zip.open(stream.member, "w", force_zip64=True) as raw,
        io.TextIOWrapper(raw, encoding="utf-8", newline="") as text,
    ):
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        write = writer.writerow
        for row in _designs_query(run):
            # total_chiplets and the counts are ints, the objectives floats (str == repr, so
            # every value round-trips exactly), is_pareto_optimal a bool (True/False).
            write(row[:8])
            if row[_PARETO]:
                front.append(
                    {
                        "gpu_count": row[2],
                        "attention_count": row[3],
                        "sparse_count": row[4],
                        "convolution_count": row[5],
                        "execution_time_ms": row[0],
                        "energy_mj": row[1],
                        "area_mm2": row[8],
                        "evaluation_order": row[9],
                    }
                )
            elif step and rows % step == 0 and len(sample) < limit:
                sample.append(row[0])
                sample.append(row[1])
            rows += 1
    stream.rows = rows
    return stream


# -- metadata ------------------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def run_metadata(run: OptimizationRun) -> dict[str, Any]:
    return {name: _jsonable(getattr(run, name)) for name in RUN_FIELDS}


def _export_info(
    archive: _Archive,
    compression: str,
    level: int | None,
    rows: dict[str, int],
    created: datetime,
    warnings: list[str],
) -> dict[str, Any]:
    return {
        "file_name": archive.file_name,
        "members": [*archive.members, archive.member_name("metadata.json")],
        "compression": compression,
        "compression_level": level,
        "created_at": created.isoformat(),
        "rows": rows,
        "designs": sum(rows.values()),
        "csv_columns": list(CSV_COLUMNS),
        "software": {"name": "chiplet_dse", "version": chiplet_dse.__version__},
        "warnings": warnings,
    }


def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _figure(build: Any, warnings: list[str]) -> bytes | None:
    """A figure, or None (logged and noted) if drawing failed: a figure never fails an
    export."""
    try:
        return build()
    except Exception as exc:
        log.exception("drawing an export figure failed")
        warnings.append(f"figure not drawn: {type(exc).__name__}: {exc}")
        return None


# -- exports ---------------------------------------------------------------------------------------
def export_run(
    run_id: str,
    base_name: str | None = None,
    compression: str = "deflated",
    level: int | None = None,
) -> ExportResult:
    """Export one run to ``{base}_{YYYY}{Mon}{DD}_{HHMMSS}.zip`` in ``settings.EXPORTS_DIR``.

    ``base_name`` defaults to the run's name (sanitised) or id. ``compression`` is one of
    stored, deflated, bzip2, lzma; ``level`` (deflated 0–9, bzip2 1–9) is optional.
    """
    method, level = validate_compression(compression, level)
    base = validate_base_name(base_name) if base_name is not None else None
    run = get_run(run_id)
    base = base or default_base_name(run)
    created = _now()
    warnings: list[str] = []
    with _Archive(base, method, level, created) as archive:
        stream = _stream_designs(archive, "designs.csv", run)
        run.refresh_from_db()  # counters and status as they were after the stream
        data = stream.data()
        archive.write_text("report.txt", report.run_report(run, data, generated_at=created))
        from chiplet_dse.server.exports import figures

        png = _figure(
            lambda: figures.pareto_png(
                figures.run_title(run),
                stream.front_points(),
                stream.sample_points(),
                total_designs=stream.rows,
            ),
            warnings,
        )
        if png is not None:
            archive.write_bytes("pareto_front.png", png)
        metadata = {
            "format": METADATA_FORMAT,
            "format_version": METADATA_VERSION,
            "kind": "run",
            "run": run_metadata(run),
            "config": run.config,
            "pareto_front_size": len(stream.front),
            "export": _export_info(
                archive, compression, level, {stream.member: stream.rows}, created, warnings
            ),
        }
        archive.write_text("metadata.json", _dump(metadata))
    log.info("exported run %s to %s (%d designs)", run.run_id, archive.file_name, stream.rows)
    return archive.result(stream.rows)


def _runs_by_id(run_ids: object, field_name: str = "run_ids") -> list[OptimizationRun]:
    if isinstance(run_ids, str | bytes) or not isinstance(run_ids, Sequence):
        raise InputError("expected a list of run ids", field=field_name)
    ids = list(run_ids)
    if not ids:
        raise InputError("name at least one run", field=field_name)
    if not all(isinstance(i, str) and i for i in ids):
        raise InputError("run ids must be non-empty strings", field=field_name)
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise InputError(f"run id(s) listed twice: {', '.join(duplicates)}", field=field_name)
    found = {r.run_id: r for r in OptimizationRun.objects.filter(run_id__in=ids)}
    missing = [i for i in ids if i not in found]
    if missing:
        raise NotFoundError(f"no run(s) with id(s) {', '.join(repr(i) for i in missing)}")
    return [found[i] for i in ids]


def _safe_id(run_id: str) -> str:
    return sanitize_base_name(run_id, "run")


def export_multiple_runs(
    run_ids: Sequence[str],
    base_name: str | None = None,
    compression: str = "deflated",
    level: int | None = None,
) -> ExportResult:
    """Export several runs to one zip: a designs CSV per run (``{stem}_{run_id}_designs.csv``),
    one report covering all, one figure with every front, metadata."""
    method, level = validate_compression(compression, level)
    base = validate_base_name(base_name) if base_name is not None else "multiple_runs"
    runs = _runs_by_id(run_ids)
    created = _now()
    warnings: list[str] = []
    with _Archive(base, method, level, created) as archive:
        streams = [_stream_designs(archive, f"{_safe_id(r.run_id)}_designs.csv", r) for r in runs]
        for run in runs:
            run.refresh_from_db()
        pairs = [(r, s.data()) for r, s in zip(runs, streams, strict=True)]
        archive.write_text("report.txt", report.multiple_runs_report(pairs, generated_at=created))
        from chiplet_dse.server.exports import figures

        png = _figure(
            lambda: figures.fronts_png(
                f"Pareto fronts of {len(runs)} runs",
                [
                    figures.Series(f"{r.name} ({r.run_id})", s.front_points())
                    for r, s in zip(runs, streams, strict=True)
                ],
            ),
            warnings,
        )
        if png is not None:
            archive.write_bytes("pareto_fronts.png", png)
        metadata = {
            "format": METADATA_FORMAT,
            "format_version": METADATA_VERSION,
            "kind": "multiple_runs",
            "runs": [
                {
                    "run": run_metadata(r),
                    "config": r.config,
                    "designs_csv": s.member,
                    "rows": s.rows,
                    "pareto_front_size": len(s.front),
                }
                for r, s in zip(runs, streams, strict=True)
            ],
            "export": _export_info(
                archive, compression, level, {s.member: s.rows for s in streams}, created, warnings
            ),
        }
        archive.write_text("metadata.json", _dump(metadata))
    total = sum(s.rows for s in streams)
    log.info("exported %d runs to %s (%d designs)", len(runs), archive.file_name, total)
    return archive.result(total)


def export_comparative_study(
    run_a_id: str,
    run_b_id: str,
    study_name: str,
    compression: str = "deflated",
    level: int | None = None,
    *,
    description: str = "",
) -> ExportResult:
    """Compare two runs, store (or refresh) the ComparativeStudy named ``study_name`` of them,
    and export it: both runs' designs CSVs (``{stem}_{run_id}_designs.csv``), a comparative
    report, a figure with both fronts, metadata (with the comparison)."""
    from chiplet_dse.server.analytics.comparison import compare_runs

    method, level = validate_compression(compression, level)
    name = validate_base_name(study_name, field="study_name")
    if run_a_id == run_b_id:
        raise InputError("a study compares two different runs", field="run_b_id")
    run_a, run_b = get_run(run_a_id), get_run(run_b_id)
    comparison = compare_runs(run_a, run_b)
    from chiplet_dse.server.analytics.studies import save_study

    study = save_study(run_a, run_b, name, description, comparison)
    study_info = {
        "study_id": study.study_id,
        "name": study.name,
        "description": study.description,
        "shared_parameters": study.shared_parameters,
    }
    created = _now()
    warnings: list[str] = []
    with _Archive(name, method, level, created) as archive:
        streams = [
            _stream_designs(archive, f"{_safe_id(r.run_id)}_designs.csv", r, sample_limit=0)
            for r in (run_a, run_b)
        ]
        text = report.comparison_report(comparison, study=study_info, generated_at=created)
        archive.write_text("report.txt", text)
        from chiplet_dse.server.exports import figures

        series = [
            figures.Series(
                f"run {label}: {info['name']} ({info['run_id']})",
                np.array(
                    [(d["execution_time_ms"], d["energy_mj"]) for d in info["front"]], dtype=float
                ).reshape(-1, 2),
            )
            for label, info in (("A", comparison["run_a"]), ("B", comparison["run_b"]))
        ]
        png = _figure(lambda: figures.fronts_png(f"Comparative study: {name}", series), warnings)
        if png is not None:
            archive.write_bytes("pareto_fronts.png", png)
        for run in (run_a, run_b):
            run.refresh_from_db()
        metadata = {
            "format": METADATA_FORMAT,
            "format_version": METADATA_VERSION,
            "kind": "comparative_study",
            "study": {**study_info, "created_at": _jsonable(study.created_at)},
            "runs": [
                {
                    "role": role,
                    "run": run_metadata(r),
                    "config": r.config,
                    "designs_csv": s.member,
                    "rows": s.rows,
                }
                for role, r, s in zip(("a", "b"), (run_a, run_b), streams, strict=True)
            ],
            "comparison": comparison,
            "export": _export_info(
                archive, compression, level, {s.member: s.rows for s in streams}, created, warnings
            ),
        }
        archive.write_text("metadata.json", _dump(metadata))
    total = sum(s.rows for s in streams)
    log.info("exported study %s to %s", study.study_id, archive.file_name)
    return archive.result(total, study_id=study.study_id)


# -- the exports directory -----------------------------------------------------------------------
def validate_max_age(max_age_days: object) -> float:
    if (
        isinstance(max_age_days, bool)
        or not isinstance(max_age_days, int | float)
        or not math.isfinite(max_age_days)
        or max_age_days < 0
    ):
        raise InputError(
            f"expected a finite number of days >= 0, got {max_age_days!r}", field="max_age_days"
        )
    return float(max_age_days)


def cleanup_exports(max_age_days: float) -> list[str]:
    """Delete exports (files named like an export, directly in ``EXPORTS_DIR``) last modified
    more than ``max_age_days`` ago; returns the deleted names, sorted.

    Nothing else is touched: other files, subdirectories and symbolic links stay, and nothing
    outside the directory is followed. Stray temporary files of failed exports and empty
    reservations are removed by the same age rule, but never when younger than a minute (an
    export may be writing them).
    """
    age_s = validate_max_age(max_age_days) * 86400.0
    now = time.time()
    cutoff = now - age_s
    grace = now - GRACE_SECONDS
    directory = exports_dir()
    deleted = []
    with os.scandir(directory) as entries:
        for entry in entries:
            is_export = naming.is_export_name(entry.name)
            is_temp = naming.TEMP_PATTERN.fullmatch(entry.name) is not None
            if not (is_export or is_temp) or not entry.is_file(follow_symlinks=False):
                continue
            stat = entry.stat(follow_symlinks=False)
            if stat.st_mtime >= cutoff:
                continue
            if (is_temp or stat.st_size == 0) and stat.st_mtime >= grace:
                continue
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            deleted.append(entry.name)
    deleted.sort()
    if deleted:
        log.info(
            "export clean-up deleted %d file(s) older than %s days", len(deleted), max_age_days
        )
    return deleted


def scheduled_cleanup() -> list[str]:
    """Clean-up with ``settings.CHIPLET_DSE_EXPORT_MAX_AGE_DAYS`` (None or unset: disabled).
    Meant for the worker's periodic loop; never raises (a failure is logged)."""
    max_age = getattr(settings, "CHIPLET_DSE_EXPORT_MAX_AGE_DAYS", None)
    if max_age is None:
        return []
    try:
        return cleanup_exports(max_age)
    except Exception:
        log.exception("scheduled export clean-up failed")
        return []


def _listing(entry: os.DirEntry[str]) -> dict[str, Any] | None:
    if not naming.is_export_name(entry.name) or not entry.is_file(follow_symlinks=False):
        return None
    stat = entry.stat(follow_symlinks=False)
    if stat.st_size == 0:  # reserved by an export still being written
        return None
    modified = timezone.localtime(datetime.fromtimestamp(stat.st_mtime, tz=UTC))
    return {
        "name": entry.name,
        "size_bytes": stat.st_size,
        "modified": modified.isoformat(),
        "download_url": _download_url(entry.name),
        "_mtime": stat.st_mtime,
    }


def list_exports() -> list[dict[str, Any]]:
    """Finished exports (name, size_bytes, modified as ISO 8601, download_url), newest
    first."""
    with os.scandir(exports_dir()) as entries:
        found = [item for entry in entries if (item := _listing(entry)) is not None]
    found.sort(key=lambda item: (item["_mtime"], item["name"]), reverse=True)
    for item in found:
        del item["_mtime"]
    return found


def export_file(name: object) -> Path:
    """The path of the finished export ``name`` for a download. Only names of the export
    pattern are served (no paths, no traversal, no symbolic links); else NotFoundError."""
    if not naming.is_export_name(name):
        raise NotFoundError(f"no export named {name!r}")
    path = exports_dir() / str(name)
    try:
        info = path.lstat()
    except FileNotFoundError:
        raise NotFoundError(f"no export named {name!r}") from None
    if not S_ISREG(info.st_mode):
        raise NotFoundError(f"no export named {name!r}")
    if info.st_size == 0:
        raise NotFoundError(f"export {name!r} is still being written")
    return path
