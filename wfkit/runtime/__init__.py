"""The in-process engine: turns, timers and auto-skip, activity workers, recovery and forks,
``WorkflowRuntime`` and ``DaprWorkflowClient``. Built on ``core`` and ``store``
(docs/architecture.md)."""
