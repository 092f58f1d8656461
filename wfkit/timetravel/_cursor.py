"""A cursor over an instance's replay: step through its history one event at a time.

At each position the cursor shows a frozen :class:`Frame`: the event just applied, the
orchestrator's local variables, the line its code is suspended at, the tasks pending,
the custom status, the virtual time and (on request) the execution graph as it stood.

The state comes from a private replay of the history through wfkit's executor
(``Orchestration.apply(..., replaying=True)``): no activity runs and nothing is
written. A generator cannot be copied, so going back means replaying from the start;
frames already built are kept (the last :data:`CACHE_FRAMES`), and a replay from the
start also builds the :data:`BACK_WINDOW` frames before its target, so stepping back
after a jump costs one replay per window rather than one per step.
"""

from __future__ import annotations

import contextlib
import inspect
import json
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import CodeType, FrameType
from typing import Any

from wfkit.core import _serde
from wfkit.core._gc import gc_paused
from wfkit.core._history import (
    OPTIONAL_TIMER_FIRE_AT,
    FailureDetails,
    HistoryEvent,
    TimerCreated,
    TimerFired,
    event_fields,
)
from wfkit.core._orchestration import Orchestration, WorkflowInvoker, registered_name
from wfkit.core._registry import Registered
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.core._task import TimerTask
from wfkit.store import StoredEvent
from wfkit.timetravel._snapshot import MAX_CHARS, jsonable, snapshot_locals
from wfkit.timetravel._source import History, history_from

#: Frames a cursor keeps (least recently used ones are dropped first).
CACHE_FRAMES = 4096
#: Frames built before the target when a move replays from the start.
BACK_WINDOW = 64
#: Pending tasks a frame lists (the rest are counted in ``Frame.pending_count``).
MAX_PENDING = 100
#: Failures of the replay itself (the code cannot follow the history), not of the code.
REPLAY_ERRORS = frozenset({"NonDeterminismError", "WorkflowNotRegisteredError"})


# --------------------------------------------------------------------------- code
def code_of(workflow: Any) -> CodeType | None:
    """The code object of a workflow function (or of a registered workflow)."""
    fn = getattr(workflow, "fn", workflow)
    with contextlib.suppress(ValueError):  # a wrapper loop
        fn = inspect.unwrap(fn)
    code = getattr(fn, "__code__", None)
    return code if isinstance(code, CodeType) else None


@dataclass(frozen=True)
class SourceCode:
    """The source of one function, for a code pane."""

    file: str
    """The file it was read from (a notebook cell has a file of its own)."""
    function: str
    """The function's name."""
    start: int
    """Line number of :attr:`lines` [0] in :attr:`file`."""
    lines: tuple[str, ...]
    """The function's lines, without their line ends."""

    def line(self, number: int) -> str | None:
        """The text of line ``number`` (a number in the file), if it is in the function."""
        i = number - self.start
        return self.lines[i] if 0 <= i < len(self.lines) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "function": self.function,
            "start": self.start,
            "lines": list(self.lines),
        }


_SOURCES: dict[CodeType, SourceCode] = {}


def source_of(code: CodeType) -> SourceCode:
    """The source of a code object (empty if it cannot be found)."""
    cached = _SOURCES.get(code)
    if cached is not None:
        return cached
    try:
        lines, start = inspect.getsourcelines(code)
    except (OSError, TypeError):
        lines, start = [], code.co_firstlineno
    source = SourceCode(
        code.co_filename,
        code.co_name,
        max(start, 1),
        tuple(line.rstrip("\r\n") for line in lines),
    )
    if len(_SOURCES) > 256:
        _SOURCES.clear()
    _SOURCES[code] = source
    return source


# --------------------------------------------------------------------------- frames
@dataclass(frozen=True)
class PendingTask:
    """A task the orchestrator waits for at a position."""

    task_id: int | None
    """Its task id (None for an external event wait)."""
    kind: str
    """``activity``, ``timer``, ``child`` or ``event``."""
    name: str | None
    """Activity, child workflow or event name."""
    fire_at: datetime | None = None
    """When a timer fires."""

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "kind": self.kind,
            "name": self.name,
            "fire_at": self.fire_at.isoformat() if self.fire_at else None,
        }


@dataclass(frozen=True, eq=False)
class Frame:
    """The state of an instance's replay right after one history event was applied."""

    index: int
    """Position of :attr:`event` in the history (0 is the first event)."""
    event: HistoryEvent
    """The history event just applied."""
    time: datetime
    """Virtual time the code sees (``ctx.current_utc_datetime``, naive UTC)."""
    status: str
    """How the replay stands: PENDING (not started), RUNNING, SUSPENDED, COMPLETED,
    FAILED, TERMINATED or CONTINUED_AS_NEW."""
    file: str | None
    """Source file of the orchestrator code."""
    line: int | None
    """Line the orchestrator is suspended at (its ``yield``), or the line it returned or
    raised at once it has ended; None before it starts."""
    function: str | None
    """Name of the function :attr:`line` is in (a generator delegated to with
    ``yield from`` is followed to the innermost one)."""
    locals: dict[str, Any]
    """The orchestrator's local variables as JSON data (tasks described in one line,
    unencodable values as their ``repr``)."""
    pending: tuple[PendingTask, ...]
    """Tasks and event waits not complete, oldest first (the first :data:`MAX_PENDING`)."""
    pending_count: int
    """How many tasks and event waits are not complete."""
    custom_status: Any
    """The custom status the code set (decoded when it is JSON)."""
    output: Any = None
    """The workflow's result, once COMPLETED."""
    failure: FailureDetails | None = None
    """Why the workflow failed, once FAILED."""
    error: str | None = None
    """Why the replay could not follow the history (edited code), if it could not."""
    _graph: Callable[[], dict[str, Any]] | None = field(default=None, repr=False)
    _code: CodeType | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def kind(self) -> str:
        """The event's kind, e.g. ``TaskCompleted``."""
        return self.event.kind

    @property
    def event_id(self) -> int:
        """The event's id (the task id of a scheduling event, -1 for the others)."""
        return self.event.event_id

    @property
    def timestamp(self) -> datetime:
        """When the event was recorded (virtual time)."""
        return self.event.timestamp

    @property
    def graph(self) -> dict[str, Any]:
        """The execution graph as it stood at this position (see
        :func:`execution_graph`); built on first use."""
        if "graph" not in self._cache:
            self._cache["graph"] = self._graph() if self._graph is not None else {}
        return self._cache["graph"]

    def to_json(self) -> dict[str, Any]:
        """The frame as JSON data (without the graph)."""
        failure = self.failure
        return {
            "index": self.index,
            "kind": self.kind,
            "event_id": self.event_id,
            "name": self.event.name,
            "timestamp": self.timestamp.isoformat(),
            "time": self.time.isoformat(),
            "status": self.status,
            "file": self.file,
            "line": self.line,
            "function": self.function,
            "locals": self.locals,
            "pending": [p.to_json() for p in self.pending],
            "pending_count": self.pending_count,
            "custom_status": self.custom_status,
            "output": self.output,
            "failure": (
                {"type": failure.error_type, "message": failure.message} if failure else None
            ),
            "error": self.error,
            "event": event_json(self.event),
        }

    def __repr__(self) -> str:
        where = f"{self.function}:{self.line}" if self.line is not None else "not started"
        return f"<Frame {self.index} {self.kind} at {where} {self.status}>"


def event_json(event: HistoryEvent) -> dict[str, Any]:
    """An event's fields as JSON data (long payloads cut)."""
    out: dict[str, Any] = {"kind": event.kind, "timestamp": event.timestamp.isoformat()}
    for key, value in event_fields(event).items():
        if isinstance(value, str) and len(value) > MAX_CHARS:
            value = value[: MAX_CHARS - 1] + "…"
        out[key] = value
    return out


def _decode(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return jsonable(_serde.decode(text))
    except ValueError:
        return text


# --------------------------------------------------------------------------- replay
class _Capture:
    """Wraps the workflow so the replay keeps its generator's frame: the frame object
    outlives the generator, so locals and line stay readable once it has returned."""

    def __init__(self, invoker: WorkflowInvoker):
        self.invoker = invoker
        self.name = invoker.name
        self.frame: FrameType | None = None

    def invoke(self, ctx: Any, encoded_input: str | None) -> Any:
        result = self.invoker.invoke(ctx, encoded_input)
        if inspect.isgenerator(result):
            self.frame = result.gi_frame
        return result


class Replay:
    """A history replayed through a private executor, one event at a time.

    Fills in what payload-less histories leave out, from the code: a fired timer without
    its timer id is the earliest pending timer, a timer without its origin gets the one
    the code's decision has (the resolved events replace the originals in ``events``).
    """

    def __init__(self, instance_id: str, invoker: WorkflowInvoker, events: list[HistoryEvent]):
        self.capture = _Capture(invoker)
        self.orchestration = Orchestration(instance_id, lambda name: self.capture)
        self.events = events
        #: Position of the last event applied (-1: none yet).
        self.applied = -1
        #: Position of the event during which the code ended (returned, raised, stopped).
        self.ended_at: int | None = None
        #: Task ids of the timers that never fire (an indefinite event wait's), so far.
        self.optional_timers: list[int] = []

    def apply_to(self, n: int) -> None:
        """Apply the events after the last one applied, up to position ``n``."""
        i = self.applied + 1
        if i > n:
            return
        with gc_paused():
            self._apply(i, n)
        self.applied = max(self.applied, n)

    def _apply(self, i: int, n: int) -> None:
        events = self.events
        orchestration = self.orchestration
        apply = orchestration.apply
        while i <= n:
            event = events[i]
            kind = type(event)
            if kind is TimerFired and event.timer_id < 0:  # type: ignore[attr-defined]
                event = events[i] = self._resolve_fired(event)  # type: ignore[arg-type]
            elif kind is TimerCreated:
                if not event.origin:  # type: ignore[attr-defined]
                    event = events[i] = self._resolve_created(event)  # type: ignore[arg-type]
                if event.fire_at == OPTIONAL_TIMER_FIRE_AT:  # type: ignore[attr-defined]
                    self.optional_timers.append(event.task_id)  # type: ignore[attr-defined]
            apply(event, replaying=True, position=i)
            if self.ended_at is None and orchestration.ctx._outcome is not None:
                self.ended_at = i
            i += 1

    def _resolve_fired(self, event: TimerFired) -> TimerFired:
        pending = [
            (task.fire_at, task_id)
            for task_id, task in self.orchestration.pending_tasks.items()
            if isinstance(task, TimerTask) and task.fire_at != OPTIONAL_TIMER_FIRE_AT
        ]
        if not pending:
            return event
        fire_at, task_id = min(pending)
        return TimerFired(timestamp=event.timestamp, timer_id=task_id, fire_at=fire_at)

    def _resolve_created(self, event: TimerCreated) -> TimerCreated:
        decision = self.orchestration.ctx._pending_actions.get(event.task_id)
        if not isinstance(decision, TimerCreated):
            return TimerCreated(
                timestamp=event.timestamp,
                task_id=event.task_id,
                fire_at=event.fire_at,
                origin="create_timer",
                origin_name=event.origin_name,
            )
        return TimerCreated(
            timestamp=event.timestamp,
            task_id=event.task_id,
            fire_at=decision.fire_at,
            origin=decision.origin,
            origin_name=decision.origin_name,
        )

    # ------------------------------------------------------------------ where the code is
    def code_frame(self) -> FrameType | None:
        """The frame of the code: the innermost generator it is suspended in, or (once it
        has ended) the orchestrator's own frame as it was when it ended."""
        generator: Any = self.orchestration._generator
        if generator is None or generator.gi_frame is None:
            return self.capture.frame
        frame: FrameType = generator.gi_frame
        while True:
            sub = generator.gi_yieldfrom
            if not inspect.isgenerator(sub) or sub.gi_frame is None:
                return frame
            generator, frame = sub, sub.gi_frame

    def status(self) -> str:
        orchestration = self.orchestration
        outcome = orchestration.outcome
        if outcome is not None:
            return outcome.status
        if orchestration.workflow_name is None:
            return "PENDING"
        return "SUSPENDED" if orchestration._is_suspended else "RUNNING"

    def pending(self) -> tuple[tuple[PendingTask, ...], int]:
        """(the first :data:`MAX_PENDING` pending tasks and event waits, how many there
        are); tasks in the order they were scheduled (task ids grow), then event waits."""
        orchestration = self.orchestration
        if orchestration.outcome is not None:
            return (), 0
        tasks = orchestration.pending_tasks
        waits = [w for ws in orchestration.ctx._pending_events.values() for w in ws]
        out: list[PendingTask] = []
        optional = scanned = 0
        for task_id, task in tasks.items():
            if len(out) >= MAX_PENDING:
                break
            scanned += 1
            fire_at = getattr(task, "fire_at", None)
            if fire_at == OPTIONAL_TIMER_FIRE_AT:
                optional += 1  # an event wait's timer that never fires: the wait is listed
                continue
            out.append(PendingTask(task_id, task.kind, task.name, fire_at))
        if scanned < len(tasks):  # count the rest from the timers the history created
            optional = sum(1 for task_id in self.optional_timers if task_id in tasks)
        out.extend(
            PendingTask(None, "event", wait.name) for wait in waits[: MAX_PENDING - len(out)]
        )
        return tuple(out), len(tasks) - optional + len(waits)


_STATUS = {
    "PENDING": WorkflowStatus.PENDING,
    "RUNNING": WorkflowStatus.RUNNING,
    "SUSPENDED": WorkflowStatus.SUSPENDED,
    "COMPLETED": WorkflowStatus.COMPLETED,
    "FAILED": WorkflowStatus.FAILED,
    "TERMINATED": WorkflowStatus.TERMINATED,
    "CONTINUED_AS_NEW": WorkflowStatus.RUNNING,
}


# --------------------------------------------------------------------------- the graph
def execution_graph(
    orchestration: Orchestration,
    events: Sequence[StoredEvent | HistoryEvent],
    *,
    instance_id: str | None = None,
    record: InstanceRecord | None = None,
) -> dict[str, Any]:
    """The execution graph of an executor that has applied ``events`` (the history up
    to its position): the widgets' graph model (``wfkit.widgets``: ``steps``, ``nodes``,
    ``groups``, ``edges``, ``counts``) when it is available, else :func:`simple_graph`."""
    iid = instance_id or orchestration.ctx.instance_id
    stored = [
        StoredEvent(iid, i, e, 0.0) if isinstance(e, HistoryEvent) else e
        for i, e in enumerate(events)
    ]
    try:
        from wfkit.inspect._graph_model import graph_model
        from wfkit.inspect._replay import ReplayedInstance
    except ImportError:
        return simple_graph(orchestration)
    replayed = ReplayedInstance(iid, orchestration=orchestration)
    replayed.feed(stored)
    return graph_model(replayed, record=record)


def simple_graph(orchestration: Orchestration) -> dict[str, Any]:
    """A plain graph of what the code yielded: ``steps`` (ids in order), ``nodes``
    (``kind``, ``name``, ``task_id``, ``status``) and ``groups`` (``mode``, ``children``)."""
    from wfkit.core._task import CompletableTask, CompositeTask, ExternalEventTask, WhenAllTask

    nodes: list[dict[str, Any]] = []
    groups: list[dict[str, Any]] = []
    seen: dict[int, str] = {}

    def status(task: Any) -> str:
        if not task.is_complete:
            return "waiting"
        return "failed" if task.is_failed else "completed"

    def item(task: Any) -> str:
        if id(task) in seen:
            return seen[id(task)]
        if isinstance(task, CompositeTask) and not isinstance(task, ExternalEventTask):
            gid = f"g{len(groups)}"
            seen[id(task)] = gid
            group: dict[str, Any] = {
                "id": gid,
                "type": "group",
                "mode": "all" if isinstance(task, WhenAllTask) else "any",
                "status": status(task),
                "children": [],
            }
            groups.append(group)
            group["children"] = [item(t) for t in task.get_tasks()]
            return gid
        leaf = task.get_tasks()[0] if isinstance(task, ExternalEventTask) else task
        nid = f"t{len(nodes)}"
        seen[id(task)] = nid
        nodes.append(
            {
                "id": nid,
                "type": "node",
                "kind": getattr(leaf, "kind", "task"),
                "name": getattr(leaf, "name", None),
                "task_id": leaf.task_id if isinstance(leaf, CompletableTask) else None,
                "status": status(task),
            }
        )
        return nid

    steps: list[str] = []
    for task in orchestration.yielded:
        key = item(task)
        if not steps or steps[-1] != key:
            steps.append(key)
    return {"steps": steps, "nodes": nodes, "groups": groups, "edges": []}


# --------------------------------------------------------------------------- the cursor
def resolve_workflow(workflow: Any, engine: Any, history: History) -> WorkflowInvoker:
    """The code to replay ``history`` with: ``workflow`` (a function, a registered name
    or a registered workflow), or the code the runtime runs the instance with."""
    if workflow is None:
        if engine is None:
            raise TypeError(
                "a history read from a file, a store or a list needs its workflow code: "
                "pass workflow=<the workflow function>"
            )
        name = history.workflow
        if name is None:
            raise ValueError(
                "the history has no ExecutionStarted event, so its workflow is unknown; "
                "pass workflow=<the workflow function>"
            )
        return engine.workflow_code(history.instance_id or "", name)
    if isinstance(workflow, str):
        if engine is None:
            raise TypeError(
                f"workflow={workflow!r} names a registered workflow, which needs a runtime; "
                "pass the function instead"
            )
        return engine.registry.workflow(workflow)
    if callable(getattr(workflow, "invoke", None)) and hasattr(workflow, "name"):
        return workflow
    if callable(workflow):
        name = history.workflow
        if name is None:
            name = registered_name(workflow)
        return Registered.of(workflow, name)
    raise TypeError(f"workflow must be a function or a registered name, not {workflow!r}")


class Cursor:
    """Steps through the replay of one instance's history (see :func:`open_cursor`).

    Positions are history indices: position ``i`` is the state right after event ``i``
    was applied. A cursor opens at position 0; ``step``, ``back``, ``goto``, ``first``
    and ``last`` move it and return the :class:`Frame` there. Iterating yields every
    frame from the first, moving the cursor along.
    """

    def __init__(self, history: History, workflow: WorkflowInvoker, *, engine: Any = None):
        self.history = history
        self._workflow = workflow
        self._engine = engine
        self._events: list[HistoryEvent] = list(history.events)
        self._replay: Replay | None = None
        self._frames: OrderedDict[int, Frame] = OrderedDict()
        self._position = 0
        self._code = code_of(workflow)

    # ------------------------------------------------------------------ what it is over
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
        replay = self._replay
        if replay is None or replay.applied > n:
            replay = self._restart()
            start = max(0, n - BACK_WINDOW + 1)
        else:
            start = n
        replay.apply_to(start - 1)
        for i in range(max(start, replay.applied + 1), n + 1):
            replay.apply_to(i)
            self._keep(i, self._build(i))
        return frames[n]

    def _restart(self) -> Replay:
        self._replay = Replay(self.instance_id or "", self._workflow, self._events)
        return self._replay

    def _keep(self, i: int, frame: Frame) -> None:
        frames = self._frames
        frames[i] = frame
        frames.move_to_end(i)
        while len(frames) > CACHE_FRAMES:
            frames.popitem(last=False)

    def _build(self, i: int) -> Frame:
        replay = self._replay
        assert replay is not None
        orchestration = replay.orchestration
        code_frame = replay.code_frame()
        code: CodeType | None
        file: str | None
        function: str | None
        line: int | None
        if code_frame is not None:
            code = code_frame.f_code
            file, function, line = code.co_filename, code.co_name, code_frame.f_lineno
            local_values = snapshot_locals(code_frame.f_locals)
        else:
            code = self._code
            file = code.co_filename if code is not None else None
            function = code.co_name if code is not None else None
            line, local_values = None, {}
        outcome = orchestration.outcome
        failure = outcome.failure if outcome is not None else None
        error = None
        if failure is not None and failure.error_type in REPLAY_ERRORS:
            error = f"{failure.error_type}: {failure.message}"
        status = replay.status()
        pending, pending_count = replay.pending()
        return Frame(
            index=i,
            event=self._events[i],
            time=orchestration.ctx.current_utc_datetime,
            status=status,
            file=file,
            line=line,
            function=function,
            locals=local_values,
            pending=pending,
            pending_count=pending_count,
            custom_status=_decode(orchestration.custom_status),
            output=_decode(outcome.result) if outcome and status == "COMPLETED" else None,
            failure=failure,
            error=error,
            _graph=lambda: self.graph(i),
            _code=code,
        )

    # ------------------------------------------------------------------ extras
    def graph(self, n: int | None = None) -> dict[str, Any]:
        """The execution graph at position ``n`` (default: the current one)."""
        n = self._position if n is None else n
        replay = self._replay
        if replay is None or replay.applied > n:
            replay = self._restart()
        replay.apply_to(n)
        status = replay.status()
        first = self._events[0].timestamp if self._events else datetime(1970, 1, 1)
        record = InstanceRecord(
            instance_id=self.instance_id or "",
            name=self.workflow_name or "",
            status=_STATUS.get(status, WorkflowStatus.RUNNING),
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
                replay.orchestration, stored, instance_id=self.instance_id, record=record
            )

    def source(self, frame: Frame | None = None) -> SourceCode | None:
        """The source of the function ``frame`` (default: the current one) is in."""
        frame = frame or self.frame
        code = frame._code or self._code
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
        self._replay = None
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


def open_cursor(source: Any, instance_id: str | None = None, workflow: Any = None) -> Cursor:
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
        return Cursor(source.history, source._workflow, engine=source._engine)
    history, engine = history_from(source, instance_id)
    invoker = resolve_workflow(workflow, engine, history)
    return Cursor(history, invoker, engine=engine)


def locals_json(frame: Frame) -> str:
    """A frame's locals as JSON text (for logs and snapshots in tests)."""
    return json.dumps(frame.locals, indent=2, ensure_ascii=False)
