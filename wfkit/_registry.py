"""Registered workflows and activities, and how they are invoked with decoded input."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from . import _serde
from ._errors import ActivityNotRegisteredError, WorkflowNotRegisteredError
from ._orchestration import registered_name


@dataclass(frozen=True)
class Registered:
    """A workflow or activity function under its registered name."""

    name: str
    fn: Callable[..., Any]
    takes_input: bool
    input_class: Any

    @classmethod
    def of(cls, fn: Callable[..., Any], name: str) -> Registered:
        takes_input, input_class = _serde.resolve_input(fn)
        return cls(name, fn, takes_input, input_class)

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)

    def invoke(self, ctx: Any, encoded_input: str | None) -> Any:
        if not self.takes_input:
            return self.fn(ctx)
        value = _serde.coerce(_serde.decode(encoded_input), self.input_class)
        return self.fn(ctx, value)


class Registry:
    """Name -> function maps. Registering a name again replaces it (re-run notebook cells)."""

    def __init__(self) -> None:
        self.workflows: dict[str, Registered] = {}
        self.activities: dict[str, Registered] = {}

    def add(self, kind: str, fn: Callable[..., Any], name: str | None) -> Registered:
        if not callable(fn):
            raise TypeError(f"register_{kind} takes a function, not {type(fn).__name__}")
        existing = getattr(fn, "_dapr_alternate_name", None)
        if existing is not None and name is not None and name != existing:
            raise ValueError(
                f"{kind.capitalize()} {fn.__name__} already has an alternate name {existing}"
            )
        effective = name or existing or registered_name(fn)
        fn.__dict__["_dapr_alternate_name"] = effective
        entry = Registered.of(fn, effective)
        (self.workflows if kind == "workflow" else self.activities)[effective] = entry
        return entry

    def workflow(self, name: str) -> Registered:
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
                f"Function {fn.__name__} already has an alternate name {fn._dapr_alternate_name}"
            )
        fn.__dict__["_dapr_alternate_name"] = name or fn.__name__
        return fn

    return wrapper
