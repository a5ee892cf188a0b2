"""URL configuration."""

from django.urls import path

from chiplet_dse.server.runs.views import health

urlpatterns = [
    path("health/", health, name="health"),
]
