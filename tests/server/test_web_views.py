"""The web pages render without a browser (the browser tests in tests/web drive them)."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db

PAGES = {
    "/": "Optimisation runs",
    "/runs/new/": "New optimisation run",
    "/compare/": "Compare runs",
    "/exports/": "Exports",
}


@pytest.mark.parametrize(("path", "heading"), PAGES.items())
def test_each_page_renders_its_heading_and_scripts(path: str, heading: str) -> None:
    response = Client().get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert f">{heading}</h1>" in html
    for src in re.findall(r'<script src="([^"]+)"', html):
        assert Client().get(src).status_code == 200, src


@pytest.mark.parametrize(("auto", "flag"), [(True, "1"), (False, "0")])
def test_run_page_tells_its_script_the_run_and_whether_analytics_follow(auto: bool, flag: str):
    with override_settings(CHIPLET_DSE_AUTO_ANALYTICS=auto):
        html = Client().get("/runs/run_20250101_000000/").content.decode()
    assert 'data-run-id="run_20250101_000000"' in html
    assert f'data-auto-analytics="{flag}"' in html
