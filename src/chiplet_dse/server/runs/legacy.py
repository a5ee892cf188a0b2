"""Migration from the original tool's ``points.csv`` (spec "Migration from Existing Data").

Each line is ``execution_time_ms,energy_mj,gpu,attention,sparse,convolution`` with no header.
The file becomes one completed run with its Pareto front. Importing the same file again returns
the run made the first time; a malformed line fails the import with its line number and
nothing is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from pathlib import Path

from django.db import IntegrityError, transaction

from chiplet_dse.errors import InputError
from chiplet_dse.server.runs.models import Algorithm, OptimizationRun, RunStatus
from chiplet_dse.server.runs.store import NewDesign, add_designs, create_unique, new_run_id

MAX_BYTES = 200 * 2**20


def parse_points(text: str, source: str) -> list[NewDesign]:
    """Validate every line; return one design per distinct composition (first line wins)."""
    designs: dict[tuple[int, int, int, int], NewDesign] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 6:
            raise InputError(f"line {number}: expected 6 values, got {len(row)}", file=source)
        try:
            time_ms, energy_mj = float(row[0]), float(row[1])
            counts = tuple(int(cell) for cell in row[2:])
        except ValueError:
            raise InputError(
                f"line {number}: expected two numbers and four integer counts, got {row}",
                file=source,
            ) from None
        if not (math.isfinite(time_ms) and math.isfinite(energy_mj)) or min(time_ms, energy_mj) < 0:
            raise InputError(f"line {number}: objectives must be finite and >= 0", file=source)
        if min(counts) < 0 or sum(counts) == 0:
            raise InputError(f"line {number}: invalid chiplet counts {counts}", file=source)
        designs.setdefault(
            counts,  # type: ignore[arg-type]
            NewDesign(counts, {"execution_time_ms": time_ms, "energy_mj": energy_mj}, 0),  # type: ignore[arg-type]
        )
    if not designs:
        raise InputError("no design lines in the file", file=source)
    return list(designs.values())


def import_points(
    data: bytes, source: str, name: str | None = None
) -> tuple[OptimizationRun, bool]:
    """Import a legacy points.csv; returns (run, created). Idempotent per file content."""
    if len(data) > MAX_BYTES:
        raise InputError(f"file larger than {MAX_BYTES // 2**20} MB", file=source)
    digest = hashlib.sha256(data).hexdigest()
    existing = OptimizationRun.objects.filter(
        algorithm=Algorithm.IMPORT, source_sha256=digest
    ).first()
    if existing is not None:
        return existing, False
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", file=source) from None
    designs = parse_points(text, source)
    try:
        run = _create(designs, source, digest, name)
    except IntegrityError:  # the same file imported concurrently: the other import won
        return OptimizationRun.objects.get(algorithm=Algorithm.IMPORT, source_sha256=digest), False
    from chiplet_dse.server.runs.executor import run_finished

    run_finished.send(sender=import_points, run_id=run.run_id, status=RunStatus.COMPLETED)
    return run, True


def _create(
    designs: list[NewDesign], source: str, digest: str, name: str | None
) -> OptimizationRun:
    with transaction.atomic():
        run = create_unique(
            OptimizationRun,
            "run_id",
            new_run_id(),
            name=name or f"import of {Path(source).name}",
            description=f"Imported from {source} ({len(designs)} designs)",
            algorithm=Algorithm.IMPORT,
            model="CASCADE",
            population_size=len(designs),
            generations=1,
            total_generations=1,
            objectives=["execution_time_ms", "energy_mj"],
            trace_name="unknown (legacy points.csv)",
            status=RunStatus.RUNNING,
            config={"import": {"file": source, "sha256": digest}},
            source_sha256=digest,
        )
        add_designs(run, designs, current_generation=1, evaluations=len(designs))
        OptimizationRun.objects.filter(pk=run.pk).update(status=RunStatus.COMPLETED)
        run.refresh_from_db()
        run.started_at = run.completed_at = run.created_at
        run.save(update_fields=["started_at", "completed_at"])
    return run


def import_file(path: str | Path, name: str | None = None) -> tuple[OptimizationRun, bool]:
    try:
        data = Path(path).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        raise InputError("points file not found", file=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read the points file: {exc.strerror}", file=str(path)) from None
    return import_points(data, str(path), name)
