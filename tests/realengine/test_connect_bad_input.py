"""Bad input on a connection to Dapr's engine: an address nothing answers at, an engine
that dies while an instance is watched, an instance purged while watched, and a history
with an event kind wfkit does not know. Each is a typed error or a visible state."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("dapr.ext.workflow")

import wfkit
from wfkit.interop.sidecar import BUILD_HINT, Sidecar, free_port, sidecar_path, start_sidecar
from wfkit.widgets._live import hub_for

from .connect_app import WAIT, DaprApp, connect_order, dapr_app
from .test_connect import _follow_threads, finished_order, until, waiting_order


@pytest.fixture
def own_engine(tmp_path: Path) -> Iterator[DaprApp]:
    """An engine of its own (to kill it, or to write into its database), with Dapr's SDK."""
    if sidecar_path() is None:
        pytest.skip(f"Dapr's workflow engine is not built: {BUILD_HINT}")
    engine = start_sidecar(db=tmp_path / "engine.sqlite")
    try:
        with dapr_app(engine) as app:
            yield app
    finally:
        engine.stop()


def test_an_address_nothing_answers_at_fails_fast_with_a_typed_error() -> None:
    started = time.monotonic()
    with pytest.raises(wfkit.EngineUnavailableError, match="did not answer") as caught:
        wfkit.connect(f"127.0.0.1:{free_port()}", timeout=2)
    assert time.monotonic() - started < 3
    assert "--dapr-grpc-port" in str(caught.value)  # says what to check
    assert isinstance(caught.value, ConnectionError)


@pytest.mark.parametrize("address", ["localhost", "localhost:http", "host:70000", "", 50001])
def test_a_malformed_address_is_refused(address: object) -> None:
    with pytest.raises(wfkit.EngineAddressError, match="host:port"):
        wfkit.connect(address)  # type: ignore[arg-type]


def test_an_engine_that_dies_mid_watch_shows_it_and_stops_polling(
    own_engine: DaprApp, caplog: pytest.LogCaptureFixture
) -> None:
    iid = waiting_order(own_engine)
    conn = wfkit.connect(own_engine.sidecar.address, workflows=[connect_order], timeout=2)
    view = conn.watch(iid, interval=0.1)
    try:
        until(lambda: view.status is not None and view.status.state == "polling")
        own_engine.sidecar.process.kill()
        until(lambda: view.status.state == "unreachable", timeout=15)
        until(lambda: "wfkit-follow-unreachable" in view.status.value)
        assert "did not" in view.status.value and "Polling stopped" in view.status.value
        until(lambda: not _follow_threads(iid))
        # what was copied stays readable; calls to the engine fail fast and typed
        assert view.graph.graph["nodes"]
        assert len(conn.history(iid, refresh=False)) > 0
        started = time.monotonic()
        with pytest.raises(wfkit.EngineUnavailableError):
            conn.get_workflow_state(iid)
        assert time.monotonic() - started < 5
        assert not hub_for(conn._engine).errors
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR and "wfkit" in r.name]
    finally:
        view.close()
        conn.close()


def test_an_instance_purged_while_watched_shows_it(sidecar: Sidecar) -> None:
    with dapr_app(sidecar) as app:
        iid = waiting_order(app)
        with wfkit.connect(sidecar.address, workflows=[connect_order]) as conn:
            view = conn.watch(iid, interval=0.1)
            try:
                until(lambda: view.status is not None and view.status.state == "polling")
                # purged behind wfkit's back, by Dapr's client (a finished instance only)
                app.client.terminate_workflow(iid)
                app.client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
                app.client.purge_workflow(iid)
                until(lambda: view.status.state in ("purged", "finished"))
                if view.status.state == "finished":  # polled between terminate and purge
                    assert conn.refresh([iid]).purged == 1
                else:
                    until(lambda: "wfkit-follow-purged" in view.status.value)
                    assert "purged" in view.status.value
                assert conn.store.record(iid) is None
                assert not hub_for(conn._engine).errors
            finally:
                view.close()


def _add_unknown_event(db: Path, instance_id: str, sequence: int) -> None:
    """Write a history event whose kind this protocol does not define (field 999), as a
    newer engine would, and mark the instance updated."""
    unknown = bytes([0xB8, 0x3E, 0x01])  # field 999, varint 1
    with sqlite3.connect(db, timeout=10) as con:
        con.execute(
            "INSERT INTO History (InstanceID, SequenceNumber, EventPayload) VALUES (?, ?, ?)",
            (instance_id, sequence, unknown),
        )
        con.execute(
            "UPDATE Instances SET LastUpdatedTime = datetime('now', '+1 minute') "
            "WHERE InstanceID = ?",
            (instance_id,),
        )


def test_an_unknown_event_kind_is_a_typed_error_and_the_store_stays_as_it_was(
    own_engine: DaprApp,
) -> None:
    done = finished_order(own_engine)
    _add_unknown_event(own_engine.sidecar.db, done, 1000)
    with wfkit.connect(own_engine.sidecar.address) as conn:
        with pytest.raises(wfkit.UnknownHistoryEventError, match="cannot read") as caught:
            conn.refresh([done])
        assert done in str(caught.value) and "upgrade wfkit" in str(caught.value)
        assert conn.store.records() == []
        assert conn.sql("SELECT count(*) AS n FROM history")["n"][0] == 0
        # the state is still readable over gRPC
        assert conn.get_workflow_state(done).runtime_status.name == "COMPLETED"


def test_an_unknown_event_kind_while_watched_is_a_visible_state(own_engine: DaprApp) -> None:
    iid = waiting_order(own_engine)
    with wfkit.connect(own_engine.sidecar.address, workflows=[connect_order]) as conn:
        view = conn.watch(iid, interval=0.1)
        try:
            until(lambda: view.status is not None and view.status.state == "polling")
            before = len(conn.history(iid, refresh=False))
            _add_unknown_event(own_engine.sidecar.db, iid, 1000)
            until(lambda: view.status.state == "unreadable")
            until(lambda: "wfkit-follow-unreadable" in view.status.value)
            assert "cannot read" in view.status.value
            until(lambda: not _follow_threads(iid))
            assert len(conn.history(iid, refresh=False)) == before  # nothing half-copied
            assert not hub_for(conn._engine).errors
        finally:
            view.close()
