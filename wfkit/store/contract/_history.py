"""Checks of the base protocol, :class:`~wfkit.store.HistoryStore`: what goes in comes
back, batches are atomic, resets and purges start over, records keep creation order."""

from __future__ import annotations

from datetime import timedelta

from wfkit.core._history import FailureDetails, WorkflowStarted
from wfkit.core._state import InstanceRecord, WorkflowStatus
from wfkit.store._base import Batch
from wfkit.store.contract._support import (
    T0,
    WALL,
    StoreContractError,
    StoreFactory,
    contents,
    every_kind,
    expect,
    expect_equal,
    record,
    stored,
    stores,
)


# --------------------------------------------------------------------------- round trips
def check_every_event_kind_round_trips(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        events = every_kind()
        store.commit(Batch(records={"i": record("i")}, events=stored("i", events)))
        back = store.history("i")
        expect_equal([s.event for s in back], events, "the events read back")
        expect_equal([s.seq for s in back], list(range(len(events))), "their seqs")
        expect(all(s.instance_id == "i" for s in back), "an event of another instance came back")
        for i, s in enumerate(back):
            expect(abs(s.wall_time - (WALL + i)) < 1e-6, f"wall time of event {i}: {s.wall_time}")


def check_few_events_and_many_round_trip_alike(make: StoreFactory) -> None:
    """A small batch and a large one (a backend may write them differently) read back
    exactly."""
    with stores(make) as new:
        store = new()
        events = every_kind()
        many = events * 20
        store.commit(Batch(records={"few": record("few")}, events=stored("few", events[:3])))
        store.commit(Batch(records={"many": record("many")}, events=stored("many", many)))
        expect_equal([s.event for s in store.history("few")], events[:3], "a few events")
        expect_equal([s.event for s in store.history("many")], many, "many events")


def check_records_round_trip_with_every_field(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        full = record(
            "full",
            name="order",
            status=WorkflowStatus.FAILED,
            created_at=T0,
            last_updated_at=T0 + timedelta(hours=1, microseconds=7),
            input='{"a": 1}',
            output='"out"',
            custom_status='{"step": 3}',
            failure=FailureDetails("boom", "RuntimeError", "trace"),
            parent_instance_id="p",
            parent_task_id=12,
            start_at=T0 + timedelta(days=1),
        )
        bare = record("bare", status=WorkflowStatus.PENDING)
        no_stack = record("no-stack", failure=FailureDetails("m", "E"))
        store.commit(Batch(records={"full": full, "bare": bare, "no-stack": no_stack}))
        expect_equal(store.records(), [full, bare, no_stack], "records()")
        expect_equal(store.record("full"), full, "record('full')")
        expect_equal(store.record("bare"), bare, "record('bare')")
        expect_equal(store.record("missing"), None, "record('missing')")


def check_many_records_in_one_batch(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        records = {
            f"i{n}": record(f"i{n}", parent_task_id=n if n % 2 else None, start_at=None)
            for n in range(50)
        }
        store.commit(Batch(records=records))
        expect_equal(store.records(), list(records.values()), "50 records")
        changed = {
            k: InstanceRecord(**{**_fields(r), "status": WorkflowStatus.COMPLETED})  # type: ignore[arg-type]
            for k, r in records.items()
        }
        store.commit(Batch(records=changed))
        expect_equal(store.records(), list(changed.values()), "50 records changed")


def _fields(r: InstanceRecord) -> dict[str, object]:
    return {name: getattr(r, name) for name in r.__dataclass_fields__}


def check_records_keep_creation_order_when_updated(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        store.commit(Batch(records={"a": record("a"), "b": record("b")}))
        store.commit(Batch(records={"c": record("c")}))
        store.commit(Batch(records={"a": record("a", status=WorkflowStatus.COMPLETED)}))
        expect_equal([r.instance_id for r in store.records()], ["a", "b", "c"], "the order")
        a = store.record("a")
        expect(a is not None and a.status is WorkflowStatus.COMPLETED, "the update of 'a'")


def check_an_unchanged_record_committed_again_is_kept(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        a = record("a")
        store.commit(Batch(records={"a": a}))
        store.commit(Batch(records={"a": a}, events=stored("a", [WorkflowStarted(timestamp=T0)])))
        expect_equal(store.records(), [a], "records()")
        expect_equal(len(store.history("a")), 1, "events of 'a'")


# --------------------------------------------------------------------------- ranged reads
def check_ranged_reads_are_slices_by_seq(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        events = every_kind()
        store.commit(Batch(records={"i": record("i")}, events=stored("i", events)))
        store.commit(Batch(records={"j": record("j")}, events=stored("j", events[:2])))
        n = len(events)
        ranges = [(0, None), (0, 5), (3, 9), (5, 5), (9, 3), (n - 1, None), (n, None), (0, 10**6)]
        for start, stop in ranges:
            got = store.history("i", start=start, stop=stop)
            what = f"history('i', start={start}, stop={stop})"
            expect_equal([s.seq for s in got], list(range(n))[start:stop], what)
            expect_equal([s.event for s in got], events[start:stop], what)
        expect_equal(store.history("missing"), [], "the history of an unknown instance")
        expect_equal(store.history("missing", start=2, stop=4), [], "a range of it")


def check_histories_reads_several_at_once(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        events = every_kind()
        store.commit(
            Batch(
                records={"a": record("a"), "b": record("b")},
                events=stored("a", events[:4]) + stored("b", events[4:6]),
            )
        )
        got = store.histories(["b", "a", "none"])
        expect_equal(set(got), {"a", "b", "none"}, "the instances histories() answers")
        expect_equal([s.event for s in got["a"]], events[:4], "history of 'a'")
        expect_equal([s.event for s in got["b"]], events[4:6], "history of 'b'")
        expect_equal(got["none"], [], "history of an unknown instance")
        expect_equal(store.histories([]), {}, "histories([])")


# --------------------------------------------------------------------------- resets and purges
def check_a_reset_starts_the_history_over(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        events = every_kind()
        store.commit(Batch(records={"i": record("i")}, events=stored("i", events[:5])))
        store.commit(Batch(resets={"i"}, events=stored("i", events[5:7])))
        expect_equal([s.event for s in store.history("i")], events[5:7], "after a reset")
        expect_equal([s.seq for s in store.history("i")], [0, 1], "seqs after a reset")
        store.commit(Batch(resets={"i"}))
        expect_equal(store.history("i"), [], "after an empty reset")
        store.commit(Batch(events=stored("i", events[:1])))
        expect_equal([s.event for s in store.history("i")], events[:1], "appended after it")


def check_a_purge_deletes_the_record_and_the_history(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        events = every_kind()
        store.commit(
            Batch(
                records={"a": record("a"), "b": record("b"), "c": record("c")},
                events=stored("a", events[:3]) + stored("b", events[:2]) + stored("c", events[:1]),
            )
        )
        store.commit(Batch(purges={"a", "b"}))
        expect_equal([r.instance_id for r in store.records()], ["c"], "records after a purge")
        expect_equal(store.record("a"), None, "a purged record")
        expect(store.history("a") == [] and store.history("b") == [], "a purged history is left")
        expect_equal([s.event for s in store.history("c")], events[:1], "the history kept")
        # an id can be used again after a purge; it is then the newest instance
        store.commit(
            Batch(records={"a": record("a", name="again")}, events=stored("a", events[3:4]))
        )
        expect_equal([r.instance_id for r in store.records()], ["c", "a"], "a reused id's order")
        expect_equal(store.record("a"), record("a", name="again"), "the reused id's record")
        expect_equal([s.event for s in store.history("a")], events[3:4], "its history")


def check_purge_and_recreate_in_one_batch(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        events = every_kind()
        store.commit(
            Batch(records={"a": record("a"), "b": record("b")}, events=stored("a", events[:3]))
        )
        store.commit(
            Batch(
                purges={"a"},
                records={"a": record("a", name="new")},
                events=stored("a", events[5:6]),
            )
        )
        expect_equal(
            [(r.instance_id, r.name) for r in store.records()],
            [("b", "wf"), ("a", "new")],
            "records",
        )
        expect_equal([s.event for s in store.history("a")], events[5:6], "the new history")


# --------------------------------------------------------------------------- atomicity
def check_a_batch_that_fails_midway_changes_nothing(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        events = every_kind()
        store.commit(
            Batch(
                records={"a": record("a"), "b": record("b")},
                events=stored("a", events[:3]) + stored("b", events[:2]),
            )
        )
        before = contents(store)
        bad_batches = [
            # a good append to b, then a duplicate seq for a
            Batch(
                records={"a": record("a", status=WorkflowStatus.COMPLETED), "n": record("n")},
                events=stored("b", events[2:4], start=2) + stored("a", events[3:4], start=2),
            ),
            # a gap in a's history
            Batch(events=stored("a", events[3:4], start=4)),
            # a purge and a reset, then an event that does not start a history at 0
            Batch(purges={"b"}, resets={"a"}, events=stored("a", events[:1], start=1)),
            # events of an instance never seen must start at 0
            Batch(records={"z": record("z")}, events=stored("z", events[:1], start=3)),
        ]
        for number, bad in enumerate(bad_batches):
            try:
                store.commit(bad)
            except ValueError as exc:
                expect("cannot append event" in str(exc), f"bad batch {number}: {exc}")
            else:
                raise StoreContractError(f"bad batch {number} was accepted")
            expect_equal(contents(store), before, f"the store after bad batch {number}")
        # the store still takes good batches, from where it was
        store.commit(Batch(events=stored("a", events[3:5], start=3)))
        expect_equal([s.seq for s in store.history("a")], [0, 1, 2, 3, 4], "seqs after them")


def check_the_latest_committed_virtual_time_is_kept(make: StoreFactory) -> None:
    with stores(make) as new:
        store = new()
        expect_equal(store.clock_time(), None, "clock_time() of a new store")
        store.commit(Batch(records={"a": record("a")}, clock_time=T0))
        store.commit(Batch(records={"b": record("b")}, clock_time=T0 + timedelta(days=2)))
        store.commit(Batch(records={"c": record("c")}))  # a batch without a time keeps the last
        expect_equal(store.clock_time(), T0 + timedelta(days=2), "clock_time()")
