"""Determinism checks: replay recorded histories against current (edited) workflow code.

:func:`check_replay` replays one history and reports the first place where the code no
longer does what the history recorded, with the line of code on both sides.
:func:`check_histories` checks a folder of history files (written by
``save_history``), and :func:`assert_histories_replay` turns that into a test::

    def test_saved_histories_still_replay():
        assert_histories_replay("tests/histories", workflows={"order": order_workflow})
"""

from __future__ import annotations

import linecache
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from wfkit.core import _serde
from wfkit.core._history import (
    ExecutionCompleted,
    FailureDetails,
    HistoryEvent,
    TimerCreated,
    WorkflowStarted,
)
from wfkit.core._orchestration import OutcomeStatus, WorkflowInvoker, describe_decision
from wfkit.inspect._histories import History, history_from, load_history
from wfkit.inspect._replay_results import Divergence, ReplayResult, SourceLine
from wfkit.inspect._stepper import HistoryStepper
from wfkit.inspect._workflow_code import WorkflowCode, code_of, resolve_workflow
from wfkit.runtime._seam import EngineView, engine_of, is_engine_source


# --------------------------------------------------------------------------- the check
def _same(decision: HistoryEvent | None, event: HistoryEvent) -> bool:
    if decision is None or type(decision) is not type(event):
        return False
    if isinstance(event, TimerCreated):
        assert isinstance(decision, TimerCreated)
        if not event.origin:  # a payload-less import: only the kind is known
            return True
        return decision.origin == event.origin and decision.name == event.name
    return decision.name == event.name


def _text(file: str | None, line: int | None) -> str | None:
    if not file or not line:
        return None
    return linecache.getline(file, line).strip() or None


class _Checker:
    def __init__(
        self, history: History, code: WorkflowInvoker, recorded_code: WorkflowInvoker | None
    ):
        self.history = history
        self.events = list(history.events)
        self.code = code
        self.recorded_code = recorded_code
        self.file = _file(code)
        self.recorded_file = history.file or _file(recorded_code)
        self.stepper = HistoryStepper(history.instance_id or "", code, self.events)
        self._recorded_stepper: HistoryStepper | None = None

    # ------------------------------------------------------------------ lines
    def current_call_line(self, decision: HistoryEvent) -> SourceLine:
        line = getattr(decision, "line", None)
        return SourceLine(self.file, line, _text(self.file, line))

    def current_position(self) -> SourceLine | None:
        frame = self.stepper.code_frame()
        if frame is None:
            return SourceLine(self.file, None) if self.file else None
        file = frame.f_code.co_filename
        return SourceLine(file, frame.f_lineno, _text(file, frame.f_lineno))

    def recorded_stepper(self, upto: int) -> HistoryStepper | None:
        if self.recorded_code is None:
            return None
        replay = self._recorded_stepper
        if replay is None or replay.applied > upto:
            replay = self._recorded_stepper = HistoryStepper(
                self.history.instance_id or "", self.recorded_code, list(self.history.events)
            )
        replay.apply_to(upto)
        return replay

    def recorded_call_line(self, i: int) -> SourceLine | None:
        event = self.events[i]
        saved = self.history.lines.get(i)
        line = getattr(event, "line", None) or (saved.line if saved else None)
        if line is None:
            replay = self.recorded_stepper(i - 1)
            if replay is not None:
                decision = replay.orchestration.pending_decisions.get(event.event_id)
                line = getattr(decision, "line", None)
        if line is None:
            return None
        code = saved.code if saved is not None and saved.line == line else None
        if code is None and self.recorded_code is not None:
            code = _text(self.recorded_file, line)
        return SourceLine(self.recorded_file, line, code)

    def recorded_position(self, i: int) -> SourceLine | None:
        replay = self.recorded_stepper(i)
        if replay is None:
            return None
        frame = replay.code_frame()
        if frame is None:
            return None
        file = frame.f_code.co_filename
        return SourceLine(file, frame.f_lineno, _text(file, frame.f_lineno))

    # ------------------------------------------------------------------ what the code does
    def now(self) -> str:
        """What the code does at this point, when it makes no call there."""
        orchestration = self.stepper.orchestration
        outcome = orchestration.outcome
        if outcome is not None:
            return _ending(outcome.status, outcome.result, outcome.failure)
        pending, count = self.stepper.pending()
        if pending:
            waits = ", ".join(
                f"{p.kind} {p.name!r}" + (f" (task {p.task_id})" if p.task_id else "")
                if p.name
                else f"{p.kind} (task {p.task_id})"
                for p in pending[:3]
            )
            more = f" and {count - 3} more" if count > 3 else ""
            return f"makes no call there; it waits for {waits}{more}"
        return "makes no call there"

    # ------------------------------------------------------------------ the walk
    def run(self) -> Divergence | None:
        events = self.events
        replay = self.stepper
        pending = replay.orchestration.pending_decisions
        for i, event in enumerate(events):
            if isinstance(event, WorkflowStarted) and pending and i > 0:
                return self.extra(i, next(iter(pending.values())))
            if isinstance(event, ExecutionCompleted):
                if pending:
                    return self.extra(i, next(iter(pending.values())))
                if replay.orchestration.outcome is None:
                    return self.ending(i, event)
            if event.is_scheduling:
                decision = pending.get(event.event_id)
                if not _same(decision, event):
                    return self.changed(i, event, decision)
            replay.apply_to(i)
            failure = replay.orchestration.replay_failure
            if failure is not None:
                return Divergence(
                    "changed",
                    i,
                    event.event_id,
                    describe_decision(event) if event.is_scheduling else event.kind,
                    f"{failure.error_type}: {failure.message}",
                    None,
                    self.current_position(),
                    f"the replay fails at event {i}: {failure.message}",
                )
        if pending:
            return self.extra(len(events), next(iter(pending.values())))
        last = next(
            (
                i
                for i in range(len(events) - 1, -1, -1)
                if isinstance(events[i], ExecutionCompleted)
            ),
            None,
        )
        if last is None:
            return None
        return self.ending(last, events[last])  # type: ignore[arg-type]

    def changed(self, i: int, event: HistoryEvent, decision: HistoryEvent | None) -> Divergence:
        recorded = describe_decision(event)
        if decision is not None:
            current = f"calls {describe_decision(decision)}"
            current_line: SourceLine | None = self.current_call_line(decision)
            kind = "changed"
        else:
            others = list(self.stepper.orchestration.pending_decisions.values())
            if others:
                current = f"calls {describe_decision(others[0])} instead"
                current_line = self.current_call_line(others[0])
                kind = "changed"
            else:
                current = self.now()
                current_line = self.current_position()
                kind = "missing"
        message = f"history event {i} ({event.kind}) records {recorded}, but the code now {current}"
        return Divergence(
            kind,
            i,
            event.event_id,
            recorded,
            current,
            self.recorded_call_line(i),
            current_line,
            message,
        )

    def extra(self, i: int, decision: HistoryEvent) -> Divergence:
        where = (
            f"before history event {i} ({self.events[i].kind})"
            if i < len(self.events)
            else "at the end of the history"
        )
        recorded = "no further call in that episode"
        current = f"calls {describe_decision(decision)}"
        return Divergence(
            "extra",
            i,
            decision.event_id,
            recorded,
            current,
            self.recorded_position(i - 1) if i > 0 else None,
            self.current_call_line(decision),
            f"the code now {current}, which the history does not record ({where})",
        )

    def ending(self, i: int, recorded_end: ExecutionCompleted) -> Divergence | None:
        status = self.stepper.status()
        if status == recorded_end.status:
            return None
        outcome = self.stepper.orchestration.outcome
        if outcome is None:
            current = f"has not ended: it {self.now().replace('makes no call there; it ', '')}"
        else:
            current = _ending(outcome.status, outcome.result, outcome.failure)
        recorded = _ending(recorded_end.status, recorded_end.result, recorded_end.failure)
        return Divergence(
            "outcome",
            i,
            -1,
            recorded,
            current,
            self.recorded_position(i),
            self.current_position(),
            f"the history records that the workflow {recorded}, but the code now {current}",
        )


def _ending(status: str, result: str | None, failure: FailureDetails | None) -> str:
    if status == OutcomeStatus.COMPLETED:
        return f"completes with {_short(result)}"
    if status == OutcomeStatus.FAILED and failure is not None:
        return f"fails with {failure.error_type}: {failure.message}"
    if status == OutcomeStatus.CONTINUED_AS_NEW:
        return f"continues as new with {_short(result)}"
    return status.lower()


def _short(text: str | None) -> str:
    if text is None:
        return "no result"
    try:
        value = _serde.decode(text)
    except ValueError:
        value = text
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:79] + "…"


def _file(code: WorkflowInvoker | None) -> str | None:
    obj = code_of(code) if code is not None else None
    return obj.co_filename if obj is not None else None


def check_replay(
    history: object,
    workflow: WorkflowCode | None = None,
    *,
    instance_id: str | None = None,
    recorded_workflow: WorkflowCode | None = None,
) -> ReplayResult:
    """Replay a recorded history against workflow code and report the first divergence
    (:func:`wfkit.timetravel.check_replay` tells the arguments; ``history`` is anything
    but a cursor)."""
    source, engine = history_from(history, instance_id)
    return check_history(source, engine, workflow, recorded_workflow)


def check_history(
    source: History,
    engine: EngineView | None,
    workflow: WorkflowCode | None,
    recorded_workflow: WorkflowCode | None,
) -> ReplayResult:
    """:func:`check_replay` of a history already read (``engine``: the runtime it was
    read from, whose registered code stands in for what is not given)."""
    code = resolve_workflow(workflow, engine, source)
    recorded_code = None
    if recorded_workflow is not None:
        recorded_code = resolve_workflow(recorded_workflow, engine, source)
    elif engine is not None and workflow is not None and source.workflow:
        try:
            registered = engine.workflow_code(source.instance_id or "", source.workflow)
        except Exception:
            registered = None
        if registered is not None and code_of(registered) is not code_of(code):
            recorded_code = registered
    checker = _Checker(source, code, recorded_code)
    divergence = checker.run()
    return ReplayResult(
        ok=divergence is None,
        instance_id=source.instance_id,
        workflow=source.workflow,
        events=len(source.events),
        divergence=divergence,
        path=source.path,
    )


def _lookup(workflows: object) -> Callable[[str], Any]:
    if workflows is None:
        return lambda name: None
    if isinstance(workflows, Mapping):
        return workflows.get
    if is_engine_source(workflows):
        registry = engine_of(workflows).registry

        def registered(name: str) -> Any:
            return registry.workflows.get(name)

        return registered
    if not isinstance(workflows, Iterable):
        raise TypeError(
            "workflows takes {name: function}, a list of functions or a WorkflowRuntime, "
            f"not {workflows!r}"
        )
    named = {getattr(fn, "_dapr_alternate_name", None) or fn.__name__: fn for fn in workflows}
    return named.get


def check_histories(
    folder: str | Path | Iterable[str | Path],
    workflows: object = None,
    *,
    pattern: str = "*.json",
) -> list[ReplayResult]:
    """Check every history file in ``folder`` (recursively, matching ``pattern``) against
    current code; one :class:`ReplayResult` per file, in path order.

    Args:
        folder: a folder of history files (``save_history``'s, or Dapr exports), or a
            list of files.
        workflows: the code for each workflow name: ``{name: function}``, a list of
            functions (by registered or function name), or a WorkflowRuntime (its
            registered workflows).
    """
    if isinstance(folder, (str, Path)):
        root = Path(folder)
        paths = sorted(root.rglob(pattern)) if root.is_dir() else [root]
    else:
        paths = sorted(Path(p) for p in folder)
    lookup = _lookup(workflows)
    return [_check_file(path, lookup) for path in paths if not path.is_dir()]


def _check_file(path: Path, lookup: Callable[[str], Any]) -> ReplayResult:
    """One history file checked; what keeps it from being checked is reported, not raised
    (any file can be in the folder)."""
    try:
        history = load_history(path)
    except Exception as exc:
        reason = str(exc) if isinstance(exc, OSError | ValueError) else repr(exc)
        return ReplayResult(False, None, None, 0, error=f"unreadable: {reason}", path=str(path))
    code = lookup(history.workflow) if history.workflow else None
    if code is None:
        error = f"no code given for workflow {history.workflow!r}"
    else:
        try:
            return check_replay(history, code)
        except Exception as exc:  # a history this code cannot even start on
            error = f"could not replay: {exc!r}"
    return ReplayResult(
        False,
        history.instance_id,
        history.workflow,
        len(history.events),
        error=error,
        path=str(path),
    )


def assert_histories_replay(
    folder: str | Path | Iterable[str | Path] | Iterable[ReplayResult],
    workflows: object = None,
    *,
    pattern: str = "*.json",
) -> list[ReplayResult]:
    """Fail (AssertionError) unless every history replays against current code.

    ``folder`` is what :func:`check_histories` takes, or results it returned. The
    message lists each history that does not replay, with both lines of code."""
    if not isinstance(folder, (str, Path)):
        items = list(folder)
        if items and all(isinstance(r, ReplayResult) for r in items):
            results: list[ReplayResult] = items  # type: ignore[assignment]
        else:
            results = check_histories(items, workflows, pattern=pattern)  # type: ignore[arg-type]
    else:
        results = check_histories(folder, workflows, pattern=pattern)
    if not results:
        raise AssertionError(f"no histories found in {folder!s} (pattern {pattern!r})")
    failed = [r for r in results if not r.ok]
    if failed:
        report = "\n\n".join(str(r) for r in failed)
        raise AssertionError(
            f"{len(failed)} of {len(results)} recorded histories do not replay against "
            f"the current workflow code:\n\n{report}"
        )
    return results
