"""Request validation and response shapes of the REST API (also the OpenAPI schema)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from chiplet_dse.model.engine import GOALS
from chiplet_dse.model.experiments import BUILTIN_EXPERIMENTS
from chiplet_dse.optimize import ALGORITHMS, OBJECTIVES, SCALARS
from chiplet_dse.server.exports.naming import BASE_NAME_PATTERN
from chiplet_dse.server.runs.models import Algorithm, DesignPoint, OptimizationRun, RunStatus

MAX_INT = 2**31 - 1
COMPOSITION = ("gpu_count", "attention_count", "sparse_count", "convolution_count")
COMPRESSIONS = ("stored", "deflated", "bzip2", "lzma")


# -- shared envelopes ----------------------------------------------------------------------------
class ErrorSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["error"])
    message = serializers.CharField()


class MessageSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    message = serializers.CharField()


# -- runs ----------------------------------------------------------------------------------------
class RunSerializer(serializers.ModelSerializer):
    """A run as lists show it (the spec's OptimizationRun fields plus progress)."""

    progress = serializers.SerializerMethodField()

    class Meta:
        model = OptimizationRun
        fields = [
            "run_id", "name", "description", "algorithm", "model", "population_size",
            "generations", "objectives", "trace_name", "experiment", "status",
            "total_designs_evaluated", "pareto_front_size", "seed", "created_at", "started_at",
            "completed_at", "execution_time_s", "current_generation", "total_generations",
            "evaluations", "error_message", "heartbeat_at", "auto_export", "progress",
        ]  # fmt: skip
        read_only_fields = fields

    def get_progress(self, run: OptimizationRun) -> float:
        if run.status == RunStatus.COMPLETED:
            return 1.0
        total = run.total_generations or run.generations or 1
        return round(min(run.current_generation / total, 1.0), 4)


class RunDetailSerializer(RunSerializer):
    """A run with its full configuration and control state."""

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "config", "control", "attempts", "worker",
                  "updated_at"]  # fmt: skip
        read_only_fields = fields


class DesignSerializer(serializers.ModelSerializer):
    class Meta:
        model = DesignPoint
        fields = [
            "id", *COMPOSITION, "total_chiplets", "execution_time_ms", "energy_mj", "area_mm2",
            "is_pareto_optimal", "pareto_rank", "generation", "evaluation_order",
            "additional_metrics",
        ]  # fmt: skip
        read_only_fields = fields


class RunEnvelopeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    message = serializers.CharField(required=False)
    run = RunDetailSerializer()


class PageSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    count = serializers.IntegerField(help_text="total number of matching items")
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    num_pages = serializers.IntegerField()


class RunPageSerializer(PageSerializer):
    runs = RunSerializer(many=True)


class DesignPageSerializer(PageSerializer):
    run_id = serializers.CharField()
    designs = DesignSerializer(many=True)


class RunCreateSerializer(serializers.Serializer):
    """What `chiplet-dse run` takes."""

    name = serializers.CharField(max_length=200)
    experiment = serializers.ChoiceField(
        choices=sorted(BUILTIN_EXPERIMENTS),
        help_text="a built-in experiment (`chiplet-dse workloads`)",
    )
    algorithm = serializers.ChoiceField(choices=list(ALGORITHMS), default="NSGA2")
    population_size = serializers.IntegerField(min_value=2, max_value=10_000, default=50)
    generations = serializers.IntegerField(min_value=1, max_value=10_000, default=20)
    seed = serializers.IntegerField(min_value=0, max_value=2**63 - 1, required=False)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)
    goal = serializers.ChoiceField(choices=list(GOALS), required=False)
    objectives = serializers.ListField(
        child=serializers.ChoiceField(choices=list(OBJECTIVES)), min_length=2, max_length=3,
        required=False,
    )  # fmt: skip
    scalar = serializers.ChoiceField(choices=list(SCALARS), default="edp")
    space = serializers.DictField(required=False, help_text="lower, upper, total_min, total_max")
    library = serializers.DictField(required=False, help_text="custom chiplet library")
    library_text = serializers.CharField(
        required=False, max_length=200_000,
        help_text="custom chiplet library as the text of a JSON or TOML file",
    )  # fmt: skip
    auto_export = serializers.BooleanField(default=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "library" in attrs and "library_text" in attrs:
            raise serializers.ValidationError({"library_text": "give library or library_text"})
        return attrs


class StatisticsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    statistics = serializers.DictField()


# -- designs query -------------------------------------------------------------------------------
ORDERINGS = [
    f"{sign}{field}"
    for field in ("execution_time_ms", "energy_mj", "area_mm2", "pareto_rank", "evaluation_order",
                  "generation", "total_chiplets", *COMPOSITION)
    for sign in ("", "-")
]  # fmt: skip


class PagingQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, max_value=MAX_INT, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=1000, default=50)


class DesignQuerySerializer(PagingQuerySerializer):
    ordering = serializers.ChoiceField(choices=ORDERINGS, default="evaluation_order")
    min_time = serializers.FloatField(required=False)
    max_time = serializers.FloatField(required=False)
    min_energy = serializers.FloatField(required=False)
    max_energy = serializers.FloatField(required=False)
    pareto_only = serializers.BooleanField(default=False)
    max_rank = serializers.IntegerField(min_value=1, max_value=MAX_INT, required=False)
    gpu_count = serializers.IntegerField(min_value=0, max_value=4096, required=False)
    attention_count = serializers.IntegerField(min_value=0, max_value=4096, required=False)
    sparse_count = serializers.IntegerField(min_value=0, max_value=4096, required=False)
    convolution_count = serializers.IntegerField(min_value=0, max_value=4096, required=False)
    generation = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False)


class RunQuerySerializer(PagingQuerySerializer):
    q = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="name, description, id"
    )
    algorithm = serializers.ChoiceField(choices=Algorithm.values, required=False, allow_blank=True)
    model = serializers.ChoiceField(choices=["CASCADE", "CUSTOM"], required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=RunStatus.values, required=False, allow_blank=True)
    trace = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="workload/trace text"
    )
    experiment = serializers.CharField(required=False, allow_blank=True, max_length=300)
    created_after = serializers.DateTimeField(required=False)
    created_before = serializers.DateTimeField(required=False)


class RunIdsQuerySerializer(serializers.Serializer):
    run_ids = serializers.CharField(help_text="comma-separated run ids", max_length=5000)
    max_points = serializers.IntegerField(min_value=1, max_value=200_000, default=5000)

    def validate_run_ids(self, value: str) -> list[str]:
        ids = [v.strip() for v in value.split(",") if v.strip()]
        if not ids:
            raise serializers.ValidationError("give at least one run id")
        if len(ids) > 50:
            raise serializers.ValidationError("at most 50 runs")
        return list(dict.fromkeys(ids))


class PlotQuerySerializer(serializers.Serializer):
    max_points = serializers.IntegerField(min_value=1, max_value=200_000, default=5000)


class CompareQuerySerializer(serializers.Serializer):
    run_a = serializers.CharField(max_length=48)
    run_b = serializers.CharField(max_length=48)


# -- exports -------------------------------------------------------------------------------------
class StrictFloatField(serializers.FloatField):
    """A number, but not a boolean (JSON ``false`` is not zero days)."""

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


def base_name_field(**kwargs: Any) -> serializers.RegexField:
    return serializers.RegexField(
        BASE_NAME_PATTERN,
        max_length=100,
        error_messages={"invalid": "letters, digits, '-', '_' and '.' (not first), at most 100"},
        **kwargs,
    )


class CompressionSerializer(serializers.Serializer):
    compression = serializers.ChoiceField(choices=list(COMPRESSIONS), default="deflated")
    level = serializers.IntegerField(min_value=0, max_value=9, required=False, allow_null=True)


class ExportRunSerializer(CompressionSerializer):
    base_name = base_name_field(required=False)


class ExportStudySerializer(CompressionSerializer):
    run_a_id = serializers.CharField(max_length=48)
    run_b_id = serializers.CharField(max_length=48)
    study_name = base_name_field()


class ExportRunsSerializer(CompressionSerializer):
    run_ids = serializers.ListField(child=serializers.CharField(max_length=48), min_length=1,
                                    max_length=100)  # fmt: skip
    base_name = base_name_field()


class CleanupSerializer(serializers.Serializer):
    max_age_days = StrictFloatField(min_value=0, max_value=100_000)


class ExportResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    message = serializers.CharField()
    download_url = serializers.CharField()
    file_path = serializers.CharField()
    file_name = serializers.CharField()
    size_bytes = serializers.IntegerField()


class ExportFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    size_bytes = serializers.IntegerField()
    modified = serializers.DateTimeField()
    download_url = serializers.CharField()


class ExportListSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    count = serializers.IntegerField()
    exports = ExportFileSerializer(many=True)


class CleanupResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    message = serializers.CharField()
    deleted = serializers.ListField(child=serializers.CharField())


# -- studies -------------------------------------------------------------------------------------
class StudyCreateSerializer(serializers.Serializer):
    run_a_id = serializers.CharField(max_length=48)
    run_b_id = serializers.CharField(max_length=48)
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=10_000, required=False, allow_blank=True)


class StudySerializer(serializers.Serializer):
    study_id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    run_a_id = serializers.CharField(source="run_a.run_id")
    run_b_id = serializers.CharField(source="run_b.run_id")
    shared_parameters = serializers.DictField()
    results_data = serializers.DictField()
    created_at = serializers.DateTimeField()


class StudyEnvelopeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    message = serializers.CharField(required=False)
    study = StudySerializer()


class StudyPageSerializer(PageSerializer):
    studies = StudySerializer(many=True)


class MigrateResponseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    message = serializers.CharField()
    created = serializers.BooleanField()
    run = RunDetailSerializer()


class GenericSuccessSerializer(serializers.Serializer):
    """Responses whose payload shape varies with the request (plot data, comparisons)."""

    status = serializers.ChoiceField(choices=["success"])

    def to_representation(self, instance: Any) -> Any:
        return instance


# -- analytics -----------------------------------------------------------------------------------
class AnalyticsResultSerializer(serializers.Serializer):
    analytics_type = serializers.CharField()
    parameters = serializers.DictField()
    designs_seen = serializers.IntegerField()
    computation_time_s = serializers.FloatField()
    file_path = serializers.CharField()
    updated_at = serializers.DateTimeField()
    stale = serializers.SerializerMethodField()
    results = serializers.DictField(source="results_data")

    def get_stale(self, result: Any) -> bool:
        return result.designs_seen != result.run.total_designs_evaluated


class AnalyticsEnvelopeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    run_id = serializers.CharField()
    analytics = AnalyticsResultSerializer()


class AnalyticsListSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    run_id = serializers.CharField()
    analytics = AnalyticsResultSerializer(many=True)


class AnalyticsQuerySerializer(serializers.Serializer):
    """Simple parameters as query strings (POST a JSON body for bins and bounds)."""

    rank_min = serializers.IntegerField(min_value=1, max_value=10**6, required=False)
    rank_max = serializers.IntegerField(min_value=1, max_value=10**6, required=False)
    min_support = serializers.FloatField(min_value=0, max_value=1, required=False)
    max_items = serializers.IntegerField(min_value=1, max_value=4, required=False)
    permutations = serializers.IntegerField(min_value=0, max_value=9999, required=False)
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, required=False)
    max_designs = serializers.IntegerField(min_value=1, max_value=500, required=False)


class AnalyticsBodySerializer(serializers.Serializer):
    parameters = serializers.DictField(required=False, default=dict)
    force = serializers.BooleanField(default=False)


class OptionsSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["success"])
    experiments = serializers.ListField(child=serializers.DictField())
    workloads = serializers.ListField(child=serializers.DictField())
    algorithms = serializers.ListField(child=serializers.CharField())
    objectives = serializers.ListField(child=serializers.CharField())
    scalars = serializers.ListField(child=serializers.CharField())
    goals = serializers.ListField(child=serializers.CharField())
    compressions = serializers.ListField(child=serializers.CharField())
    default_space = serializers.DictField()
    chiplet_types = serializers.ListField(child=serializers.CharField())
    token_required = serializers.BooleanField()
