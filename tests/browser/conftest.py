"""JupyterLab in headless Chromium: one server and one browser for the whole session.

The server runs on 127.0.0.1 with a token and throw-away config, data, runtime, IPython,
workspace and settings directories; its root is a temporary directory where the tests
write their notebooks. Chromium is Debian's (``/usr/bin/chromium``), driven by the
``playwright`` Python package; without either the tests are skipped.
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("WFKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPO = Path(__file__).resolve().parents[2]
IMAGES = REPO / "docs" / "images"
KERNEL_IDLE = "(ipykernel) | Idle"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return (
            f"browser tests need Chromium at {CHROMIUM} "
            "(apt-get update && apt-get install -y chromium)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need the playwright package (pip install -e '.[dev]')"
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        return "browser tests need jupyterlab (pip install -e '.[dev]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = _missing()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Lab:
    url: str
    token: str
    root: Path
    log: Path

    def api(self, method: str, path: str) -> Any:
        request = urllib.request.Request(
            f"{self.url}{path}", method=method, headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def delete_sessions(self) -> None:
        for session in self.api("GET", "/api/sessions") or []:
            self.api("DELETE", f"/api/sessions/{session['id']}")


@contextlib.contextmanager
def _jupyter(base: Path, app: str) -> Iterator[Lab]:
    """``jupyter lab`` or ``jupyter notebook`` (Notebook 7) on 127.0.0.1 with a token and
    throw-away directories, the app exposed to the page as ``window.jupyterapp``."""
    dirs = {
        name: base / name
        for name in ("root", "config", "data", "runtime", "ipython", "workspaces", "settings")
    }
    for path in dirs.values():
        path.mkdir()
    overrides = {
        "@jupyterlab/apputils-extension:notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
        "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    }
    (dirs["config"] / "labconfig").mkdir()
    (dirs["config"] / "labconfig" / "default_setting_overrides.json").write_text(
        json.dumps(overrides)
    )
    port, token = _free_port(), "wfkit-browser-tests"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(dirs["config"]),
        "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
        "IPYTHONDIR": str(dirs["ipython"]),
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    }
    log = base / f"{app}.log"
    app_class = "LabApp" if app == "lab" else "JupyterNotebookApp"
    command = [
        sys.executable,
        "-m",
        "jupyter",
        app,
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={dirs['root']}",
        f"--{app_class}.workspaces_dir={dirs['workspaces']}",
        f"--{app_class}.user_settings_dir={dirs['settings']}",
        f"--{app_class}.expose_app_in_browser=True",
    ]
    if app == "lab":
        command += [
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Lab(f"http://127.0.0.1:{port}", token, dirs["root"], log)
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"jupyter {app} exited:\n{log.read_text()[-3000:]}")
            try:
                server.api("GET", "/api/status")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if time.monotonic() > deadline:
                    tail = log.read_text()[-3000:]
                    raise RuntimeError(f"jupyter {app} did not start:\n{tail}") from None
                time.sleep(0.3)
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.delete_sessions()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab."""
    with _jupyter(tmp_path_factory.mktemp("lab"), "lab") as server:
        yield server


@pytest.fixture(scope="session")
def notebook7(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Jupyter Notebook 7 (its own server, as ``jupyter notebook`` starts it)."""
    with _jupyter(tmp_path_factory.mktemp("notebook7"), "notebook") as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class Notebook:
    """An open notebook page, and the console errors seen on it."""

    page: Any
    path: Path
    errors: list[str] = field(default_factory=list)

    def cell(self, index: int) -> Any:
        return self.page.locator(".jp-NotebookPanel:visible .jp-CodeCell").nth(index)

    def output(self, index: int) -> Any:
        return self.cell(index).locator(".jp-OutputArea-output")


def write_notebook(path: Path, cells: list[str]) -> None:
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            },
            "language_info": {"name": "python"},
        },
        "cells": [
            {
                "cell_type": "code",
                "id": f"cell-{i}",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source.strip("\n"),
            }
            for i, source in enumerate(cells)
        ],
    }
    path.write_text(json.dumps(notebook, indent=1))


# The open notebook's kernel, in JupyterLab and in Notebook 7 alike.
_KERNEL_STATUS = """() => {
  const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext && panel.sessionContext.session
    && panel.sessionContext.session.kernel;
  return kernel ? kernel.status : null;
}"""


def open_and_run(
    lab: Lab, browser: Any, name: str, cells: list[str], *, ui: str = "lab", height: int = 1500
) -> Notebook:
    """Write a notebook, open it in a new page, wait for its kernel and run all cells.

    ``ui`` is ``"lab"`` (JupyterLab) or ``"notebook"`` (Jupyter Notebook 7); ``height``
    the window's, in pixels.
    """
    path = lab.root / name
    write_notebook(path, cells)
    lab.delete_sessions()
    page = browser.new_page(viewport={"width": 1280, "height": height})
    notebook = Notebook(page, path)

    def on_console(message: Any) -> None:
        if message.type == "error":
            notebook.errors.append(f"console: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: notebook.errors.append(f"page error: {error}"))
    where = f"lab/tree/{name}?reset&" if ui == "lab" else f"notebooks/{name}?"
    page.goto(f"{lab.url}/{where}token={lab.token}")
    page.wait_for_function(f"() => ({_KERNEL_STATUS})() === 'idle'", timeout=60_000)
    if ui == "lab":
        page.get_by_text(KERNEL_IDLE).first.wait_for(timeout=60_000)
    page.evaluate(
        "async () => { await window.jupyterapp.commands.execute('notebook:run-all-cells'); }"
    )
    page.wait_for_function(f"() => ({_KERNEL_STATUS})() === 'idle'", timeout=120_000)
    return notebook


THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}


def set_theme(page: Any, theme: str) -> None:
    """Switch the page to JupyterLab's light or dark theme (Notebook 7 has the same)."""
    page.evaluate(
        "async (name) => { await window.jupyterapp.commands.execute("
        "'apputils:change-theme', { theme: name }); }",
        THEMES[theme],
    )
    light = "true" if theme == "light" else "false"
    page.wait_for_function(
        f"() => document.body.dataset.jpThemeLight === '{light}'", timeout=30_000
    )
    page.wait_for_timeout(500)  # the theme's stylesheet applies after the attribute


CONTRAST_JS = (Path(__file__).parent / "contrast.js").read_text()


def contrast_failures(locator: Any, minimum: float = 4.5) -> list[dict[str, Any]]:
    """Text in ``locator`` whose contrast with its effective background is below
    ``minimum`` (WCAG AA: 4.5), computed in the page; asserts some text was checked."""
    result = locator.evaluate(CONTRAST_JS, minimum)
    assert result["checked"] > 0, "no visible text to check"
    return list(result["failures"])


def screenshot(locator: Any, name: str) -> None:
    """Save a picture of ``locator`` to docs/images/NAME.png when WFKIT_SCREENSHOTS=1."""
    if os.environ.get("WFKIT_SCREENSHOTS") != "1":
        return
    IMAGES.mkdir(parents=True, exist_ok=True)
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(IMAGES / f"{name}.png"))


@pytest.fixture(scope="session")
def run_notebook(request: pytest.FixtureRequest, browser: Any) -> Any:
    """``run_notebook(name, cells, ui="lab" | "notebook", height=...)``: write, open and run
    a notebook in JupyterLab or Notebook 7; returns a Notebook."""
    pages: list[Any] = []

    def run(name: str, cells: list[str], *, ui: str = "lab", **options: Any) -> Notebook:
        server = request.getfixturevalue("lab" if ui == "lab" else "notebook7")
        notebook = open_and_run(server, browser, name, cells, ui=ui, **options)
        pages.append(notebook.page)
        return notebook

    yield run
    for page in pages:
        page.close()


@pytest.fixture(scope="session")
def shoot() -> Any:
    """``shoot(locator, name)``: a screenshot to docs/images when WFKIT_SCREENSHOTS=1."""
    return screenshot


@pytest.fixture(scope="session")
def change_theme() -> Any:
    """``change_theme(page, "light" | "dark")``: JupyterLab's (or Notebook 7's) theme."""
    return set_theme


@pytest.fixture(scope="session")
def low_contrast() -> Any:
    """``low_contrast(locator)``: texts below 4.5:1 against their background (WCAG AA)."""
    return contrast_failures
