"""The widgets' palette (``static/theme.css``): JupyterLab's theme variables with fallbacks,
so light and dark themes both read well."""

from __future__ import annotations

import pathlib
from typing import Any

STATIC = pathlib.Path(__file__).parent / "static"
THEME_CSS = (STATIC / "theme.css").read_text(encoding="utf-8")


def stylesheet(*names: str) -> str:
    """theme.css followed by the named stylesheets of ``static/`` (an anywidget's ``_css``)."""
    return "\n".join([THEME_CSS, *((STATIC / n).read_text(encoding="utf-8") for n in names)])


def theme_style() -> Any:
    """A hidden ipywidgets HTML that puts theme.css in the page: the ipywidgets panels have
    no stylesheet of their own, and a ``<style>`` applies wherever it sits."""
    import ipywidgets as w

    return w.HTML(f"<style>{THEME_CSS}</style>", layout=w.Layout(display="none"))
