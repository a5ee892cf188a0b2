"""The web pages: templates only; everything they show or change goes through the REST API."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def page(template: str, title: str):
    def view(request: HttpRequest, **kwargs: str) -> HttpResponse:
        context = {
            "title": title,
            "page": template,
            "auto_analytics": settings.CHIPLET_DSE_AUTO_ANALYTICS,
        }
        return render(request, f"web/{template}.html", {**context, **kwargs})

    view.__name__ = f"{template}_page"
    return view


runs = page("runs", "Runs")
new_run = page("new_run", "New run")
run = page("run", "Run")
compare = page("compare", "Compare")
exports = page("exports", "Exports")
