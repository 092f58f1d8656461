"""The memory store as the oracle: random sequences of batches (new instances, appends,
resets, purges, batches that must fail) leave a store holding what it holds."""

from __future__ import annotations

import random
from datetime import timedelta

from wfkit.core._state import WorkflowStatus
from wfkit.store._base import Batch, HistoryStore, StoredEvent
from wfkit.store._memory import MemoryStore
from wfkit.store.contract._support import (
    T0,
    WALL,
    StoreFactory,
    contents,
    every_kind,
    expect_equal,
    record,
    stored,
    stores,
)

#: Seeds of the sequences :func:`check_random_batches_leave_what_the_memory_store_leaves`
#: commits.
SEEDS = range(4)


def random_batches(rng: random.Random, n: int) -> list[Batch]:
    """Batches as the engine writes them: new instances, appends, resets, purges, a few
    batches that must fail (their events do not continue the history)."""
    lengths: dict[str, int] = {}
    out = []
    for step in range(n):
        batch = Batch(clock_time=T0 + timedelta(seconds=step))
        saved = dict(lengths)
        _purge_or_reset(rng, batch, lengths)
        _add_records_and_events(rng, batch, lengths, step)
        if rng.random() < 0.1 and batch.events:
            last = batch.events[-1]
            batch.events.append(StoredEvent(last.instance_id, last.seq, last.event, WALL))
            lengths = saved  # the batch is refused whole
        out.append(batch)
    return out


def _purge_or_reset(rng: random.Random, batch: Batch, lengths: dict[str, int]) -> None:
    known = list(lengths)
    for _ in range(rng.randint(0, 3)):
        if known and rng.random() < 0.15:
            victim = rng.choice(known)
            if rng.random() < 0.5:
                batch.purges.add(victim)
                lengths.pop(victim, None)
            else:
                batch.resets.add(victim)
                lengths[victim] = 0


def _add_records_and_events(
    rng: random.Random, batch: Batch, lengths: dict[str, int], step: int
) -> None:
    kinds = every_kind()
    for _ in range(rng.randint(0, 4)):
        if not lengths or rng.random() < 0.3:
            iid = f"i{step}-{rng.randint(0, 9)}"
            if iid in batch.purges:
                continue
            lengths.setdefault(iid, 0)
        else:
            iid = rng.choice(list(lengths))
        status = rng.choice(list(WorkflowStatus))
        batch.records[iid] = record(iid, status=status, custom_status=str(step))
        count = rng.choice([0, 1, 2, 3, 12])
        start = lengths.get(iid, 0)
        batch.events.extend(stored(iid, rng.sample(kinds, count), start))
        lengths[iid] = start + count


def _outcome(store: HistoryStore, batch: Batch) -> type[Exception] | None:
    try:
        store.commit(batch)
    except ValueError as exc:
        return type(exc)
    return None


def check_random_batches_leave_what_the_memory_store_leaves(make: StoreFactory) -> None:
    for seed in SEEDS:
        rng = random.Random(seed)
        with stores(make) as new:
            store = new()
            oracle = MemoryStore()
            for i, batch in enumerate(random_batches(rng, 60)):
                what = f"seed {seed}, batch {i}"
                expect_equal(_outcome(store, batch), _outcome(oracle, batch), f"{what}: outcome")
                if rng.random() < 0.3:  # read now and then (a store may write then)
                    expect_equal(contents(store), contents(oracle), f"{what}: contents")
            expect_equal(contents(store), contents(oracle), f"seed {seed}: contents")
            expect_equal(store.clock_time(), oracle.clock_time(), f"seed {seed}: clock_time()")
