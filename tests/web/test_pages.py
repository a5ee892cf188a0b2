"""The web pages in a real browser (Playwright + headless Chromium) against a live server.

`chiplet-dse serve` runs as a subprocess (see conftest.py) with one worker, automatic analytics
on, and a fresh SQLite database. Runs are small (gpt-j-second at batch 65536, NSGA-II with 6
designs a generation for 3 generations, 65 compositions) so they and their analytics finish in
about a second once the worker is warm.

The tests follow a user: create a run through the form, watch it complete on the runs page,
study it on its page, export it, compare it with a second run, filter and delete runs, and
check that every page works at 1280×800 and on a 390 px wide phone. They share the run created
through the form when they run in order; each one creates what it needs when run alone (or on
another xdist worker).

Screenshots: ``CHIPLET_DSE_SCREENSHOTS=dir pytest tests/web -k screenshots`` (default
``tests/web/screenshots/``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .conftest import CHROMIUM, NARROW, WIDE, LiveServer, Tab

if not CHROMIUM.exists():
    pytest.skip(f"browser tests need Chromium at {CHROMIUM}", allow_module_level=True)
pytest.importorskip("playwright.sync_api", reason="browser tests need Playwright")

from playwright.sync_api import Page, expect

expect.set_options(timeout=10_000)  # Plotly in software WebGL can be slow on a busy machine

EXPERIMENT = "gpt-j-second-65536"
KERNELS = 6  # gpt-j-second's kernels: one breakdown row each
SMALL = {"experiment": EXPERIMENT, "algorithm": "NSGA2", "population_size": 6, "generations": 3}
SPACE = {"lower": [0, 0, 0, 0], "upper": [4, 4, 4, 4], "total_min": 2, "total_max": 4}
SPACE_SIZE = 65  # compositions with every count in 0..4 and 2..4 chiplets in all
TABLES = ("rule_mining", "distance_correlation", "pareto_analysis", "sensitivity")
CSV_HEADER = (
    "execution_time_ms,energy_mj,gpu_count,attention_count,sparse_count,convolution_count,"
    "total_chiplets,is_pareto_optimal"
)
#: A custom library whose only fault is one parameter out of range.
BAD_LIBRARY = json.dumps({"chiplets": {"gpu": {"tdp_w": -5}}})
SCREENSHOTS = Path(
    os.environ.get("CHIPLET_DSE_SCREENSHOTS") or Path(__file__).parent / "screenshots"
)


# -- helpers -------------------------------------------------------------------------------------
def create_run(
    server: LiveServer, name: str, seed: int, space: dict[str, Any] = SPACE, generations: int = 3
) -> str:
    body = {**SMALL, "name": name, "seed": seed, "space": space, "generations": generations}
    return server.post("/api/runs/", body, expect=201)["run"]["run_id"]


def create_paused_run(
    server: LiveServer, name: str, seed: int, space: dict[str, Any] = SPACE
) -> dict[str, Any]:
    """A run paused before it could finish: queued runs pause at once, running ones after
    their current generation (the first: the pause follows the creation within milliseconds)."""
    run_id = create_run(server, name, seed, space)
    server.post(f"/api/runs/{run_id}/pause/")
    return server.wait_status(run_id, "paused")


def analysed(server: LiveServer, run_id: str) -> bool:
    """The worker stored the automatic analytics and the run's ground truth is computed."""
    results = server.get(f"/api/runs/{run_id}/analytics/")["analytics"]
    stored = {a["analytics_type"] for a in results}
    truth = server.get(f"/api/runs/{run_id}/convergence/")["ground_truth"]
    return set(TABLES) <= stored and bool(truth) and truth["state"] == "completed"


def finished_run(server: LiveServer, key: str, name: str, seed: int) -> dict[str, Any]:
    """The shared run ``key`` (created now if no test made it yet), completed and analysed."""
    run_id = server.shared.get(key)
    if run_id is None:
        run_id = server.shared[key] = create_run(server, name, seed)
    if server.run(run_id)["status"] == "paused":
        server.post(f"/api/runs/{run_id}/resume/")
    run = server.wait_status(run_id, "completed")
    server.wait_until(lambda: analysed(server, run_id), 60, f"the analytics of {run_id}")
    return run


def main_run(server: LiveServer) -> dict[str, Any]:
    """The run created through the form (test 1), or an equivalent one."""
    return finished_run(server, "form_run", "web form run", seed=2)


def second_run(server: LiveServer) -> dict[str, Any]:
    return finished_run(server, "second_run", "web second run", seed=3)


def designs(server: LiveServer, run_id: str, query: str = "") -> list[dict[str, Any]]:
    return server.get(f"/api/runs/{run_id}/designs/?page_size=1000&{query}")["designs"]


def assert_no_js_errors(tab: Tab, allowed: tuple[str, ...] = ()) -> None:
    assert tab.page_errors == [], tab.page_errors
    unexpected = [m for m in tab.console_errors if not any(a in m for a in allowed)]
    assert unexpected == [], unexpected


def number(text: str) -> float:
    return float(text.strip().replace(",", ""))


def csv_rows(archive: zipfile.ZipFile, member: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(archive.read(member).decode())))


def download(page: Page, link_selector: str, target: Path) -> Path:
    with page.expect_download() as info:
        page.locator(link_selector).click()
    info.value.save_as(target)
    return target


# -- 1. the new-run form ---------------------------------------------------------------------------
def test_new_run_form_shows_errors_next_to_fields_then_creates_the_run(web_server, tab):
    server, page = web_server, tab.page
    runs_before = server.get("/api/runs/")["count"]
    posted: list[str] = []
    page.on("request", lambda r: posted.append(r.url) if r.method == "POST" else None)
    tab.goto(server, "/runs/new/")
    form = page.locator("#new-run")
    expect(form.locator(f"select[name=experiment] option[value='{EXPERIMENT}']")).to_be_attached()

    def error(field: str) -> Any:
        return form.locator(f'.field[data-field="{field}"] > .error')

    def invalid_fields() -> list[str]:
        return form.locator(".field.invalid").evaluate_all("fs => fs.map(f => f.dataset.field)")

    form.locator("[name=experiment]").select_option(EXPERIMENT)
    form.locator("[name=name]").fill("")
    form.locator("[name=population_size]").fill("1")
    form.locator("[name=generations]").fill("3")
    form.locator("[name=seed]").fill("2")
    for i in range(4):
        form.locator(f"[name=lower{i}]").fill("0")
        form.locator(f"[name=upper{i}]").fill("4")
    form.locator("[name=lower0]").fill("5")  # above its maximum
    form.locator("[name=total_min]").fill("2")
    form.locator("[name=total_max]").fill("4")
    form.locator("input[name=library_kind][value=file]").check()
    form.locator("input[name=library_file]").set_input_files(
        files=[{"name": "bad.json", "mimeType": "application/json", "buffer": BAD_LIBRARY.encode()}]
    )

    # The browser catches what it can check itself and sends nothing.
    form.locator("#submit").click()
    expect(error("name")).to_have_text("give the run a name")
    expect(error("population_size")).to_have_text("at least 2")
    expect(error("space")).to_have_text("a minimum is above its maximum")
    for field in ("experiment", "generations", "seed", "library"):
        expect(error(field)).to_have_text("")
    assert invalid_fields() == ["name", "population_size", "space"]
    expect(page.locator("#flash")).to_have_text("Please correct the highlighted fields.")
    assert posted == []

    # The server judges the library file: its message lands next to the library field.
    name = "web form run"
    form.locator("[name=name]").fill(name)
    form.locator("[name=population_size]").fill("6")
    form.locator("[name=lower0]").fill("0")
    with page.expect_response(lambda r: r.url.endswith("/api/runs/")) as answer:
        form.locator("#submit").click()
    assert answer.value.status == 400
    expect(error("library")).to_contain_text("chiplets.gpu.tdp_w")
    expect(error("library")).to_contain_text("must be positive")
    for field in ("name", "population_size", "space"):
        expect(error(field)).to_have_text("")
    assert invalid_fields() == ["library"]
    expect(form.locator("#submit")).to_be_enabled()
    assert server.get("/api/runs/")["count"] == runs_before  # nothing was created
    assert server.get(f"/api/runs/search/?q={name.replace(' ', '+')}")["count"] == 0

    # Valid: the page moves to the new run's page. The run is paused as soon as the server
    # answers (before the page sees the answer), so that test 2 can watch it run to the end.
    def pause_on_creation(route: Any) -> None:
        response = route.fetch()
        if route.request.method == "POST" and response.status == 201:
            created = response.json()["run"]["run_id"]
            server.post(f"/api/runs/{created}/pause/")
            server.shared["form_run"] = created
        route.fulfill(response=response)

    page.route("**/api/runs/", pause_on_creation)
    form.locator("input[name=library_kind][value=default]").check()
    form.locator("#submit").click()
    page.wait_for_url(re.compile(r"/runs/run_\w+/$"))
    run_id = page.url.rstrip("/").rsplit("/", 1)[1]
    assert server.shared.get("form_run") == run_id
    expect(page.locator("#run-name")).to_have_text(name)
    expect(page.locator("#run-status .badge")).to_have_text("paused")
    run = server.run(run_id)
    search = run["config"]["search"]
    assert (run["name"], run["experiment"], run["model"]) == (name, EXPERIMENT, "CASCADE")
    assert (search["algorithm"], search["population_size"], search["generations"]) == (
        "NSGA2", 6, 3,
    )  # fmt: skip
    assert (search["seed"], search["space"]) == (2, SPACE)
    assert server.get("/api/runs/")["count"] == runs_before + 1
    assert_no_js_errors(tab, allowed=("status of 400",))  # the refused POST


# -- 2. live progress on the runs page ------------------------------------------------------------
def test_runs_page_follows_the_run_until_it_completes_without_reloading(web_server, tab):
    server, page = web_server, tab.page
    run_id = server.shared.get("form_run")
    if run_id is None or server.run(run_id)["status"] != "paused":
        run_id = server.shared["form_run"] = create_paused_run(server, "web form run", 2)["run_id"]
    paused = server.wait_status(run_id, "paused")
    assert paused["current_generation"] < 3

    tab.goto(server, "/")
    row = page.locator(f'#runs tbody tr[data-run="{run_id}"]')
    badge, bar = row.locator(".badge"), row.locator(".progress")
    expect(badge).to_have_text("paused")
    expect(bar).to_have_attribute("title", f"generation {paused['current_generation']} of 3")
    page.evaluate("window.__sameDocument = true")

    row.locator("button[data-action=resume]").click()
    expect(page.locator("#flash")).to_contain_text(f"Run {run_id} is queued")
    expect(badge).to_have_text("completed", timeout=60_000)  # the page polls every 2 s
    assert page.evaluate("window.__sameDocument === true"), "the page was reloaded"
    expect(bar).to_have_attribute("title", "generation 3 of 3")
    expect(bar.locator("span")).to_have_attribute("style", "width:100%")
    run = server.run(run_id)
    cells = row.locator("td")
    expect(cells.nth(5)).to_have_text(str(run["total_designs_evaluated"]))
    expect(cells.nth(6)).to_have_text(str(run["pareto_front_size"]))
    expect(row.locator("button[data-action]")).to_have_text(["Delete"])  # no pause/resume/stop
    assert_no_js_errors(tab)


# -- 3. the run page -------------------------------------------------------------------------------
def test_run_page_plots_lists_the_front_breaks_designs_down_and_shows_analytics(web_server, tab):
    server, page = web_server, tab.page
    run = main_run(server)
    run_id = run["run_id"]
    front = {
        (d["gpu_count"], d["attention_count"], d["sparse_count"], d["convolution_count"]): d
        for d in designs(server, run_id, "pareto_only=true")
    }
    assert run["pareto_front_size"] > 0

    tab.goto(server, f"/runs/{run_id}/")
    expect(page.locator("#run-status .badge")).to_have_text("completed")
    expect(page.locator("#scatter")).to_have_attribute(
        "data-points", str(run["total_designs_evaluated"])
    )
    rows = page.locator("#front tbody tr")
    expect(rows).to_have_count(run["pareto_front_size"])
    shown = rows.evaluate_all("rs => rs.map(r => [...r.cells].map(c => +c.textContent))")
    assert {tuple(r[:4]) for r in shown} == set(front)

    # A front design's time opens its per-kernel breakdown; the kernels add up to the design.
    card = page.locator("#breakdown-card")
    expect(card).to_be_hidden()
    for index in sorted({0, run["pareto_front_size"] - 1}):
        cells = rows.nth(index).locator("td")
        composition = tuple(int(cells.nth(i).inner_text()) for i in range(4))
        design = front[composition]
        cells.nth(4).locator("a").click()
        expect(card).to_be_visible()
        expect(page.locator("#breakdown-title")).to_have_text(
            "G/A/S/C {}/{}/{}/{}".format(*composition)
        )
        kernels = page.locator("#breakdown tbody tr")
        expect(kernels).to_have_count(KERNELS)
        table = kernels.evaluate_all("rs => rs.map(r => [...r.cells].map(c => c.textContent))")
        assert {r[0] for r in table} == {"gpt/gpt-j-second/65536"}
        assert [int(r[1]) for r in table] == list(range(KERNELS))
        time_ms = sum(number(r[3]) for r in table) / 1000  # µs → ms
        energy_mj = sum(number(r[4]) for r in table) / 1000  # µJ → mJ
        assert time_ms == pytest.approx(design["execution_time_ms"], rel=1e-3)
        assert energy_mj == pytest.approx(design["energy_mj"], rel=1e-3)
        assert time_ms == pytest.approx(number(cells.nth(4).inner_text()), rel=1e-3)
        assert energy_mj == pytest.approx(number(cells.nth(5).inner_text()), rel=1e-3)
        summary = page.locator("#breakdown-summary").inner_text()
        t, e = re.match(r"([\d.e+-]+) ms, ([\d.e+-]+) mJ", summary).groups()
        assert (number(t), number(e)) == (
            pytest.approx(design["execution_time_ms"], rel=1e-5),
            pytest.approx(design["energy_mj"], rel=1e-5),
        )

    # Analytics computed by the worker after completion fill their tables.
    pareto = page.locator("#pareto-analysis")
    expect(pareto.locator("dt")).to_have_text(
        ["Front size", "Hypervolume", "Knee point", "Best energy-delay", "Front composition"]
    )
    expect(pareto.locator("dd").first).to_have_text(str(run["pareto_front_size"]))
    expect(page.locator("#rules-region")).to_contain_text(f"of {run['total_designs_evaluated']}")
    expect(page.locator("#rules tbody tr")).not_to_have_count(0)
    expect(page.locator("#correlations thead th")).to_have_text(
        ["", "execution_time_ms", "energy_mj"]
    )
    expect(page.locator("#correlations tbody tr td:first-child")).to_have_text(
        ["gpu", "attention", "sparse", "convolution", "total_chiplets"]
    )
    expect(page.locator("#sensitivity thead th")).to_have_text(
        ["change", "execution_time_ms", "energy_mj"]
    )
    expect(page.locator("#sensitivity tbody tr")).not_to_have_count(0)
    expect(page.locator("#compute")).to_be_hidden()  # nothing left to compute
    expect(page.locator("#truth")).to_have_text(
        re.compile(rf"^Exact front of the design space: completed \(\d+ designs of {SPACE_SIZE}\)")
    )
    # hypervolume, front size, share of the true front found
    expect(page.locator("#convergence .scatterlayer .trace")).to_have_count(3)
    assert_no_js_errors(tab)


def test_hovering_a_plotted_design_names_it_and_clicking_breaks_it_down(web_server, tab):
    server, page = web_server, tab.page
    run = main_run(server)
    front = designs(server, run["run_id"], "pareto_only=true")
    fastest = min(front, key=lambda d: d["execution_time_ms"])
    composition = "{gpu_count}/{attention_count}/{sparse_count}/{convolution_count}".format(
        **fastest
    )
    tab.goto(server, f"/runs/{run['run_id']}/")
    expect(page.locator("#scatter")).to_have_attribute(
        "data-points", str(run["total_designs_evaluated"])
    )
    # The front's markers are SVG points in time order: the first is the fastest design.
    marker = page.locator("#scatter .scatterlayer .trace path.point").first
    marker.scroll_into_view_if_needed()
    box = marker.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x - 20, y - 20)
    page.mouse.move(x, y, steps=5)  # Plotly hovers on the mouse moving over its drag layer
    expect(page.locator("#scatter .hoverlayer")).to_contain_text(f"G/A/S/C {composition}")
    page.mouse.click(x, y)
    expect(page.locator("#breakdown-card")).to_be_visible()
    expect(page.locator("#breakdown-title")).to_have_text(f"G/A/S/C {composition}")
    assert_no_js_errors(tab)


def test_run_page_open_while_the_run_finishes_shows_what_is_computed_afterwards(web_server, tab):
    server, page = web_server, tab.page
    # Its own design space, so its ground truth is computed only after the run completes.
    space = {"lower": [0, 0, 0, 0], "upper": [3, 3, 3, 3], "total_min": 1, "total_max": 3}
    run_id = create_paused_run(server, "web live run", 4, space)["run_id"]
    tab.goto(server, f"/runs/{run_id}/")
    badge = page.locator("#run-status .badge")
    server.wait_until(lambda: badge.text_content() == "paused", 15, "the page to show paused")
    page.evaluate("window.__sameDocument = true")
    blocker = None
    try:
        # The page fetches the analytics first when it sees the run finished.
        with page.expect_response(lambda r: r.url.endswith("/analytics/"), timeout=60_000):
            with page.expect_response(lambda r: r.url.endswith("/resume/")):
                page.locator("#controls button[data-action=resume]").click()
            # A run queued now runs, on the one worker, after this run and before the task
            # of its ground truth (enqueued when this run completes), as when a user queues
            # several runs; it runs until it is stopped.
            blocker = create_run(server, "web blocker run", 5, generations=2000)
        assert badge.text_content() == "completed"
        truth = server.get(f"/api/runs/{run_id}/convergence/")["ground_truth"]
        if truth and truth["state"] == "completed":
            pytest.fail(f"the ground truth should still wait behind run {blocker}: {truth}")
    finally:
        if blocker:  # stopped (after its current generation) and deleted
            server.request("POST", f"/api/runs/{blocker}/stop/")
            server.wait_status(blocker, "cancelled")
            server.request("DELETE", f"/api/runs/{blocker}/delete/")
    server.wait_until(lambda: analysed(server, run_id), 60, f"the analytics of {run_id}")

    # Everything is stored now: a page that keeps refreshing shows it within a few seconds.
    expect(page.locator("#truth")).to_contain_text("completed", timeout=5_000)
    expect(page.locator("#convergence .scatterlayer .trace")).to_have_count(3, timeout=1_000)
    for table in ("#rules", "#correlations", "#sensitivity"):
        expect(page.locator(f"{table} tbody tr")).not_to_have_count(0, timeout=1_000)
    expect(page.locator("#pareto-analysis dt")).not_to_have_count(0, timeout=1_000)
    assert page.evaluate("window.__sameDocument === true")
    assert_no_js_errors(tab)


# -- 4. export and download ------------------------------------------------------------------------
def test_export_form_produces_a_zip_that_downloads_and_is_listed(web_server, tab, tmp_path):
    server, page = web_server, tab.page
    run = main_run(server)
    tab.goto(server, f"/runs/{run['run_id']}/")
    export = page.locator("#export")
    export.locator("[name=base_name]").fill("web_export")
    export.locator("[name=compression]").select_option("deflated")
    export.locator("button[type=submit]").click()
    link = page.locator("#download-link")
    expect(link).to_be_visible()
    file_name, href = link.inner_text(), link.get_attribute("href")
    assert re.fullmatch(r"web_export_\w+\.zip", file_name), file_name
    path = download(page, "#download-link", tmp_path / "run.zip")

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        stem = file_name.removesuffix(".zip")
        for suffix in ("_designs.csv", "_report.txt", "_metadata.json"):
            assert f"{stem}{suffix}" in names, names
        rows = csv_rows(archive, f"{stem}_designs.csv")
        metadata = json.loads(archive.read(f"{stem}_metadata.json"))
    assert ",".join(rows[0]) == CSV_HEADER
    assert len(rows) - 1 == run["total_designs_evaluated"]
    assert sum(r[-1] == "True" for r in rows[1:]) == run["pareto_front_size"]
    assert metadata["run"]["run_id"] == run["run_id"]

    tab.goto(server, "/exports/")
    listed = page.locator("#exports tbody a", has_text=file_name)
    expect(listed).to_have_count(1)
    expect(listed).to_have_attribute("href", href or "")
    assert_no_js_errors(tab)


# -- 5. compare two runs ---------------------------------------------------------------------------
def test_compare_page_shows_two_fronts_creates_and_exports_a_study(web_server, tab, tmp_path):
    server, page = web_server, tab.page
    a, b = main_run(server), second_run(server)
    ids = [a["run_id"], b["run_id"]]
    tab.goto(server, "/compare/")
    show = page.locator("#show")
    expect(show).to_be_disabled()
    for run_id in ids:
        page.get_by_label(f"pick {run_id}", exact=True).check()
    expect(show).to_be_enabled()
    show.click()

    expect(page.locator("#fronts")).to_have_attribute("data-traces", "2")
    expect(page.locator("#fronts .scatterlayer .trace")).to_have_count(2)
    measures = page.locator("#measures tbody tr")
    expect(measures).to_have_count(9)
    expect(measures.first.locator("th")).to_have_text(["", a["name"], b["name"]])
    designs_row = page.locator("#measures tbody tr", has_text="Designs").first
    expect(designs_row.locator("td")).to_have_text(
        [str(a["total_designs_evaluated"]), str(b["total_designs_evaluated"])]
    )
    front_row = page.locator("#measures tbody tr", has_text="Front size")
    expect(front_row.locator("td")).to_have_text(
        [str(a["pareto_front_size"]), str(b["pareto_front_size"])]
    )
    assert f"runs={ids[0]},{ids[1]}" in page.url

    study = page.locator("#study")
    study.locator("[name=name]").fill("web_study")
    study.locator("button[type=submit]").click()
    expect(page.locator("#study-result")).to_contain_text("Study web_study created as")
    studies = server.get("/api/studies/")["studies"]
    mine = [(s["run_a_id"], s["run_b_id"]) for s in studies if s["name"] == "web_study"]
    assert mine == [tuple(ids)], studies

    page.locator("#export-study").click()
    expect(page.locator("#study-download")).to_be_visible()
    path = download(page, "#study-download", tmp_path / "study.zip")
    with zipfile.ZipFile(path) as archive:
        tables = sorted(n for n in archive.namelist() if n.endswith("_designs.csv"))
        assert len(tables) == 2, archive.namelist()
        for run in (a, b):
            (member,) = [n for n in tables if n.endswith(f"_{run['run_id']}_designs.csv")]
            rows = csv_rows(archive, member)
            assert ",".join(rows[0]) == CSV_HEADER
            assert len(rows) - 1 == run["total_designs_evaluated"]
    assert_no_js_errors(tab)


# -- 6. filters and controls of the runs page ------------------------------------------------------
def test_runs_page_search_narrows_the_list_and_delete_removes_a_run(web_server, tab):
    server, page = web_server, tab.page
    kept, doomed = (create_run(server, name, 5) for name in ("web kept run", "web doomed run"))
    for run_id in (kept, doomed):  # cancelled: nothing for the worker to do
        server.post(f"/api/runs/{run_id}/stop/")
        server.wait_status(run_id, "cancelled")

    tab.goto(server, "/")
    rows = page.locator("#runs tbody tr")
    row = page.locator(f'#runs tbody tr[data-run="{doomed}"]')
    expect(row).to_have_count(1)
    total = server.get("/api/runs/")["count"]
    expect(rows).to_have_count(min(total, 25))
    assert total >= 2

    filters = page.locator("#filters")
    filters.locator("[name=q]").fill("doomed")
    filters.locator("button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-run", doomed)
    expect(page.locator("#page-info")).to_contain_text("1 runs")

    filters.locator("[name=q]").fill("")
    filters.locator("[name=status]").select_option("cancelled")
    filters.locator("button[type=submit]").click()
    cancelled = server.get("/api/runs/search/?status=cancelled")["count"]
    expect(rows).to_have_count(cancelled)
    expect(rows.locator(".badge")).to_have_text(["cancelled"] * cancelled)

    dialogs: list[str] = []

    def answer(accept: bool) -> None:
        def handler(dialog: Any) -> None:
            dialogs.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        page.once("dialog", handler)

    answer(accept=False)
    row.locator("button[data-action=delete]").click()
    expect(row).to_have_count(1)
    assert dialogs == [f"Delete run {doomed} and all its designs?"]
    assert server.request("GET", f"/api/runs/{doomed}/")[0] == 200

    answer(accept=True)
    row.locator("button[data-action=delete]").click()
    expect(row).to_have_count(0)
    expect(page.locator("#flash")).to_have_text(f"Run {doomed} deleted")
    expect(rows).to_have_count(cancelled - 1)
    assert len(dialogs) == 2
    status, body = server.request("GET", f"/api/runs/{doomed}/")
    assert status == 404, body
    assert server.run(kept)["status"] == "cancelled"
    assert_no_js_errors(tab)


# -- 7 and 8. every page, wide and narrow; screenshots ---------------------------------------------
def ready_checks(server: LiveServer) -> dict[str, tuple[str, Callable[[Page], None]]]:
    """Each page's address and how to tell it has loaded its data, by screenshot name."""
    a, b = main_run(server), second_run(server)

    def runs(page: Page) -> None:
        expect(page.locator(f'#runs tbody tr[data-run="{a["run_id"]}"] .badge')).to_have_text(
            "completed"
        )
        expect(page.locator("#page-info")).to_contain_text("runs")

    def new_run(page: Page) -> None:
        expect(page.locator(f"option[value='{EXPERIMENT}']")).to_be_attached()
        expect(page.locator("#space-size")).to_contain_text("compositions")

    def run(page: Page) -> None:
        expect(page.locator("#scatter")).to_have_attribute(
            "data-points", str(a["total_designs_evaluated"])
        )
        expect(page.locator("#convergence .scatterlayer .trace")).to_have_count(3)
        expect(page.locator("#sensitivity tbody tr")).not_to_have_count(0)

    def compare(page: Page) -> None:
        expect(page.locator("#fronts")).to_have_attribute("data-traces", "2")
        expect(page.locator("#measures tbody tr")).to_have_count(9)

    def exports(page: Page) -> None:
        page.wait_for_function(
            "document.querySelector('#exports tbody').children.length > 0"
            " || !document.getElementById('none').hidden"
        )

    return {
        "runs": ("/", runs),
        "new_run": ("/runs/new/", new_run),
        "run": (f"/runs/{a['run_id']}/", run),
        "compare": (f"/compare/?runs={a['run_id']},{b['run_id']}", compare),
        "exports": ("/exports/", exports),
    }


@pytest.mark.parametrize("viewport", [WIDE, NARROW], ids=["1280x800", "390x844"])
def test_every_page_renders_without_errors_and_fits_the_window(web_server, open_tab, viewport):
    tab = open_tab(viewport)
    page = tab.page
    problems = {}
    for name, (path, ready) in ready_checks(web_server).items():
        tab.goto(web_server, path)
        ready(page)
        width, scroll_width = page.evaluate(
            "[window.innerWidth, document.documentElement.scrollWidth]"
        )
        assert width == viewport["width"]
        if scroll_width > width + 1:
            problems[name] = f"the document scrolls sideways: {scroll_width} px wide"
        loose = page.locator("table").evaluate_all(
            "ts => ts.filter(t => !t.closest('.table-wrap')).map(t => t.id || t.className)"
        )
        if loose:
            problems[f"{name} tables"] = f"not in a .table-wrap: {loose}"
        if tab.page_errors or tab.console_errors:
            problems[f"{name} errors"] = tab.page_errors + tab.console_errors
            tab.page_errors.clear()
            tab.console_errors.clear()
    assert problems == {}


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", header[16:24])


def test_screenshots_of_every_page(web_server, open_tab):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    checks = ready_checks(web_server)
    shots = [(name, WIDE, path, ready) for name, (path, ready) in checks.items()]
    shots.append(("run_narrow", NARROW, *checks["run"]))
    tabs = {"wide": open_tab(WIDE), "narrow": open_tab(NARROW)}
    for name, viewport, path, ready in shots:
        tab = tabs["wide" if viewport is WIDE else "narrow"]
        tab.goto(web_server, path)
        ready(tab.page)
        if name in ("run", "run_narrow"):  # with the breakdown of a front design
            tab.page.locator("#front tbody a").first.click()
            expect(tab.page.locator("#breakdown tbody tr")).to_have_count(KERNELS)
        target = SCREENSHOTS / f"{name}.png"
        target.unlink(missing_ok=True)
        tab.page.screenshot(path=str(target), full_page=True, animations="disabled")
        width, height = png_size(target)
        assert width == viewport["width"] and height >= viewport["height"], (name, width, height)
    for tab in tabs.values():
        assert_no_js_errors(tab)
