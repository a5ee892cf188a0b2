"""URL configuration."""

from django.urls import include, path

from chiplet_dse.server.api.views import download_export
from chiplet_dse.server.runs.views import health

urlpatterns = [
    path("health/", health, name="health"),
    path("api/", include("chiplet_dse.server.api.urls")),
    path("media/exports/<str:name>", download_export, name="download-export"),
    path("", include("chiplet_dse.server.web.urls")),
]

handler404 = "chiplet_dse.server.api.errors.json_404"
handler500 = "chiplet_dse.server.api.errors.json_500"
