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
    designs_seen = models.PositiveIntegerField(default=0)
    computation_time_s = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["run", "analytics_type", "-updated_at"]


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
