"""A cursor over an instance's replay: step through its history one event at a time.

At each position the cursor shows a frozen :class:`Frame`: the event just applied, the
orchestrator's local variables, the line its code is suspended at, the tasks pending,
the custom status, the virtual time and (on request) the execution graph as it stood.

The state comes from a private replay of the history (``wfkit.inspect``'s
:class:`HistoryStepper`): no activity runs and nothing is written. A generator cannot be
copied, so going back means replaying from the start; frames already built are kept (the
last :data:`CACHE_FRAMES`), and a replay from the start also builds the
:data:`BACK_WINDOW` frames before its target, so stepping back after a jump costs one
replay per window rather than one per step.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from types import CodeType
from typing import Any

from wfkit.core._gc import gc_paused
from wfkit.core._history import HistoryEvent
from wfkit.core._orchestration import WorkflowInvoker
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.inspect._execution_graph import execution_graph
from wfkit.inspect._histories import History, history_from
from wfkit.inspect._stepper import HistoryStepper, workflow_status
from wfkit.inspect._workflow_code import WorkflowCode, code_of, resolve_workflow
from wfkit.runtime._seam import EngineView
from wfkit.store import StoredEvent
from wfkit.timetravel._frame import Frame, SourceCode, decode_payload, source_of
from wfkit.timetravel._snapshot import snapshot_locals

#: Frames a cursor keeps (least recently used ones are dropped first).
CACHE_FRAMES = 4096
#: Frames built before the target when a move replays from the start.
BACK_WINDOW = 64


class Cursor:
    """Steps through the replay of one instance's history (see :func:`open_cursor`).

    Positions are history indices: position ``i`` is the state right after event ``i``
    was applied. A cursor opens at position 0; ``step``, ``back``, ``goto``, ``first``
    and ``last`` move it and return the :class:`Frame` there. Iterating yields every
    frame from the first, moving the cursor along.
    """

    def __init__(
        self, history: History, workflow: WorkflowInvoker, *, engine: EngineView | None = None
    ):
        self.history = history
        self._workflow = workflow
        self._engine = engine
        self._events: list[HistoryEvent] = list(history.events)
        self._stepper: HistoryStepper | None = None
        self._frames: OrderedDict[int, Frame] = OrderedDict()
        self._position = 0
        self._code = code_of(workflow)

    # ------------------------------------------------------------------ what it is over
    @property
    def workflow(self) -> WorkflowInvoker:
        """The code the history is replayed with."""
        return self._workflow

    @property
    def engine(self) -> EngineView | None:
        """The engine the history comes from (None for a file, a store or a list)."""
        return self._engine

    @property
    def instance_id(self) -> str | None:
        return self.history.instance_id

    @property
    def workflow_name(self) -> str | None:
        return self.history.workflow

    @property
    def events(self) -> tuple[HistoryEvent, ...]:
        """The history's events (payload-less imports: with the timer details the replay
        filled in, once the replay has passed them)."""
        return tuple(self._events)

    def __len__(self) -> int:
        return len(self._events)

    def __repr__(self) -> str:
        return (
            f"<Cursor {self.instance_id!r} ({self.workflow_name}) at {self._position} "
            f"of {len(self)}>"
        )

    # ------------------------------------------------------------------ moving
    @property
    def position(self) -> int:
        return self._position

    @property
    def at_start(self) -> bool:
        return self._position == 0

    @property
    def at_end(self) -> bool:
        return self._position >= len(self._events) - 1

    @property
    def frame(self) -> Frame:
        """The frame at the current position."""
        return self.frame_at(self._position)

    def goto(self, n: int) -> Frame:
        """Move to position ``n`` (negative counts from the end, as in a list)."""
        size = len(self._events)
        if not size:
            raise IndexError("the history is empty")
        if n < 0:
            n += size
        if not 0 <= n < size:
            raise IndexError(f"position {n} is outside the history (0 to {size - 1})")
        frame = self.frame_at(n)
        self._position = n
        return frame

    def step(self, n: int = 1) -> Frame:
        """Move ``n`` events forward (stops at the last event)."""
        return self.goto(min(self._position + n, len(self._events) - 1))

    def back(self, n: int = 1) -> Frame:
        """Move ``n`` events back (stops at the first event)."""
        return self.goto(max(self._position - n, 0))

    def first(self) -> Frame:
        return self.goto(0)

    def last(self) -> Frame:
        return self.goto(len(self._events) - 1)

    def __iter__(self) -> Iterator[Frame]:
        for i in range(len(self._events)):
            yield self.goto(i)

    # ------------------------------------------------------------------ frames
    def frame_at(self, n: int) -> Frame:
        """The frame at position ``n``, without moving the cursor."""
        frames = self._frames
        frame = frames.get(n)
        if frame is not None:
            frames.move_to_end(n)
            return frame
        stepper = self._stepper
        if stepper is None or stepper.applied > n:
            stepper = self._restart()
            start = max(0, n - BACK_WINDOW + 1)
        else:
            start = n
        stepper.apply_to(start - 1)
        for i in range(max(start, stepper.applied + 1), n + 1):
            stepper.apply_to(i)
            self._keep(i, self._build(stepper, i))
        return frames[n]

    def _restart(self) -> HistoryStepper:
        self._stepper = HistoryStepper(self.instance_id or "", self._workflow, self._events)
        return self._stepper

    def _keep(self, i: int, frame: Frame) -> None:
        frames = self._frames
        frames[i] = frame
        frames.move_to_end(i)
        while len(frames) > CACHE_FRAMES:
            frames.popitem(last=False)

    def _where(self, stepper: HistoryStepper) -> tuple[CodeType | None, int | None, dict[str, Any]]:
        """(the code object, the line, the locals) where the code stands."""
        code_frame = stepper.code_frame()
        if code_frame is None:
            return self._code, None, {}
        return code_frame.f_code, code_frame.f_lineno, snapshot_locals(code_frame.f_locals)

    def _build(self, stepper: HistoryStepper, i: int) -> Frame:
        orchestration = stepper.orchestration
        code, line, local_values = self._where(stepper)
        outcome = orchestration.outcome
        status = stepper.status()
        pending, pending_count = stepper.pending()
        return Frame(
            index=i,
            event=self._events[i],
            time=orchestration.ctx.current_utc_datetime,
            status=status,
            file=code.co_filename if code is not None else None,
            line=line,
            function=code.co_name if code is not None else None,
            locals=local_values,
            pending=pending,
            pending_count=pending_count,
            custom_status=decode_payload(orchestration.custom_status),
            output=decode_payload(outcome.result)
            if outcome and status == WorkflowStatus.COMPLETED.name
            else None,
            failure=outcome.failure if outcome is not None else None,
            error=stepper.replay_error,
            _graph=lambda: self.graph(i),
            _code=code,
        )

    # ------------------------------------------------------------------ extras
    def graph(self, n: int | None = None) -> dict[str, Any]:
        """The execution graph at position ``n`` (default: the current one)."""
        n = self._position if n is None else n
        stepper = self._stepper
        if stepper is None or stepper.applied > n:
            stepper = self._restart()
        stepper.apply_to(n)
        status = stepper.status()
        first = self._events[0].timestamp if self._events else datetime(1970, 1, 1)
        record = InstanceRecord(
            instance_id=self.instance_id or "",
            name=self.workflow_name or "",
            status=workflow_status(status),
            created_at=first,
            last_updated_at=self._events[n].timestamp,
        )
        iid = self.instance_id or ""
        walls = self.history.wall_times or ()
        stored = [
            StoredEvent(iid, i, self._events[i], walls[i] if i < len(walls) else 0.0)
            for i in range(n + 1)
        ]
        with gc_paused():
            return execution_graph(
                stepper.orchestration, stored, instance_id=self.instance_id, record=record
            )

    def source(self, frame: Frame | None = None) -> SourceCode | None:
        """The source of the function ``frame`` (default: the current one) is in."""
        frame = frame or self.frame
        code = frame.code or self._code
        return source_of(code) if code is not None else None

    def refresh(self) -> int:
        """Read the history again (a running instance's grows); returns how many events
        are new. Earlier frames stay valid when the history only grew."""
        if self._engine is None or self.instance_id is None:
            return 0
        history, _ = history_from(self._engine, self.instance_id)
        old = len(self._events)
        grew = len(history.events) >= old and all(
            a == b for a, b in zip(history.events[:old], self.history.events, strict=False)
        )
        self.history = history
        if grew:
            self._events.extend(history.events[old:])
            return len(history.events) - old
        self._events = list(history.events)
        self._frames.clear()
        self._stepper = None
        self._position = min(self._position, max(len(self._events) - 1, 0))
        return len(self._events)

    def to_json(self, start: int = 0, stop: int | None = None) -> list[dict[str, Any]]:
        """Rows of the history (position, kind, id, name, time) for tables."""
        rows = []
        events = self._events
        for i in range(start, len(events) if stop is None else min(stop, len(events))):
            e = events[i]
            rows.append(
                {
                    "index": i,
                    "kind": e.kind,
                    "event_id": e.event_id,
                    "name": e.name,
                    "task_id": getattr(e, "task_scheduled_id", getattr(e, "timer_id", None)),
                    "timestamp": e.timestamp.isoformat(),
                }
            )
        return rows

    def player(self, **options: Any) -> Any:
        """A player widget over this cursor (slider, step buttons, code, locals, history,
        graph); see :class:`wfkit.timetravel.Player`."""
        from wfkit.timetravel._player import Player

        return Player(self, **options)


def open_cursor(
    source: object, instance_id: str | None = None, workflow: WorkflowCode | None = None
) -> Cursor:
    """Open a cursor over an instance's replay.

    Args:
        source: a WorkflowRuntime or DaprWorkflowClient (with ``instance_id``; the
            instance may be running, completed, failed or terminated), a history store
            (with ``instance_id``), a history file's path, a list of events (wfkit's,
            Dapr's ``HistoryEvent`` JSON objects or protobuf messages, a client's
            ``get_workflow_history`` output), or a :class:`History`.
        instance_id: the instance to open, for runtimes and stores.
        workflow: the code to replay with: a workflow function (edited code, or the code
            of an imported history) or a registered name. Default: the code the runtime
            runs the instance with.
    """
    if isinstance(source, Cursor):
        return Cursor(source.history, source.workflow, engine=source.engine)
    history, engine = history_from(source, instance_id)
    invoker = resolve_workflow(workflow, engine, history)
    return Cursor(history, invoker, engine=engine)


def locals_json(frame: Frame) -> str:
    """A frame's locals as JSON text (for logs and snapshots in tests)."""
    return json.dumps(frame.locals, indent=2, ensure_ascii=False)
