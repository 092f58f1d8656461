"""Tasks an orchestrator yields, and the retry policy; semantics of Dapr's engine.

A task completes once; composites (``when_all``/``when_any``) adopt their children and
react in ``on_child_completed``, as in durabletask's ``task.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

from wfkit.core._history import FailureDetails

T = TypeVar("T")


class TaskFailedError(Exception):
    """Raised into the orchestrator when an activity or child workflow it awaits failed."""

    def __init__(self, message: str, details: FailureDetails):
        super().__init__(message)
        self._details = details

    @property
    def details(self) -> FailureDetails:
        return self._details


class Task(Generic[T]):
    """Something an orchestrator can ``yield``; it completes once, with a result or an error."""

    def __init__(self) -> None:
        self._is_complete = False
        self._exception: BaseException | None = None
        self._result: Any = None
        self._parent: CompositeTask | None = None

    @property
    def group(self) -> CompositeTask | None:
        """The when_all/when_any this task notifies when it completes, if any."""
        return self._parent

    @group.setter
    def group(self, group: CompositeTask | None) -> None:
        self._parent = group

    @property
    def is_complete(self) -> bool:
        return self._is_complete

    @property
    def is_failed(self) -> bool:
        return self._exception is not None

    def get_result(self) -> T:
        if not self._is_complete:
            raise ValueError("The task has not completed.")
        if self._exception is not None:
            raise self._exception
        return self._result

    def get_exception(self) -> BaseException:
        if self._exception is None:
            raise ValueError("The task has not failed.")
        return self._exception

    def _notify_parent(self) -> None:
        if self._parent is not None:
            self._parent.on_child_completed(self)


class CompletableTask(Task[T]):
    """A task completed by one history event (activity, timer, event, child workflow).

    ``kind`` and ``task_id`` describe it for graphs and time travel; ``task_id`` is None
    for an event wait, which has no id of its own.
    """

    def __init__(self, kind: str = "task", name: str | None = None, task_id: int | None = None):
        super().__init__()
        self.kind = kind
        self.name = name
        self.task_id = task_id
        #: The call whose retry this timer waits for (retry timers only).
        self.retry_of: RetryableTask | None = None

    def complete(self, result: Any) -> None:
        if self._is_complete:
            raise ValueError("The task has already completed.")
        self._result = result
        self._is_complete = True
        self._notify_parent()

    def fail(self, message: str, details: FailureDetails) -> None:
        if self._is_complete:
            raise ValueError("The task has already completed.")
        self._exception = TaskFailedError(message, details)
        self._is_complete = True
        self._notify_parent()

    def cancel(self, exc: BaseException) -> None:
        if self._is_complete:
            return
        self._exception = exc
        self._is_complete = True
        self._notify_parent()


class TimerTask(CompletableTask[None]):
    def __init__(self, task_id: int, fire_at: datetime, retry_of: RetryableTask | None = None):
        super().__init__("timer", None, task_id)
        self.fire_at = fire_at
        self.retry_of = retry_of


class RetryableTask(CompletableTask[T]):
    """An activity or child workflow call with a retry policy; each retry gets a new task id."""

    def __init__(
        self,
        kind: str,
        name: str,
        task_id: int,
        policy: RetryPolicy,
        start_time: datetime,
        encoded_input: str | None,
        task_execution_id: str = "",
        instance_id: str | None = None,
        app_id: str | None = None,
    ):
        super().__init__(kind, name, task_id)
        self.policy = policy
        self.attempt_count = 1
        self.start_time = start_time
        self.encoded_input = encoded_input
        self.task_execution_id = task_execution_id
        self.instance_id = instance_id
        self.app_id = app_id
        #: PropagationScope value of the call, kept for its retries
        self.propagation = 0

    def compute_next_delay(self) -> timedelta | None:
        """Delay before the next attempt, or None when the policy is exhausted (as Dapr)."""
        policy = self.policy
        if self.attempt_count >= policy.max_number_of_attempts:
            return None
        expiration = datetime.max
        if policy.retry_timeout is not None:
            expiration = self.start_time + policy.retry_timeout
        coefficient = policy.backoff_coefficient or 1.0
        total = 0.0
        delay = 0.0
        for i in range(1, self.attempt_count + 1):
            delay = math.pow(coefficient, i - 1) * policy.first_retry_interval.total_seconds()
            if policy.max_retry_interval is not None:
                delay = min(delay, policy.max_retry_interval.total_seconds())
            total += delay
        if self.start_time + timedelta(seconds=total) < expiration:
            return timedelta(seconds=delay)
        return None


class CompositeTask(Task[T]):
    def __init__(self, tasks: Sequence[Task]):
        super().__init__()
        tasks = list(tasks)
        if len({id(t) for t in tasks}) != len(tasks):
            raise ValueError(
                "the same task was passed to when_all/when_any more than once; pass each task once"
            )
        for t in tasks:
            if not isinstance(t, Task):
                raise TypeError(
                    f"when_all/when_any take tasks (from ctx.call_activity, ctx.create_timer, "
                    f"...), not {type(t).__name__}"
                )
            if t.group is not None and not t.group.is_complete and not t.is_complete:
                raise ValueError(
                    "a pending task passed to when_all/when_any already belongs to another "
                    "pending when_all/when_any; it can notify only one of them"
                )
        self._tasks = tasks
        self._completed_tasks = 0
        for t in tasks:
            t.group = self
            if t.is_complete:
                self.on_child_completed(t)

    def get_tasks(self) -> list[Task]:
        return self._tasks

    def on_child_completed(self, task: Task) -> None:
        raise NotImplementedError


class WhenAllTask(CompositeTask[list[T]]):
    """Completes when every child has; then fails with the first failure, if any (as Dapr)."""

    def __init__(self, tasks: Sequence[Task[T]]):
        self._pending_exception: BaseException | None = None
        super().__init__(tasks)
        if not self._tasks:
            self._result = []
            self._is_complete = True

    @property
    def pending_tasks(self) -> int:
        return len(self._tasks) - self._completed_tasks

    def on_child_completed(self, task: Task) -> None:
        if self._is_complete:
            return
        self._completed_tasks += 1
        if task.is_failed and self._pending_exception is None:
            self._pending_exception = task.get_exception()
        if self._completed_tasks < len(self._tasks):
            return
        self._is_complete = True
        if self._pending_exception is not None:
            self._exception = self._pending_exception
        else:
            self._result = [t.get_result() for t in self._tasks]
        self._notify_parent()


class WhenAnyTask(CompositeTask[Task]):
    """Completes with the first child to complete (the task object itself is the result)."""

    def __init__(self, tasks: Sequence[Task]):
        super().__init__(tasks)
        if not self._tasks:
            self._result = []
            self._is_complete = True

    def on_child_completed(self, task: Task) -> None:
        if not self._is_complete:
            self._is_complete = True
            self._result = task
            self._notify_parent()


class ExternalEventTask(CompositeTask[T]):
    """An event wait guarded by a timer: the event's data, or TimeoutError if the timer wins."""

    def __init__(
        self,
        event_task: CompletableTask,
        timer_task: TimerTask,
        event_name: str,
        timeout: datetime | timedelta | None,
        on_timeout: Callable[[], None],
    ):
        self._event_task = event_task
        self._timer_task = timer_task
        self._event_name = event_name
        self._timeout = timeout
        self._on_timeout = on_timeout
        super().__init__([event_task, timer_task])

    def on_child_completed(self, task: Task) -> None:
        if self._is_complete:
            return
        if task is self._event_task:
            if task.is_failed:
                self._exception = task.get_exception()
            else:
                self._result = task.get_result()
        elif task is self._timer_task:
            self._on_timeout()
            after = f" after {self._timeout!r}" if self._timeout is not None else ""
            self._exception = TimeoutError(
                f"Timed out{after} waiting for external event {self._event_name!r}"
            )
        else:
            return
        self._is_complete = True
        self._notify_parent()


def when_all(tasks: list[Task[T]]) -> WhenAllTask[T]:
    """A task that completes once all ``tasks`` complete, surfacing the first failure
    (if any) only after every task has finished."""
    return WhenAllTask(tasks)


def when_any(tasks: list[Task]) -> WhenAnyTask:
    """A task that completes when any of ``tasks`` completes or fails; its result is that task."""
    return WhenAnyTask(tasks)


class RetryPolicy:
    """Retry policy for an activity or child workflow call (Dapr's signature and checks)."""

    def __init__(
        self,
        *,
        first_retry_interval: timedelta,
        max_number_of_attempts: int,
        backoff_coefficient: float | None = 1.0,
        max_retry_interval: timedelta | None = None,
        retry_timeout: timedelta | None = None,
        non_retryable_error_types: list[str | type] | None = None,
    ):
        if not isinstance(first_retry_interval, timedelta):
            raise TypeError("first_retry_interval must be a timedelta, e.g. timedelta(seconds=1)")
        if first_retry_interval < timedelta(0):
            raise ValueError(f"first_retry_interval must be >= 0, not {first_retry_interval!r}")
        if not isinstance(max_number_of_attempts, int) or max_number_of_attempts < 1:
            raise ValueError(
                "max_number_of_attempts must be >= 1 (the first attempt counts), "
                f"not {max_number_of_attempts!r}"
            )
        if backoff_coefficient is not None and backoff_coefficient < 1:
            raise ValueError(
                "backoff_coefficient must be >= 1 (1 keeps the delay constant), "
                f"not {backoff_coefficient!r}"
            )
        if max_retry_interval is not None and max_retry_interval < timedelta(0):
            raise ValueError(
                f"max_retry_interval must be >= 0 (or None for no cap), not {max_retry_interval!r}"
            )
        if retry_timeout is not None and retry_timeout < timedelta(0):
            raise ValueError(
                f"retry_timeout must be >= 0 (or None for no bound), not {retry_timeout!r}"
            )
        self._first_retry_interval = first_retry_interval
        self._max_number_of_attempts = max_number_of_attempts
        self._backoff_coefficient = backoff_coefficient
        self._max_retry_interval = max_retry_interval
        self._retry_timeout = retry_timeout
        names = {t if isinstance(t, str) else t.__name__ for t in non_retryable_error_types or ()}
        self._non_retryable_error_types = names or None

    @property
    def obj(self) -> RetryPolicy:
        """The policy the engine applies (Dapr's wrapper returns its inner policy here;
        wfkit's policy is its own)."""
        return self

    @property
    def first_retry_interval(self) -> timedelta:
        return self._first_retry_interval

    @property
    def max_number_of_attempts(self) -> int:
        return self._max_number_of_attempts

    @property
    def backoff_coefficient(self) -> float | None:
        return self._backoff_coefficient

    @property
    def max_retry_interval(self) -> timedelta | None:
        return self._max_retry_interval

    @property
    def retry_timeout(self) -> timedelta | None:
        return self._retry_timeout

    @property
    def non_retryable_error_types(self) -> set[str] | None:
        return self._non_retryable_error_types

    def is_retryable(self, error_type: str) -> bool:
        if error_type == "NonRetryableError":
            return False
        return error_type not in (self._non_retryable_error_types or ())

    def __repr__(self) -> str:
        return (
            f"RetryPolicy(first_retry_interval={self._first_retry_interval!r}, "
            f"max_number_of_attempts={self._max_number_of_attempts}, "
            f"backoff_coefficient={self._backoff_coefficient}, "
            f"max_retry_interval={self._max_retry_interval!r}, "
            f"retry_timeout={self._retry_timeout!r})"
        )
