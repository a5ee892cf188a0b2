"""REST API: export, comparison and study endpoints — status, body and the files they write."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import pytest
from rest_framework.test import APIClient

from chiplet_dse.cli import main
from chiplet_dse.server.analytics.models import ComparativeStudy
from chiplet_dse.server.runs.models import DesignPoint

pytestmark = pytest.mark.django_db

HEADER = ["execution_time_ms", "energy_mj", "gpu_count", "attention_count", "sparse_count",
          "convolution_count", "total_chiplets", "is_pareto_optimal"]  # fmt: skip
NAME = re.compile(r"^(?P<base>.+)_(\d{4})(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
                  r"(\d{2})_(\d{6})(_\d+)?\.zip$")  # fmt: skip


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def two_runs(make_run):
    fast = {"experiment": "gpt-j-second-65536"}
    return make_run(seed=1, **fast).run_id, make_run(seed=2, algorithm="GA", **fast).run_id


def zip_rows(path, suffix="_designs.csv"):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        member = next(n for n in names if n.endswith(suffix))
        text = zf.read(member).decode()
    return names, list(csv.reader(io.StringIO(text)))


def test_export_a_run_as_the_spec_says(api, two_runs, settings):
    run_id = two_runs[0]
    response = api.post(f"/api/runs/{run_id}/export/", {"base_name": "my_optimization"},
                        format="json")  # fmt: skip
    assert response.status_code == 200
    data = response.json()
    assert (
        data["status"] == "success"
        and data["message"] == "Run my_optimization exported successfully"
    )
    match = NAME.match(data["file_name"])
    assert match and match["base"] == "my_optimization"
    assert data["download_url"] == f"/media/exports/{data['file_name']}"
    path = settings.EXPORTS_DIR / data["file_name"]
    assert data["file_path"] == str(path) and path.stat().st_size == data["size_bytes"]
    names, rows = zip_rows(path)
    stem = data["file_name"][:-4]
    assert {f"{stem}_designs.csv", f"{stem}_report.txt", f"{stem}_metadata.json"} <= set(names)
    assert rows[0] == HEADER
    stored = DesignPoint.objects.filter(run__run_id=run_id).order_by("evaluation_order")
    assert len(rows) - 1 == stored.count()
    for row, d in zip(rows[1:], stored, strict=True):
        assert float(row[0]) == d.execution_time_ms and float(row[1]) == d.energy_mj
        assert [int(x) for x in row[2:7]] == [*d.composition, d.total_chiplets]
        assert row[7] == str(d.is_pareto_optimal)
    download = api.get(data["download_url"])
    assert download.status_code == 200 and b"".join(download.streaming_content) == path.read_bytes()


def test_export_defaults_and_compression(api, two_runs, settings):
    run_id = two_runs[0]
    data = api.post(f"/api/runs/{run_id}/export/").json()
    assert data["status"] == "success" and NAME.match(data["file_name"])
    data = api.post(f"/api/runs/{run_id}/export/", {"compression": "bzip2", "level": 9},
                    format="json").json()  # fmt: skip
    with zipfile.ZipFile(settings.EXPORTS_DIR / data["file_name"]) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_BZIP2}


@pytest.mark.parametrize(
    ("body", "word"),
    [
        ({"base_name": "../../x"}, "base_name"),
        ({"base_name": "/etc/x"}, "base_name"),
        ({"base_name": ".hidden"}, "base_name"),
        ({"base_name": "a" * 101}, "base_name"),
        ({"compression": "zstd"}, "compression"),
        ({"compression": "lzma", "level": 5}, "level"),
        ({"compression": "deflated", "level": 12}, "level"),
    ],
)
def test_bad_export_requests_write_nothing(api, two_runs, settings, body, word):
    before = set(settings.EXPORTS_DIR.iterdir())
    response = api.post(f"/api/runs/{two_runs[0]}/export/", body, format="json")
    assert response.status_code == 400 and word in response.json()["message"]
    assert set(settings.EXPORTS_DIR.iterdir()) == before
    assert not any(p.name.startswith("x_") for p in settings.HOME.parent.iterdir())


def test_export_unknown_run_is_404(api):
    response = api.post("/api/runs/run_20250802_205153/export/", {}, format="json")
    assert response.status_code == 404 and response.json()["status"] == "error"


def test_comparative_study_and_multiple_runs_exports(api, two_runs, settings):
    a, b = two_runs
    data = api.post("/api/exports/comparative-study/",
                    {"run_a_id": a, "run_b_id": b, "study_name": "gpt_vs_resnet_comparison"},
                    format="json").json()  # fmt: skip
    assert data["status"] == "success"
    assert NAME.match(data["file_name"])["base"] == "gpt_vs_resnet_comparison"
    names, rows = zip_rows(settings.EXPORTS_DIR / data["file_name"], f"_{a}_designs.csv")
    assert rows[0] == HEADER and any(n.endswith(f"_{b}_designs.csv") for n in names)
    assert ComparativeStudy.objects.filter(name="gpt_vs_resnet_comparison").count() == 1
    data = api.post("/api/exports/multiple-runs/",
                    {"run_ids": [a, b], "base_name": "batch_optimization"},
                    format="json").json()  # fmt: skip
    assert NAME.match(data["file_name"])["base"] == "batch_optimization"
    names, _ = zip_rows(settings.EXPORTS_DIR / data["file_name"], f"_{b}_designs.csv")
    assert sum(n.endswith("_designs.csv") for n in names) == 2
    response = api.post("/api/exports/multiple-runs/",
                        {"run_ids": [a, "run_nope"], "base_name": "x"}, format="json")  # fmt: skip
    assert response.status_code == 404 and "run_nope" in response.json()["message"]


def test_export_list_download_and_cleanup(api, two_runs, settings):
    name = api.post(f"/api/runs/{two_runs[0]}/export/").json()["file_name"]
    (settings.EXPORTS_DIR / "notes.txt").write_text("keep me")
    listed = api.get("/api/exports/").json()
    assert listed["count"] >= 1 and listed["exports"][0]["name"] == name
    assert api.get("/media/exports/notes.txt").status_code == 404
    assert api.get("/media/exports/..%2F..%2Fsecret_key").status_code == 404
    for bad in ({"max_age_days": -1}, {"max_age_days": "old"}, {"max_age_days": False}, {}):
        response = api.post("/api/exports/cleanup/", bad, format="json")
        assert response.status_code == 400 and response.json()["status"] == "error"
    kept = api.post("/api/exports/cleanup/", {"max_age_days": 1}, format="json").json()
    assert kept["deleted"] == [] and (settings.EXPORTS_DIR / name).exists()
    gone = api.post("/api/exports/cleanup/", {"max_age_days": 0}, format="json").json()
    assert name in gone["deleted"] and not (settings.EXPORTS_DIR / name).exists()
    assert (settings.EXPORTS_DIR / "notes.txt").read_text() == "keep me"


def test_compare_two_runs(api, two_runs):
    a, b = two_runs
    response = api.get("/api/runs/compare/", {"run_a": a, "run_b": b})
    assert response.status_code == 200
    cmp = response.json()["comparison"]
    assert cmp["run_a"]["run_id"] == a and cmp["run_b"]["run_id"] == b
    for side in ("run_a", "run_b"):
        assert cmp[side]["hypervolume"] > 0
        assert set(cmp[side]["best"]) >= {"execution_time_ms", "energy_mj"}
    assert 0 <= cmp["dominated_share"]["a_by_b"] <= 1
    assert isinstance(cmp["common_designs"], int)
    assert api.get("/api/runs/compare/", {"run_a": a}).status_code == 400
    assert api.get("/api/runs/compare/", {"run_a": a, "run_b": "run_x"}).status_code == 404


def test_studies_create_list_and_get(api, two_runs):
    a, b = two_runs
    response = api.post("/api/studies/", {"run_a_id": a, "run_b_id": b, "name": "s1"},
                        format="json")  # fmt: skip
    assert response.status_code == 201
    study = response.json()["study"]
    assert study["run_a_id"] == a
    assert study["shared_parameters"]["experiment"] == "gpt-j-second-65536"
    assert study["results_data"]["run_a"]["front_size"] > 0
    listed = api.get("/api/studies/").json()
    assert listed["count"] == 1 and listed["studies"][0]["study_id"] == study["study_id"]
    assert api.get(f"/api/studies/{study['study_id']}/").json()["study"]["name"] == "s1"
    assert api.get("/api/studies/study_nope/").status_code == 404
    same = api.post("/api/studies/", {"run_a_id": a, "run_b_id": a, "name": "x"}, format="json")
    assert same.status_code == 400


def test_cli_export_commands(two_runs, settings, capsys):
    a, b = two_runs
    assert main(["export", a, "--base-name", "cli_run", "--compression", "stored"]) == 0
    path = capsys.readouterr().out.split()[0]
    assert NAME.match(path.rsplit("/", 1)[1])["base"] == "cli_run"
    with zipfile.ZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_STORED}
    assert main(["export", "--compare", a, b, "--study-name", "cli_study"]) == 0
    assert "cli_study_" in capsys.readouterr().out
    assert main(["exports", "list", "--format", "json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
    assert main(["exports", "cleanup", "--max-age-days", "0"]) == 0
    assert "deleted 2 export(s)" in capsys.readouterr().out
    assert main(["export", a, "--base-name", "../x"]) == 2
    assert "base_name" in capsys.readouterr().err
    assert main(["exports", "cleanup"]) == 2
