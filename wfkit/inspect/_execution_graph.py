"""The execution graph of an executor at a point of its history (time travel's view)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wfkit.core._history import HistoryEvent
from wfkit.core._orchestration import Orchestration
from wfkit.core._state import InstanceRecord
from wfkit.core._task import CompletableTask, CompositeTask, ExternalEventTask, WhenAllTask
from wfkit.inspect._graph_model import graph_model
from wfkit.inspect._replay import ReplayedInstance
from wfkit.store import StoredEvent


def execution_graph(
    orchestration: Orchestration,
    events: Sequence[StoredEvent | HistoryEvent],
    *,
    instance_id: str | None = None,
    record: InstanceRecord | None = None,
) -> dict[str, Any]:
    """The execution graph of an executor that has applied ``events`` (the history up
    to its position): the graph model the widgets draw (``steps``, ``nodes``, ``groups``,
    ``edges``, ``counts``; see :func:`wfkit.inspect._graph_model.graph_model`)."""
    iid = instance_id or orchestration.ctx.instance_id
    stored = [
        StoredEvent(iid, i, e, 0.0) if isinstance(e, HistoryEvent) else e
        for i, e in enumerate(events)
    ]
    replayed = ReplayedInstance(iid, orchestration=orchestration)
    replayed.feed(stored)
    return graph_model(replayed, record=record)


def simple_graph(orchestration: Orchestration) -> dict[str, Any]:
    """A plain graph of what the code yielded: ``steps`` (ids in order), ``nodes``
    (``kind``, ``name``, ``task_id``, ``status``) and ``groups`` (``mode``, ``children``)."""
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
