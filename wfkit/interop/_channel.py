"""The gRPC side of a connection to a Dapr-compatible workflow engine.

Dapr's sidecar (``daprd``) and durabletask-go's standalone sidecar serve the same
``TaskHubSidecarService``; the stubs are the ones Dapr's Python SDK vendors, so this
module needs ``dapr`` (and with it ``grpcio`` and ``protobuf``): ``pip install
'wfkit[dapr]'``. Every call has a deadline, and every gRPC failure comes out as one of
wfkit's errors that says what to do, never as a ``grpc.RpcError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from wfkit.core._errors import (
    EngineAddressError,
    EngineError,
    EngineUnavailableError,
    InstanceNotFoundError,
    InvalidInstanceStateError,
    MissingDependencyError,
)
from wfkit.core._history import FailureDetails
from wfkit.core._state import InstanceRecord, WorkflowStatus

#: ``OrchestrationStatus`` numbers as wfkit's statuses.
_STATUS = {
    0: WorkflowStatus.RUNNING,
    1: WorkflowStatus.COMPLETED,
    2: WorkflowStatus.RUNNING,  # continued as new: running again
    3: WorkflowStatus.FAILED,
    4: WorkflowStatus.TERMINATED,  # canceled
    5: WorkflowStatus.TERMINATED,
    6: WorkflowStatus.PENDING,
    7: WorkflowStatus.SUSPENDED,
    8: WorkflowStatus.STALLED,
}
_ADDRESS = re.compile(
    r"^(?:(?:grpc|http|dns)s?://)?(?:\[([0-9a-fA-F:.]+)\]|([^:/\[\]]+)):(\d{1,5})/?$"
)
#: Requests a refresh of many instances keeps in flight at once.
IN_FLIGHT = 32
#: Dapr's limit on a gRPC message, raised: a long history is one message.
MAX_MESSAGE = 256 * 1024 * 1024
_HINT = (
    "check that the engine runs and that the address is its gRPC port (daprd's "
    "--dapr-grpc-port, e.g. localhost:50001; wfkit.interop.sidecar.start_sidecar() "
    "prints .address)"
)


def load_protocol() -> tuple[Any, Any, Any]:
    """``(grpc, protos, stubs)``, or :class:`MissingDependencyError` saying what to install."""
    try:
        import grpc
        from dapr.ext.workflow._durabletask.internal import orchestrator_service_pb2_grpc, protos
    except ImportError as exc:
        raise MissingDependencyError(
            "connecting to a Dapr workflow engine needs Dapr's Python SDK (gRPC and the "
            f"engine's protocol): pip install 'wfkit[dapr]' ({exc})"
        ) from None
    return grpc, protos, orchestrator_service_pb2_grpc


def parse_address(address: Any) -> str:
    """``host:port`` (optionally ``http://`` or ``grpc://`` in front) as a gRPC target."""
    if not isinstance(address, str):
        raise EngineAddressError(
            f"the engine's address is a text 'host:port' (e.g. 'localhost:50001'), "
            f"not {type(address).__name__}"
        )
    match = _ADDRESS.match(address.strip())
    if match is None or not 0 < int(match.group(3)) < 65536:
        raise EngineAddressError(
            f"cannot read {address!r} as an engine address: write 'host:port', e.g. "
            "'localhost:50001' (daprd's gRPC port) or 'localhost:4001'"
        )
    ipv6, host, port = match.groups()
    return f"[{ipv6}]:{port}" if ipv6 else f"{host}:{port}"


def _text(message: Any, field: str) -> str | None:
    return getattr(message, field).value if message.HasField(field) else None


def _time(message: Any, field: str) -> datetime | None:
    return getattr(message, field).ToDatetime() if message.HasField(field) else None


def record_of(state: Any) -> InstanceRecord:
    """A ``WorkflowState`` message as wfkit's instance record (times naive UTC)."""
    failure = None
    if state.HasField("failureDetails"):
        details = state.failureDetails
        failure = FailureDetails(
            message=details.errorMessage,
            error_type=details.errorType,
            stack_trace=_text(details, "stackTrace"),
        )
    created = _time(state, "createdTimestamp") or datetime(1970, 1, 1)
    return InstanceRecord(
        instance_id=state.instanceId,
        name=state.name,
        status=_STATUS.get(state.workflowStatus, WorkflowStatus.UNKNOWN),
        created_at=created,
        last_updated_at=_time(state, "lastUpdatedTimestamp") or created,
        input=_text(state, "input"),
        output=_text(state, "output"),
        custom_status=_text(state, "customStatus"),
        failure=failure,
        parent_instance_id=_text(state, "parentInstanceId") or None,
        start_at=_time(state, "scheduledStartTimestamp"),
    )


class EngineChannel:
    """One gRPC channel to an engine, with its calls as plain Python.

    Args:
        address: ``host:port`` of the engine's gRPC endpoint.
        timeout: seconds to wait for the engine to answer a call (and, at opening, to
            answer at all).
    """

    def __init__(self, address: str, *, timeout: float = 5.0):
        self.grpc, self.protos, stubs = load_protocol()
        self.target = parse_address(address)
        self.timeout = timeout
        self._channel = self.grpc.insecure_channel(
            self.target,
            options=[
                ("grpc.max_receive_message_length", MAX_MESSAGE),
                ("grpc.max_send_message_length", MAX_MESSAGE),
            ],
        )
        self._stub = stubs.TaskHubSidecarServiceStub(self._channel)
        try:
            self.probe()
        except BaseException:
            self._channel.close()
            raise

    def probe(self) -> None:
        """Check that a gRPC server answers at the address (an engine without ``Hello``
        answers UNIMPLEMENTED, which is an answer)."""
        from google.protobuf import empty_pb2

        try:
            self._stub.Hello(empty_pb2.Empty(), timeout=self.timeout)
        except self.grpc.RpcError as exc:
            if exc.code() != self.grpc.StatusCode.UNIMPLEMENTED:
                raise self._error(exc, "answer") from None

    def call(self, method: str, request: Any, what: str, *, timeout: float | None = None) -> Any:
        """``stub.<method>(request)`` with a deadline; errors as wfkit's."""
        rpc: Callable[..., Any] = getattr(self._stub, method)
        try:
            return rpc(request, timeout=self.timeout if timeout is None else timeout)
        except self.grpc.RpcError as exc:
            raise self._error(exc, what) from None
        except ValueError as exc:  # a closed channel
            raise EngineUnavailableError(
                f"the connection to {self.target} is closed ({exc}); connect again"
            ) from None

    def _error(self, exc: Any, what: str) -> Exception:
        codes = self.grpc.StatusCode
        code = exc.code() if callable(getattr(exc, "code", None)) else None
        details = (exc.details() if callable(getattr(exc, "details", None)) else None) or ""
        if code in (codes.UNAVAILABLE, codes.DEADLINE_EXCEEDED):
            reason = "no answer in time" if code == codes.DEADLINE_EXCEEDED else details
            return EngineUnavailableError(
                f"Dapr's workflow engine at {self.target} did not {what} ({reason}): {_HINT}"
            )
        if code == codes.NOT_FOUND:
            return InstanceNotFoundError(f"the engine at {self.target} cannot {what}: {details}")
        if code in (codes.FAILED_PRECONDITION, codes.ALREADY_EXISTS):
            return InvalidInstanceStateError(f"the engine refused to {what}: {details}")
        name = code.name if code is not None else type(exc).__name__
        return EngineError(f"the engine at {self.target} failed to {what}: {name}: {details}")

    # ------------------------------------------------------------------ reading
    def instance(self, instance_id: str) -> InstanceRecord | None:
        response = self.call(
            "GetInstance",
            self.protos.GetInstanceRequest(instanceId=instance_id, getInputsAndOutputs=True),
            f"report instance {instance_id!r}",
        )
        return record_of(response.workflowState) if response.exists else None

    def instances(self, instance_ids: list[str]) -> dict[str, InstanceRecord | None]:
        """:meth:`instance` of many, with up to ``IN_FLIGHT`` requests in flight at once
        (an engine answers each from its database: a round trip of a few ms)."""
        out: dict[str, InstanceRecord | None] = {}
        for start in range(0, len(instance_ids), IN_FLIGHT):
            chunk = instance_ids[start : start + IN_FLIGHT]
            futures = [
                self._stub.GetInstance.future(
                    self.protos.GetInstanceRequest(instanceId=i, getInputsAndOutputs=True),
                    timeout=self.timeout,
                )
                for i in chunk
            ]
            for instance_id, future in zip(chunk, futures, strict=True):
                try:
                    response = future.result()
                except self.grpc.RpcError as exc:
                    raise self._error(exc, f"report instance {instance_id!r}") from None
                out[instance_id] = record_of(response.workflowState) if response.exists else None
        return out

    def history(self, instance_id: str) -> list[Any]:
        """The instance's ``HistoryEvent`` messages, oldest first."""
        response = self.call(
            "GetInstanceHistory",
            self.protos.GetInstanceHistoryRequest(instanceId=instance_id),
            f"send the history of {instance_id!r}",
        )
        return list(response.events)

    def instance_ids(
        self, page_size: int | None = None, token: str | None = None
    ) -> tuple[list[str], str | None]:
        request = self.protos.ListInstanceIDsRequest()
        if page_size is not None:
            request.pageSize = page_size
        if token:
            request.continuationToken.value = token
        response = self.call("ListInstanceIDs", request, "list its instances")
        next_token = _text(response, "continuationToken")
        return list(response.instanceIds), next_token or None

    def wait(self, instance_id: str, *, completion: bool, timeout: float | None) -> Any:
        """Wait (server side) for an instance to start or to finish; its record."""
        method = "WaitForInstanceCompletion" if completion else "WaitForInstanceStart"
        request = self.protos.GetInstanceRequest(instanceId=instance_id, getInputsAndOutputs=True)
        rpc = getattr(self._stub, method)
        try:
            response = rpc(request, timeout=timeout)
        except self.grpc.RpcError as exc:
            if exc.code() == self.grpc.StatusCode.DEADLINE_EXCEEDED and timeout:
                raise TimeoutError(
                    f"instance {instance_id!r} did not {'finish' if completion else 'start'} "
                    f"within {timeout} s"
                ) from None
            raise self._error(exc, f"wait for instance {instance_id!r}") from None
        return record_of(response.workflowState) if response.exists else None

    # ------------------------------------------------------------------ acting
    def raise_event(self, instance_id: str, name: str, data: str | None) -> None:
        request = self.protos.RaiseEventRequest(instanceId=instance_id, name=name)
        if data is not None:
            request.input.value = data
        self.call("RaiseEvent", request, f"raise event {name!r} on {instance_id!r}")

    def terminate(self, instance_id: str, output: str | None, recursive: bool) -> None:
        request = self.protos.TerminateRequest(instanceId=instance_id, recursive=recursive)
        if output is not None:
            request.output.value = output
        self.call("TerminateInstance", request, f"terminate {instance_id!r}")

    def suspend(self, instance_id: str, reason: str | None = None) -> None:
        request = self.protos.SuspendRequest(instanceId=instance_id)
        if reason is not None:
            request.reason.value = reason
        self.call("SuspendInstance", request, f"suspend {instance_id!r}")

    def resume(self, instance_id: str, reason: str | None = None) -> None:
        request = self.protos.ResumeRequest(instanceId=instance_id)
        if reason is not None:
            request.reason.value = reason
        self.call("ResumeInstance", request, f"resume {instance_id!r}")

    def purge(self, instance_id: str, recursive: bool) -> int:
        request = self.protos.PurgeInstancesRequest(instanceId=instance_id, recursive=recursive)
        response = self.call("PurgeInstances", request, f"purge {instance_id!r}")
        return int(response.deletedInstanceCount)

    def close(self) -> None:
        self._channel.close()
