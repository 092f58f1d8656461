"""HistoryTable: history events, one page at a time, filterable (anywidget).

Each page is its own query (:func:`history_page`): a ranged read of one instance's
history, or a scan of the store's histories when filtering across instances, so only the
page shown ever reaches the browser.
"""

from __future__ import annotations

import html
import json
import pathlib
import threading
import time
from typing import Any

from wfkit.core._history import EVENT_TYPES
from wfkit.store import Batch, HistoryRow
from wfkit.store import history_page as store_history_page
from wfkit.widgets._controls import ControlsWidget
from wfkit.widgets._live import engine_of, hub_for

ALL = "(all)"
PAYLOAD_PREVIEW = 60
#: Seconds between two refreshes of a table (it re-queries its page).
REFRESH_SECONDS = 1.0
PAGE_SIZES = (10, 25, 50, 100)
STATIC = pathlib.Path(__file__).parent / "static"


def _row(row: HistoryRow) -> dict[str, Any]:
    """A table row from a row of the ``history`` table."""
    details: dict[str, Any] = {}
    if row.payload is not None:
        try:
            details["payload"] = json.loads(row.payload)
        except ValueError:
            details["payload"] = row.payload
    if row.failure:
        details["failure"] = json.loads(row.failure)
    if row.fields:
        details.update(json.loads(row.fields))
    return {
        "instance_id": row.instance_id,
        "seq": row.seq,
        "kind": row.kind,
        "name": row.name,
        "task_id": row.task_id,
        "timestamp": row.ts.isoformat(sep=" "),
        "wall_time": row.wall_ts.isoformat(sep=" ", timespec="milliseconds"),
        "payload": json.dumps(details, default=str) if details else "",
    }


def history_page(
    runtime: Any,
    *,
    instance_id: str | None = None,
    kind: str | None = None,
    name: str | None = None,
    offset: int = 0,
    limit: int = 25,
) -> tuple[list[dict[str, Any]], int]:
    """One page of history rows and the number of rows that match.

    The store reads the page (the DuckDB store with SQL, ``LIMIT``/``OFFSET``).

    Args:
        instance_id: one instance's history, or None for every instance.
        kind: an event kind (``TaskScheduled``, ``TimerFired``, ...).
        name: part of the event's name (activity, event, workflow), case-insensitive.
    """
    page = store_history_page(
        engine_of(runtime).store,
        instance_id=instance_id,
        kind=kind,
        name=name,
        offset=offset,
        limit=limit,
    )
    return [_row(r) for r in page.rows], page.total


def _cell(text: Any) -> str:
    return html.escape("" if text is None else str(text))


def _payload_cell(text: str) -> str:
    if not text:
        return ""
    if len(text) <= PAYLOAD_PREVIEW:
        return f"<code>{html.escape(text)}</code>"
    try:
        pretty = json.dumps(json.loads(text), indent=2)
    except ValueError:
        pretty = text
    return (
        "<details class='wfkit-payload'><summary><code>"
        f"{html.escape(text[:PAYLOAD_PREVIEW])}…</code></summary>"
        f"<pre style='max-height:240px;overflow:auto;margin:2px 0;padding:2px 4px'>"
        f"{html.escape(pretty)}</pre>"
        "</details>"
    )


def render_rows(rows: list[dict[str, Any]], *, show_instance: bool) -> str:
    head = ["#", "kind", "name", "task", "virtual time", "wall time (UTC)", "payload"]
    if show_instance:
        head.insert(0, "instance")
    out = [
        "<table class='wfkit-history' style='width:100%'>",
        "<thead><tr>",
        *(f"<th style='padding:2px 8px'>{h}</th>" for h in head),
        "</tr></thead><tbody>",
    ]
    for r in rows:
        cells = [
            _cell(r["seq"]),
            _cell(r["kind"]),
            _cell(r["name"]),
            _cell(r["task_id"]),
            f"<span style='white-space:nowrap'>{_cell(r['timestamp'])}</span>",
            f"<span style='white-space:nowrap'>{_cell(r['wall_time'])}</span>",
            _payload_cell(r["payload"]),
        ]
        if show_instance:
            cells.insert(0, f"<code>{_cell(r['instance_id'])}</code>")
        out.append(
            "<tr class='wfkit-history-row' style='vertical-align:top'>"
            + "".join(f"<td style='padding:2px 8px'>{c}</td>" for c in cells)
            + "</tr>"
        )
    if not rows:
        out.append(f"<tr><td colspan='{len(head)}' class='wfkit-muted-text'>no events</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


class HistoryTable(ControlsWidget):
    """History events of one instance (or all), a page at a time, filterable by instance,
    kind and name; long payload cells expand on click. Follows the runtime live.

    Its controls (``instance``, ``kind``, ``name``, ``page_size``, ``prev_button``,
    ``next_button``) and panes (``table``, ``page_label``) read and set as ipywidgets do.

    Args:
        runtime: the ``WorkflowRuntime``.
        instance_id: the instance to show first; None shows every instance.
        page_size: rows per page.
    """

    _esm = STATIC / "history_table.js"
    _css = STATIC / "history_table.css"

    def __init__(
        self,
        runtime: Any,
        instance_id: str | None = None,
        *,
        page_size: int = 25,
        live: bool = True,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self._runtime = getattr(runtime, "runtime", runtime)
        self._engine = engine_of(runtime)
        self._lock = threading.RLock()
        self._dirty = True
        self._last_refresh = 0.0
        self.page = 0
        self.total = 0
        self.rows: list[dict[str, Any]] = []
        ids = [r.instance_id for r in self._engine.records() if r.parent_instance_id is None]
        self.instance = self.add_control(
            "instance", "combobox", instance_id or "", options=ids[:200]
        )
        self.kind = self.add_control("kind", "select", ALL, options=(ALL, *EVENT_TYPES))
        self.name = self.add_control("name", "text", "")
        size = page_size if page_size in PAGE_SIZES else 25
        self.page_size = self.add_control("page_size", "select", size, options=PAGE_SIZES)
        self.prev_button = self.add_control("prev_button", "button")
        self.next_button = self.add_control("next_button", "button")
        self.page_label = self.add_control("page_label", "html", "")
        self.table = self.add_control("table", "html", "")
        self.prev_button.on_click(lambda _b: self.go(self.page - 1))
        self.next_button.on_click(lambda _b: self.go(self.page + 1))
        for control in (self.instance, self.kind, self.name, self.page_size):
            control.observe(lambda _c: self.go(0), names="value")
        self.refresh()
        self._hub = hub_for(self._engine) if live else None
        if self._hub is not None:
            self._hub.add(self)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size.value))

    def go(self, page: int) -> None:
        """Show page ``page`` (0-based) of the current filter."""
        self.page = max(0, page)
        self.refresh()

    # ------------------------------------------------------------------ live updates
    def note(self, batch: Batch) -> None:
        instance_id = self.instance.value.strip()
        if not instance_id or instance_id in batch.records or instance_id in batch.resets:
            self._dirty = True

    def due(self) -> bool:
        return self._dirty and time.monotonic() - self._last_refresh >= REFRESH_SECONDS

    def refresh(self) -> None:
        with self._lock, self.hold_sync():
            self._dirty = False
            self._last_refresh = time.monotonic()
            instance_id = self.instance.value.strip() or None
            rows, total = self._query(instance_id)
            if not rows and total and self.page >= -(-total // self.page_size.value):
                self.page = -(-total // self.page_size.value) - 1
                rows, total = self._query(instance_id)
            self.rows, self.total = rows, total
            self.table.value = render_rows(rows, show_instance=instance_id is None)
            size = self.page_size.value
            first = self.page * size + 1 if rows else 0
            last = self.page * size + len(rows)
            self.page_label.value = (
                f"<span class='wfkit-history-page-text' style='margin:0 8px'>rows {first:,}–{last:,}"
                f" of {total:,} · page {self.page + 1:,} of {self.pages:,}</span>"
            )
            self.prev_button.disabled = self.page <= 0
            self.next_button.disabled = self.page >= self.pages - 1

    def _query(self, instance_id: str | None) -> tuple[list[dict[str, Any]], int]:
        size = self.page_size.value
        return history_page(
            self._runtime,
            instance_id=instance_id,
            kind=None if self.kind.value == ALL else self.kind.value,
            name=self.name.value,
            offset=self.page * size,
            limit=size,
        )

    def close(self) -> None:
        if self._hub is not None:
            self._hub.remove(self)
        super().close()
