"""REST API: the run endpoints of the spec and what drives them (status, body, DB effects)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from chiplet_dse.server.runs.models import DesignPoint, OptimizationRun, RunStatus

pytestmark = pytest.mark.django_db

CREATE = {"name": "myrun", "experiment": "rmc1-test", "algorithm": "NSGA2",
          "population_size": 6, "generations": 2, "seed": 1}  # fmt: skip


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def dummy_tasks(settings):
    """Runs stay queued (no execution) so their lifecycle can be driven by the API."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


def create(api, **overrides):
    response = api.post("/api/runs/", {**CREATE, **overrides}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["run"]


def assert_error(response, code, *words):
    assert response.status_code == code, response.content
    data = response.json()
    assert data["status"] == "error" and set(data) == {"status", "message"}
    for word in words:
        assert word in data["message"]


def test_create_run_answers_201_and_the_run_executes(api):
    run = create(api)
    assert run["run_id"].startswith("run_") and run["name"] == "myrun"
    stored = OptimizationRun.objects.get(run_id=run["run_id"])
    assert stored.status == RunStatus.COMPLETED  # the test task backend runs it immediately
    assert stored.population_size == 6 and stored.seed == 1
    detail = api.get(f"/api/runs/{run['run_id']}/").json()
    assert detail["status"] == "success"
    assert detail["run"]["total_designs_evaluated"] == stored.designs.count() > 0
    assert detail["run"]["config"]["search"]["algorithm"] == "NSGA2"
    assert detail["run"]["progress"] == 1.0


def test_create_without_seed_stores_the_drawn_seed(api, dummy_tasks):
    body = {k: v for k, v in CREATE.items() if k != "seed"}
    run = api.post("/api/runs/", body, format="json").json()["run"]
    assert isinstance(run["seed"], int)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({**CREATE, "population_size": -3}, ["population_size"]),
        ({**CREATE, "population_size": "many"}, ["population_size"]),
        ({**CREATE, "generations": 10**30}, ["generations"]),
        ({**CREATE, "algorithm": "ANNEAL"}, ["algorithm"]),
        ({**CREATE, "experiment": "no-such-experiment"}, ["no-such-experiment"]),
        ({**CREATE, "objectives": ["energy_mj"]}, ["objectives"]),
        ({**CREATE, "space": {"lower": [0, 0, 0, 0]}}, ["space"]),
        ({**CREATE, "library": {"chiplets": {"tpu": {}}}}, ["tpu"]),
        ({k: v for k, v in CREATE.items() if k != "name"}, ["name"]),
        ([1, 2, 3], ["JSON object"]),
    ],
)
def test_bad_create_requests_are_400_and_create_nothing(api, body, words):
    assert_error(api.post("/api/runs/", body, format="json"), 400, *words)
    assert not OptimizationRun.objects.exists()


def test_malformed_json_is_400(api):
    response = api.post("/api/runs/", "{not json", content_type="application/json")
    assert_error(response, 400, "JSON")


def test_unicode_names_are_fine(api):
    run = create(api, name="résumé 芯片 ✓")
    assert OptimizationRun.objects.get(run_id=run["run_id"]).name == "résumé 芯片 ✓"


def test_list_pages_and_reports_totals(api, dummy_tasks):
    ids = [create(api, name=f"r{i}")["run_id"] for i in range(5)]
    page = api.get("/api/runs/", {"page": 2, "page_size": 2}).json()
    assert (page["count"], page["page"], page["page_size"], page["num_pages"]) == (5, 2, 2, 3)
    assert [r["run_id"] for r in page["runs"]] == ids[::-1][2:4]  # newest first
    assert api.get("/api/runs/", {"page": 9}).json()["runs"] == []
    assert_error(api.get("/api/runs/", {"page_size": 0}), 400, "page_size")
    assert_error(api.get("/api/runs/", {"page": -1}), 400, "page")


def test_search_by_text_algorithm_status_workload_and_dates(api, dummy_tasks):
    a = create(api, name="gpt sweep", description="decode study")["run_id"]
    b = create(api, name="resnet", experiment="gpt-j-second-65536", algorithm="GA")["run_id"]
    OptimizationRun.objects.filter(run_id=b).update(status=RunStatus.COMPLETED)

    def found(**params):
        return [r["run_id"] for r in api.get("/api/runs/search/", params).json()["runs"]]

    assert found(q="sweep") == [a]
    assert found(q="decode") == [a]
    assert found(q=b) == [b]
    assert found(algorithm="GA") == [b]
    assert found(status="completed") == [b]
    assert found(trace="gpt-j-second") == [b]
    assert found(trace="dlrm/rmc1") == [a]
    tomorrow = (timezone.now() + timedelta(days=1)).isoformat()
    assert found(created_after=tomorrow) == []
    assert sorted(found(created_before=tomorrow)) == sorted([a, b])
    assert_error(api.get("/api/runs/search/", {"status": "sleeping"}), 400, "status")
    assert_error(api.get("/api/runs/search/", {"created_after": "yesterday"}), 400)


def test_statistics_match_the_database(api):
    create(api)
    create(api, algorithm="GA", seed=2)
    stats = api.get("/api/runs/statistics/").json()["statistics"]
    assert stats["total_runs"] == 2
    assert stats["total_designs"] == DesignPoint.objects.count()
    assert stats["total_pareto_designs"] == DesignPoint.objects.filter(pareto_rank=1).count()
    assert stats["runs_by_algorithm"] == {"GA": 1, "NSGA2": 1}
    assert stats["runs_by_status"] == {"completed": 2}
    best = DesignPoint.objects.order_by("execution_time_ms").first()
    assert stats["best_execution_time_ms"]["execution_time_ms"] == best.execution_time_ms


def test_designs_page_sort_and_filter(api):
    run_id = create(api, generations=3)["run_id"]
    everything = list(DesignPoint.objects.filter(run__run_id=run_id))
    url = f"/api/runs/{run_id}/designs/"
    data = api.get(url, {"ordering": "-energy_mj", "page_size": 1000}).json()
    energies = [d["energy_mj"] for d in data["designs"]]
    assert energies == sorted(energies, reverse=True) and data["count"] == len(everything)
    cut = sorted(d.execution_time_ms for d in everything)[len(everything) // 2]
    data = api.get(url, {"max_time": cut, "page_size": 1000}).json()
    assert data["count"] == sum(1 for d in everything if d.execution_time_ms <= cut)
    data = api.get(url, {"pareto_only": "true"}).json()
    assert data["count"] == sum(1 for d in everything if d.pareto_rank == 1)
    g = everything[0].gpu_count
    data = api.get(url, {"gpu_count": g, "page_size": 1000}).json()
    assert {d["gpu_count"] for d in data["designs"]} == {g}
    assert_error(api.get(url, {"ordering": "password"}), 400, "ordering")
    assert_error(api.get(url, {"min_time": "fast"}), 400, "min_time")
    assert_error(api.get("/api/runs/run_missing/designs/"), 404, "run_missing")


def test_plot_data_keeps_the_front_and_samples_the_rest(api):
    run_id = create(api, generations=3)["run_id"]
    run = OptimizationRun.objects.get(run_id=run_id)
    data = api.get(f"/api/runs/{run_id}/plot/").json()
    assert (
        not data["sampled"]
        and len(data["points"]["execution_time_ms"]) == run.total_designs_evaluated
    )
    assert len(data["front"]) == run.pareto_front_size
    small = api.get(f"/api/runs/{run_id}/plot/", {"max_points": 3}).json()
    assert small["sampled"] and len(small["front"]) == run.pareto_front_size
    assert len(small["points"]["energy_mj"]) < run.total_designs_evaluated


def test_multi_run_plot_and_fronts(api):
    a, b = create(api)["run_id"], create(api, seed=2)["run_id"]
    plot = api.get("/api/runs/plot/", {"run_ids": f"{a},{b}"}).json()
    assert [r["run_id"] for r in plot["runs"]] == [a, b]
    fronts = api.get("/api/runs/pareto-fronts/", {"run_ids": f"{b},{a}"}).json()["fronts"]
    assert [f["run_id"] for f in fronts] == [b, a]
    assert all(len(f["front"]) == OptimizationRun.objects.get(run_id=f["run_id"]).pareto_front_size
               for f in fronts)  # fmt: skip
    assert_error(api.get("/api/runs/plot/", {"run_ids": f"{a},run_nope"}), 404, "run_nope")
    assert_error(api.get("/api/runs/pareto-fronts/"), 400, "run_ids")


def test_pause_resume_stop_and_delete(api, dummy_tasks):
    run_id = create(api)["run_id"]
    paused = api.post(f"/api/runs/{run_id}/pause/")
    assert paused.status_code == 200 and paused.json()["run"]["status"] == "paused"
    assert api.post(f"/api/runs/{run_id}/resume/").json()["run"]["status"] == "queued"
    assert api.post(f"/api/runs/{run_id}/stop/").json()["run"]["status"] == "cancelled"
    assert_error(api.post(f"/api/runs/{run_id}/resume/"), 409, "only paused")
    assert_error(api.post(f"/api/runs/{run_id}/stop/"), 409)
    deleted = api.delete(f"/api/runs/{run_id}/delete/")
    assert deleted.status_code == 200 and deleted.json()["status"] == "success"
    assert not OptimizationRun.objects.filter(run_id=run_id).exists()
    assert_error(api.delete(f"/api/runs/{run_id}/delete/"), 404)
    assert_error(api.get(f"/api/runs/{run_id}/"), 404, run_id)


def test_running_runs_cannot_be_deleted(api, dummy_tasks):
    run_id = create(api)["run_id"]
    OptimizationRun.objects.filter(run_id=run_id).update(status=RunStatus.RUNNING)
    assert_error(api.delete(f"/api/runs/{run_id}/delete/"), 409, "stop it")


def test_wrong_methods_and_unknown_urls_answer_json(api):
    assert_error(api.get("/api/runs/run_x/delete/"), 405)
    assert_error(api.put("/api/runs/", {}), 405)
    assert_error(api.get("/api/nothing-here/"), 404)


def test_token_is_required_for_changes_when_configured(api, settings, dummy_tasks):
    settings.CHIPLET_DSE_API_TOKEN = "s3cret"
    assert_error(api.post("/api/runs/", CREATE, format="json"), 401, "Bearer")
    api.credentials(HTTP_AUTHORIZATION="Bearer wrong")
    assert_error(api.post("/api/runs/", CREATE, format="json"), 403)
    api.credentials(HTTP_AUTHORIZATION="Bearer s3cret")
    assert api.post("/api/runs/", CREATE, format="json").status_code == 201
    api.credentials()
    assert api.get("/api/runs/").status_code == 200  # reading stays open


def test_migrate_data_from_upload_and_default_file(api, settings, tmp_path):
    path = settings.RESULTS_DIR / "points.csv"
    if path.exists():
        path.unlink()
    assert_error(api.post("/api/migrate-data/"), 400, "points.csv")
    upload = tmp_path / "points.csv"
    upload.write_text("1.5,2.5,3,3,3,3\n2.5,1.5,12,0,0,0\n")
    with upload.open("rb") as fh:
        response = api.post("/api/migrate-data/", {"file": fh}, format="multipart")
    data = response.json()
    assert response.status_code == 200 and data["created"] is True
    assert data["run"]["total_designs_evaluated"] == 2 and data["run"]["pareto_front_size"] == 2
    path.write_text(upload.read_text())
    again = api.post("/api/migrate-data/").json()
    assert again["created"] is False and again["run"]["run_id"] == data["run"]["run_id"]
    path.unlink()
    with (tmp_path / "bad.csv").open("w") as fh:
        fh.write("1,2,3\n")
    with (tmp_path / "bad.csv").open("rb") as fh:
        assert_error(
            api.post("/api/migrate-data/", {"file": fh}, format="multipart"), 400, "line 1"
        )


def test_schema_and_docs_are_served(api):
    schema = api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    spec_paths = [
        "/api/runs/", "/api/runs/statistics/", "/api/runs/search/", "/api/runs/{run_id}/",
        "/api/runs/{run_id}/plot/", "/api/runs/{run_id}/delete/", "/api/runs/{run_id}/export/",
        "/api/exports/comparative-study/", "/api/exports/multiple-runs/",
        "/api/exports/cleanup/", "/api/runs/plot/", "/api/runs/compare/",
        "/api/runs/pareto-fronts/", "/api/migrate-data/",
    ]  # fmt: skip
    for path in spec_paths:
        assert path in paths, path
    assert api.get("/api/docs/").status_code == 200
