from django.urls import path

from chiplet_dse.server.web import views

urlpatterns = [
    path("", views.runs, name="web-runs"),
    path("runs/new/", views.new_run, name="web-new-run"),
    path("runs/<str:run_id>/", views.run, name="web-run"),
    path("compare/", views.compare, name="web-compare"),
    path("exports/", views.exports, name="web-exports"),
]
