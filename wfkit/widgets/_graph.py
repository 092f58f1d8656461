"""GraphWidget: one instance's execution graph, live (anywidget, drawn as SVG)."""

from __future__ import annotations

import json
import pathlib
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import anywidget
import traitlets

from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.inspect._graph_model import graph_model, layout, node_detail, running_graph_model
from wfkit.inspect._replay import HistorySource, ReplayedInstance, source_for
from wfkit.store import Batch, StoredEvent
from wfkit.widgets._live import EventTap, engine_of, hub_for
from wfkit.widgets._protocols import GraphMessage

STATIC = pathlib.Path(__file__).parent / "static"


class _ChildStatuses(Mapping[str, WorkflowStatus]):
    """Status of child instances, read from the engine when asked."""

    def __init__(self, engine: Any):
        self._engine = engine

    def __getitem__(self, instance_id: str) -> WorkflowStatus:
        record = self._engine.record(instance_id)
        if record is None:
            raise KeyError(instance_id)
        return record.status

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


def _before_tap(events: list[StoredEvent], record: InstanceRecord | None) -> bool:
    """Whether the history may hold events committed before the tap started: its first
    event is not the first of the history, or none came yet and the instance has run."""
    if events:
        return events[0].seq != 0
    return record is not None and record.status is not WorkflowStatus.PENDING


class GraphWidget(anywidget.AnyWidget):
    """The execution graph of one workflow instance, updated live.

    Nodes are the activities, timers, external-event waits and child workflows in the order
    the code yielded them; the tasks of one ``when_all``/``when_any`` sit side by side. A
    fan-out of more than ``group_limit`` tasks is one node with counts per status and a
    progress bar (expandable a page at a time). Hover or click a node for its input,
    output or error, timings and attempts; a child workflow's node opens its graph.

    Args:
        runtime: the ``WorkflowRuntime`` the instance runs on.
        instance_id: the instance to show.
        group_limit: fan-outs larger than this are collapsed to one node.
        height: maximum height of the drawing in pixels (it scrolls beyond).
    """

    _esm = STATIC / "graph.js"
    _css = STATIC / "graph.css"

    instance_id = traitlets.Unicode("").tag(sync=True)
    graph = traitlets.Dict().tag(sync=True)
    detail = traitlets.Dict().tag(sync=True)
    selected = traitlets.Unicode("").tag(sync=True)
    trail = traitlets.List(traitlets.Unicode()).tag(sync=True)
    height = traitlets.Int(560).tag(sync=True)

    def __init__(
        self,
        runtime: Any,
        instance_id: str,
        *,
        group_limit: int = 100,
        page_size: int = 100,
        height: int = 560,
        live: bool = True,
        **kwargs: Any,
    ):
        self._engine = engine_of(runtime)
        self._group_limit = group_limit
        self._page_size = page_size
        self._lock = threading.RLock()
        self._view: ReplayedInstance | None = None
        self._live: Any = None  # the engine's executor of the instance, once seen
        self._expanded: dict[str, int] = {}
        self._dirty = True
        #: the instance's history events as the engine commits them (while live)
        self._tap = EventTap()
        self._executing: set[int] = set()
        self._last = ""
        #: CPU seconds the last refresh took, and when it ended (``due`` spaces them out)
        self._cost = 0.0
        self._refreshed_at = 0.0
        self._ending = False  # the instance has ended since the last refresh began
        #: Updates sent to the browser (graph and detail), and their JSON size in bytes.
        self.updates = 0
        self.update_bytes = 0
        super().__init__(instance_id=instance_id, height=height, **kwargs)
        self.on_msg(self._on_msg)
        self._hub = hub_for(self._engine) if live else None
        if self._hub is None:
            self.refresh()
        else:
            self._watch(instance_id)
            # the first drawing comes from the refresh thread: creating the widget never
            # waits for the engine (busy with a large episode, say)
            self._hub.poke()

    # ------------------------------------------------------------------ live updates
    def _watch(self, instance_id: str) -> None:
        """Follow ``instance_id``: the events the engine commits from now on come through
        the tap (those committed before, if any, are read from the store when the view
        opens: see :meth:`_update`)."""
        assert self._hub is not None
        self._tap.watch(instance_id)
        self._hub.add(self)

    def note(self, batch: Batch) -> None:
        me = self.instance_id
        if self._tap.note(batch):
            self._dirty = True
        if me in batch.resets or me in batch.purges:
            self._live = None  # the executor of the old history
            self._dirty = True
        elif me in batch.records:
            self._dirty = True
            if batch.records[me].status.is_terminal:
                self._ending = True  # the end is drawn at the next tick, however costly
            # keep the engine's executor while the instance is live: once it has finished
            # the engine lets go of it, and only a replay of the history could rebuild it
            live = self._engine.orchestration(me)
            if live is not None:
                self._live = live
        elif not self._dirty:
            for record in batch.records.values():
                if record.parent_instance_id == me:
                    self._dirty = True
                    break

    def due(self) -> bool:
        # at most a tenth of the time spent refreshing (as the dashboard): the graph of a
        # 100k fan-out takes a hundred milliseconds or more to bring up to date
        if not self._ending and time.monotonic() - self._refreshed_at < 10 * self._cost:
            return False
        if self._dirty:
            return True
        return self._engine.executing(self.instance_id) != self._executing

    def refresh(self) -> None:
        """Bring the graph up to date with the instance (the refresh thread calls this)."""
        cpu = time.thread_time()
        self._ending = False
        try:
            self._refresh()
        finally:
            self._cost = time.thread_time() - cpu
            self._refreshed_at = time.monotonic()

    def _refresh(self) -> None:
        with self._lock:
            self._dirty = False
            model: dict[str, Any] | None = None
            # until no episode of its code ran during the read (the first drawing waits less)
            for attempt in range(3):
                epoch = self._settled_epoch(0.5 if self.graph else 0.1)
                if epoch % 2 and (self.graph or attempt < 2):
                    continue  # its code runs: what is read now would be thrown away
                # the record first: the history read next is at least as recent (the engine
                # hands a batch to the tap before anyone can read the records it commits)
                record = self._engine.record(self.instance_id)
                self._executing = self._engine.executing(self.instance_id)
                try:
                    view = self._update(record)
                    model = (running_graph_model if epoch % 2 else graph_model)(
                        view,
                        record=record,
                        executing=self._executing,
                        children=_ChildStatuses(self._engine),
                        expanded=self._expanded,
                        group_limit=self._group_limit,
                        page_size=self._page_size,
                    )
                except RuntimeError:  # its executor changed under the read (a dict resized)
                    if epoch == self._epoch():
                        raise
                    continue
                if epoch % 2 == 0 and epoch == self._epoch():
                    break
            else:
                if self.graph or model is None:  # read again at the next tick
                    self._dirty = True
                    return
            layout(model)
            text = json.dumps(model, separators=(",", ":"))
            if text != self._last:
                self._last = text
                self.updates += 1
                self.update_bytes += len(text)
                self.graph = model
            if self.selected:
                self._show_detail(self.selected)

    def _epoch(self) -> int:
        """The live executor's code epoch (engines whose code runs elsewhere have none)."""
        code_epoch = getattr(self._engine, "code_epoch", None)
        return code_epoch(self.instance_id) if code_epoch is not None else 0

    def _settled_epoch(self, patience: float = 0.5) -> int:
        """The instance's code epoch once its workflow code is not running (waiting up
        to ``patience`` seconds for an episode to end)."""
        deadline = time.monotonic() + patience
        epoch = self._epoch()
        while epoch % 2 and time.monotonic() < deadline:
            time.sleep(0.002)
            epoch = self._epoch()
        return epoch

    def _update(self, record: InstanceRecord | None) -> ReplayedInstance:
        """The view of the instance, brought up to date: while live, from the events the
        tap kept (the store is read when the view opens, for events committed before the
        tap started, and to fill a gap); else from the store."""
        engine = self._engine
        instance_id = self.instance_id
        view = self._view
        events: list[StoredEvent] | None = None
        restarted = False
        if self._hub is not None:
            events, restarted = self._tap.take()
        live = engine.orchestration(instance_id) or self._live
        if live is not None and live.ctx.instance_id != instance_id:
            live = None
        if view is None or restarted or view.instance_id != instance_id:
            view = self._view = ReplayedInstance(
                instance_id,
                engine.registry.workflow,
                orchestration=live,
                # while live, the store is read only for what the tap missed, whole events
                # (no SQL: the index then needs no payload read either)
                source=source_for(engine.store, instance_id)
                if events is None
                else HistorySource(engine.store, instance_id),
            )
            if events is not None and not restarted and _before_tap(events, record):
                view.update()  # what the store holds, read once
        elif live is not None and live is not view.orchestration:
            if events is None:
                view.reset(live)  # the first episode ran, or the instance started over
            else:
                view.adopt(live)  # the first episode ran (a new history restarts the tap)
        if events is None:
            view.update()
        else:
            view.catch_up(events)
        return view

    # ------------------------------------------------------------------ from the browser
    def _on_msg(self, _widget: Any, content: GraphMessage, _buffers: Any) -> None:
        match content.get("type"):
            case "select":
                with self._lock:
                    self.selected = str(content.get("id", ""))
                    self._show_detail(self.selected)
            case "expand":
                page = content.get("page", 0)
                self._expanded[str(content.get("id", ""))] = (
                    int(page) if isinstance(page, int) else 0
                )
                self.refresh()
            case "collapse":
                self._expanded.pop(str(content.get("id", "")), None)
                self.refresh()
            case "open":
                child = str(content.get("instance_id", ""))
                if child and self._engine.record(child) is not None:
                    self.trail = [*self.trail, self.instance_id]
                    self.show(child)
            case "back":
                if self.trail:
                    *rest, parent = self.trail
                    self.trail = rest
                    self.show(parent)

    def show(self, instance_id: str) -> None:
        """Show another instance (a child, or back to the parent)."""
        with self._lock:
            self._expanded.clear()
            self.selected = ""
            self.detail = {}
            self.instance_id = instance_id
            self._view = None
            self._live = None
            if self._hub is not None:
                self._watch(instance_id)
        self.refresh()

    def _show_detail(self, node_id: str) -> None:
        view = self._view
        detail = node_detail(view, node_id) if view is not None and node_id else None
        detail = detail or {}
        if detail != self.detail:
            self.updates += 1
            self.update_bytes += len(json.dumps(detail, default=str))
            self.detail = detail

    def close(self) -> None:
        if self._hub is not None:
            self._hub.remove(self)
        super().close()

    def __repr__(self) -> str:
        return f"<GraphWidget {self.instance_id!r}>"
