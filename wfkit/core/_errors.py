"""wfkit's own exception and warning types.

Each error says what was wrong and what to do about it. They subclass the builtin
type a Python user would reach for (ValueError, LookupError, ...) so code written
against Dapr's client, which raises those, keeps catching them.
"""

from __future__ import annotations


class WfkitError(Exception):
    """Base class of every error wfkit raises on its own account."""


class WfkitWarning(UserWarning):
    """Base class of wfkit's warnings (for example: re-registering running code)."""


class NonDeterminismError(WfkitError):
    """Replaying a history against the workflow code produced different decisions."""


class WorkflowNotRegisteredError(WfkitError, ValueError):
    """A workflow name that no runtime registered."""


class VersionNotRegisteredError(WorkflowNotRegisteredError):
    """An instance runs a version of its workflow that is not registered (Dapr stalls it)."""


#: Failures of a replay itself (the code cannot follow the history), not of the code:
#: the error types an executor's outcome names when that happens.
REPLAY_ERRORS = frozenset({"NonDeterminismError", "WorkflowNotRegisteredError"})


class ActivityNotRegisteredError(WfkitError, ValueError):
    """An activity name that no runtime registered."""


class InstanceNotFoundError(WfkitError, LookupError):
    """No workflow instance with that id (never created, or purged)."""

    def __str__(self) -> str:  # LookupError would quote the message like a key
        return str(self.args[0]) if self.args else ""


class InstanceExistsError(WfkitError, ValueError):
    """An instance id that is already in use by an instance that has not finished."""


class InvalidInstanceStateError(WfkitError, RuntimeError):
    """The operation does not apply to an instance in its current status."""


class SerializationError(WfkitError, TypeError):
    """A value that cannot be encoded to (or decoded from) JSON."""


class PayloadTooLargeError(WfkitError, ValueError):
    """A serialized payload over the runtime's size limit."""


class RuntimeNotStartedError(WfkitError, RuntimeError):
    """A client call that needs a started WorkflowRuntime, when none is."""


class AppNotFoundError(WfkitError, LookupError):
    """A call routed to an app (``app_id=``) that no started runtime of this process
    serves."""


class StoreError(WfkitError, RuntimeError):
    """The history store cannot do what was asked (read-only, closed, or SQL on a store
    that has none)."""


class StoreLockedError(StoreError):
    """A store file that another process (or another store object in this process) has
    open for writing; only one writer at a time."""


class StoreFormatError(StoreError):
    """A file that is not a wfkit store, or one written by a newer wfkit; it is refused
    and left as it was."""


class StoreCorruptError(StoreFormatError):
    """A DuckDB store file that is damaged (truncated, or a block whose checksum does not
    match); it is refused and left as it was."""


class StoreVersionError(StoreFormatError):
    """A store file written by a newer wfkit (store schema) or a DuckDB whose storage
    format this one cannot read; it is refused and left as it was."""


class EngineUnavailableError(WfkitError, ConnectionError):
    """A workflow engine (Dapr's sidecar) that cannot be reached at its address, or that
    stopped answering."""


class EngineAddressError(WfkitError, ValueError):
    """An engine address that is not ``host:port``."""


class EngineError(WfkitError, RuntimeError):
    """The engine refused or failed a request (the message quotes its reason)."""


class UnknownHistoryEventError(WfkitError, ValueError):
    """A history holds an event of a kind wfkit cannot read (a newer engine's event)."""


class MissingDependencyError(WfkitError, ImportError):
    """A feature needs an optional package that is not installed (the message names the
    extra to install)."""


class SidecarRequiredError(WfkitError, NotImplementedError):
    """A Dapr feature served by Dapr's sidecar, which an in-process runtime does not have."""


class NonRetryableError(Exception):
    """Raise from an activity to fail it at once, whatever its retry policy says."""


class InvalidArgumentError(WfkitError, ValueError):
    """An argument wfkit cannot accept; the message says what to pass instead."""


class UnstorableTextError(InvalidArgumentError):
    """Text that cannot be stored (a lone surrogate such as ``"\\ud800"`` is not UTF-8)."""


class RuntimeStoppedError(RuntimeNotStartedError):
    """The runtime's engine stopped on an error; the message gives the reason."""


class StoreWriteError(StoreError):
    """The store refused a write (a full disk, a failing file); what it refused stays
    pending and is retried, and nothing it accepted before is lost."""
