"""The execution graph of one instance as plain, JSON-safe data (what the graph draws).

:func:`graph_model` turns a :class:`ReplayedInstance` into steps in the order the code
yielded them: a leaf node per activity, timer, external-event wait or child workflow, and
a group per ``when_all``/``when_any`` whose tasks sit side by side. A group of more than
``group_limit`` tasks is collapsed to one node with counts per status and its progress;
expanding it shows its tasks a page at a time. :func:`layout` adds coordinates.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from wfkit.core._history import OPTIONAL_TIMER_FIRE_AT
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.core._task import (
    CompletableTask,
    CompositeTask,
    ExternalEventTask,
    Task,
    WhenAllTask,
)
from wfkit.inspect._graph_layout import layout
from wfkit.inspect._group_tally import GroupTally, GroupWindow, group_window
from wfkit.inspect._node_detail import json_text, node_detail, node_payloads, node_timings
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
_INSTANCE_STATUS = {
    WorkflowStatus.PENDING: "scheduled",
    WorkflowStatus.RUNNING: "running",
    WorkflowStatus.SUSPENDED: "waiting",
    WorkflowStatus.COMPLETED: "completed",
    WorkflowStatus.FAILED: "failed",
    WorkflowStatus.TERMINATED: "cancelled",
}
PREVIEW_CHARS = 80

__all__ = ["STATUSES", "graph_model", "layout", "node_detail", "preview"]


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
        unawaited_limit: int | None = None,
    ):
        self.r = replayed
        self.unawaited_limit = unawaited_limit
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
        #: the member ids of tallied groups (kept across builds), covered as they are
        self.tallied: list[set[int]] = []
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
        node_timings(node, started, closed)
        if kind == "event" and leaf.is_complete and not leaf.is_failed and closed is None:
            node["output"] = preview(json_text(leaf.get_result()))
        self.previews.append((node, None if kind == "event" else first, closed))
        self.nodes.append(node)
        return node

    def fill_previews(self) -> None:
        """Payload previews of the nodes drawn, their payloads read in one go."""
        r = self.r
        r.load_payloads(e for _, first, closed in self.previews for e in (first, closed))
        for node, first, closed in self.previews:
            for key, text in node_payloads(r, first, closed).items():
                if text is not None:
                    node[key] = preview(text)

    def item(self, task: Task, path: str, lost: bool) -> dict[str, Any] | None:
        """A step or a group's member: a node or a group."""
        if isinstance(task, CompositeTask) and not isinstance(task, ExternalEventTask):
            return self.group(task, path, lost)
        leaf = task.get_tasks()[0] if isinstance(task, ExternalEventTask) else task
        if self.is_covered(leaf):
            return None  # yielded again (already drawn)
        result = self.leaf(task, lost)
        assert isinstance(result, dict)
        return result

    def group(self, task: CompositeTask, path: str, lost: bool) -> dict[str, Any] | None:
        if self.is_covered(task):
            return None
        self.covered.add(id(task))
        members = task.get_tasks()
        mode = "all" if isinstance(task, WhenAllTask) else "any"
        members_lost = lost or (mode == "any" and task.is_complete)
        gid = f"g{path}"
        expanded_page = self.expanded.get(gid)
        window = group_window(len(members), self.group_limit, self.page_size, expanded_page)
        shown: list[str] = []
        state = (members_lost, self.ended)
        cached = self.cache.get(id(task)) if window.paged else None
        tally = self.tally(task, members, state) if window.paged else None
        # hidden members count as drawn (no orphans)
        if tally is None:
            self.covered.update(map(id, members))
        else:
            self.tallied.append(tally.ids)
        local: Counter[str]
        if tally is not None:
            # a large group of leaves: counts kept up to date, nodes for the page shown
            local = leaves = self.tallied_page(tally, members, members_lost, window, shown)
            self.counts.update(local)
        elif window.collapsed and isinstance(cached, tuple) and cached[0] == state:
            _, local, leaves, inner = cached
            self.counts.update(leaves)
            self.covered.update(inner)
        else:
            local, leaves = self.counted(task, path, members_lost, window, shown)
        group = self.group_json(task, gid, mode, local, leaves, lost, window, shown)
        for child in shown:
            self.edges.append({"from": gid, "to": child, "kind": "fork"})
            self.edges.append({"from": child, "to": gid, "kind": "join"})
        self.groups.append(group)
        return group

    def tallied_page(
        self,
        tally: GroupTally,
        members: list[Task],
        members_lost: bool,
        window: GroupWindow,
        shown: list[str],
    ) -> Counter[str]:
        """Draw the page of a tallied group; its counts, which agree with the nodes."""
        leaf_status = self.leaf_status
        for i in range(window.lo, window.hi):
            member = members[i]
            status, leaf, attempts = leaf_status(member, members_lost)
            tally.set(i, member, status)
            shown.append(self.node(member, leaf, status, attempts)["id"])
        return tally.counts

    def counted(
        self,
        task: CompositeTask,
        path: str,
        members_lost: bool,
        window: GroupWindow,
        shown: list[str],
    ) -> tuple[Counter[str], Counter[str]]:
        """Draw the members in the window, count them all: (counts per status of the
        members, counts of the leaves under them)."""
        before = self.counts.copy()
        local: Counter[str] = Counter()
        direct: Counter[str] = Counter()
        inner: list[int] = []
        leaf_status = self.leaf_status
        lo, hi = window.lo, window.hi
        for i, member in enumerate(task.get_tasks()):
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
        self.covered.update(inner)
        leaves = self.counts - before
        final = task.is_complete and (isinstance(task, WhenAllTask) or self.ended)
        if window.collapsed and (final or self.ended):
            self.cache[id(task)] = ((members_lost, self.ended), local, leaves, inner)
        return local, leaves

    def group_json(
        self,
        task: CompositeTask,
        gid: str,
        mode: str,
        local: Counter[str],
        leaves: Counter[str],
        lost: bool,
        window: GroupWindow,
        shown: list[str],
    ) -> dict[str, Any]:
        size = len(task.get_tasks())
        done = sum(n for s, n in local.items() if s not in _ACTIVE)
        return {
            "id": gid,
            "type": "group",
            "mode": mode,
            "size": size,
            "counts": {s: local[s] for s in STATUSES if local[s]},
            "done": done,
            "progress": round(done / size, 4) if size else 1.0,
            "status": self.group_status(task, Counter(leaves), lost),
            "label": f"when_{mode} · {size:,} task{'s' if size != 1 else ''}",
            "collapsed": window.collapsed,
            "expandable": window.paged,
            "page": window.page,
            "pages": window.pages,
            "children": shown,
        }

    def tally(
        self, task: CompositeTask, members: list[Task], state: tuple[bool, bool]
    ) -> GroupTally | None:
        """The kept counts of a group whose members are all leaves, brought up to date
        (None for a group of groups)."""
        tally = self.cache.get(id(task))
        if isinstance(tally, GroupTally):
            tally.update(members, self.leaf_status, state, self.r, self.executing)
            return tally
        if tally is not None or any(
            isinstance(m, CompositeTask) and not isinstance(m, ExternalEventTask) for m in members
        ):
            return None  # a group of groups (counted as it is drawn)
        tally = GroupTally(
            state, members, self.leaf_status, len(self.r.closed_order), self.executing
        )
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
        for task in self.unawaited():
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

    def is_covered(self, task: Task) -> bool:
        """Whether ``task`` is drawn already, or counted in a group."""
        key = id(task)
        if key in self.covered:
            return True
        for ids in self.tallied:  # noqa: SIM110 (a loop: most builds have one or none)
            if key in ids:
                return True
        return False

    def unawaited(self) -> list[Task]:
        """The tasks the code created but yielded in no step or group (drawn on their own).
        A task once awaited stays so (steps and groups only grow), so a build looks only
        at the tasks created since the last one and at those unawaited then: the 100k
        tasks of a fan-out are looked at once, not at every refresh."""
        r = self.r
        tasks = r.tasks
        seen, before = 0, list[int]()
        if r.unawaited_scan is not None and r.unawaited_scan[0] is tasks:
            _, seen, before = r.unawaited_scan
        end = len(tasks)
        todo = [*before, *range(seen, end)]
        found: list[Task] = []
        left: list[int] = []  # positions not awaited (looked at again next time)
        limit = self.unawaited_limit
        for i, position in enumerate(todo):
            task = tasks[position]
            if self.is_covered(task) or r.origin(task) in INNER_TIMERS:
                continue
            if limit is not None and len(found) >= limit:
                left.extend(todo[i:])  # a drawing of code still creating its tasks
                break
            found.append(task)
            left.append(position)
        r.unawaited_scan = (tasks, end, left)
        return found

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
        replayed, record, executing, children or {}, expanded or {}, group_limit, page_size
    ).build()


def running_graph_model(
    replayed: ReplayedInstance,
    *,
    record: InstanceRecord | None,
    executing: Collection[int],
    children: Mapping[str, WorkflowStatus],
    expanded: Mapping[str, int],
    group_limit: int,
    page_size: int,
) -> dict[str, Any]:
    """:func:`graph_model` of an instance read while its code runs (a drawing to replace
    once the episode ends): of the tasks the code created but has not yielded yet, the
    first ``group_limit`` are drawn and counted (a fan-out being built)."""
    return _Builder(
        replayed, record, executing, children, expanded, group_limit, page_size, group_limit
    ).build()
