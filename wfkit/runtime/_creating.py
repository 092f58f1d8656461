"""New instances that share a durable write: on a store where every commit is a durable
write of its own (a file), ``schedule`` hands a new instance to the engine instead of
writing it from the calling thread, and the next commit takes every new instance that
waits (a turn's commit, with the episodes of every instance that was ready): one write
serves them all, and the client does not wait for the engine lock between two writes.

The call returns once its instance is durable; a write the store refuses fails every
new instance it carried, and leaves nothing of them behind. Each new instance is taken
and committed with the engine lock held, so no reader sees it before it is durable.

Each function is a method of :class:`~wfkit.runtime._engine.Engine`, which assembles them.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from wfkit.core._errors import StoreWriteError

if TYPE_CHECKING:
    from wfkit.runtime._engine import Engine

#: Seconds between looks at the engine of a caller whose instance waits for a commit
#: (a commit wakes it at once; the looks only notice a commit that will not come)
LOOK = 0.005


@dataclass(eq=False, slots=True)
class Creation:
    """A new instance waiting for a commit to take it."""

    name: str
    encoded_input: str | None
    instance_id: str
    done: threading.Event = field(default_factory=threading.Event)
    error: StoreWriteError | None = None
    #: the id is taken (or was): the ordinary path decides (reuse, or refuse)
    declined: bool = False


def schedule_shared(self: Engine, name: str, encoded_input: str | None, instance_id: str) -> bool:
    """Schedule a new instance due now through a shared commit (no engine lock held).
    False when the ordinary path must take it: the store writes nothing on its own, the
    engine does not run, the id is taken."""
    if not (self._group_commits and self._recovered and self.running) or self._in_turn():
        return False
    creation = Creation(name, encoded_input, instance_id)
    with self._arrival:
        self._creations.append(creation)
    wait = 0.0
    while not creation.done.wait(wait):
        wait = LOOK
        if not self.running or self.failure is not None:
            with self._lock:  # a commit under way may take it still
                if self._withdraw(creation):
                    return False
            continue
        if self._lock.acquire(blocking=False):
            try:  # no commit will take it soon: write it (with any that wait) now
                if not creation.done.is_set() and not self._commit_coming():
                    self._commit_new()
            finally:
                self._lock.release()
    if creation.error is not None:
        raise creation.error
    return not creation.declined


def withdraw(self: Engine, creation: Creation) -> bool:
    """Take back a creation no commit took (engine lock held)."""
    with self._arrival:
        if creation in self._creations:
            self._creations.remove(creation)
            return True
    return False


def commit_coming(self: Engine) -> bool:
    """Whether a turn will commit soon (engine lock held): one runs its code, results
    are being delivered, or instances are ready for the engine thread."""
    if not self.running or self.write_error is not None:
        return False
    return self._active_turn is not None or self._delivering or bool(self._ready)


def take_new(self: Engine) -> list[Creation]:
    """Put the waiting new instances in the open batch (engine lock held); each is
    ready once the commit made it durable."""
    with self._arrival:
        waiting, self._creations = self._creations, []
    taken: list[Creation] = []
    for creation in waiting:
        instance_id = creation.instance_id
        if instance_id in self._records or instance_id in self._live:
            creation.declined = True
            creation.done.set()
            continue
        self._create(instance_id, creation.name, creation.encoded_input, None)
        del self._ready[instance_id]
        taken.append(creation)
    return taken


def commit_new(self: Engine, *, deferrable: bool = False) -> None:
    """Commit the open batch with the new instances that wait (engine lock held); raises
    ``StoreWriteError`` (every new instance it carried fails, and is gone). A turn's
    commit is ``deferrable`` (``recording.commit``)."""
    if not self._creations:
        self._commit(deferrable=deferrable)
        return
    taken = self._take_new()
    try:
        self._commit()
    except StoreWriteError as exc:
        for creation in taken:
            instance_id = creation.instance_id
            self._live.pop(instance_id, None)
            self._ready.pop(instance_id, None)
            self._batch.records.pop(instance_id, None)
            self._records.pop(instance_id, None)
            creation.error = exc
            creation.done.set()
        raise
    if taken:
        for creation in taken:
            if creation.instance_id in self._live:
                self._ready[creation.instance_id] = None
            creation.done.set()
        self._wake.notify()
        self._changed.notify_all()
        # let the callers run now (this thread would keep the GIL, and form and take the
        # next turn before they come back): the next commit can take what they do next
        time.sleep(0)
