"""The quick start as a marimo app (``notebooks/marimo_quickstart.py``): ``marimo run``
serves it and headless Chromium shows the execution graph, the clock panel, the history
table and the dashboard (anywidgets) drawn, the history table pages and the dashboard
filters."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "notebooks" / "marimo_quickstart.py"


@pytest.fixture(scope="module")
def marimo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("marimo")
    port = free_port()
    log = tmp_path_factory.mktemp("marimo") / "marimo.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    command = [
        sys.executable,
        "-m",
        "marimo",
        "run",
        str(APP),
        "--headless",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-token",
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"marimo exited:\n{log.read_text()[-2000:]}"
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                assert time.monotonic() < deadline, f"marimo did not start:\n{log.read_text()}"
                time.sleep(0.3)
        yield url
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_marimo_app_draws_the_graph_clock_and_history(
    marimo_url: str, browser: Any, shoot: Any
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    try:
        page.goto(marimo_url)
        graph = page.locator(".wfkit-graph")
        graph.locator(".wfkit-node").first.wait_for(timeout=90_000)
        nodes = graph.locator('.wfkit-node[data-status="completed"]')
        deadline = time.monotonic() + 15
        while nodes.count() != 5:  # start, greet, timer, shout, end
            assert time.monotonic() < deadline, f"{nodes.count()} completed nodes"
            time.sleep(0.2)
        assert "COMPLETED" in graph.locator(".wfkit-instance-status").inner_text()
        page.get_by_text('output "HELLO, MARIMO!"').wait_for()
        clock = page.locator(".wfkit-clock-panel")
        clock.locator(".wfkit-no-timers").wait_for()
        assert "virtual time" in clock.locator(".wfkit-clock-time").inner_text()
        history = page.locator(".wfkit-history-panel")
        history.locator(".wfkit-history-row", has_text="TimerFired").first.wait_for()
        label = history.locator(".wfkit-history-page-text")
        assert "rows 1–10 of" in label.inner_text()
        history.locator(".wfkit-history-next").click()
        history.get_by_text("rows 11–").wait_for()
        board = page.locator(".wfkit-dashboard-panel")
        board.locator(".wfkit-dashboard-row").first.wait_for()
        assert "1 of 1 instances" in board.locator(".wfkit-dashboard-count").inner_text()
        assert "hello_week" in board.locator(".wfkit-dashboard-workflows").inner_text()
        page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
        board.locator(".wfkit-dashboard-status").get_by_text("COMPLETED", exact=True).click()
        pressed = board.locator(".wfkit-dashboard-status [aria-pressed=true]")
        pressed.get_by_text("COMPLETED").wait_for()
        shoot(page.locator("body"), "marimo-quickstart")
        assert errors == []
    finally:
        page.close()
