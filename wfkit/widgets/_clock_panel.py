"""ClockPanel: virtual time, pending timers, clock controls, raise-event form and
pause / resume / terminate buttons (anywidget)."""

from __future__ import annotations

import html
import json
import pathlib
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import traitlets

from wfkit.store import Batch
from wfkit.widgets._controls import Control, ControlsWidget, View
from wfkit.widgets._live import control_of, engine_of, hub_for

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|w|d|h|m|s)", re.IGNORECASE)
_GUARDS = {
    "create_timer": "timer",
    "external_event": "timeout of wait for event",
    "activity_retry": "retry of activity",
    "child_workflow_retry": "retry of child workflow",
    "start": "scheduled start of",
}
MAX_TIMER_ROWS = 12
MAX_INSTANCES = 200
STATIC = pathlib.Path(__file__).parent / "static"


def parse_duration(text: str) -> timedelta:
    """``"90s"``, ``"15m"``, ``"1h30m"``, ``"7d"``, ``"1w"``, ``"250ms"``, ``"01:30:00"`` or
    plain seconds, as a timedelta."""
    text = text.strip()
    if not text:
        raise ValueError("enter a duration, e.g. 90s, 15m, 2h or 7d")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return timedelta(seconds=float(text))
    if re.fullmatch(r"\d+:\d{1,2}(:\d{1,2}(\.\d+)?)?", text):
        parts = [float(p) for p in text.split(":")]
        while len(parts) < 3:
            parts.append(0.0)
        return timedelta(hours=parts[0], minutes=parts[1], seconds=parts[2])
    matches = list(_PART.finditer(text))
    if not matches or "".join(m.group(0) for m in matches).replace(" ", "") != text.replace(
        " ", ""
    ):
        raise ValueError(f"cannot read {text!r} as a duration; write e.g. 90s, 15m, 1h30m or 7d")
    seconds = sum(float(m.group(1)) * _UNITS[m.group(2).lower()] for m in matches)
    return timedelta(seconds=seconds)


def parse_payload(text: str) -> Any:
    """The event payload typed in the form: JSON, or nothing (None)."""
    if not text.strip():
        return None
    return json.loads(text)


def _fmt(when: datetime) -> str:
    return when.isoformat(sep=" ", timespec="seconds")


def _timer_row(timer: Any, now: datetime) -> dict[str, str]:
    guard = _GUARDS.get(timer.origin, timer.origin)
    if timer.name:
        guard = f"{guard} {timer.name!r}"
    return {
        "fire_at": _fmt(timer.fire_at),
        "relative": _relative(timer.fire_at - now),
        "instance_id": timer.instance_id,
        "guard": guard,
    }


def _relative(delta: timedelta) -> str:
    seconds = delta.total_seconds()
    if seconds <= 0:
        return "due"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"in {seconds / size:.1f} {unit}"
    return f"in {seconds:.0f} s"


class ClockPanel(ControlsWidget):
    """Virtual time and its pending timers, with buttons to move time (to the next timer,
    by a duration, to a time), the auto-skip toggle, a form to raise an external event
    (its name pre-filled with what the instance waits for, the JSON payload checked as
    you type) and pause / resume / terminate for the chosen instance.

    Its controls (``next_button``, ``duration``, ``event_name``, ``payload``, ...) and
    panes (``time_label``, ``timers``, ``message``, ...) read and set as ipywidgets do; the
    browser draws the time and the timers from ``clock_view``.

    Args:
        runtime: the ``WorkflowRuntime`` (or a ``Connection`` to an engine: its clock is
            the engine's wall clock, which cannot be moved).
        instance_id: the instance the event form and buttons act on first.
    """

    _esm = STATIC / "clock_panel.js"
    _css = STATIC / "clock_panel.css"

    #: virtual time and the pending timers: ``now``, ``kind``, ``auto_skip``, ``error``,
    #: ``timers`` (``fire_at``, ``relative``, ``instance_id``, ``guard``) and ``more``
    clock_view = traitlets.Dict().tag(sync=True)

    def __init__(
        self, runtime: Any, instance_id: str | None = None, *, live: bool = True, **kwargs: Any
    ):
        super().__init__(**kwargs)
        self._engine = engine_of(runtime)
        self._client = control_of(runtime)
        self._clock: Any = self._engine.clock  # a virtual clock's controls, if it has them
        self._dirty = True
        self._name_typed = False
        self._setting_name = False
        self._lock = threading.RLock()
        fixed = not getattr(self._clock, "is_virtual", False)
        self.time_label, self.timers = View(self._time_text), View(self._timers_text)
        self.payload_error = self.add_control("payload_error", "html", "")
        self.message = self.add_control("message", "html", "")
        self.next_button = self._button("next_button", "Next timer", self._next_timer)
        self.duration = self.add_control("duration", "text", "1h", disabled=fixed)
        self.advance_button = self._button("advance_button", "Advance by", self._advance)
        tomorrow = _fmt(self._clock.now() + timedelta(days=1))
        self.target = self.add_control("target", "text", tomorrow, disabled=fixed)
        self.advance_to_button = self._button("advance_to_button", "Advance to", self._advance_to)
        skip = bool(getattr(self._clock, "auto_skip", False))
        self.auto_skip = self.add_control("auto_skip", "checkbox", skip, disabled=fixed)
        self.auto_skip.observe(self._on_auto_skip, names="value")
        for button in (self.next_button, self.advance_button, self.advance_to_button):
            button.disabled = fixed
        self.instance = self.add_control("instance", "select")
        self.instance.observe(self._on_instance, names="value")
        self.event_name = self.add_control("event_name", "combobox", "")
        self.event_name.observe(self._on_name_typed, names="value")
        self.payload = self.add_control("payload", "text", "")
        self.payload.observe(self._on_payload, names="value")
        self.raise_button = self._button("raise_button", "Raise event", self._raise)
        self.pause_button = self._button("pause_button", "Pause", self._pause)
        self.resume_button = self._button("resume_button", "Resume", self._resume)
        self.terminate_button = self._button("terminate_button", "Terminate", self._terminate)
        self._preferred = instance_id
        self.refresh()
        if instance_id:
            self.instance.value = instance_id
        self._hub = hub_for(self._engine) if live else None
        if self._hub is not None:
            self._hub.add(self)

    def _button(self, name: str, text: str, action: Callable[[], Any]) -> Control:
        button = self.add_control(name, "button")
        button.on_click(lambda _b: self._run(text, action))
        return button

    # ------------------------------------------------------------------ live updates
    def note(self, batch: Batch) -> None:
        self._dirty = True

    def due(self) -> bool:
        return self._dirty

    def refresh(self) -> None:
        with self._lock, self.hold_sync():
            self._dirty = False
            clock = self._clock
            now = clock.now()
            auto_skip = bool(getattr(clock, "auto_skip", False))
            timers = self._engine.pending_timers()
            self.clock_view = {
                "now": _fmt(now),
                "kind": "virtual" if getattr(clock, "is_virtual", False) else "system",
                "auto_skip": auto_skip,
                # the engine stopped: writes are refused
                "error": self._engine.error or "",
                "timers": [_timer_row(t, now) for t in timers[:MAX_TIMER_ROWS]],
                "more": max(0, len(timers) - MAX_TIMER_ROWS),
            }
            if self.auto_skip.value != auto_skip:
                self.auto_skip.value = auto_skip
            self.next_button.disabled = not timers or not getattr(clock, "is_virtual", False)
            self._refresh_instances()

    def _time_text(self) -> str:
        view = self.clock_view
        skip = " · auto-skip on" if view["auto_skip"] else ""
        text = f"{view['now']} UTC, {view['kind']} time{skip}"
        return f"{text}\n{view['error']}" if view["error"] else text

    def _timers_text(self) -> str:
        view = self.clock_view
        if not view["timers"]:
            return "no pending timers"
        lines = [" · ".join(str(v) for v in row.values()) for row in view["timers"]]
        if view["more"]:
            lines.append(f"… and {view['more']:,} more")
        return "\n".join(lines)

    def _refresh_instances(self) -> None:
        records = self._engine.records()
        live = [r for r in records if not r.status.is_terminal]
        chosen = [r for r in live if r.parent_instance_id is None][:MAX_INSTANCES]
        ids = [r.instance_id for r in chosen]
        extra = [self.instance.value, self._preferred]
        for instance_id in extra:
            if instance_id and instance_id not in ids and self._engine.record(instance_id):
                ids.append(instance_id)
        status = {r.instance_id: r.status.name for r in records}
        options = [(f"{i} ({status.get(i, '?')})", i) for i in ids]
        if list(self.instance.options) != options:
            value = self.instance.value
            self.instance.options = tuple(options)
            if value in ids:
                self.instance.value = value
            else:
                self.instance.value = ids[0] if ids else None
        self._refresh_names()
        record = self._engine.record(self.instance.value) if self.instance.value else None
        running = record is not None and not record.status.is_terminal
        suspended = record is not None and record.status.name == "SUSPENDED"
        self.pause_button.disabled = not running or suspended
        self.resume_button.disabled = not suspended
        self.terminate_button.disabled = not running
        self.raise_button.disabled = not running or bool(self.payload_error.value)

    def _refresh_names(self) -> None:
        instance_id = self.instance.value
        names = self._engine.waiting_for_events(instance_id) if instance_id else []
        names = list(dict.fromkeys(names))
        if list(self.event_name.options) != names:
            self.event_name.options = tuple(names)
        untouched = not self._name_typed or not self.event_name.value
        if names and untouched and self.event_name.value != names[0]:
            self._set_name(names[0])

    def _set_name(self, name: str) -> None:
        self._setting_name = True
        try:
            self.event_name.value = name
        finally:
            self._setting_name = False
        self._name_typed = False

    # ------------------------------------------------------------------ form
    def _on_name_typed(self, change: dict[str, Any]) -> None:
        if not self._setting_name:
            self._name_typed = bool(change["new"])

    def _on_instance(self, change: dict[str, Any]) -> None:
        self._name_typed = False
        self._refresh_names()

    def _on_payload(self, change: dict[str, Any]) -> None:
        try:
            parse_payload(change["new"])
        except ValueError as exc:
            self.payload_error.value = (
                f"<span class='wfkit-error-text'>JSON error: {html.escape(str(exc))}</span>"
            )
            self.raise_button.disabled = True
        else:
            self.payload_error.value = ""
            record = self._engine.record(self.instance.value) if self.instance.value else None
            self.raise_button.disabled = record is None or record.status.is_terminal

    def _on_auto_skip(self, change: dict[str, Any]) -> None:
        if getattr(self._clock, "is_virtual", False):
            self._clock.auto_skip = bool(change["new"])
            self._dirty = True

    # ------------------------------------------------------------------ actions
    def _run(self, what: str, action: Callable[[], Any]) -> None:
        """Run a (possibly blocking) action off the kernel's thread; report the outcome."""

        def target() -> None:
            try:
                text = action()
            except Exception as exc:
                error = f"{what}: {type(exc).__name__}: {exc}"
                self.message.value = (
                    f"<span class='wfkit-error-text'>{html.escape(error, quote=False)}</span>"
                )
            else:
                done = html.escape(text or what, quote=False)
                self.message.value = f"<span class='wfkit-ok'>{done}</span>"
            self.refresh()
            if self._hub is not None:
                self._hub.poke()

        threading.Thread(target=target, name="wfkit-clock-action", daemon=True).start()

    def _next_timer(self) -> str:
        when = self._clock.advance_to_next_timer()
        if when is None:
            return "no pending timer"
        return f"advanced to {_fmt(when)}"

    def _advance(self) -> str:
        delta = parse_duration(self.duration.value)
        when = self._clock.advance(delta)
        return f"advanced by {delta} to {_fmt(when)}"

    def _advance_to(self) -> str:
        target = datetime.fromisoformat(self.target.value.strip())
        when = self._clock.advance_to(target)
        return f"advanced to {_fmt(when)}"

    def _raise(self) -> str:
        instance_id = self.instance.value
        name = self.event_name.value.strip()
        if not instance_id:
            raise ValueError("choose an instance")
        if not name:
            raise ValueError("enter the event's name")
        data = parse_payload(self.payload.value)
        self._client.raise_workflow_event(instance_id, name, data=data)
        self._name_typed = False
        return f"raised {name!r} on {instance_id}"

    def _pause(self) -> str:
        self._client.pause_workflow(self.instance.value)
        return f"paused {self.instance.value}"

    def _resume(self) -> str:
        self._client.resume_workflow(self.instance.value)
        return f"resumed {self.instance.value}"

    def _terminate(self) -> str:
        self._client.terminate_workflow(self.instance.value)
        return f"terminated {self.instance.value}"

    def close(self) -> None:
        if self._hub is not None:
            self._hub.remove(self)
        super().close()
