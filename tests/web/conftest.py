"""Fixtures of the browser tests: a live `chiplet-dse serve` and a headless Chromium.

The server runs as a subprocess in its own session with its own data directory (SQLite) and a
cleaned environment, as in ``tests/server/test_workers.py``; it is started once per session
(once per xdist worker) and stopped at the end. Playwright is imported lazily, so collecting
this directory without Playwright or Chromium does not fail: ``test_pages.py`` skips itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WIDE = {"width": 1280, "height": 800}
NARROW = {"width": 390, "height": 844}


def clean_environ() -> dict[str, str]:
    """The test process's environment without anything that configures Django or the app."""
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL") and not k.startswith("CHIPLET_DSE_")
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LiveServer:
    """A running `chiplet-dse serve` and a small JSON client of its REST API."""

    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    #: State the tests share (e.g. the run created through the form), by name.
    shared: dict[str, Any] = field(default_factory=dict)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            text = exc.read()
            try:
                return exc.code, json.loads(text)
            except ValueError:
                return exc.code, text.decode(errors="replace")

    def get(self, path: str) -> Any:
        status, data = self.request("GET", path)
        assert status == 200, (path, status, data)
        return data

    def post(self, path: str, body: Any = None, expect: int = 200) -> Any:
        status, data = self.request("POST", path, {} if body is None else body)
        assert status == expect, (path, status, data)
        return data

    def run(self, run_id: str) -> dict[str, Any]:
        return self.get(f"/api/runs/{run_id}/")["run"]

    def wait_until(self, condition: Callable[[], Any], timeout: float, what: str) -> Any:
        """Poll ``condition`` until it is truthy; fail (with the server's log) after
        ``timeout`` seconds or when the server exits."""
        deadline = time.monotonic() + timeout
        while True:
            value = condition()
            if value:
                return value
            if self.process.poll() is not None or time.monotonic() > deadline:
                reason = "server exited" if self.process.poll() is not None else "timeout"
                pytest.fail(f"waiting for {what} ({reason}, {timeout} s)\n{self.log()[-5000:]}")
            time.sleep(0.05)

    def wait_status(self, run_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
        def reached() -> dict[str, Any] | None:
            run = self.run(run_id)
            if run["status"] == status:
                return run
            if run["status"] in ("completed", "failed", "cancelled"):
                pytest.fail(f"run {run_id} is {run['status']}, not {status}: {run}")
            return None

        return self.wait_until(reached, timeout, f"run {run_id} to be {status}")


@pytest.fixture(scope="session")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`chiplet-dse serve` (web server and one worker) on a free port, fresh SQLite database."""
    home = tmp_path_factory.mktemp("web-server")
    env = clean_environ()
    env.update(
        CHIPLET_DSE_HOME=str(home / "data"),
        CHIPLET_DSE_EVAL_WORKERS="1",
        PYTHONUNBUFFERED="1",
    )
    port = free_port()
    log_path = home / "serve.log"
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "chiplet_dse", "serve", "--host", "127.0.0.1", "--port",
             str(port)],
            env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    server = LiveServer(f"http://127.0.0.1:{port}", process, log_path)

    def healthy() -> bool:
        try:
            return server.request("GET", "/health/")[0] == 200
        except OSError:
            return False

    try:
        server.wait_until(healthy, 60, "/health/ to answer")
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)  # serve stops its worker, then exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # whatever of its session is left
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright's sync API."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Tab:
    """A page in its own browser context, with the JavaScript errors it reported."""

    page: Any
    #: Uncaught exceptions (``pageerror``).
    page_errors: list[str] = field(default_factory=list)
    #: ``console.error`` messages, including failed resource loads.
    console_errors: list[str] = field(default_factory=list)

    def goto(self, server: LiveServer, path: str) -> None:
        response = self.page.goto(server.url + path)
        assert response is not None and response.status == 200, (path, response)


@pytest.fixture
def open_tab(browser: Any, web_server: LiveServer) -> Iterator[Callable[..., Tab]]:
    """``open_tab(viewport=WIDE)``: a new tab; every tab is closed after the test."""
    contexts = []

    def make(viewport: dict[str, int] = WIDE) -> Tab:
        context = browser.new_context(viewport=viewport, accept_downloads=True)
        contexts.append(context)
        context.set_default_timeout(15_000)
        page = context.new_page()
        tab = Tab(page)

        def on_console(message: Any) -> None:
            if message.type == "error":
                tab.console_errors.append(f"{message.text} @ {message.location}")

        page.on("pageerror", lambda error: tab.page_errors.append(str(error)))
        page.on("console", on_console)
        return tab

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def tab(open_tab: Callable[..., Tab]) -> Tab:
    """A 1280×800 tab."""
    return open_tab(WIDE)
