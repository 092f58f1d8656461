"""Registered workflows and activities, and how they are invoked with decoded input."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from wfkit.core import _serde
from wfkit.core._context import registered_name
from wfkit.core._errors import (
    ActivityNotRegisteredError,
    VersionNotRegisteredError,
    WorkflowNotRegisteredError,
)
from wfkit.core._history import HistoryEvent, WorkflowStarted


@dataclass(frozen=True)
class Registered:
    """A workflow or activity function under its registered name."""

    name: str
    fn: Callable[..., Any]
    takes_input: bool
    input_class: Any
    #: ``async def`` (run on the event loop rather than a worker thread); asked per call
    is_async: bool = field(init=False)
    #: A workflow function that is not itself a generator function returns the generator
    #: of code it picks when called; Dapr calls it again at every event (asked per event).
    delegates: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "is_async", inspect.iscoroutinefunction(self.fn))
        object.__setattr__(self, "delegates", not inspect.isgeneratorfunction(self.fn))

    @classmethod
    def of(cls, fn: Callable[..., Any], name: str) -> Registered:
        takes_input, input_class = _serde.resolve_input(fn)
        return cls(name, fn, takes_input, input_class)

    def invoke(self, ctx: Any, encoded_input: str | None) -> Any:
        if not self.takes_input:
            return self.fn(ctx)
        value = _serde.coerce(_serde.decode(encoded_input), self.input_class)
        return self.fn(ctx, value)


@dataclass
class VersionedWorkflow:
    """The versions of one workflow (``register_versioned_workflow``), as Dapr runs them: a
    new instance runs the latest version and records its name in its first
    ``WorkflowStarted``; an instance replays with the version its history records."""

    name: str
    versions: dict[str, Registered] = field(default_factory=dict)
    latest: str | None = None

    @property
    def fn(self) -> Callable[..., Any] | None:
        """The latest version's function (what a code pane shows before a replay starts)."""
        entry = self.versions.get(self.latest or "")
        return entry.fn if entry is not None else None

    def version_of(self, history: Sequence[HistoryEvent]) -> str | None:
        """The version an instance with ``history`` runs: the one recorded, or the latest."""
        for event in history:
            if isinstance(event, WorkflowStarted) and event.version_name:
                return event.version_name
        return self.latest

    @property
    def delegates(self) -> bool:
        return any(v.delegates for v in self.versions.values())

    def runs(self, history: Sequence[HistoryEvent]) -> bool:
        """Whether the version an instance with ``history`` runs is registered."""
        return self.version_of(history) in self.versions

    def no_latest(self) -> WorkflowNotRegisteredError:
        return WorkflowNotRegisteredError(
            f"workflow {self.name!r} has versions ({', '.join(sorted(self.versions))}) but "
            "none is the latest, so a new instance has no code to run: register one with "
            "is_latest=True"
        )

    def code_for_version(self, recorded: str | None) -> tuple[str, Registered]:
        """(the version an instance runs, its code): the version its history records
        (``recorded``), or the latest for a new instance."""
        version = recorded or self.latest
        if version is None:
            raise self.no_latest()
        code = self.versions.get(version)
        if code is None:
            raise VersionNotRegisteredError(
                f"this instance runs version {version!r} of workflow {self.name!r}, which is "
                f"not registered (registered: {', '.join(sorted(self.versions))}). Register it "
                f"with wfr.register_versioned_workflow(fn, name={self.name!r}, "
                f"version_name={version!r}, is_latest=False)."
            )
        return version, code

    def invoke(self, ctx: Any, encoded_input: str | None) -> Any:
        """Run the latest version (the executor asks :meth:`code_for_version` first, so
        that an instance replays the version its history records)."""
        return self.code_for_version(None)[1].invoke(ctx, encoded_input)


class Registry:
    """Name -> function maps. Registering a name again replaces it (re-run notebook cells)."""

    def __init__(self) -> None:
        self.workflows: dict[str, Registered | VersionedWorkflow] = {}
        self.activities: dict[str, Registered] = {}

    def add_version(
        self, fn: Callable[..., Any], name: str, version_name: str | None, is_latest: bool
    ) -> VersionedWorkflow:
        """Register ``fn`` as version ``version_name`` (default: its ``__name__``) of the
        workflow ``name``; the same version registered again is replaced."""
        if not callable(fn):
            raise TypeError(f"register_versioned_workflow takes a function, not {fn!r}")
        if not isinstance(name, str) or not name:
            raise ValueError("register_versioned_workflow needs name=<the workflow's name>")
        version = version_name if version_name is not None else fn.__name__
        _serde.check_text(name, what="workflow name")
        _serde.check_text(version, what="version name")
        entry = self.workflows.get(name)
        if not isinstance(entry, VersionedWorkflow):  # a plain workflow is replaced
            entry = self.workflows[name] = VersionedWorkflow(name)
        fn.__dict__.setdefault("_dapr_alternate_name", name)
        entry.versions[version] = Registered.of(fn, name)
        if is_latest:
            entry.latest = version
        elif entry.latest == version:
            entry.latest = None
        return entry

    def startable(self, name: str) -> None:
        """Raise unless a new instance of ``name`` can start (a versioned workflow needs a
        latest version)."""
        entry = self.workflow(name)
        if isinstance(entry, VersionedWorkflow) and entry.latest is None:
            raise entry.no_latest()

    def add(self, kind: str, fn: Callable[..., Any], name: str | None) -> Registered:
        if not callable(fn):
            raise TypeError(f"register_{kind} takes a function, not {type(fn).__name__}")
        existing = getattr(fn, "_dapr_alternate_name", None)
        if existing is not None and name is not None and name != existing:
            raise ValueError(
                f"{kind.capitalize()} {fn.__name__} already has an alternate name {existing}"
            )
        effective = name or existing or registered_name(fn)
        _serde.check_text(effective, what=f"{kind} name")
        fn.__dict__["_dapr_alternate_name"] = effective
        entry = Registered.of(fn, effective)
        (self.workflows if kind == "workflow" else self.activities)[effective] = entry
        return entry

    def workflow(self, name: str) -> Registered | VersionedWorkflow:
        try:
            return self.workflows[name]
        except KeyError:
            raise WorkflowNotRegisteredError(
                f"no workflow is registered as {name!r} (registered: "
                f"{', '.join(sorted(self.workflows)) or 'none'}). Register it with "
                "@wfr.workflow or wfr.register_workflow(fn) before scheduling it."
            ) from None

    def activity(self, name: str) -> Registered:
        try:
            return self.activities[name]
        except KeyError:
            raise ActivityNotRegisteredError(
                f"Activity function named '{name}' was not registered! (registered: "
                f"{', '.join(sorted(self.activities)) or 'none'}). Register it with "
                "@wfr.activity or wfr.register_activity(fn)."
            ) from None


def alternate_name(name: str | None = None) -> Callable[[Any], Any]:
    """Decorator giving a workflow or activity function the name it is registered under."""

    def wrapper(fn: Any) -> Any:
        if hasattr(fn, "_dapr_alternate_name"):
            raise ValueError(
                f"Function {fn.__name__} already has an alternate name {registered_name(fn)}"
            )
        fn.__dict__["_dapr_alternate_name"] = name or fn.__name__
        return fn

    return wrapper
