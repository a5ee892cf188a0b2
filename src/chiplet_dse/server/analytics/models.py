"""Analytics results and comparative studies (spec "Database Schema")."""

from __future__ import annotations

from django.db import models

from chiplet_dse.server.runs.models import OptimizationRun


class AnalyticsResult(models.Model):
    run = models.ForeignKey(OptimizationRun, on_delete=models.CASCADE, related_name="analytics")
    analytics_type = models.CharField(max_length=32, db_index=True)
    results_data = models.JSONField(default=dict)
    file_path = models.CharField(max_length=500, blank=True, default="")
    parameters = models.JSONField(default=dict)
    parameters_key = models.CharField(max_length=64, default="")  # hash of the parameters
    designs_seen = models.PositiveIntegerField(default=0)
    computation_time_s = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "analytics_type", "-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "analytics_type", "parameters_key"], name="one_result_per_query"
            )
        ]


class ComparativeStudy(models.Model):
    study_id = models.CharField(max_length=48, unique=True)
    run_a = models.ForeignKey(OptimizationRun, on_delete=models.CASCADE, related_name="+")
    run_b = models.ForeignKey(OptimizationRun, on_delete=models.CASCADE, related_name="+")
    shared_parameters = models.JSONField(default=dict)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    results_data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "comparative studies"


class GroundTruth(models.Model):
    """The exact Pareto front of a design space for one workload, library and goal.

    Computed once (every composition evaluated with the model) and shared by every run with
    the same ``key``.
    """

    class State(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    key = models.CharField(max_length=64, unique=True)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    description = models.JSONField(default=dict)  # experiment, library model, space, goal
    config = models.JSONField(default=dict)  # what a worker needs to compute it
    space_size = models.PositiveIntegerField(default=0)
    evaluated = models.PositiveIntegerField(default=0)
    objectives = models.JSONField(default=list)
    front = models.JSONField(default=list)  # [{"composition": [...], "objectives": [...]}]
    ideal = models.JSONField(default=list)
    nadir = models.JSONField(default=list)  # worst value of each objective over the space
    error_message = models.TextField(blank=True, default="")
    computation_time_s = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
