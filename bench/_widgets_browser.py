"""First draw of a widget's state in headless Chromium (the browser tests' Chromium).

A static page (no Jupyter server) loads the widget's bundle as a module and renders it
with a stand-in for anywidget's model holding the state the kernel sent; the time
measured runs from the state's JSON text arriving (it is parsed in the page) to the
frame after the drawing, as a user would see it. The dashboard's plotly charts are
drawn with the plotly.js that the plotly package ships.
"""

from __future__ import annotations

import contextlib
import json
import os
import pathlib
import statistics
from collections.abc import Iterator
from typing import Any

STATIC = pathlib.Path(__file__).resolve().parents[1] / "wfkit" / "widgets" / "static"
CHROMIUM = pathlib.Path(os.environ.get("WFKIT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]

# render(model, el) of the bundle at ``url`` with the state parsed from ``text``; the
# milliseconds from before the parse to the frame after the drawing.
_DRAW_WIDGET = """async ([source, css, text]) => {
  const style = document.createElement("style");
  style.textContent = css;
  document.head.append(style);
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  const widget = (await import(url)).default;
  const el = document.createElement("div");
  document.body.append(el);
  const started = performance.now();
  const state = JSON.parse(text);
  const model = {
    get: (key) => state[key],
    set: (key, value) => { state[key] = value; },
    on: () => {}, off: () => {}, send: () => {}, save_changes: () => {},
  };
  widget.render({ model, el });
  el.getBoundingClientRect();
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return { ms: performance.now() - started, elements: el.querySelectorAll("*").length };
}"""

_DRAW_PLOTLY = """async (text) => {
  const el = document.createElement("div");
  document.body.append(el);
  const started = performance.now();
  const figure = JSON.parse(text);
  await Plotly.newPlot(el, figure.data, figure.layout);
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return { ms: performance.now() - started, elements: el.querySelectorAll("*").length };
}"""


def available() -> str | None:
    """Why the browser part cannot run here (None if it can)."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no playwright package"
    return None


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _page(browser: Any) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_content("<!doctype html><html><head></head><body></body></html>")
    return page


def draw_widget(
    browser: Any, bundle: str, state: dict[str, Any], repeat: int = 3
) -> dict[str, Any]:
    """Median first draw (ms) of ``state`` by ``static/<bundle>.js``, each in a new page."""
    source = (STATIC / f"{bundle}.js").read_text()
    css = "\n".join(
        (STATIC / name).read_text()
        for name in ("theme.css", f"{bundle}.css")
        if (STATIC / name).exists()
    )
    text = json.dumps(state, separators=(",", ":"), default=str)
    runs = []
    for _ in range(repeat):
        page = _page(browser)
        try:
            runs.append(page.evaluate(_DRAW_WIDGET, [source, css, text]))
        finally:
            page.close()
    return {
        "ms": statistics.median(r["ms"] for r in runs),
        "elements": runs[-1]["elements"],
        "bytes": len(text),
    }


def draw_plotly(browser: Any, figure: dict[str, Any], repeat: int = 3) -> dict[str, Any]:
    """Median first draw (ms) of a plotly figure (``{"data", "layout"}``)."""
    import plotly

    library = pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    text = json.dumps(figure, separators=(",", ":"), default=str)
    runs = []
    for _ in range(repeat):
        page = _page(browser)
        try:
            page.add_script_tag(path=str(library))
            runs.append(page.evaluate(_DRAW_PLOTLY, text))
        finally:
            page.close()
    return {
        "ms": statistics.median(r["ms"] for r in runs),
        "elements": runs[-1]["elements"],
        "bytes": len(text),
    }
