"""REST API views: parse and validate the request, call one service, serialize the answer."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse, HttpRequest, JsonResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers as drf
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chiplet_dse.errors import ChipletDSEError, InputError
from chiplet_dse.server.api import serializers as s
from chiplet_dse.server.runs import queries, services

ERRORS = {
    400: OpenApiResponse(s.ErrorSerializer, description="bad request"),
    401: OpenApiResponse(s.ErrorSerializer, description="token required"),
    404: OpenApiResponse(s.ErrorSerializer, description="not found"),
    405: OpenApiResponse(s.ErrorSerializer, description="method not allowed"),
    409: OpenApiResponse(s.ErrorSerializer, description="conflicts with the current state"),
    415: OpenApiResponse(s.ErrorSerializer, description="unsupported media type"),
}
RUN_ID = OpenApiParameter(
    "run_id", str, OpenApiParameter.PATH, description="e.g. run_20250802_205153"
)


def responses(ok: Any, code: int = 200, *errors: int) -> dict[int, Any]:
    return {code: ok, **{e: ERRORS[e] for e in (400, 404, 405, *errors)}}


def query(serializer: type[drf.Serializer], request: Request) -> dict[str, Any]:
    data = serializer(data=request.query_params)
    # DRF reads an empty query value as "not given"; the schema says it is invalid, so say so.
    for name, field in data.fields.items():
        if request.query_params.get(name) == "" and not getattr(field, "allow_blank", False):
            raise InputError(f"{name}: may not be empty", field=name)
    data.is_valid(raise_exception=True)
    return data.validated_data


def body(serializer: type[drf.Serializer], request: Request) -> dict[str, Any]:
    if not isinstance(request.data, dict):
        raise InputError("the request body must be a JSON object")
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


def ok(**payload: Any) -> dict[str, Any]:
    return {"status": "success", **payload}


def run_page(params: dict[str, Any]) -> dict[str, Any]:
    page = queries.paginate(queries.filter_runs(params), params["page"], params["page_size"])
    return ok(**page.meta(), runs=s.RunSerializer(page.items, many=True).data)


# -- runs ----------------------------------------------------------------------------------------
class RunListView(APIView):
    @extend_schema(parameters=[s.RunQuerySerializer], responses=responses(s.RunPageSerializer))
    def get(self, request: Request) -> Response:
        """List runs, newest first, with the search filters and paging."""
        return Response(run_page(query(s.RunQuerySerializer, request)))

    @extend_schema(
        request=s.RunCreateSerializer,
        responses=responses(s.RunEnvelopeSerializer, 201, 401, 415),
    )
    def post(self, request: Request) -> Response:
        """Create an optimisation run and queue it for a worker (the CLI's `run`)."""
        from random import SystemRandom

        from chiplet_dse.server.runs.specs import build_spec

        data = body(s.RunCreateSerializer, request)
        if "library_text" in data:
            from chiplet_dse.model.chiplets import parse_library_text

            data["library"] = parse_library_text(data.pop("library_text"), "library_text")
        if "seed" not in data:
            data["seed"] = SystemRandom().randrange(2**31)
        spec = build_spec(population_size=data.pop("population_size"), **data)
        run = services.create_run(spec)
        message = f"Run {run.name} created and queued as {run.run_id}"
        return Response(ok(message=message, run=s.RunDetailSerializer(run).data), status=201)


class OptionsView(APIView):
    @extend_schema(responses=responses(s.OptionsSerializer))
    def get(self, request: Request) -> Response:
        """What a run can be made of: built-in experiments and workloads, algorithms, objectives,
        goals, compression methods, the default design space."""
        from chiplet_dse.model import BUILTIN_EXPERIMENTS, GOALS, TYPE_LABELS
        from chiplet_dse.model.workloads import BUILTIN_WORKLOADS
        from chiplet_dse.optimize import ALGORITHMS, OBJECTIVES, SCALARS, DesignSpace

        experiments = [
            {"name": name, "workloads": [
                {"model": m, "instance": i, "batch_size": b, "weighted_score": w}
                for m, i, b, w in spec]}
            for name, spec in BUILTIN_EXPERIMENTS.items()
        ]  # fmt: skip
        workloads = [w.__dict__ | {"shipped_batch_sizes": list(w.shipped_batch_sizes)}
                     for w in BUILTIN_WORKLOADS]  # fmt: skip
        return Response(ok(
            experiments=experiments, workloads=workloads, algorithms=list(ALGORITHMS),
            objectives=list(OBJECTIVES), scalars=list(SCALARS), goals=list(GOALS),
            compressions=list(s.COMPRESSIONS), default_space=DesignSpace().to_dict(),
            chiplet_types=list(TYPE_LABELS.values()),
            token_required=bool(settings.CHIPLET_DSE_API_TOKEN),
        ))  # fmt: skip


class RunSearchView(APIView):
    @extend_schema(parameters=[s.RunQuerySerializer], responses=responses(s.RunPageSerializer))
    def get(self, request: Request) -> Response:
        """Search runs by text (name, description, run id), algorithm, model, status, workload
        and creation date range."""
        return Response(run_page(query(s.RunQuerySerializer, request)))


class StatisticsView(APIView):
    @extend_schema(responses=responses(s.StatisticsSerializer))
    def get(self, request: Request) -> Response:
        """Overall statistics of the store (SQL aggregates)."""
        return Response(ok(statistics=queries.statistics()))


class RunDetailView(APIView):
    @extend_schema(parameters=[RUN_ID], responses=responses(s.RunEnvelopeSerializer))
    def get(self, request: Request, run_id: str) -> Response:
        """One run with its configuration and progress."""
        return Response(ok(run=s.RunDetailSerializer(services.get_run(run_id)).data))


class RunDeleteView(APIView):
    @extend_schema(parameters=[RUN_ID], responses=responses(s.MessageSerializer, 200, 401, 409))
    def delete(self, request: Request, run_id: str) -> Response:
        """Delete a run with its designs and analytics (stop a running run first)."""
        services.delete_run(run_id)
        return Response(ok(message=f"Run {run_id} deleted"))


class RunControlView(APIView):
    action = ""

    @extend_schema(
        parameters=[RUN_ID],
        request=None,
        responses=responses(s.RunEnvelopeSerializer, 200, 401, 409),
    )
    def post(self, request: Request, run_id: str) -> Response:
        """Pause, resume or stop a run (running runs act after the current generation)."""
        handler = {"pause": services.pause_run, "resume": services.resume_run,
                   "stop": services.stop_run}[self.action]  # fmt: skip
        run = handler(run_id)
        pending = f"; it will {run.control} after the current generation" if run.control else ""
        message = f"Run {run_id} is {run.status}{pending}"
        return Response(ok(message=message, run=s.RunDetailSerializer(run).data))


class RunDesignsView(APIView):
    @extend_schema(
        parameters=[RUN_ID, s.DesignQuerySerializer], responses=responses(s.DesignPageSerializer)
    )
    def get(self, request: Request, run_id: str) -> Response:
        """A run's designs: paged, sorted, filtered by objective bounds, composition, rank."""
        params = query(s.DesignQuerySerializer, request)
        run = services.get_run(run_id)
        page = queries.paginate(
            queries.filter_designs(run, params), params["page"], params["page_size"]
        )
        designs = s.DesignSerializer(page.items, many=True).data
        return Response(ok(run_id=run.run_id, **page.meta(), designs=designs))


class RunPlotView(APIView):
    @extend_schema(
        parameters=[RUN_ID, s.PlotQuerySerializer], responses=responses(s.GenericSuccessSerializer)
    )
    def get(self, request: Request, run_id: str) -> Response:
        """Data for plotting one run: columns of (sampled) designs and the Pareto front."""
        params = query(s.PlotQuerySerializer, request)
        return Response(ok(**queries.plot_data(services.get_run(run_id), params["max_points"])))


class MultiPlotView(APIView):
    @extend_schema(
        parameters=[s.RunIdsQuerySerializer], responses=responses(s.GenericSuccessSerializer)
    )
    def get(self, request: Request) -> Response:
        """Plot data of several runs (``run_ids=a,b,...``)."""
        params = query(s.RunIdsQuerySerializer, request)
        runs = queries.runs_by_ids(params["run_ids"])
        return Response(ok(runs=[queries.plot_data(r, params["max_points"]) for r in runs]))


class ParetoFrontsView(APIView):
    @extend_schema(
        parameters=[s.RunIdsQuerySerializer], responses=responses(s.GenericSuccessSerializer)
    )
    def get(self, request: Request) -> Response:
        """The Pareto fronts of several runs (``run_ids=a,b,...``)."""
        params = query(s.RunIdsQuerySerializer, request)
        fronts = [
            {"run_id": r.run_id, "name": r.name, "objectives": r.objectives,
             "front": queries.pareto_front(r)}
            for r in queries.runs_by_ids(params["run_ids"])
        ]  # fmt: skip
        return Response(ok(fronts=fronts))


class CompareView(APIView):
    @extend_schema(
        parameters=[s.CompareQuerySerializer], responses=responses(s.GenericSuccessSerializer)
    )
    def get(self, request: Request) -> Response:
        """Compare two runs: fronts, sizes, best designs, hypervolumes against one reference
        point, the share of each front dominated by the other, designs common to both."""
        from chiplet_dse.server.analytics.comparison import compare

        params = query(s.CompareQuerySerializer, request)
        return Response(ok(comparison=compare(params["run_a"], params["run_b"])))


class DesignBreakdownView(APIView):
    @extend_schema(parameters=[RUN_ID], responses=responses(s.GenericSuccessSerializer, 200, 409))
    def get(self, request: Request, run_id: str, design_id: int) -> Response:
        """One design re-computed by the model: per-kernel time, energy, traffic, work split."""
        from chiplet_dse.server.runs.breakdown import design_breakdown

        return Response(ok(**design_breakdown(run_id, design_id)))


class ConvergenceView(APIView):
    @extend_schema(parameters=[RUN_ID], responses=responses(s.GenericSuccessSerializer))
    def get(self, request: Request, run_id: str) -> Response:
        """Per generation: designs, front size, hypervolume; share of the true front when known."""
        from chiplet_dse.server.analytics.services import convergence

        return Response(ok(**convergence(services.get_run(run_id))))


# -- analytics -----------------------------------------------------------------------------------
ANALYTICS_TYPE = OpenApiParameter(
    "analytics_type", str, OpenApiParameter.PATH,
    enum=["rule_mining", "distance_correlation", "pareto_analysis", "sensitivity", "ground_truth"],
)  # fmt: skip


class AnalyticsListView(APIView):
    @extend_schema(parameters=[RUN_ID], responses=responses(s.AnalyticsListSerializer))
    def get(self, request: Request, run_id: str) -> Response:
        """The newest stored result of each analytics type of a run."""
        from chiplet_dse.server.analytics.services import latest_results

        run = services.get_run(run_id)
        results = s.AnalyticsResultSerializer(latest_results(run), many=True).data
        return Response(ok(run_id=run.run_id, analytics=results))


class AnalyticsView(APIView):
    @extend_schema(
        parameters=[RUN_ID, ANALYTICS_TYPE, s.AnalyticsQuerySerializer],
        responses=responses(s.AnalyticsEnvelopeSerializer, 200, 409),
    )
    def get(self, request: Request, run_id: str, analytics_type: str) -> Response:
        """One analytics result (computed now if missing or if the run gained designs)."""
        from chiplet_dse.server.analytics.services import run_analytics

        params = query(s.AnalyticsQuerySerializer, request)
        result = run_analytics(run_id, analytics_type, params)
        data = s.AnalyticsResultSerializer(result).data
        return Response(ok(run_id=run_id, analytics=data))

    @extend_schema(
        parameters=[RUN_ID, ANALYTICS_TYPE], request=s.AnalyticsBodySerializer,
        responses=responses(s.AnalyticsEnvelopeSerializer, 200, 401, 409, 415),
    )  # fmt: skip
    def post(self, request: Request, run_id: str, analytics_type: str) -> Response:
        """Compute an analytics result with parameters (region, ranks, bounds, bins, support,
        permutations, ...); ``force`` recomputes a stored one."""
        from chiplet_dse.server.analytics.services import run_analytics

        data = body(s.AnalyticsBodySerializer, request)
        result = run_analytics(run_id, analytics_type, data["parameters"], force=data["force"])
        return Response(ok(run_id=run_id, analytics=s.AnalyticsResultSerializer(result).data))


# -- exports -------------------------------------------------------------------------------------
def export_response(result: Any, what: str) -> dict[str, Any]:
    return ok(
        message=f"{what} exported successfully",
        download_url=result.download_url,
        file_path=str(result.path),
        file_name=result.file_name,
        size_bytes=result.size_bytes,
    )


class RunExportView(APIView):
    @extend_schema(
        parameters=[RUN_ID], request=s.ExportRunSerializer,
        responses=responses(s.ExportResponseSerializer, 200, 401, 415),
    )  # fmt: skip
    def post(self, request: Request, run_id: str) -> Response:
        """Export one run to a time-stamped zip (designs CSV, report, metadata, figure)."""
        from chiplet_dse.server.exports.services import export_run

        data = body(s.ExportRunSerializer, request)
        result = export_run(run_id, data.get("base_name"), data["compression"], data.get("level"))
        name = data.get("base_name") or run_id
        return Response(export_response(result, f"Run {name}"))


class StudyExportView(APIView):
    @extend_schema(
        request=s.ExportStudySerializer,
        responses=responses(s.ExportResponseSerializer, 200, 401, 415),
    )
    def post(self, request: Request) -> Response:
        """Export a comparative study of two runs to a zip."""
        from chiplet_dse.server.exports.services import export_comparative_study

        data = body(s.ExportStudySerializer, request)
        result = export_comparative_study(
            data["run_a_id"], data["run_b_id"], data["study_name"], data["compression"],
            data.get("level"),
        )  # fmt: skip
        return Response(export_response(result, f"Comparative study {data['study_name']}"))


class MultipleRunsExportView(APIView):
    @extend_schema(
        request=s.ExportRunsSerializer,
        responses=responses(s.ExportResponseSerializer, 200, 401, 415),
    )
    def post(self, request: Request) -> Response:
        """Export several runs to one zip."""
        from chiplet_dse.server.exports.services import export_multiple_runs

        data = body(s.ExportRunsSerializer, request)
        result = export_multiple_runs(
            data["run_ids"], data["base_name"], data["compression"], data.get("level")
        )
        return Response(export_response(result, f"{len(data['run_ids'])} runs"))


class CleanupView(APIView):
    @extend_schema(
        request=s.CleanupSerializer,
        responses=responses(s.CleanupResponseSerializer, 200, 401, 415),
    )
    def post(self, request: Request) -> Response:
        """Delete export zips older than ``max_age_days`` (only export zips)."""
        from chiplet_dse.server.exports.services import cleanup_exports

        data = body(s.CleanupSerializer, request)
        deleted = cleanup_exports(data["max_age_days"])
        message = f"Deleted {len(deleted)} export(s) older than {data['max_age_days']:g} days"
        return Response(ok(message=message, deleted=deleted))


class ExportListView(APIView):
    @extend_schema(responses=responses(s.ExportListSerializer))
    def get(self, request: Request) -> Response:
        """Existing export files, newest first."""
        from chiplet_dse.server.exports.services import list_exports

        exports = list_exports()
        return Response(ok(count=len(exports), exports=exports))


def download_export(request: HttpRequest, name: str) -> FileResponse | JsonResponse:
    """Serve an export zip (the ``download_url`` of the export responses)."""
    from chiplet_dse.server.exports.services import export_file

    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"status": "error", "message": "method not allowed"}, status=405)
    try:
        path = export_file(name)
    except ChipletDSEError as exc:
        return JsonResponse({"status": "error", "message": str(exc)}, status=404)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name,
                        content_type="application/zip")  # fmt: skip


# -- studies and migration -------------------------------------------------------------------------
class StudyListView(APIView):
    @extend_schema(parameters=[s.PagingQuerySerializer], responses=responses(s.StudyPageSerializer))
    def get(self, request: Request) -> Response:
        """Comparative studies, newest first."""
        from chiplet_dse.server.analytics.models import ComparativeStudy

        params = query(s.PagingQuerySerializer, request)
        studies = ComparativeStudy.objects.select_related("run_a", "run_b")
        page = queries.paginate(studies, params["page"], params["page_size"])
        return Response(ok(**page.meta(), studies=s.StudySerializer(page.items, many=True).data))

    @extend_schema(
        request=s.StudyCreateSerializer,
        responses=responses(s.StudyEnvelopeSerializer, 201, 401, 415),
    )
    def post(self, request: Request) -> Response:
        """Create a comparative study of two runs (computed now, stored with the study)."""
        from chiplet_dse.server.analytics.studies import create_study

        data = body(s.StudyCreateSerializer, request)
        study = create_study(data["run_a_id"], data["run_b_id"], data["name"],
                             data.get("description", ""))  # fmt: skip
        message = f"Study {study.name} created as {study.study_id}"
        return Response(ok(message=message, study=s.StudySerializer(study).data), status=201)


class StudyDetailView(APIView):
    @extend_schema(responses=responses(s.StudyEnvelopeSerializer))
    def get(self, request: Request, study_id: str) -> Response:
        """One comparative study with its results."""
        from chiplet_dse.server.analytics.studies import get_study

        return Response(ok(study=s.StudySerializer(get_study(study_id)).data))


class MigrateDataView(APIView):
    parser_classes = [MultiPartParser, JSONParser]

    @extend_schema(
        request={"multipart/form-data": {"type": "object",
                                         "properties": {"file": {"type": "string",
                                                                 "format": "binary"}}}},
        responses=responses(s.MigrateResponseSerializer, 200, 401, 415),
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        """Import a legacy points.csv: the uploaded ``file``, else ``results/points.csv`` in the
        data directory. Importing the same content twice returns the first run."""
        from chiplet_dse.server.runs.legacy import import_file, import_points

        upload = request.FILES.get("file") if hasattr(request, "FILES") else None
        if upload is not None:
            run, created = import_points(upload.read(), upload.name or "upload.csv")
        else:
            path = settings.RESULTS_DIR / "points.csv"
            if not path.is_file():
                raise InputError(
                    f"no legacy data: {path} does not exist; upload a points.csv as 'file'"
                )
            run, created = import_file(path)
        verb = "Migrated" if created else "Already migrated"
        message = f"{verb} {run.total_designs_evaluated} designs into run {run.run_id}"
        return Response(ok(message=message, created=created, run=s.RunDetailSerializer(run).data))
