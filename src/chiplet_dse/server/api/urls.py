"""The REST API's routes: the spec's endpoints (trailing slashes included) and the rest."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from chiplet_dse.server.api import views as v

urlpatterns = [
    # Fixed paths first: they would otherwise be taken for run ids.
    path("options/", v.OptionsView.as_view(), name="options"),
    path("runs/", v.RunListView.as_view(), name="runs"),
    path("runs/statistics/", v.StatisticsView.as_view(), name="statistics"),
    path("runs/search/", v.RunSearchView.as_view(), name="search"),
    path("runs/plot/", v.MultiPlotView.as_view(), name="multi-plot"),
    path("runs/compare/", v.CompareView.as_view(), name="compare"),
    path("runs/pareto-fronts/", v.ParetoFrontsView.as_view(), name="pareto-fronts"),
    path("runs/<str:run_id>/", v.RunDetailView.as_view(), name="run"),
    path("runs/<str:run_id>/plot/", v.RunPlotView.as_view(), name="run-plot"),
    path("runs/<str:run_id>/designs/", v.RunDesignsView.as_view(), name="run-designs"),
    path("runs/<str:run_id>/delete/", v.RunDeleteView.as_view(), name="run-delete"),
    path("runs/<str:run_id>/export/", v.RunExportView.as_view(), name="run-export"),
    path("runs/<str:run_id>/pause/", v.RunControlView.as_view(action="pause"), name="run-pause"),
    path("runs/<str:run_id>/resume/", v.RunControlView.as_view(action="resume"), name="run-resume"),
    path("runs/<str:run_id>/stop/", v.RunControlView.as_view(action="stop"), name="run-stop"),
    path("runs/<str:run_id>/convergence/", v.ConvergenceView.as_view(), name="convergence"),
    path(
        "runs/<str:run_id>/designs/<int:design_id>/breakdown/",
        v.DesignBreakdownView.as_view(),
        name="design-breakdown",
    ),
    path("runs/<str:run_id>/analytics/", v.AnalyticsListView.as_view(), name="analytics"),
    path(
        "runs/<str:run_id>/analytics/<str:analytics_type>/",
        v.AnalyticsView.as_view(),
        name="analytics-type",
    ),
    path("exports/", v.ExportListView.as_view(), name="exports"),
    path("exports/comparative-study/", v.StudyExportView.as_view(), name="export-study"),
    path("exports/multiple-runs/", v.MultipleRunsExportView.as_view(), name="export-runs"),
    path("exports/cleanup/", v.CleanupView.as_view(), name="export-cleanup"),
    path("studies/", v.StudyListView.as_view(), name="studies"),
    path("studies/<str:study_id>/", v.StudyDetailView.as_view(), name="study"),
    path("migrate-data/", v.MigrateDataView.as_view(), name="migrate-data"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
]
