"""Zip exports: names, contents checked against the database, atomicity, compression,
clean-up, downloads, comparative studies, several runs, automatic export on completion."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import locale
import logging
import math
import multiprocessing
import os
import re
import time
import tracemalloc
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

import chiplet_dse
from chiplet_dse.errors import InputError, NotFoundError
from chiplet_dse.optimize.pareto import pareto_ranks
from chiplet_dse.server.analytics.models import ComparativeStudy
from chiplet_dse.server.exports import naming, report, services, signals
from chiplet_dse.server.exports.report import num
from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun, RunStatus
from chiplet_dse.server.runs.store import NewDesign, add_designs, create_unique, new_run_id

pytestmark = pytest.mark.django_db

MOMENT = datetime(2025, 8, 2, 20, 51, 53, tzinfo=timezone.get_fixed_timezone(0))
HEADER = (
    "execution_time_ms,energy_mj,gpu_count,attention_count,sparse_count,"
    "convolution_count,total_chiplets,is_pareto_optimal"
)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# -- helpers -------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def exports_dir(settings, tmp_path) -> Path:
    """Every test writes into its own exports directory (inside tmp_path/box, so a test can
    check that nothing appeared beside it)."""
    directory = tmp_path / "box" / "exports"
    settings.EXPORTS_DIR = directory
    return directory


@pytest.fixture
def frozen(monkeypatch):
    """Exports are named after MOMENT."""
    monkeypatch.setattr(services, "_now", lambda: MOMENT)
    return MOMENT


def stored_run(designs: list[tuple[tuple[int, ...], float, float]], **fields: Any):
    """A completed run holding ``designs`` ((g, a, s, c), time, energy) in that order."""
    defaults = dict(
        name="hand made",
        algorithm="NSGA2",
        population_size=4,
        generations=1,
        objectives=["execution_time_ms", "energy_mj"],
        status=RunStatus.COMPLETED,
    )
    defaults.update(fields)
    run = create_unique(OptimizationRun, "run_id", new_run_id(), **defaults)
    batch = [
        NewDesign(tuple(c), {"execution_time_ms": t, "energy_mj": e, "area_mm2": 25.0 * sum(c)})
        for c, t, e in designs
    ]
    add_designs(run, batch)
    return run


def composition(i: int) -> tuple[int, int, int, int]:
    """A distinct composition for every i < 2**24."""
    return (i % 256, (i // 256) % 256, i // 65536, 1)


def synthetic_run(n: int, name: str = "synthetic", seed: int = 0) -> OptimizationRun:
    """A completed run with ``n`` random designs, inserted directly with executemany in
    batches (what a 1,000,000-design benchmark needs); ranks as the store computes them."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(1.0, 100.0, n)
    e = 50.0 / t + rng.exponential(1.0, n)
    ranks = pareto_ranks(np.column_stack([t, e]))
    run = create_unique(
        OptimizationRun,
        "run_id",
        new_run_id(),
        name=name,
        algorithm="NSGA2",
        population_size=100,
        generations=max(1, n // 100),
        objectives=["execution_time_ms", "energy_mj"],
        status=RunStatus.COMPLETED,
    )
    table = DesignPoint._meta.db_table
    names = [
        "run_id",
        "gpu_count",
        "attention_count",
        "sparse_count",
        "convolution_count",
        "total_chiplets",
        "execution_time_ms",
        "energy_mj",
        "area_mm2",
        "is_pareto_optimal",
        "pareto_rank",
        "generation",
        "evaluation_order",
        "additional_metrics",
        "created_at",
    ]
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(['%s'] * len(names))})"
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    for start in range(0, n, 50_000):
        rows = []
        for i in range(start, min(n, start + 50_000)):
            c = composition(i)
            rank = int(ranks[i])
            rows.append(
                (
                    run.pk,
                    *c,
                    sum(c),
                    float(t[i]),
                    float(e[i]),
                    25.0 * sum(c),
                    rank == 1,
                    rank,
                    i // 100,
                    i,
                    "{}",
                    now,
                )
            )
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    OptimizationRun.objects.filter(pk=run.pk).update(
        total_designs_evaluated=n, pareto_front_size=int((ranks == 1).sum()), evaluations=n
    )
    run.refresh_from_db()
    return run


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        return {name: zf.read(name) for name in zf.namelist()}


def database_rows(run: OptimizationRun) -> list[tuple[Any, ...]]:
    return list(
        DesignPoint.objects.filter(run=run)
        .order_by("evaluation_order")
        .values_list(*services.CSV_COLUMNS)
    )


def assert_csv_matches(data: bytes, run: OptimizationRun) -> None:
    """The CSV's header is exact and every row equals the database's values, in order."""
    text = data.decode("utf-8")
    lines = text.split("\n")
    assert lines[0] == HEADER
    assert lines[-1] == ""  # ends with a newline
    rows = list(csv.reader(io.StringIO(text)))[1:]
    expected = database_rows(run)
    assert len(rows) == len(expected) == run.total_designs_evaluated
    for row, db in zip(rows, expected, strict=True):
        t, e, g, a, s, c, total, pareto = row
        assert (float(t), float(e)) == (db[0], db[1])  # exact: floats round-trip
        assert (t, e) == (repr(db[0]), repr(db[1]))
        assert tuple(int(v) for v in (g, a, s, c, total)) == db[2:7]
        assert pareto == ("True" if db[7] else "False")


def files_under(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


DESIGNS = [
    ((12, 0, 0, 0), 5.0, 5.0),
    ((0, 12, 0, 0), 1.0, 9.0),
    ((0, 0, 12, 0), 0.1 + 0.2, 7.25),  # 0.30000000000000004 must survive
    ((6, 6, 0, 0), 2.0, 2.0),
    ((3, 3, 3, 3), 4.0, 1.0 / 3.0),
    ((4, 4, 4, 0), 1e-300, 123456789.123456789),
    ((0, 4, 4, 4), 6.0, 6.0),
]


# -- names ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["myrun", "my_run-1.v2", "a", "A" * 100, "run_20250802_205153"])
def test_valid_base_names(name):
    assert services.validate_base_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "../../x",
        "/etc/x",
        "",
        " ",
        "a b",
        "ünïcode",
        ".hidden",
        "..",
        "a/b",
        "a\\b",
        "x" * 101,
        "tab\t",
        "new\nline",
        "nul\x00",
        "١٢٣",
        None,
        5,
        b"bytes",
    ],
)
def test_unsafe_base_names_are_refused(name):
    with pytest.raises(InputError) as err:
        services.validate_base_name(name)
    assert err.value.field == "base_name"


def test_timestamp_uses_english_months():
    assert naming.timestamp(MOMENT) == "2025Aug02_205153"
    months = [naming.timestamp(datetime(2024, m, 9, 1, 2, 3))[4:7] for m in range(1, 13)]
    assert months == [
        "Jan",
        "Feb",
        "Mar",
        "Apr",
        "May",
        "Jun",
        "Jul",
        "Aug",
        "Sep",
        "Oct",
        "Nov",
        "Dec",
    ]


def test_month_is_english_under_another_locale(monkeypatch):
    """Under de_DE, %b gives 'Mär', 'Okt', 'Dez'; export names keep 'Mar', 'Oct', 'Dec'.
    (Generate a locale with ``localedef -i de_DE -f UTF-8 DIR/de_DE.UTF-8`` and run with
    ``LOCPATH=DIR`` where none is installed.)"""
    previous = locale.setlocale(locale.LC_TIME)
    for candidate in ("de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "es_ES.UTF-8"):
        try:
            locale.setlocale(locale.LC_TIME, candidate)
            break
        except locale.Error:
            continue
    else:
        pytest.skip("no non-English locale installed")
    try:
        march = datetime(2025, 3, 2, 7, 8, 9, tzinfo=MOMENT.tzinfo)
        if march.strftime("%b") == "Mar":
            pytest.skip(f"{candidate} abbreviates March as Mar")
        monkeypatch.setattr(services, "_now", lambda: march)
        run = stored_run(DESIGNS[:2], name="loc")
        assert services.export_run(run.run_id).file_name == "loc_2025Mar02_070809.zip"
        assert naming.timestamp(datetime(2025, 10, 2)) == "2025Oct02_000000"
        assert naming.timestamp(datetime(2025, 12, 31)) == "2025Dec31_000000"
    finally:
        locale.setlocale(locale.LC_TIME, previous)


def test_default_base_name_is_the_sanitised_run_name_or_the_id():
    assert services.default_base_name(stored_run(DESIGNS[:1], name="test run/1")) == "test_run_1"
    assert services.default_base_name(stored_run(DESIGNS[:1], name="ünï")) == "_n_"
    odd = stored_run(DESIGNS[:1], name="äöü")
    assert services.default_base_name(odd) == odd.run_id
    assert services.default_base_name(stored_run(DESIGNS[:1], name=".x")) == "_x"
    long = stored_run(DESIGNS[:1], name="n" * 150)
    assert services.default_base_name(long) == "n" * 100


@pytest.mark.parametrize(
    "name, ok",
    [
        ("myrun_2025Aug02_205153.zip", True),
        ("my.run-x_2025Dec31_000000_2.zip", True),
        ("myrun_2025Aug02_205153", False),
        ("myrun_2025Foo02_205153.zip", False),
        ("../myrun_2025Aug02_205153.zip", False),
        ("a/myrun_2025Aug02_205153.zip", False),
        (".x_2025Aug02_205153.zip", False),
        ("myrun_2025Aug02_205153_0.zip", False),
        ("myrun_2025Aug02_205153.zip\n", False),
        ("x_٢٠٢٥Aug02_205153.zip", False),
        (".export-abc.part", False),
        (None, False),
    ],
)
def test_export_pattern(name, ok):
    assert naming.is_export_name(name) is ok


# -- one run -------------------------------------------------------------------------------------
def test_export_run_contents_match_the_database(frozen, exports_dir):
    run = stored_run(DESIGNS, name="my run", description="hand-made\nsecond line", seed=7)
    result = services.export_run(run.run_id, "myrun")
    stem = "myrun_2025Aug02_205153"
    assert result.file_name == f"{stem}.zip"
    assert result.path == exports_dir / result.file_name
    assert result.download_url == f"/media/exports/{stem}.zip"
    assert result.size_bytes == result.path.stat().st_size > 0
    assert result.designs == len(DESIGNS)
    files = members(result.path)
    assert set(files) == {
        f"{stem}_designs.csv",
        f"{stem}_report.txt",
        f"{stem}_metadata.json",
        f"{stem}_pareto_front.png",
    }
    assert list(files)[:3] == [
        f"{stem}_designs.csv",
        f"{stem}_report.txt",
        f"{stem}_pareto_front.png",
    ]
    assert_csv_matches(files[f"{stem}_designs.csv"], run)
    assert b"0.30000000000000004," in files[f"{stem}_designs.csv"]
    assert b"1e-300,123456789.12345679," in files[f"{stem}_designs.csv"]
    assert files[f"{stem}_pareto_front.png"].startswith(PNG_MAGIC)

    meta = json.loads(files[f"{stem}_metadata.json"])
    assert meta["kind"] == "run"
    assert meta["run"]["run_id"] == run.run_id
    assert meta["run"]["name"] == "my run"
    assert meta["run"]["seed"] == 7
    assert meta["run"]["total_designs_evaluated"] == len(DESIGNS)
    assert meta["config"] == run.config
    export = meta["export"]
    assert export["file_name"] == result.file_name
    assert export["members"] == list(files)
    assert export["compression"] == "deflated" and export["compression_level"] is None
    assert export["rows"] == {f"{stem}_designs.csv": len(DESIGNS)}
    assert export["software"] == {"name": "chiplet_dse", "version": chiplet_dse.__version__}
    assert datetime.fromisoformat(export["created_at"]) == MOMENT
    front = DesignPoint.objects.filter(run=run, pareto_rank=1)
    assert meta["pareto_front_size"] == front.count() == run.pareto_front_size

    text = files[f"{stem}_report.txt"].decode("utf-8")
    for needle in (
        run.run_id,
        "my run",
        "hand-made",
        "second line",
        "completed",
        "NSGA2",
        "Population size  4",
        "Seed             7",
    ):
        assert needle in text
    assert f"Designs stored     {len(DESIGNS)}" in text
    assert f"Pareto front size  {front.count()}" in text
    fastest = front.order_by("execution_time_ms").first()
    cheapest = front.order_by("energy_mj").first()
    flat = re.sub(r" +", " ", text)
    assert f"Execution time (ms) {num(fastest.execution_time_ms)}" in flat
    assert f"Energy (mJ) {num(cheapest.energy_mj)}" in flat
    for d in front:  # every front design is in the front table
        row = (
            f"{d.gpu_count} {d.attention_count} {d.sparse_count} {d.convolution_count} "
            f"{num(d.execution_time_ms)} {num(d.energy_mj)} {num(d.area_mm2)}"
        )
        assert row in flat
    assert "Knee point" in text


def test_report_of_an_executed_run_shows_experiment_library_and_space(make_run):
    run = make_run(library={"chiplets": {"gpu": {"tdp_w": 20}}, "system": {"memory_channels": 8}})
    text = report.run_report(run)
    workload = run.config["experiment"]["workloads"][0]
    assert workload["sha256"] in text and workload["source"] in text
    assert "rmc1-test" in text and "dlrm/rmc1/512" in text
    assert f"Goal       {run.config['goal']}" in text
    assert "CUSTOM: CASCADE's library with 2 parameter(s) changed" in text
    assert re.search(r"chiplets\.gpu\.tdp_w\s+15\s+20", text)
    assert re.search(r"system\.memory_channels\s+16\s+8", text)
    assert "Compositions    455" in text
    assert f"Model evaluations  {run.evaluations}" in text
    data = report.load_run_data(run)
    assert data.designs == run.total_designs_evaluated
    assert len(data.front) == run.pareto_front_size


def test_report_of_an_unchanged_library_says_cascade(make_run):
    assert "CASCADE: CASCADE's chiplet library, unchanged" in report.run_report(make_run())


def test_extra_sections_are_appended_and_a_failing_one_does_not_break_exports(monkeypatch):
    run = stored_run(DESIGNS)
    monkeypatch.setattr(report, "EXTRA_SECTIONS", [])

    @report.register_section
    def rules(r):
        return report.section("Rule mining", [f"  rules of {r.run_id}"])

    def broken(r):
        raise RuntimeError("boom")

    report.register_section(broken)
    report.register_section(broken)  # once only
    text = report.run_report(run)
    assert f"Rule mining\n-----------\n  rules of {run.run_id}" in text
    assert text.count("this section failed: RuntimeError: boom") == 1
    result = services.export_run(run.run_id)
    assert "Rule mining" in next(
        v.decode() for k, v in members(result.path).items() if k.endswith("_report.txt")
    )


def test_a_second_export_in_the_same_second_gets_a_suffix(frozen, exports_dir):
    run = stored_run(DESIGNS)
    first = services.export_run(run.run_id, "myrun")
    digest = hashlib.sha256(first.path.read_bytes()).hexdigest()
    second = services.export_run(run.run_id, "myrun")
    third = services.export_run(run.run_id, "myrun")
    assert [first.file_name, second.file_name, third.file_name] == [
        "myrun_2025Aug02_205153.zip",
        "myrun_2025Aug02_205153_2.zip",
        "myrun_2025Aug02_205153_3.zip",
    ]
    assert hashlib.sha256(first.path.read_bytes()).hexdigest() == digest
    assert "myrun_2025Aug02_205153_2_designs.csv" in members(second.path)
    assert sorted(p.name for p in exports_dir.iterdir()) == sorted(
        r.file_name for r in (first, second, third)
    )


def _reserve_many(directory: str, start, queue, count: int) -> None:
    start.wait()
    queue.put(
        [naming.reserve(Path(directory), "race", "2025Aug02_205153").name for _ in range(count)]
    )


def test_reserving_names_is_race_free_across_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    start, queue = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_reserve_many, args=(str(tmp_path), start, queue, 25)) for _ in range(4)
    ]
    for p in procs:
        p.start()
    start.set()
    names = [name for _ in procs for name in queue.get(timeout=60)]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(names) == len(set(names)) == 100
    assert set(names) == {naming.candidate("race", "2025Aug02_205153", n) for n in range(1, 101)}


@pytest.mark.parametrize("name", ["../../x", "/etc/x", "..", "a/../../b", "x y", "ü"])
def test_traversal_base_names_write_nothing(name, exports_dir, tmp_path):
    run = stored_run(DESIGNS)
    before = files_under(tmp_path)
    with pytest.raises(InputError) as err:
        services.export_run(run.run_id, name)
    assert err.value.field == "base_name"
    assert files_under(tmp_path) == before
    with pytest.raises(InputError):
        services.export_multiple_runs([run.run_id], name)
    assert files_under(tmp_path) == before


def test_unknown_run_raises_not_found(exports_dir):
    with pytest.raises(NotFoundError):
        services.export_run("run_missing")
    assert not exports_dir.exists() or not any(exports_dir.iterdir())


def test_a_failure_in_the_middle_leaves_nothing(monkeypatch, exports_dir):
    run = stored_run(DESIGNS)

    def failing_report(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(report, "run_report", failing_report)
    with pytest.raises(RuntimeError, match="disk on fire"):
        services.export_run(run.run_id, "broken")
    assert list(exports_dir.iterdir()) == []


def test_a_failure_while_streaming_rows_leaves_nothing(monkeypatch, exports_dir):
    run = stored_run(DESIGNS)
    real = services._designs_query

    def failing_query(r):
        for k, row in enumerate(real(r)):
            if k == 3:
                raise ConnectionError("database went away")
            yield row

    monkeypatch.setattr(services, "_designs_query", failing_query)
    with pytest.raises(ConnectionError):
        services.export_run(run.run_id, "broken")
    with pytest.raises(ConnectionError):
        services.export_multiple_runs([run.run_id], "broken")
    assert list(exports_dir.iterdir()) == []
    monkeypatch.setattr(services, "_designs_query", real)
    assert services.export_run(run.run_id, "broken").file_name.startswith("broken_")


def test_a_failing_figure_is_noted_not_fatal(monkeypatch):
    from chiplet_dse.server.exports import figures

    def no_figure(*args, **kwargs):
        raise ValueError("no fonts")

    monkeypatch.setattr(figures, "pareto_png", no_figure)
    result = services.export_run(stored_run(DESIGNS).run_id)
    files = members(result.path)
    assert not any(name.endswith(".png") for name in files)
    meta = json.loads(next(v for k, v in files.items() if k.endswith("_metadata.json")))
    assert meta["export"]["warnings"] == ["figure not drawn: ValueError: no fonts"]


@pytest.mark.parametrize(
    "compression, level, method",
    [
        ("stored", None, zipfile.ZIP_STORED),
        ("deflated", None, zipfile.ZIP_DEFLATED),
        ("deflated", 0, zipfile.ZIP_DEFLATED),
        ("deflated", 9, zipfile.ZIP_DEFLATED),
        ("bzip2", None, zipfile.ZIP_BZIP2),
        ("bzip2", 1, zipfile.ZIP_BZIP2),
        ("lzma", None, zipfile.ZIP_LZMA),
    ],
)
def test_compression_methods(compression, level, method):
    run = stored_run(DESIGNS)
    result = services.export_run(run.run_id, compression=compression, level=level)
    with zipfile.ZipFile(result.path) as zf:
        assert {info.compress_type for info in zf.infolist()} == {method}
        csv_name = next(n for n in zf.namelist() if n.endswith("_designs.csv"))
        assert_csv_matches(zf.read(csv_name), run)
        meta = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith(".json"))))
    assert (meta["export"]["compression"], meta["export"]["compression_level"]) == (
        compression,
        level,
    )


@pytest.mark.parametrize(
    "compression, level, field",
    [
        ("zip", None, "compression"),
        ("Deflated", None, "compression"),
        (None, None, "compression"),
        ("deflated", 10, "level"),
        ("deflated", -1, "level"),
        ("bzip2", 0, "level"),
        ("bzip2", 10, "level"),
        ("stored", 1, "level"),
        ("lzma", 5, "level"),
        ("deflated", True, "level"),
        ("deflated", 1.5, "level"),
        ("deflated", "9", "level"),
    ],
)
def test_invalid_compression_options(compression, level, field, exports_dir):
    run = stored_run(DESIGNS)
    with pytest.raises(InputError) as err:
        services.export_run(run.run_id, compression=compression, level=level)
    assert err.value.field == field
    assert not exports_dir.exists() or not any(exports_dir.iterdir())


def test_memory_stays_bounded_while_streaming_many_designs(exports_dir):
    services.export_run(stored_run(DESIGNS).run_id)  # imports, fonts: outside the measure

    def peak_of(run: OptimizationRun) -> tuple[int, Any]:
        tracemalloc.start()
        try:
            result = services.export_run(run.run_id)
            return tracemalloc.get_traced_memory()[1], result
        finally:
            tracemalloc.stop()

    small = synthetic_run(2_000, seed=1)
    large = synthetic_run(20_000, seed=2)
    small_peak, _ = peak_of(small)
    large_peak, result = peak_of(large)
    assert result.designs == 20_000
    with zipfile.ZipFile(result.path) as zf:
        assert_csv_matches(zf.read(next(n for n in zf.namelist() if n.endswith(".csv"))), large)
    # Loading 20,000 rows as tuples alone would take several MB; streaming stays flat.
    assert large_peak < 5 * 2**20, f"peak {large_peak / 2**20:.1f} MiB"
    assert large_peak < small_peak + 2 * 2**20, (small_peak, large_peak)


@pytest.mark.skipif(
    not os.environ.get("CHIPLET_DSE_EXPORT_BENCH"),
    reason="set CHIPLET_DSE_EXPORT_BENCH=1 to export 1,000,000 designs",
)
def test_a_million_designs(exports_dir, capsys):
    """The benchmark behind docs: time and peak traced memory of a 1,000,000-design export."""
    run = synthetic_run(1_000_000)
    services.export_run(stored_run(DESIGNS).run_id)  # warm-up
    tracemalloc.start()
    started = time.perf_counter()
    result = services.export_run(run.run_id)
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    with capsys.disabled():
        print(
            f"\n1,000,000 designs: {elapsed:.1f} s (traced), peak {peak / 2**20:.1f} MiB, "
            f"zip {result.size_bytes / 2**20:.1f} MiB"
        )
    assert result.designs == 1_000_000
    assert peak < 16 * 2**20


# -- several runs and studies --------------------------------------------------------------------
def test_export_multiple_runs(frozen):
    a = stored_run(DESIGNS, name="a")
    b = stored_run(DESIGNS[:3], name="b")
    result = services.export_multiple_runs([b.run_id, a.run_id], "batch", "bzip2", 9)
    stem = "batch_2025Aug02_205153"
    assert result.file_name == f"{stem}.zip"
    files = members(result.path)
    assert set(files) == {
        f"{stem}_{b.run_id}_designs.csv",
        f"{stem}_{a.run_id}_designs.csv",
        f"{stem}_report.txt",
        f"{stem}_metadata.json",
        f"{stem}_pareto_fronts.png",
    }
    assert_csv_matches(files[f"{stem}_{a.run_id}_designs.csv"], a)
    assert_csv_matches(files[f"{stem}_{b.run_id}_designs.csv"], b)
    assert result.designs == len(DESIGNS) + 3
    text = files[f"{stem}_report.txt"].decode()
    assert "report of 2 optimisation runs" in text
    assert f"Run 1 of 2: {b.run_id}" in text and f"Run 2 of 2: {a.run_id}" in text
    meta = json.loads(files[f"{stem}_metadata.json"])
    assert [r["run"]["run_id"] for r in meta["runs"]] == [b.run_id, a.run_id]
    assert [r["rows"] for r in meta["runs"]] == [3, len(DESIGNS)]
    assert meta["export"]["compression"] == "bzip2"


def test_export_multiple_runs_validates_the_ids(exports_dir):
    a = stored_run(DESIGNS)
    with pytest.raises(NotFoundError, match=r"'nope'.*'gone'"):
        services.export_multiple_runs([a.run_id, "nope", "gone"], "x")
    for bad in ([], [a.run_id, a.run_id], a.run_id, [a.run_id, 5], [""]):
        with pytest.raises(InputError) as err:
            services.export_multiple_runs(bad, "x")
        assert err.value.field == "run_ids"
    assert not exports_dir.exists() or not any(exports_dir.iterdir())


def test_export_comparative_study(frozen):
    a = stored_run(DESIGNS, name="a")
    b = stored_run([((12, 0, 0, 0), 5.0, 5.0), ((1, 1, 1, 9), 0.5, 3.0)], name="b")
    result = services.export_comparative_study(a.run_id, b.run_id, "a_vs_b")
    stem = "a_vs_b_2025Aug02_205153"
    assert result.file_name == f"{stem}.zip"
    files = members(result.path)
    assert set(files) == {
        f"{stem}_{a.run_id}_designs.csv",
        f"{stem}_{b.run_id}_designs.csv",
        f"{stem}_report.txt",
        f"{stem}_metadata.json",
        f"{stem}_pareto_fronts.png",
    }
    assert_csv_matches(files[f"{stem}_{a.run_id}_designs.csv"], a)
    assert_csv_matches(files[f"{stem}_{b.run_id}_designs.csv"], b)
    study = ComparativeStudy.objects.get()
    assert re.fullmatch(r"study_\d{8}_\d{6}(_\d+)?", study.study_id)
    assert result.study_id == study.study_id
    assert (study.name, study.run_a, study.run_b) == ("a_vs_b", a, b)
    assert study.results_data["run_a"]["run_id"] == a.run_id
    assert study.results_data["common_designs"] == 1
    meta = json.loads(files[f"{stem}_metadata.json"])
    assert meta["kind"] == "comparative_study"
    assert meta["study"]["study_id"] == study.study_id
    assert meta["comparison"] == study.results_data
    assert [r["rows"] for r in meta["runs"]] == [len(DESIGNS), 2]
    text = files[f"{stem}_report.txt"].decode()
    assert study.study_id in text
    assert num(study.results_data["run_a"]["hypervolume"]) in text
    assert num(study.results_data["run_b"]["hypervolume"]) in text
    for line in study.results_data["differences"]:
        assert line[:40] in re.sub(r"\s+", " ", text)

    again = services.export_comparative_study(a.run_id, b.run_id, "a_vs_b", "stored")
    assert again.file_name == f"{stem}_2.zip"
    assert ComparativeStudy.objects.count() == 1 and again.study_id == study.study_id
    services.export_comparative_study(b.run_id, a.run_id, "a_vs_b")
    services.export_comparative_study(a.run_id, b.run_id, "other")
    assert ComparativeStudy.objects.count() == 3


def test_comparative_study_validation(exports_dir):
    a = stored_run(DESIGNS)
    with pytest.raises(InputError) as err:
        services.export_comparative_study(a.run_id, a.run_id, "same")
    assert err.value.field == "run_b_id"
    with pytest.raises(InputError) as err:
        services.export_comparative_study(a.run_id, "x", "../up")
    assert err.value.field == "study_name"
    with pytest.raises(NotFoundError):
        services.export_comparative_study(a.run_id, "run_missing", "s")
    assert ComparativeStudy.objects.count() == 0
    assert not exports_dir.exists() or not any(exports_dir.iterdir())


# -- the exports directory -----------------------------------------------------------------------
def age(path: Path, days: float) -> None:
    moment = time.time() - days * 86400
    os.utime(path, (moment, moment), follow_symlinks=False)


def test_cleanup_deletes_only_old_exports(exports_dir, tmp_path):
    exports_dir.mkdir(parents=True)
    old = exports_dir / "old_2025Aug02_205153.zip"
    old_suffixed = exports_dir / "old_2025Aug02_205153_2.zip"
    new = exports_dir / "new_2025Aug02_205153.zip"
    notes = exports_dir / "notes.txt"
    other_zip = exports_dir / "other.zip"
    stray_old = exports_dir / ".export-abc123.part"
    stray_young = exports_dir / ".export-def456.part"
    folder = exports_dir / "dir_2025Aug02_205153.zip"
    outside = tmp_path / "outside_2025Aug02_205153.zip"
    link = exports_dir / "link_2025Aug02_205153.zip"
    for path in (old, old_suffixed, new, notes, other_zip, stray_old, stray_young, outside):
        path.write_bytes(b"PK zip")
    folder.mkdir()
    (folder / "inner_2025Aug02_205153.zip").write_bytes(b"x")
    link.symlink_to(outside)
    for path in (old, old_suffixed, notes, other_zip, stray_old, folder, outside, link):
        age(path, 10)
    age(folder / "inner_2025Aug02_205153.zip", 10)
    age(new, 2)
    age(stray_young, 0.0002)  # 17 s: still being written

    assert services.cleanup_exports(7) == sorted([old.name, old_suffixed.name, stray_old.name])
    remaining = {p.name for p in exports_dir.iterdir()}
    assert remaining == {
        new.name,
        notes.name,
        other_zip.name,
        stray_young.name,
        folder.name,
        link.name,
    }
    assert outside.exists() and (folder / "inner_2025Aug02_205153.zip").exists()
    assert services.cleanup_exports(7) == []
    assert services.cleanup_exports(1.5) == [new.name]
    assert services.cleanup_exports(0) == []  # the young temp file is kept
    assert stray_young.exists() and outside.exists() and link.is_symlink()


def test_cleanup_keeps_a_fresh_reservation_and_removes_a_stale_one(exports_dir):
    exports_dir.mkdir(parents=True)
    fresh = naming.reserve(exports_dir, "busy", "2025Aug02_205153")
    stale = naming.reserve(exports_dir, "dead", "2025Aug02_205153")
    age(stale, 0.01)
    assert services.cleanup_exports(0) == [stale.name]
    assert fresh.exists()


@pytest.mark.parametrize(
    "days", [-1, -0.5, math.nan, math.inf, -math.inf, True, False, "7", None, [7]]
)
def test_cleanup_validates_the_age(days):
    with pytest.raises(InputError) as err:
        services.cleanup_exports(days)
    assert err.value.field == "max_age_days"


def test_scheduled_cleanup_reads_the_setting(settings, exports_dir):
    exports_dir.mkdir(parents=True)
    old = exports_dir / "old_2025Aug02_205153.zip"
    old.write_bytes(b"PK")
    age(old, 30)
    if hasattr(settings, "CHIPLET_DSE_EXPORT_MAX_AGE_DAYS"):
        del settings.CHIPLET_DSE_EXPORT_MAX_AGE_DAYS
    assert services.scheduled_cleanup() == []
    settings.CHIPLET_DSE_EXPORT_MAX_AGE_DAYS = None
    assert services.scheduled_cleanup() == [] and old.exists()
    settings.CHIPLET_DSE_EXPORT_MAX_AGE_DAYS = "bad"
    assert services.scheduled_cleanup() == [] and old.exists()  # logged, not raised
    settings.CHIPLET_DSE_EXPORT_MAX_AGE_DAYS = 14
    assert services.scheduled_cleanup() == [old.name] and not old.exists()


def test_list_exports_newest_first(exports_dir):
    run = stored_run(DESIGNS)
    first = services.export_run(run.run_id, "first")
    second = services.export_run(run.run_id, "second")
    age(first.path, 1)
    (exports_dir / "notes.txt").write_text("not an export")
    naming.reserve(exports_dir, "busy", "2025Aug02_205153")  # being written: not listed
    listed = services.list_exports()
    assert [e["name"] for e in listed] == [second.file_name, first.file_name]
    assert listed[0] == {
        "name": second.file_name,
        "size_bytes": second.size_bytes,
        "modified": listed[0]["modified"],
        "download_url": f"/media/exports/{second.file_name}",
    }
    modified = datetime.fromisoformat(listed[1]["modified"])
    assert abs(modified.timestamp() - first.path.stat().st_mtime) < 1e-3


def test_export_file_serves_only_finished_exports(exports_dir, tmp_path):
    run = stored_run(DESIGNS)
    result = services.export_run(run.run_id)
    assert services.export_file(result.file_name) == result.path
    outside = tmp_path / "secret_2025Aug02_205153.zip"
    outside.write_bytes(b"secret")
    (exports_dir / "link_2025Aug02_205153.zip").symlink_to(outside)
    (exports_dir / "dir_2025Aug02_205153.zip").mkdir()
    naming.reserve(exports_dir, "busy", "2025Aug02_205153")
    for name in (
        "../secret_2025Aug02_205153.zip",
        "/etc/passwd",
        "..",
        "",
        None,
        f"../exports/{result.file_name}",
        "notes.txt",
        "missing_2025Aug02_205153.zip",
        "link_2025Aug02_205153.zip",
        "dir_2025Aug02_205153.zip",
        "busy_2025Aug02_205153.zip",
        result.file_name + "/",
    ):
        with pytest.raises(NotFoundError):
            services.export_file(name)


# -- automatic export ----------------------------------------------------------------------------
@pytest.fixture
def receiver_connected():
    """The auto-export receiver, connected as the registered app's ready() does."""
    installed = apps.is_installed("chiplet_dse.server.exports")
    if not installed:
        signals.connect()
    yield
    if not installed:
        signals.disconnect()


def test_a_run_created_with_auto_export_is_exported_when_it_completes(
    make_run, receiver_connected, exports_dir
):
    plain = make_run(name="plain run")
    assert plain.status == RunStatus.COMPLETED
    assert not exports_dir.exists() or not any(exports_dir.iterdir())
    run = make_run(name="auto run", auto_export=True)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    (path,) = exports_dir.iterdir()
    assert re.fullmatch(r"auto_run_\d{4}[A-Z][a-z]{2}\d{2}_\d{6}\.zip", path.name)
    files = members(path)
    assert_csv_matches(next(v for k, v in files.items() if k.endswith("_designs.csv")), run)


def test_auto_export_only_for_completed_runs(receiver_connected, exports_dir):
    run = stored_run(DESIGNS, auto_export=True)
    from chiplet_dse.server.runs.executor import execute, run_finished

    for status in (RunStatus.CANCELLED, RunStatus.FAILED, RunStatus.PAUSED):
        run_finished.send(sender=execute, run_id=run.run_id, status=status)
    run_finished.send(sender=execute, run_id="run_deleted_meanwhile", status="completed")
    assert not exports_dir.exists() or not any(exports_dir.iterdir())


def test_a_failing_auto_export_is_logged_and_the_worker_goes_on(
    make_run, receiver_connected, monkeypatch, caplog
):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(services, "export_run", broken)
    with caplog.at_level(logging.ERROR, logger="chiplet_dse.server.exports.signals"):
        run = make_run(auto_export=True)
    run.refresh_from_db()
    assert run.status == RunStatus.COMPLETED
    assert any(
        "automatic export of run" in r.getMessage() and run.run_id in r.getMessage()
        for r in caplog.records
    )


# -- reports of imported runs, figures -------------------------------------------------------------
def test_report_and_export_of_an_imported_legacy_run():
    from chiplet_dse.server.runs.legacy import import_points

    data = b"2.5,3.5,12,0,0,0\n1.5,4.5,0,12,0,0\n3.0,3.0,0,0,12,0\n9.0,9.0,0,0,0,12\n"
    run, created = import_points(data, "/data/points.csv")
    assert created
    text = report.run_report(run)
    assert "Imported from  /data/points.csv" in text
    assert hashlib.sha256(data).hexdigest() in text
    assert "CASCADE (no library stored with this run)" in text
    assert "Pareto front (3 designs, sorted by execution time)" in text
    result = services.export_run(run.run_id)
    assert result.file_name.startswith("import_of_points.csv_")
    csv_data = next(v for k, v in members(result.path).items() if k.endswith("_designs.csv"))
    assert_csv_matches(csv_data, run)


def test_figures_from_the_database_sample_by_sql():
    from chiplet_dse.server.exports import figures

    run = synthetic_run(600, seed=3)
    front = figures.front_points(run)
    assert len(front) == run.pareto_front_size
    others, count = figures.sample_others(run, limit=50)
    assert count == 600 - run.pareto_front_size
    assert 40 <= len(others) <= 50
    png = figures.run_pareto_png(run)
    assert png.startswith(PNG_MAGIC)
    empty = figures.fronts_png("nothing", [figures.Series("empty", np.empty((0, 2)))])
    assert empty.startswith(PNG_MAGIC)
    assert figures.pareto_png("no designs", []).startswith(PNG_MAGIC)


def test_the_schema_pattern_agrees_with_the_validation():
    for name in ("myrun", "a.b-c_d", "A" * 100, "A" * 101, ".x", "a b", "../x", "", "ü"):
        try:
            services.validate_base_name(name)
            valid = True
        except InputError:
            valid = False
        assert (re.search(naming.BASE_NAME_PATTERN, name) is not None) is valid, name
