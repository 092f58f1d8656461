"""The widgets' palette (``static/theme.css``, built from ``js/src/theme.css``): JupyterLab's
theme variables with fallbacks, so light and dark themes both read well. The anywidgets'
stylesheets carry it; the ipywidgets panels (dashboard, progress) put it in the page."""

from __future__ import annotations

import pathlib
from typing import Any

STATIC = pathlib.Path(__file__).parent / "static"
THEME_CSS = (STATIC / "theme.css").read_text(encoding="utf-8")


def theme_style() -> Any:
    """A hidden ipywidgets HTML that puts theme.css in the page: the ipywidgets panels have
    no stylesheet of their own, and a ``<style>`` applies wherever it sits."""
    import ipywidgets as w

    return w.HTML(f"<style>{THEME_CSS}</style>", layout=w.Layout(display="none"))
