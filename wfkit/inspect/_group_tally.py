"""Large fan-outs in the graph: the page of members drawn, and counts per status of
all members, kept across graph builds."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Collection
from typing import NamedTuple

from wfkit.core._task import CompletableTask, ExternalEventTask, RetryableTask, Task
from wfkit.inspect._replay import ReplayedInstance

#: Statuses of finished tasks (they never change again).
FINAL = frozenset({"completed", "failed", "timed out"})
#: A leaf's (status, the task that decides it, attempts), as the graph builder tells it.
LeafStatus = Callable[[Task, bool], tuple[str, CompletableTask, int]]


class GroupWindow(NamedTuple):
    """The members of a group that are drawn: positions ``lo`` to ``hi`` (a page)."""

    collapsed: bool
    paged: bool
    page: int
    pages: int
    lo: int
    hi: int


def group_window(size: int, limit: int, page_size: int, expanded_page: int | None) -> GroupWindow:
    """Which members of a group of ``size`` are drawn: all of a group of at most
    ``limit``; of a larger one, none while it is collapsed (``expanded_page`` None), else
    the page asked for."""
    paged = size > limit
    collapsed = paged and expanded_page is None
    pages = max(1, -(-size // page_size)) if paged else 1
    page = min(max(0, expanded_page or 0), pages - 1)
    lo, hi = (page * page_size, (page + 1) * page_size) if paged else (0, size)
    if collapsed:
        lo = hi = 0
    return GroupWindow(collapsed, paged, page, pages, lo, min(hi, size))


class GroupTally:
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
        leaf_status: LeafStatus,
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
            if volatile(member, status):
                self.volatile.add(i)
        self.counts.update(statuses)

    def update(
        self,
        members: list[Task],
        leaf_status: LeafStatus,
        state: tuple[bool, bool],
        replayed: ReplayedInstance,
        executing: Collection[int],
    ) -> None:
        member_of, statuses, volatile = self.member_of, self.statuses, self.volatile
        again = set(volatile)
        if state != self.state:
            self.state = state
            self.lost = state[0]
            again.update(i for i, status in enumerate(statuses) if status not in FINAL)
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
        if status not in FINAL and volatile(member, status):
            self.volatile.add(position)
        else:
            self.volatile.discard(position)


def volatile(member: Task, status: str) -> bool:
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
