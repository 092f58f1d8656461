"""The execution graph of one instance as plain, JSON-safe data (what the graph draws).

:func:`graph_model` turns a :class:`ReplayedInstance` into steps in the order the code
yielded them: a leaf node per activity, timer, external-event wait or child workflow, and
a group per ``when_all``/``when_any`` whose tasks sit side by side. A group of more than
``group_limit`` tasks is collapsed to one node with counts per status and its progress;
expanding it shows its tasks a page at a time. :func:`layout` adds coordinates.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from wfkit.core._history import OPTIONAL_TIMER_FIRE_AT, FailureDetails
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.core._task import (
    CompletableTask,
    CompositeTask,
    ExternalEventTask,
    RetryableTask,
    Task,
    TaskFailedError,
    WhenAllTask,
)
from wfkit.inspect._replay import INNER_TIMERS, Entry, ReplayedInstance

#: Every status a node can have, in the order legends list them.
STATUSES = (
    "scheduled",
    "running",
    "retrying",
    "waiting",
    "completed",
    "failed",
    "timed out",
    "cancelled",
)
_ACTIVE = frozenset({"scheduled", "running", "retrying", "waiting"})
#: Statuses of finished tasks (they never change again).
_FINAL = frozenset({"completed", "failed", "timed out"})
_INSTANCE_STATUS = {
    WorkflowStatus.PENDING: "scheduled",
    WorkflowStatus.RUNNING: "running",
    WorkflowStatus.SUSPENDED: "waiting",
    WorkflowStatus.COMPLETED: "completed",
    WorkflowStatus.FAILED: "failed",
    WorkflowStatus.TERMINATED: "cancelled",
}
PREVIEW_CHARS = 80


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def preview(text: str | None, limit: int = PREVIEW_CHARS) -> str | None:
    """The start of a JSON payload, on one line."""
    if text is None:
        return None
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Builder:
    def __init__(
        self,
        replayed: ReplayedInstance,
        record: InstanceRecord | None,
        executing: Collection[int],
        children: Mapping[str, WorkflowStatus],
        expanded: Mapping[str, int],
        group_limit: int,
        page_size: int,
    ):
        self.r = replayed
        self.record = record
        self.executing = executing
        self.children = children
        self.expanded = expanded
        self.group_limit = group_limit
        self.page_size = page_size
        self.ended = bool(record and record.status.is_terminal) or replayed.finished is not None
        self.nodes: list[dict[str, Any]] = []
        self.groups: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.covered: set[int] = set()
        self.previews: list[tuple[dict[str, Any], Entry | None, Entry | None]] = []
        #: counts of collapsed groups that can no longer change, kept across builds
        self.cache: dict[int, Any] = replayed.group_cache

    # ---------------------------------------------------------------- statuses
    def leaf_status(self, task: Task, lost: bool) -> tuple[str, CompletableTask, int]:
        """(status, the leaf task, attempts) of a leaf or an event wait."""
        if isinstance(task, ExternalEventTask):
            event_task, timer = task.get_tasks()
            assert isinstance(event_task, CompletableTask)
            if task.is_complete:
                if not task.is_failed:
                    return "completed", event_task, 1
                exc = task.get_exception()
                if isinstance(exc, TimeoutError) and timer.is_complete:
                    return "timed out", event_task, 1
                return "failed", event_task, 1
            return ("cancelled" if lost or self.ended else "waiting"), event_task, 1
        assert isinstance(task, CompletableTask)
        attempts = self.r.attempts(task)
        if task.is_complete:
            if not task.is_failed:
                return "completed", task, attempts
            if isinstance(task.get_exception(), TimeoutError) and task.kind == "event":
                return "timed out", task, attempts
            return "failed", task, attempts
        if lost or self.ended:
            return "cancelled", task, attempts
        if task.kind in ("timer", "event"):
            return "waiting", task, attempts
        if attempts > 1:
            return "retrying", task, attempts
        if task.kind == "child":
            child_id = self.r.child_instance_id(task)
            child = self.children.get(child_id or "")
            if child is None or child is WorkflowStatus.PENDING:
                return "scheduled", task, attempts
            return "running", task, attempts
        return ("running" if task.task_id in self.executing else "scheduled"), task, attempts

    def group_status(self, task: CompositeTask, counts: Counter[str], lost: bool) -> str:
        if task.is_complete:
            return "failed" if task.is_failed else "completed"
        if lost or self.ended:
            return "cancelled"
        for status in ("running", "retrying", "scheduled"):
            if counts[status]:
                return "running"
        return "waiting"

    # ---------------------------------------------------------------- nodes
    def leaf(self, task: Task, lost: bool, *, full: bool = True) -> dict[str, Any] | str:
        status, leaf, attempts = self.leaf_status(task, lost)
        self.counts[status] += 1
        self.covered.add(id(leaf))
        if isinstance(task, ExternalEventTask):
            for inner in task.get_tasks():
                self.covered.add(id(inner))
        if not full:
            return status
        return self.node(task, leaf, status, attempts)

    def node(self, task: Task, leaf: CompletableTask, status: str, attempts: int) -> dict[str, Any]:
        r = self.r
        ids = r.task_ids(leaf)
        first = r.scheduled.get(ids[0]) if ids else None
        last_id = ids[-1] if ids else None
        closed = r.closed.get(last_id) if last_id is not None else None
        kind = leaf.kind
        name = leaf.name or ("timer" if kind == "timer" else kind)
        node: dict[str, Any] = {
            "id": f"t{r.index.get(id(leaf), 0)}",
            "type": "node",
            "kind": kind,
            "name": name,
            "status": status,
            "label": _label(status, attempts, kind),
            "attempts": attempts,
            "task_id": last_id,
        }
        fire_at = getattr(leaf, "fire_at", None)
        if isinstance(task, ExternalEventTask):
            timer = task.get_tasks()[1]
            fire_at = getattr(timer, "fire_at", None)
            if task.is_complete and not task.is_failed:
                closed = r.event_received(leaf) or closed
            elif timer.is_complete and isinstance(timer, CompletableTask):
                closed = r.closed.get(timer.task_id or -1, closed)
            first = first or (
                r.scheduled.get(timer.task_id or -1) if isinstance(timer, CompletableTask) else None
            )
        elif kind == "event":
            closed = r.event_received(leaf)
        if fire_at is not None and fire_at != OPTIONAL_TIMER_FIRE_AT:
            node["fire_at"] = fire_at.isoformat()
        if kind == "child":
            node["child_instance_id"] = r.child_instance_id(leaf)
        started = first or (r.started if kind == "event" else None)
        _timings(node, started, closed)
        if kind == "event" and leaf.is_complete and not leaf.is_failed and closed is None:
            node["output"] = preview(_dumps(leaf.get_result()))
        self.previews.append((node, None if kind == "event" else first, closed))
        self.nodes.append(node)
        return node

    def fill_previews(self) -> None:
        """Payload previews of the nodes drawn, their payloads read in one go."""
        r = self.r
        r.load_payloads(e for _, first, closed in self.previews for e in (first, closed))
        for node, first, closed in self.previews:
            for key, text in _payloads(r, first, closed).items():
                if text is not None:
                    node[key] = preview(text)

    def item(self, task: Task, path: str, lost: bool) -> dict[str, Any] | None:
        """A step or a group's member: a node or a group."""
        if isinstance(task, CompositeTask) and not isinstance(task, ExternalEventTask):
            return self.group(task, path, lost)
        leaf = task.get_tasks()[0] if isinstance(task, ExternalEventTask) else task
        if id(leaf) in self.covered:
            return None  # yielded again (already drawn)
        result = self.leaf(task, lost)
        assert isinstance(result, dict)
        return result

    def group(self, task: CompositeTask, path: str, lost: bool) -> dict[str, Any] | None:
        if id(task) in self.covered:
            return None
        self.covered.add(id(task))
        members = task.get_tasks()
        mode = "all" if isinstance(task, WhenAllTask) else "any"
        members_lost = lost or (mode == "any" and task.is_complete)
        gid = f"g{path}"
        size = len(members)
        collapsed = size > self.group_limit and gid not in self.expanded
        paged = size > self.group_limit
        page = max(0, self.expanded.get(gid, 0))
        pages = max(1, -(-size // self.page_size)) if paged else 1
        page = min(page, pages - 1)
        lo, hi = (page * self.page_size, (page + 1) * self.page_size) if paged else (0, size)
        if collapsed:
            lo = hi = 0
        covered = self.covered
        shown: list[str] = []
        state = (members_lost, self.ended)
        cached = self.cache.get(id(task)) if paged else None
        tally = self.tally(task, members, state) if paged else None
        # hidden members count as drawn (no orphans)
        covered.update(map(id, members) if tally is None else tally.ids)
        if tally is not None:
            # a large group of leaves: counts kept up to date, nodes for the page shown
            leaf_status = self.leaf_status
            for i in range(lo, min(hi, size)):
                member = members[i]
                status, leaf, attempts = leaf_status(member, members_lost)
                tally.set(i, member, status)  # the counts agree with the nodes drawn
                shown.append(self.node(member, leaf, status, attempts)["id"])
            local = leaves = tally.counts
            self.counts.update(local)
        elif collapsed and isinstance(cached, tuple) and cached[0] == state:
            _, local, leaves, inner = cached
            self.counts.update(leaves)
            covered.update(inner)
        else:
            before = self.counts.copy()
            local = Counter()
            direct: Counter[str] = Counter()
            inner = []
            leaf_status = self.leaf_status
            for i, member in enumerate(members):
                if isinstance(member, CompositeTask) and not isinstance(member, ExternalEventTask):
                    if lo <= i < hi:
                        sub = self.group(member, f"{path}.{i}", members_lost)
                        if sub is not None:
                            shown.append(sub["id"])
                            local[sub["status"]] += 1
                    else:
                        local[self.hidden_group(member, members_lost)] += 1
                    continue
                if lo <= i < hi:
                    node = self.leaf(member, members_lost)
                    assert isinstance(node, dict)
                    shown.append(node["id"])
                    local[node["status"]] += 1
                    continue
                status = leaf_status(member, members_lost)[0]
                local[status] += 1
                direct[status] += 1
                if isinstance(member, ExternalEventTask):
                    inner.extend(map(id, member.get_tasks()))
            self.counts.update(direct)
            covered.update(inner)
            leaves = self.counts - before
            final = task.is_complete and (mode == "all" or self.ended)
            if collapsed and (final or self.ended):
                self.cache[id(task)] = (state, local, leaves, inner)
        done = sum(n for s, n in local.items() if s not in _ACTIVE)
        status = self.group_status(task, Counter(leaves), lost)
        group: dict[str, Any] = {
            "id": gid,
            "type": "group",
            "mode": mode,
            "size": size,
            "counts": {s: local[s] for s in STATUSES if local[s]},
            "done": done,
            "progress": round(done / size, 4) if size else 1.0,
            "status": status,
            "label": f"when_{mode} · {size:,} task{'s' if size != 1 else ''}",
            "collapsed": collapsed,
            "expandable": paged,
            "page": page,
            "pages": pages,
            "children": shown,
        }
        for child in shown:
            self.edges.append({"from": gid, "to": child, "kind": "fork"})
            self.edges.append({"from": child, "to": gid, "kind": "join"})
        self.groups.append(group)
        return group

    def tally(
        self, task: CompositeTask, members: list[Task], state: tuple[bool, bool]
    ) -> _Tally | None:
        """The kept counts of a group whose members are all leaves, brought up to date
        (None for a group of groups)."""
        tally = self.cache.get(id(task))
        if isinstance(tally, _Tally):
            tally.update(members, self.leaf_status, state, self.r, self.executing)
            return tally
        if tally is not None or any(
            isinstance(m, CompositeTask) and not isinstance(m, ExternalEventTask) for m in members
        ):
            return None  # a group of groups (counted as it is drawn)
        tally = _Tally(state, members, self.leaf_status, len(self.r.closed_order), self.executing)
        self.cache[id(task)] = tally
        return tally

    def hidden_group(self, task: CompositeTask, lost: bool) -> str:
        """Count the leaves of a group that is not shown; return its status."""
        self.covered.add(id(task))
        members_lost = lost or (not isinstance(task, WhenAllTask) and task.is_complete)
        before = self.counts.copy()
        for member in task.get_tasks():
            if isinstance(member, CompositeTask) and not isinstance(member, ExternalEventTask):
                self.hidden_group(member, members_lost)
            else:
                self.leaf(member, members_lost, full=False)
        return self.group_status(task, self.counts - before, lost)

    # ---------------------------------------------------------------- the whole graph
    def build(self) -> dict[str, Any]:
        r = self.r
        steps: list[str] = []
        for k, task in enumerate(r.yielded):
            item = self.item(task, str(k), lost=False)
            if item is not None:
                steps.append(item["id"])
        for task in r.tasks:
            if id(task) in self.covered or r.origin(task) in INNER_TIMERS:
                continue
            result = self.leaf(task, lost=False)
            assert isinstance(result, dict)
            result["awaited"] = False
            steps.append(result["id"])
        record = self.record
        status = _INSTANCE_STATUS.get(record.status, "running") if record else "scheduled"
        name = record.name if record else (r.workflow_name or "")
        start: dict[str, Any] = {
            "id": "start",
            "type": "node",
            "kind": "start",
            "name": name,
            "status": "completed" if r.started else "scheduled",
            "label": "started" if r.started else "scheduled",
        }
        if r.started is not None:
            self.previews.append((start, r.started, None))
            start["started_at"] = r.started.ts.isoformat()
        self.nodes.insert(0, start)
        sequence = ["start", *steps]
        if r.finished is not None or (record is not None and record.status.is_terminal):
            end = self.end_node(status)
            self.nodes.append(end)
            sequence.append("end")
        for a, b in itertools.pairwise(sequence):
            self.edges.append({"from": a, "to": b, "kind": "next"})
        self.fill_previews()
        instance: dict[str, Any] = {
            "id": r.instance_id,
            "name": name,
            "status": (record.status if record else WorkflowStatus.PENDING).name,
            "parent_id": record.parent_instance_id if record else None,
            "created_at": _iso(record.created_at) if record else None,
            "updated_at": _iso(record.last_updated_at) if record else None,
            "error": r.error,
            "events": r.seen,
        }
        return {
            "instance": instance,
            "steps": sequence,
            "nodes": self.nodes,
            "groups": self.groups,
            "edges": self.edges,
            "counts": {s: self.counts[s] for s in STATUSES if self.counts[s]},
            "tasks": sum(self.counts.values()),
        }

    def end_node(self, status: str) -> dict[str, Any]:
        record = self.record
        finished = self.r.finished
        label = {"cancelled": "terminated"}.get(status, status)
        end: dict[str, Any] = {
            "id": "end",
            "type": "node",
            "kind": "end",
            "name": record.name if record else "",
            "status": status,
            "label": label,
        }
        if finished is not None:
            end["finished_at"] = finished.ts.isoformat()
            self.previews.append((end, None, finished))
        elif record is not None:
            end["finished_at"] = _iso(record.last_updated_at)
            if record.output is not None:
                end["output"] = preview(record.output)
        return end


class _Tally:
    """Counts per status of the members of a large group of leaves, kept across builds.

    The first build reads every member; the next ones re-read only the members whose
    status may have changed since: those a history event closed (the events indexed since,
    by task id), those the engine is running now, and those whose status hangs on more
    than their own events (running, retrying, event waits, child workflows). A finished
    member's status never changes; when the members are lost (a decided ``when_any``) or
    the instance ends, the unfinished ones are read again.
    """

    __slots__ = (
        "closed_seen",
        "counts",
        "ids",
        "lost",
        "member_of",
        "state",
        "statuses",
        "volatile",
    )

    def __init__(
        self,
        state: tuple[bool, bool],
        members: list[Task],
        leaf_status: Callable[[Task, bool], tuple[str, CompletableTask, int]],
        closed_seen: int,
        executing: Collection[int],
    ):
        self.state = state
        self.lost = lost = state[0]
        self.closed_seen = closed_seen
        #: status of each member, and how many members have each
        self.statuses: list[str] = []
        self.counts: Counter[str] = Counter()
        #: task id (of the attempt current when the tally was made) -> member position
        self.member_of: dict[int, int] = {}
        #: ids of the members and of the tasks inside event waits (drawn with their wait)
        self.ids: set[int] = set(map(id, members))
        #: positions of the members to re-read at every build
        self.volatile: set[int] = set()
        statuses, member_of = self.statuses, self.member_of
        # an activity's first attempt, neither finished nor running: what leaf_status says
        # of it, without asking it (most members of a fan-out that has just started)
        pending = "cancelled" if lost or state[1] else "scheduled"
        for i, member in enumerate(members):
            if isinstance(member, ExternalEventTask):
                for inner in member.get_tasks():
                    self.ids.add(id(inner))
                    if isinstance(inner, CompletableTask) and inner.task_id is not None:
                        member_of[inner.task_id] = i
            elif isinstance(member, CompletableTask) and member.task_id is not None:
                member_of[member.task_id] = i
            if member.is_complete:
                if not member.is_failed:
                    statuses.append("completed")  # what leaf_status says of any finished leaf
                    continue
            elif (
                (
                    type(member) is CompletableTask
                    or (type(member) is RetryableTask and member.attempt_count == 1)
                )
                and member.kind == "activity"
                and member.task_id not in executing
            ):
                statuses.append(pending)
                continue
            status = leaf_status(member, lost)[0]
            statuses.append(status)
            if _volatile(member, status):
                self.volatile.add(i)
        self.counts.update(statuses)

    def update(
        self,
        members: list[Task],
        leaf_status: Callable[[Task, bool], tuple[str, CompletableTask, int]],
        state: tuple[bool, bool],
        replayed: ReplayedInstance,
        executing: Collection[int],
    ) -> None:
        member_of, statuses, volatile = self.member_of, self.statuses, self.volatile
        again = set(volatile)
        if state != self.state:
            self.state = state
            self.lost = state[0]
            again.update(i for i, status in enumerate(statuses) if status not in _FINAL)
        for task_id in executing:
            position = member_of.get(task_id)
            if position is not None:
                again.add(position)
        # the members closed since: most by a success, counted in one go without reading
        # them (the executor has applied every event indexed: they are completed)
        closed_order, otherwise = replayed.closed_order, replayed.closed_otherwise
        finished: Counter[str] = Counter()
        for task_id in itertools.islice(closed_order, self.closed_seen, None):
            position = member_of.get(task_id)
            if position is None:
                continue
            if task_id not in otherwise:
                old = statuses[position]
                if old != "completed":
                    statuses[position] = "completed"
                    finished[old] += 1
                    if again:
                        again.discard(position)
                        volatile.discard(position)
            else:
                again.add(position)
        self.closed_seen = len(closed_order)
        if finished:
            counts = self.counts
            for old, n in finished.items():
                counts[old] -= n
                if not counts[old]:
                    del counts[old]
            counts["completed"] += finished.total()
        lost = self.lost
        for position in again:
            member = members[position]
            if member.is_complete and not member.is_failed:
                self.set(position, member, "completed")
            else:
                self.set(position, member, leaf_status(member, lost)[0])

    def set(self, position: int, member: Task, status: str) -> None:
        old = self.statuses[position]
        if status != old:
            counts = self.counts
            counts[old] -= 1
            if not counts[old]:
                del counts[old]
            counts[status] += 1
            self.statuses[position] = status
        if status not in _FINAL and _volatile(member, status):
            self.volatile.add(position)
        else:
            self.volatile.discard(position)


def _volatile(member: Task, status: str) -> bool:
    """Whether a member's status can change without an event closing one of its tasks."""
    if member.is_complete:
        return False
    if status in ("running", "retrying") or isinstance(member, ExternalEventTask):
        return True
    return (
        not isinstance(member, CompletableTask)
        or member.kind in ("child", "event")
        or (member.task_id is None)
    )


def _label(status: str, attempts: int, kind: str) -> str:
    if status == "retrying":
        return f"retrying (attempt {attempts})"
    if status == "completed":
        if kind == "timer":
            return "fired"
        if kind == "event":
            return "received"
        if attempts > 1:
            return f"completed (attempt {attempts})"
    if status == "failed" and attempts > 1:
        return f"failed after {attempts} attempts"
    return status


def _timings(node: dict[str, Any], first: Entry | None, closed: Entry | None) -> None:
    if first is not None:
        node["scheduled_at"] = first.ts.isoformat()
    if closed is not None:
        node["finished_at"] = closed.ts.isoformat()
    if first is not None and closed is not None:
        node["virtual_s"] = (closed.ts - first.ts).total_seconds()
        node["wall_ms"] = round((closed.wall_us - first.wall_us) / 1000, 3)


def _payloads(
    r: ReplayedInstance, first: Entry | None, closed: Entry | None
) -> dict[str, str | None]:
    """input (of the scheduling event), output and error (of the closing event)."""
    out: dict[str, str | None] = {}
    if first is not None:
        out["input"] = r.payload(first)[0]
    if closed is not None:
        text, failure = r.payload(closed)
        out["output"] = text
        if failure is not None:
            out["error"] = f"{failure.error_type}: {failure.message}"
    return out


def _dumps(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return repr(value)


def graph_model(
    replayed: ReplayedInstance,
    *,
    record: InstanceRecord | None = None,
    executing: Collection[int] = (),
    children: Mapping[str, WorkflowStatus] | None = None,
    expanded: Mapping[str, int] | None = None,
    group_limit: int = 100,
    page_size: int = 100,
) -> dict[str, Any]:
    """The graph of a replayed instance: ``steps`` (top-level node and group ids in the
    order the code yielded them, between ``start`` and, once finished, ``end``),
    ``nodes``, ``groups`` (each with ``counts`` per status, ``progress`` and the ids of
    the ``children`` shown), ``edges`` and ``counts`` of all tasks per status.

    Args:
        record: the instance's record (status, name); ``None`` before it exists.
        executing: task ids of this instance's activities running right now (the rest of
            the unfinished ones are ``scheduled``).
        children: status of child workflow instances by id.
        expanded: group id -> page shown, for groups of more than ``group_limit`` tasks
            (the others are collapsed to one node).
    """
    return _Builder(
        replayed,
        record,
        executing,
        children or {},
        expanded or {},
        group_limit,
        page_size,
    ).build()


def node_detail(
    replayed: ReplayedInstance, node_id: str, *, limit: int = 20_000
) -> dict[str, Any] | None:
    """Everything about one node: payloads in full (up to ``limit`` characters each),
    virtual and wall timings, and every attempt."""
    r = replayed
    if node_id in ("start", "end"):
        entry = r.started if node_id == "start" else r.finished
        if entry is None:
            return None
        out: dict[str, Any] = {"id": node_id, "kind": node_id, "at": entry.ts.isoformat()}
        text, failure = r.payload(entry)
        if text is not None:
            out["input" if node_id == "start" else "output"] = _pretty(text, limit)
        if failure is not None:
            out["error"] = _failure(failure)
        return out
    if not node_id.startswith("t") or not node_id[1:].isdigit():
        return None
    position = int(node_id[1:])
    if position >= len(r.tasks):
        return None
    task = r.tasks[position]
    attempts = []
    ids = r.task_ids(task)
    r.load_payloads(e for i in ids for e in (r.scheduled.get(i), r.closed.get(i)))
    for n, task_id in enumerate(ids, 1):
        first = r.scheduled.get(task_id)
        closed = r.closed.get(task_id)
        attempt: dict[str, Any] = {"attempt": n, "task_id": task_id}
        _timings(attempt, first, closed)
        if first is not None:
            attempt["scheduled_wall"] = first.wall_time
        if closed is not None:
            attempt["finished_wall"] = closed.wall_time
            failure = r.payload(closed)[1]
            attempt["status"] = "failed" if failure is not None else "completed"
            if failure is not None:
                attempt["error"] = _failure(failure)
        else:
            attempt["status"] = "open"
        attempts.append(attempt)
    out = {
        "id": node_id,
        "kind": task.kind,
        "name": task.name,
        "attempt_count": r.attempts(task),
        "attempts": attempts,
    }
    first = r.scheduled.get(ids[0]) if ids else None
    closed = r.closed.get(ids[-1]) if ids else None
    if task.kind == "event":
        closed = r.event_received(task)
        if closed is not None:
            out["output"] = _pretty(r.payload(closed)[0], limit)
            out["finished_at"] = closed.ts.isoformat()
        elif task.is_complete and not task.is_failed:
            out["output"] = _pretty(_dumps(task.get_result()), limit)
        elif task.is_failed:
            out["error"] = {"message": str(task.get_exception()), "type": "TimeoutError"}
    else:
        payloads = _payloads(r, first, closed)
        if payloads.get("input") is not None:
            out["input"] = _pretty(payloads["input"], limit)
        if payloads.get("output") is not None:
            out["output"] = _pretty(payloads["output"], limit)
        _timings(out, first, closed)
        if task.is_failed:
            exc = task.get_exception()
            if isinstance(exc, TaskFailedError):
                out["error"] = _failure(exc.details)
    fire_at = getattr(task, "fire_at", None)
    if fire_at is not None:
        out["fire_at"] = fire_at.isoformat()
    if task.kind == "child":
        out["child_instance_id"] = r.child_instance_id(task)
    return out


def _failure(failure: FailureDetails) -> dict[str, Any]:
    return {
        "type": failure.error_type,
        "message": failure.message,
        "stack_trace": failure.stack_trace,
    }


def _pretty(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    try:
        pretty = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = text
    if len(pretty) > limit:
        return pretty[:limit] + f"\n… ({len(pretty) - limit:,} more characters)"
    return pretty


# ------------------------------------------------------------------------ layout
NODE_W, NODE_H = 176, 48
GROUP_W, GROUP_H = 300, 78
GAP_X, GAP_Y = 14, 34
PAD, HEAD, PAGER = 10, 24, 26
COLUMNS = 8
MARGIN = 16


def layout(model: dict[str, Any], *, columns: int = COLUMNS) -> dict[str, Any]:
    """Add ``x``, ``y``, ``w``, ``h`` to nodes and groups, ``points`` to the edges worth
    drawing, and the drawing's ``width`` and ``height``: steps top to bottom, the members
    of a group side by side (wrapped every ``columns``)."""
    nodes = {n["id"]: n for n in model["nodes"]}
    groups = {g["id"]: g for g in model["groups"]}
    boxes: dict[str, dict[str, Any]] = {**nodes, **groups}

    def measure(item_id: str) -> tuple[int, int]:
        if item_id in nodes:
            box = nodes[item_id]
            box["w"], box["h"] = NODE_W, NODE_H
            return NODE_W, NODE_H
        group = groups[item_id]
        if group["collapsed"]:
            group["w"], group["h"] = GROUP_W, GROUP_H
            return GROUP_W, GROUP_H
        rows: list[list[str]] = [
            group["children"][i : i + columns] for i in range(0, len(group["children"]), columns)
        ]
        sizes = {c: measure(c) for c in group["children"]}
        width = max(
            [sum(sizes[c][0] for c in row) + GAP_X * (len(row) - 1) for row in rows] or [NODE_W]
        )
        heights = [max(sizes[c][1] for c in row) for row in rows]
        height = sum(heights) + GAP_Y * max(0, len(heights) - 1) if rows else 0
        extra = PAGER if group["pages"] > 1 else 0
        group["rows"] = rows
        group["row_heights"] = heights
        group["w"] = max(width + 2 * PAD, 220)
        group["h"] = HEAD + GAP_Y // 2 + height + GAP_Y // 2 + extra + PAD
        return group["w"], group["h"]

    def place(item_id: str, x: float, y: float) -> None:
        box = boxes[item_id]
        box["x"], box["y"] = x, y
        if item_id not in groups or box["collapsed"]:
            return
        top = y + HEAD + GAP_Y // 2
        for row, height in zip(box["rows"], box["row_heights"], strict=True):
            row_w = sum(boxes[c]["w"] for c in row) + GAP_X * (len(row) - 1)
            cx = x + (box["w"] - row_w) / 2
            for c in row:
                place(c, cx, top + (height - boxes[c]["h"]) / 2)
                cx += boxes[c]["w"] + GAP_X
            top += height + GAP_Y

    sizes = [measure(s) for s in model["steps"]]
    width = max([w for w, _ in sizes] or [NODE_W]) + 2 * MARGIN
    y = MARGIN
    for step, (w, h) in zip(model["steps"], sizes, strict=True):
        place(step, (width - w) / 2, y)
        y += h + GAP_Y
    for edge in model["edges"]:
        a, b = boxes.get(edge["from"]), boxes.get(edge["to"])
        if a is None or b is None or "x" not in a or "x" not in b:
            continue
        if edge["kind"] == "next":
            edge["points"] = [
                [a["x"] + a["w"] / 2, a["y"] + a["h"]],
                [b["x"] + b["w"] / 2, b["y"]],
            ]
        elif edge["kind"] == "fork" and len(a.get("rows", ())) == 1:
            edge["points"] = [
                [b["x"] + b["w"] / 2, a["y"] + HEAD],
                [b["x"] + b["w"] / 2, b["y"]],
            ]
        elif edge["kind"] == "join" and len(b.get("rows", ())) == 1:
            bottom = b["y"] + b["h"] - PAD - (PAGER if b["pages"] > 1 else 0)
            edge["points"] = [[a["x"] + a["w"] / 2, a["y"] + a["h"]], [a["x"] + a["w"] / 2, bottom]]
    for group in groups.values():
        group.pop("rows", None)
        group.pop("row_heights", None)
    model["width"] = width
    model["height"] = max(y - GAP_Y + MARGIN, 2 * MARGIN)
    return model
