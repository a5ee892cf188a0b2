"""Analytics of stored runs through the API: computed, stored, refreshed, validated."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from chiplet_dse.server.analytics.models import AnalyticsResult, GroundTruth
from chiplet_dse.server.runs.legacy import import_points
from chiplet_dse.server.runs.models import DesignPoint
from chiplet_dse.server.runs.store import NewDesign, add_designs

pytestmark = pytest.mark.django_db

FAST = {"experiment": "gpt-j-second-65536"}
SMALL_SPACE = {"lower": [0, 0, 0, 0], "upper": [4, 4, 4, 4], "total_min": 4, "total_max": 4}


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def run(make_run):
    return make_run(population_size=8, generations=3, space=SMALL_SPACE, **FAST)


def get(api, run, kind, **params):
    response = api.get(f"/api/runs/{run.run_id}/analytics/{kind}/", params)
    assert response.status_code == 200, response.content
    return response.json()["analytics"]


def test_each_type_is_computed_stored_and_written_as_json(api, run, settings):
    for kind in ("rule_mining", "distance_correlation", "pareto_analysis", "sensitivity"):
        result = get(api, run, kind)
        assert result["analytics_type"] == kind
        assert result["designs_seen"] == run.designs.count()
        assert not result["stale"] and result["computation_time_s"] >= 0
        path = Path(result["file_path"])
        assert path.parent == settings.ANALYTICS_DIR / run.run_id
        assert json.loads(path.read_text())["results"] == result["results"]
    listed = api.get(f"/api/runs/{run.run_id}/analytics/").json()["analytics"]
    assert {r["analytics_type"] for r in listed} == {
        "rule_mining", "distance_correlation", "pareto_analysis", "sensitivity"
    }  # fmt: skip
    assert AnalyticsResult.objects.filter(run=run).count() == 4


def test_results_are_reused_until_the_run_gains_designs(api, run):
    first = get(api, run, "pareto_analysis")
    assert get(api, run, "pareto_analysis")["updated_at"] == first["updated_at"]
    add_designs(run, [NewDesign((0, 0, 0, 12), {"execution_time_ms": 0.001, "energy_mj": 0.001})])
    again = get(api, run, "pareto_analysis")
    assert again["designs_seen"] == first["designs_seen"] + 1
    assert again["results"]["front_size"] == 1  # the new design dominates everything


def test_rule_mining_parameters(api, run):
    body = {"parameters": {"bounds": {"energy_mj": [0, 1e9]}, "min_support": 0.2,
                           "bins": [["none", 0, 0], ["some", 1, None]]}}  # fmt: skip
    response = api.post(f"/api/runs/{run.run_id}/analytics/rule_mining/", body, format="json")
    assert response.status_code == 200
    result = response.json()["analytics"]["results"]
    assert result["region_size"] == run.designs.count()  # every design is in these bounds
    assert all(r["support"] >= 0.2 for r in result["rules"])
    ranked = get(api, run, "rule_mining", rank_min=1, rank_max=1)
    assert ranked["results"]["region_size"] == run.designs.filter(pareto_rank=1).count()


@pytest.mark.parametrize(
    ("kind", "body", "word"),
    [
        ("rule_mining", {"parameters": {"min_support": 2}}, "min_support"),
        ("rule_mining", {"parameters": {"rank_min": 3, "rank_max": 1}}, "rank_max"),
        ("rule_mining", {"parameters": {"bins": [["a", 1, 2]]}}, "bins"),
        ("distance_correlation", {"parameters": {"permutations": -1}}, "permutations"),
        ("pareto_analysis", {"parameters": {"colour": "red"}}, "colour"),
        ("astrology", {}, "analytics type"),
    ],
)
def test_bad_parameters_are_400(api, run, kind, body, word):
    response = api.post(f"/api/runs/{run.run_id}/analytics/{kind}/", body, format="json")
    assert response.status_code == 400 and word in response.json()["message"]


def test_imported_runs_cannot_be_re_evaluated(api):
    imported, _ = import_points(b"1,2,3,3,3,3\n2,1,12,0,0,0\n", "points.csv")
    response = api.get(f"/api/runs/{imported.run_id}/analytics/sensitivity/")
    assert response.status_code == 409
    assert get(api, imported, "pareto_analysis")["results"]["front_size"] == 2


def test_ground_truth_of_a_small_space(api, make_run):
    ff = make_run(algorithm="FF", population_size=20, space=SMALL_SPACE, **FAST)
    nsga = make_run(population_size=6, generations=3, space=SMALL_SPACE, seed=3, **FAST)
    assert ff.truth_key == nsga.truth_key != ""
    result = get(api, nsga, "ground_truth")["results"]
    truth = GroundTruth.objects.get(key=nsga.truth_key)
    assert truth.state == "completed" and truth.space_size == 35 and truth.evaluated == 35
    # The full-factorial run already held every composition: nothing was evaluated again.
    true_front = {tuple(d["composition"]) for d in truth.front}
    ff_front = set(DesignPoint.objects.filter(run=ff, pareto_rank=1).values_list(
        "gpu_count", "attention_count", "sparse_count", "convolution_count"))  # fmt: skip
    assert true_front == ff_front
    assert result["available"] and len(result["generations"]) == 3
    found = set(DesignPoint.objects.filter(run=nsga).values_list(
        "gpu_count", "attention_count", "sparse_count", "convolution_count"))  # fmt: skip
    final = result["final"]
    assert final["true_front_share"] == len(found & true_front) / len(true_front)
    assert 0 <= final["hypervolume_ratio"] <= 1
    shares = [g["true_front_share"] for g in result["generations"]]
    assert shares == sorted(shares)  # cumulative: never decreases
    conv = api.get(f"/api/runs/{nsga.run_id}/convergence/").json()
    assert [g["generation"] for g in conv["generations"]] == [1, 2, 3]
    assert conv["generations"][-1]["true_front_share"] == final["true_front_share"]


def test_convergence_without_ground_truth(api, make_run):
    run = make_run(population_size=6, generations=3, **FAST)  # 455 compositions: not computed
    conv = api.get(f"/api/runs/{run.run_id}/convergence/").json()
    gens = conv["generations"]
    assert [g["designs"] for g in gens] == sorted(g["designs"] for g in gens)
    assert gens[-1]["front_size"] == run.pareto_front_size
    hvs = [g["hypervolume"] for g in gens]
    assert hvs == sorted(hvs)


def test_design_breakdown_is_recomputed_by_the_model(api, run):
    design = run.designs.order_by("evaluation_order").first()
    data = api.get(f"/api/runs/{run.run_id}/designs/{design.pk}/breakdown/").json()
    assert data["execution_time_ms"] == design.execution_time_ms
    assert data["energy_mj"] == design.energy_mj
    assert sum(k["time_us"] for k in data["kernels"]) / 1000 == pytest.approx(
        design.execution_time_ms, rel=1e-12
    )
    assert api.get(f"/api/runs/{run.run_id}/designs/999999/breakdown/").status_code == 404


def test_analytics_are_computed_when_a_run_completes(make_run, settings):
    settings.CHIPLET_DSE_AUTO_ANALYTICS = True
    run = make_run(population_size=6, generations=2, space=SMALL_SPACE, **FAST)
    kinds = set(AnalyticsResult.objects.filter(run=run).values_list("analytics_type", flat=True))
    assert kinds == {"rule_mining", "distance_correlation", "pareto_analysis", "sensitivity",
                     "ground_truth"}  # fmt: skip


def test_reports_include_the_analytics(api, run, settings):
    for kind in ("rule_mining", "distance_correlation", "pareto_analysis", "sensitivity"):
        get(api, run, kind)
    from chiplet_dse.server.exports.report import run_report

    text = run_report(run)
    for heading in ("Pareto analysis", "Association rules", "Distance correlation",
                    "Sensitivity"):  # fmt: skip
        assert f"\n{heading}\n" in text


def test_study_reports_union_hypervolume_and_unique_designs(api, make_run):
    a = make_run(seed=1, population_size=6, generations=2, **FAST)
    b = make_run(seed=2, population_size=6, generations=2, **FAST)
    cmp = api.get("/api/runs/compare/", {"run_a": a.run_id, "run_b": b.run_id}).json()["comparison"]
    assert cmp["hypervolume_union"] >= max(cmp["run_a"]["hypervolume"], cmp["run_b"]["hypervolume"])
    assert cmp["unique_designs"]["a"] == a.total_designs_evaluated - cmp["common_designs"]
    fronts_a = {tuple(d.values()) for d in cmp["unique_front_designs"]["a"]}
    fronts_b = {tuple(d.values()) for d in cmp["unique_front_designs"]["b"]}
    assert not fronts_a & fronts_b


def test_a_ground_truth_abandoned_by_its_worker_is_retried(api, make_run):
    from django.utils import timezone

    from chiplet_dse.server.runs.services import recover_stale_ground_truths

    run = make_run(population_size=6, generations=2, space=SMALL_SPACE, **FAST)
    truth = GroundTruth.objects.create(key=run.truth_key, state="running", space_size=35,
                                       config={k: run.config[k] for k in
                                               ("experiment", "goal", "library", "search")},
                                       objectives=run.objectives)  # fmt: skip
    GroundTruth.objects.filter(pk=truth.pk).update(
        updated_at=timezone.now() - timezone.timedelta(hours=2)
    )
    assert recover_stale_ground_truths() == [run.truth_key]
    assert GroundTruth.objects.get(pk=truth.pk).state == "failed"
    result = get(api, run, "ground_truth")["results"]  # asking again queues it again
    assert result["available"] and GroundTruth.objects.get(pk=truth.pk).state == "completed"
