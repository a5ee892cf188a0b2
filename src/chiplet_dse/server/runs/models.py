"""The run store (spec "Database Schema"): optimisation runs and every design they evaluated."""

from __future__ import annotations

from django.db import models


class RunStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


#: States a run never leaves.
FINAL_STATUSES = (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELLED)


class Algorithm(models.TextChoices):
    NSGA2 = "NSGA2", "NSGA-II"
    GA = "GA", "Genetic algorithm (single objective)"
    MOEA = "MOEA", "SMS-EMOA"
    FF = "FF", "Full factorial"
    IMPORT = "IMPORT", "Imported from a legacy points.csv"


class Control(models.TextChoices):
    """What a user asked a running run to do at the end of its current generation."""

    NONE = "", "none"
    PAUSE = "pause"
    STOP = "stop"


class OptimizationRun(models.Model):
    run_id = models.CharField(max_length=48, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    algorithm = models.CharField(max_length=8, choices=Algorithm.choices)
    model = models.CharField(max_length=16, default="CASCADE")  # CASCADE or CUSTOM library
    population_size = models.PositiveIntegerField()
    generations = models.PositiveIntegerField()
    objectives = models.JSONField(default=list)
    trace_name = models.CharField(max_length=500, blank=True, default="")
    experiment = models.CharField(max_length=300, blank=True, default="")
    status = models.CharField(
        max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED, db_index=True
    )
    total_designs_evaluated = models.PositiveIntegerField(default=0)
    pareto_front_size = models.PositiveIntegerField(default=0)

    # What a real store needs besides the spec's fields.
    seed = models.BigIntegerField(null=True, blank=True)
    config = models.JSONField(default=dict)  # experiment, space, library, goal, provenance
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    execution_time_s = models.FloatField(default=0.0)  # time spent running, over all attempts
    current_generation = models.PositiveIntegerField(default=0)
    total_generations = models.PositiveIntegerField(default=0)
    evaluations = models.PositiveIntegerField(default=0)  # model evaluations (cache misses)
    error_message = models.TextField(blank=True, default="")
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=128, blank=True, default="")
    control = models.CharField(max_length=8, choices=Control.choices, blank=True, default="")
    checkpoint = models.BinaryField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    auto_export = models.BooleanField(default=False)
    source_sha256 = models.CharField(max_length=64, blank=True, default="", db_index=True)
    # Runs with the same key share one ground truth (workloads, library, goal, space).
    truth_key = models.CharField(max_length=64, blank=True, default="", db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["algorithm", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["source_sha256"],
                condition=models.Q(algorithm="IMPORT"),
                name="one_import_per_file",
            )
        ]

    def __str__(self) -> str:
        return f"{self.run_id} ({self.name}, {self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES


class DesignPoint(models.Model):
    run = models.ForeignKey(OptimizationRun, on_delete=models.CASCADE, related_name="designs")
    gpu_count = models.PositiveSmallIntegerField()
    attention_count = models.PositiveSmallIntegerField()
    sparse_count = models.PositiveSmallIntegerField()
    convolution_count = models.PositiveSmallIntegerField()
    total_chiplets = models.PositiveSmallIntegerField()
    execution_time_ms = models.FloatField()
    energy_mj = models.FloatField()
    area_mm2 = models.FloatField(null=True, blank=True)
    is_pareto_optimal = models.BooleanField(default=False)
    pareto_rank = models.PositiveIntegerField(null=True, blank=True)  # 1 = Pareto front
    generation = models.PositiveIntegerField(default=0)
    evaluation_order = models.PositiveIntegerField(default=0)
    additional_metrics = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["evaluation_order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "gpu_count", "attention_count", "sparse_count", "convolution_count"],
                name="one_design_per_composition_per_run",
            )
        ]
        indexes = [
            models.Index(fields=["run", "pareto_rank"]),
            models.Index(fields=["run", "is_pareto_optimal"]),
            models.Index(fields=["run", "evaluation_order"]),
            models.Index(fields=["run", "execution_time_ms"]),
            models.Index(fields=["run", "energy_mj"]),
        ]

    @property
    def composition(self) -> tuple[int, int, int, int]:
        return (self.gpu_count, self.attention_count, self.sparse_count, self.convolution_count)
