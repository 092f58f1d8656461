"""The store contract: checks that a history store keeps the promises of the store
protocols, for wfkit's own backends and for a store of your own.

Each check is a plain function taking a factory of new, empty stores (a file store: a new
file each call); it raises :class:`StoreContractError` (an AssertionError) when the store
breaks a promise, and closes the stores it made. :func:`checks_for` picks the checks a
store class must pass: those of :class:`~wfkit.store.HistoryStore` (which include pages
and DataFrames, read through the base protocol unless the store serves them itself), and
those of :class:`~wfkit.store.QueryableStore` if it is one. With pytest::

    import pytest
    from wfkit.store.contract import checks_for

    @pytest.mark.parametrize("check", checks_for(MyStore), ids=lambda c: c.__name__)
    def test_my_store_keeps_the_contract(check):
        check(MyStore)

or all at once: ``check_store(MyStore)``.
"""

from __future__ import annotations

from collections.abc import Callable

from wfkit.store._base import HistoryStore, QueryableStore
from wfkit.store.contract._history import (
    check_a_batch_that_fails_midway_changes_nothing,
    check_a_purge_deletes_the_record_and_the_history,
    check_a_reset_starts_the_history_over,
    check_an_unchanged_record_committed_again_is_kept,
    check_every_event_kind_round_trips,
    check_few_events_and_many_round_trip_alike,
    check_histories_reads_several_at_once,
    check_many_records_in_one_batch,
    check_purge_and_recreate_in_one_batch,
    check_ranged_reads_are_slices_by_seq,
    check_records_keep_creation_order_when_updated,
    check_records_round_trip_with_every_field,
    check_the_latest_committed_virtual_time_is_kept,
)
from wfkit.store.contract._oracle import check_random_batches_leave_what_the_memory_store_leaves
from wfkit.store.contract._queries import (
    check_history_frames_hold_the_history_rows,
    check_history_indexes_are_narrow_rows,
    check_history_pages_filter_and_count,
    check_history_payloads_are_read_on_demand,
    check_history_rows_carry_the_columns,
    check_instances_frames_filter_by_status_and_name,
    check_sql_reads_the_tables,
    check_sql_views_of_tasks_and_timers,
)
from wfkit.store.contract._support import StoreContractError, StoreFactory

#: A check: raises StoreContractError if the stores ``make`` makes break a promise.
Check = Callable[[StoreFactory], None]

#: What every store must do (pages and DataFrames included).
HISTORY_STORE_CHECKS: tuple[Check, ...] = (
    check_every_event_kind_round_trips,
    check_few_events_and_many_round_trip_alike,
    check_records_round_trip_with_every_field,
    check_many_records_in_one_batch,
    check_records_keep_creation_order_when_updated,
    check_an_unchanged_record_committed_again_is_kept,
    check_ranged_reads_are_slices_by_seq,
    check_histories_reads_several_at_once,
    check_a_reset_starts_the_history_over,
    check_a_purge_deletes_the_record_and_the_history,
    check_purge_and_recreate_in_one_batch,
    check_a_batch_that_fails_midway_changes_nothing,
    check_the_latest_committed_virtual_time_is_kept,
    check_random_batches_leave_what_the_memory_store_leaves,
    check_history_pages_filter_and_count,
    check_history_rows_carry_the_columns,
    check_history_frames_hold_the_history_rows,
    check_instances_frames_filter_by_status_and_name,
)

#: What a QueryableStore does besides.
QUERYABLE_STORE_CHECKS: tuple[Check, ...] = (
    check_sql_reads_the_tables,
    check_sql_views_of_tasks_and_timers,
    check_history_indexes_are_narrow_rows,
    check_history_payloads_are_read_on_demand,
)


def checks_for(store_type: type) -> tuple[Check, ...]:
    """The checks a store of class ``store_type`` must pass."""
    if not issubclass(store_type, HistoryStore):
        raise TypeError(f"{store_type.__name__} does not have the methods of a HistoryStore")
    if issubclass(store_type, QueryableStore):
        return HISTORY_STORE_CHECKS + QUERYABLE_STORE_CHECKS
    return HISTORY_STORE_CHECKS


def check_store(make: StoreFactory) -> None:
    """Run every check that applies to the stores ``make`` makes; raises the first
    StoreContractError."""
    probe = make()
    try:
        checks = checks_for(type(probe))
    finally:
        probe.close()
    for check in checks:
        check(make)


__all__ = [
    "HISTORY_STORE_CHECKS",
    "QUERYABLE_STORE_CHECKS",
    "Check",
    "StoreContractError",
    "StoreFactory",
    "check_a_batch_that_fails_midway_changes_nothing",
    "check_a_purge_deletes_the_record_and_the_history",
    "check_a_reset_starts_the_history_over",
    "check_an_unchanged_record_committed_again_is_kept",
    "check_every_event_kind_round_trips",
    "check_few_events_and_many_round_trip_alike",
    "check_histories_reads_several_at_once",
    "check_history_frames_hold_the_history_rows",
    "check_history_indexes_are_narrow_rows",
    "check_history_pages_filter_and_count",
    "check_history_payloads_are_read_on_demand",
    "check_history_rows_carry_the_columns",
    "check_instances_frames_filter_by_status_and_name",
    "check_many_records_in_one_batch",
    "check_purge_and_recreate_in_one_batch",
    "check_random_batches_leave_what_the_memory_store_leaves",
    "check_ranged_reads_are_slices_by_seq",
    "check_records_keep_creation_order_when_updated",
    "check_records_round_trip_with_every_field",
    "check_sql_reads_the_tables",
    "check_sql_views_of_tasks_and_timers",
    "check_store",
    "check_the_latest_committed_virtual_time_is_kept",
    "checks_for",
]
