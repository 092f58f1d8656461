"""Form controls of the panel widgets (clock panel, history table).

Their state lives on the Python side, read and set as with ipywidgets
(``panel.duration.value = "2h"``, ``panel.next_button.click()``, ``control.observe(...)``),
and reaches the browser in one synced trait, ``controls``: name to
``{value, options, disabled}``. The browser answers with typed messages
(:data:`wfkit.widgets._protocols.ControlMessage`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Literal, TypedDict

import anywidget
import traitlets

from wfkit.widgets._protocols import ControlMessage

ControlKind = Literal["button", "text", "combobox", "select", "toggles", "checkbox", "html"]
#: A JSON value the browser shows: text, HTML, a select's option index or a checkbox's state.
Shown = str | int | bool | None


class ControlState(TypedDict):
    value: Shown
    options: list[str]
    disabled: bool


class Control(traitlets.HasTraits):
    """One control: a button, text, select (``options`` are values or ``(label, value)``
    pairs), toggles (a select drawn as a row of buttons), combobox (text with suggested
    ``options``), checkbox, or an HTML pane."""

    value = traitlets.Any(None)
    options = traitlets.Tuple()
    disabled = traitlets.Bool(False)

    def __init__(self, kind: ControlKind, value: Any = None, **traits: Any):
        super().__init__(value=value, **traits)
        self.kind = kind
        self._on_click: list[Callable[[Control], object]] = []

    def on_click(self, handler: Callable[[Control], object]) -> None:
        self._on_click.append(handler)

    def click(self) -> None:
        for handler in list(self._on_click):
            handler(self)

    def option_values(self) -> list[Any]:
        return [o[1] if isinstance(o, tuple) else o for o in self.options]

    def choose(self, index: int) -> None:
        """Select the option at ``index`` (a select or toggles)."""
        values = self.option_values()
        if 0 <= index < len(values):
            self.value = values[index]

    def state(self) -> ControlState:
        labels = [str(o[0]) if isinstance(o, tuple) else str(o) for o in self.options]
        value: Shown
        if self.kind in ("select", "toggles"):
            values = self.option_values()
            value = values.index(self.value) if self.value in values else -1
        elif self.kind == "checkbox":
            value = bool(self.value)
        else:
            value = "" if self.value is None else str(self.value)
        return {"value": value, "options": labels, "disabled": self.disabled}


class ControlsWidget(anywidget.AnyWidget):
    """An anywidget whose controls (:meth:`add_control`) the browser draws and drives."""

    controls = traitlets.Dict().tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._controls: dict[str, Control] = {}
        self._controls_lock = threading.Lock()
        self.on_msg(lambda _widget, content, _buffers: self.receive(content))

    def add_control(
        self, name: str, kind: ControlKind, value: Any = None, **traits: Any
    ) -> Control:
        control = Control(kind, value, **traits)
        self._controls[name] = control
        control.observe(lambda _change: self._show(name), names=["value", "options", "disabled"])
        self._show(name)
        return control

    def _show(self, name: str) -> None:
        with self._controls_lock:
            self.controls = {**self.controls, name: self._controls[name].state()}

    def receive(self, content: ControlMessage) -> None:
        """Act on a message from the browser: a click, a text typed, an option chosen."""
        control = self._controls.get(str(content.get("name", "")))
        if control is None:
            return
        match content:
            case {"type": "click"} if not control.disabled:
                control.click()
            case {"type": "input", "value": str(text)}:
                control.value = text
            case {"type": "choose", "index": int(index)}:
                control.choose(index)
            case {"type": "check", "value": bool(checked)}:
                control.value = checked


class View:
    """A pane the browser draws from its widget's data; ``value`` is the pane as the Python
    side renders it (read-only: for tests, logs and front ends without JavaScript)."""

    def __init__(self, render: Callable[[], str]):
        self._render = render

    @property
    def value(self) -> str:
        return self._render()
