"""The parts of ``wfkit.connect`` that need no engine: addresses, the missing-dependency
error, reading engine messages (unknown kinds included) and the widgets' engine interface."""

from __future__ import annotations

import sys
from datetime import datetime

import pytest

import wfkit as wf
from wfkit.core._history import EventRaised, TimerCreated, TimerFired
from wfkit.interop._channel import parse_address
from wfkit.interop._mirror import _Progress
from wfkit.widgets._live import EngineView, PolledEngine, WorkflowControl, engine_of

T = datetime(2026, 1, 1)


@pytest.mark.parametrize(
    ("given", "target"),
    [
        ("localhost:50001", "localhost:50001"),
        (" 127.0.0.1:4001 ", "127.0.0.1:4001"),
        ("http://daprd:50001", "daprd:50001"),
        ("grpc://daprd:50001/", "daprd:50001"),
        ("[::1]:50001", "[::1]:50001"),
    ],
)
def test_addresses_are_read_as_grpc_targets(given: str, target: str) -> None:
    assert parse_address(given) == target


@pytest.mark.parametrize("given", ["localhost", ":50001", "a:b:c", "host:0", "host:65536", None])
def test_malformed_addresses_are_refused_with_an_example(given: object) -> None:
    with pytest.raises(wf.EngineAddressError, match="localhost:50001"):
        parse_address(given)


def test_without_dapr_installed_connect_says_which_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "grpc", None)  # import grpc now fails
    with pytest.raises(wf.MissingDependencyError, match=r"wfkit\[dapr\]") as caught:
        wf.connect("localhost:50001")
    assert isinstance(caught.value, ImportError)


def _messages(*items: dict) -> list:
    protos = pytest.importorskip("dapr.ext.workflow._durabletask.internal.protos")
    from google.protobuf import json_format

    return [json_format.ParseDict(item, protos.HistoryEvent()) for item in items]


def test_engine_messages_convert_and_unknown_kinds_raise_a_typed_error() -> None:
    from wfkit.interop.dapr import from_engine_messages

    started = {
        "eventId": -1,
        "timestamp": "2026-01-01T00:00:00Z",
        "executionStarted": {"name": "w"},
    }
    sent = {"eventId": 3, "timestamp": "2026-01-01T00:00:01Z", "eventSent": {"name": "x"}}
    events = from_engine_messages(_messages(started, sent), instance_id="i")
    assert [e.kind for e in events] == ["ExecutionStarted"]  # eventSent is read past

    unknown = _messages(started)[0]
    unknown.MergeFromString(bytes([0xB8, 0x3E, 0x01]))  # a field this protocol lacks
    assert unknown.WhichOneof("eventType") == "executionStarted"
    bare = type(unknown)()
    bare.MergeFromString(bytes([0xB8, 0x3E, 0x01]))
    with pytest.raises(wf.UnknownHistoryEventError, match=r"event 5 of the history of 'i'"):
        from_engine_messages([bare], instance_id="i", start=5)


def test_progress_tracks_waits_and_timers_from_a_history() -> None:
    progress = _Progress()
    wait = TimerCreated(
        timestamp=T, task_id=1, fire_at=T, origin="external_event", origin_name="Approval"
    )
    timer = TimerCreated(timestamp=T, task_id=2, fire_at=T, origin="create_timer")
    for event in (wait, timer):
        progress.apply(event)
    assert [name for name, _ in progress.waits] == ["Approval"]
    progress.apply(EventRaised(timestamp=T, event_name="approval", input=None))
    assert progress.waits == [] and list(progress.timers) == [2]
    progress.apply(TimerFired(timestamp=T, timer_id=2, fire_at=T))
    assert progress.timers == {}


def test_wfkit_runtime_satisfies_the_widgets_engine_interface(wfr: wf.WorkflowRuntime) -> None:
    engine = engine_of(wfr)
    assert isinstance(engine, EngineView)
    assert not isinstance(engine, PolledEngine)  # it commits what it runs: nothing to poll
    assert isinstance(wf.DaprWorkflowClient(wfr), WorkflowControl)
    assert engine_of(wf.DaprWorkflowClient(wfr)) is engine
    with pytest.raises(TypeError, match="WorkflowRuntime or Connection"):
        engine_of(object())
