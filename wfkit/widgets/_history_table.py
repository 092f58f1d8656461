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
from datetime import UTC, datetime
from typing import Any

from wfkit.core._history import EVENT_TYPES
from wfkit.store import Batch, StoredEvent
from wfkit.store._rows import NO_TASK, event_row
from wfkit.widgets._controls import ControlsWidget
from wfkit.widgets._live import engine_of, hub_for

ALL = "(all)"
PAYLOAD_PREVIEW = 60
#: Seconds between two refreshes of a table (it re-queries its page).
REFRESH_SECONDS = 1.0
PAGE_SIZES = (10, 25, 50, 100)
STATIC = pathlib.Path(__file__).parent / "static"


def _row(
    instance_id: str,
    seq: int,
    kind: str,
    name: str | None,
    task_id: int | None,
    ts: datetime,
    wall: datetime,
    payload: str | None,
    failure: str | None,
    fields: str | None,
) -> dict[str, Any]:
    """A table row from the columns of the ``history`` table."""
    details: dict[str, Any] = {}
    if payload is not None:
        try:
            details["payload"] = json.loads(payload)
        except ValueError:
            details["payload"] = payload
    if failure:
        details["failure"] = json.loads(failure)
    if fields:
        details.update(json.loads(fields))
    return {
        "instance_id": instance_id,
        "seq": int(seq),
        "kind": kind,
        "name": name,
        "task_id": None if task_id is None or task_id == NO_TASK else int(task_id),
        "timestamp": ts.isoformat(sep=" "),
        "wall_time": wall.isoformat(sep=" ", timespec="milliseconds"),
        "payload": json.dumps(details, default=str) if details else "",
    }


def _stored_row(stored: StoredEvent) -> dict[str, Any]:
    (instance_id, seq, _eid, kind, name, ts, wall, task_id, payload, failure, fields) = event_row(
        stored
    )
    wall_dt = datetime.fromtimestamp(wall / 1_000_000, UTC).replace(tzinfo=None)
    return _row(instance_id, seq, kind, name, task_id, ts, wall_dt, payload, failure, fields)


def _value(value: Any) -> Any:
    """None for SQL NULL (None, NaN or NA in a DataFrame)."""
    import pandas

    return None if value is None or pandas.isna(value) else value


def _sql_page(
    store: Any,
    instance_id: str | None,
    kind: str | None,
    name_part: str,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    where, params = ["true"], []
    if instance_id:
        where.append("h.instance_id = ?")
        params.append(instance_id)
    if kind:
        where.append("h.kind = ?")
        params.append(kind)
    if name_part:
        where.append("contains(lower(coalesce(h.name, '')), ?)")
        params.append(name_part)
    condition = " AND ".join(where)
    total = int(
        store.sql(f"SELECT count(*) AS n FROM history AS h WHERE {condition}", params)["n"][0]
    )
    frame = store.sql(
        "SELECT h.instance_id, h.seq, h.kind, h.name, h.task_id, h.ts, h.wall_ts, h.payload,"
        " h.failure, h.fields FROM history AS h"
        " LEFT JOIN instances AS i ON i.instance_id = h.instance_id"
        f" WHERE {condition} ORDER BY i.ordinal, h.seq LIMIT ? OFFSET ?",
        [*params, limit, offset],
    )
    rows = []
    for values in frame.itertuples(index=False):
        rows.append(
            _row(
                values.instance_id,
                values.seq,
                values.kind,
                _value(values.name),
                _value(values.task_id),
                values.ts.to_pydatetime(),
                values.wall_ts.to_pydatetime(),
                _value(values.payload),
                _value(values.failure),
                _value(values.fields),
            )
        )
    return rows, total


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

    With the DuckDB store, one SQL query for the page (``LIMIT``/``OFFSET``) and one for
    the count; with other stores, a ranged read of one instance's history, or a scan.

    Args:
        instance_id: one instance's history, or None for every instance.
        kind: an event kind (``TaskScheduled``, ``TimerFired``, ...).
        name: part of the event's name (activity, event, workflow), case-insensitive.
    """
    engine = engine_of(runtime)
    store = engine.store
    offset = max(0, offset)
    name_part = (name or "").strip().casefold()
    if hasattr(store, "sql"):
        return _sql_page(store, instance_id, kind, name_part, offset, limit)
    if instance_id and not kind and not name_part:
        total = len(store.history(instance_id))
        page = store.history(instance_id, start=offset, stop=offset + limit)
        return [_stored_row(s) for s in page], total

    def matches(stored: StoredEvent) -> bool:
        event = stored.event
        if kind and event.kind != kind:
            return False
        return not name_part or name_part in (event.name or "").casefold()

    ids = [instance_id] if instance_id else [r.instance_id for r in engine.records()]
    rows: list[dict[str, Any]] = []
    total = 0
    for iid in ids:
        for stored in store.history(iid):
            if matches(stored):
                if offset <= total < offset + limit:
                    rows.append(_stored_row(stored))
                total += 1
    return rows, total


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
