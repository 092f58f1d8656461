"""wfkit histories in Dapr's shape, and Dapr's histories as wfkit events (the codec
behind :mod:`wfkit.interop.dapr`, kept here so every layer can read Dapr's histories).

Dapr's workflow engine (durabletask) keeps a history as ``HistoryEvent`` protobuf
messages; their JSON form (``google.protobuf.json_format.MessageToJson`` of each event,
as a JSON list) is the exchange format here. :func:`to_dapr_dicts` writes exactly what
``MessageToDict`` gives for the same messages (camelCase names, RFC 3339 timestamps,
``StringValue`` wrappers as plain strings, default values left out), so an exported
history parses back into protobuf messages, and :func:`from_dapr` reads Dapr's export
(or the messages themselves) into wfkit's events.

The mapping, event by event (protobuf field -> wfkit field):

=============================  ==========================================================
``executionStarted``           ``name``, ``input``, ``parentInstance.taskScheduledId`` and
                               ``.workflowInstance.instanceId`` -> ``ExecutionStarted``
``workflowStarted``            ``WorkflowStarted`` (the episode's time; ``version``: name, patches)
``taskScheduled``              ``eventId`` -> ``task_id``, ``name``, ``input``,
                               ``taskExecutionId``, ``router.targetAppID`` -> ``app_id``
``taskCompleted``/``Failed``   ``taskScheduledId``, ``result`` / ``failureDetails``
``timerCreated``               ``eventId``, ``fireAt``; the origin (``createTimer``,
                               ``externalEvent.name``, ``activityRetry``,
                               ``childWorkflowRetry``) -> ``origin``/``origin_name``
``timerFired``                 ``timerId``, ``fireAt``
``eventRaised``                ``name``, ``input``
``childWorkflowInstance*``     ``instanceId``, ``name``, ``input``, ``result``, ``failure``
``executionSuspended/Resumed``  ``input`` -> ``reason``
``executionTerminated``        ``input`` -> ``output``, ``recurse`` -> ``recursive``
``executionCompleted``         ``workflowStatus`` (``ORCHESTRATION_STATUS_*``), ``result``,
                               ``failureDetails``
=============================  ==========================================================

Dapr events wfkit has no counterpart for (``eventSent``, ``continueAsNew``,
``workflowCompleted``, ``executionStalled``, ``detachedWorkflowInstanceCreated``) are
left out on import. The source line wfkit records with each decision is not exported.

The Dapr client's ``get_workflow_history`` (a list of ``WorkflowHistoryEvent``, wfkit's
or Dapr's) carries no payloads: :func:`from_workflow_history` reads it with inputs and
results as ``None``, timers without their fire time and origin (``origin == ""``) and
fired timers without the id of their timer (``timer_id == -1``); a time-travel cursor
fills the timer details in from the workflow code as it replays.

protobuf itself is needed only by :func:`to_protobuf` and to read message objects; it
is imported when used (it comes with ``dapr``, the ``dev`` extra).
"""

from wfkit.core._dapr_export import to_dapr_dicts, to_dapr_json, to_protobuf
from wfkit.core._dapr_format import parse_timestamp, timestamp_json
from wfkit.core._dapr_import import (
    IGNORED_KINDS,
    from_dapr,
    from_engine_messages,
    from_workflow_history,
    instance_id_of,
    is_workflow_history,
)

__all__ = [
    "IGNORED_KINDS",
    "from_dapr",
    "from_engine_messages",
    "from_workflow_history",
    "instance_id_of",
    "is_workflow_history",
    "parse_timestamp",
    "timestamp_json",
    "to_dapr_dicts",
    "to_dapr_json",
    "to_protobuf",
]
