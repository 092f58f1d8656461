"""Every seed example and every notebook's workflows, unchanged but for the import line,
on Dapr's real engine (its SDK and the durabletask-go sidecar) and on wfkit.

Each case loads the example twice (``sources``: the module's text with ``wf`` bound to
``dapr.ext.workflow`` or to ``wfkit``), runs the same input and the same events on a
fresh runtime of each engine, and compares status, output, failure type, custom status
and the decisions (activities, timers, child workflows) read back from both histories.

Long timers are never edited. Where an example takes a duration from a parameter, the
real run passes a short one: notebook 08's retry policy ``retry`` (a module-level constant)
is replaced, on both engines, by the same policy in seconds instead of minutes, and notebook
12's ``purchase`` waits ``n`` hours, so ``12-purchase-now`` passes ``n=0``. Where the
duration is a literal in the workflow's code, the case compares both engines while that
timer is pending (``ends=False``), then terminates both (wfkit's own tests fire those
timers on the virtual clock): the monitor seed and notebook 05 (60 s / 5 s, eternal),
purchase order (24 h), request escalation and notebook 06 (7 days), notebook 01 (7 days),
04 (36 h), 09 (1 h) and 12 (``n`` hours). Events are raised the same way on both, once
the instance waits. Stubs replace, on both engines alike, what the examples read from
outside: the seed fan-out's ``time.sleep(5)`` per item and the ``random`` of the monitor
and of notebook 12.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from wfkit.interop.sidecar import Sidecar

from .engines import WAIT, Engine, engine, observe, wait_idle
from .sources import NOTEBOOKS, SEEDS, load_module, load_notebook

pytest.importorskip("dapr.ext.workflow")


@dataclass(frozen=True)
class Case:
    id: str
    #: ``seeds/<module>.py`` or ``notebooks/<name>.ipynb``, relative to its folder
    source: str
    workflow: str
    #: the input, or a function of the loaded module that makes it (for dataclasses)
    input: Any = None
    #: raised, in order, once the instance waits
    events: tuple[tuple[str, Any], ...] = ()
    #: False: compare while a long literal timer (or an eternal loop's timer) is
    #: pending, then terminate
    ends: bool = True
    expect: dict[str, Any] = field(default_factory=dict)
    #: adjusts the loaded module the same way on both engines (stubs for sleeps and
    #: randomness, a shorter retry policy)
    prepare: Callable[[ModuleType, Any], None] | None = None


def no_sleep(module: ModuleType, wf: Any) -> None:
    module.time = SimpleNamespace(sleep=lambda seconds: None)


def always(status: str) -> Callable[[ModuleType, Any], None]:
    def prepare(module: ModuleType, wf: Any) -> None:
        module.random = SimpleNamespace(choice=lambda options: status)

    return prepare


def middle_prices(module: ModuleType, wf: Any) -> None:
    module.random = SimpleNamespace(random=lambda: 0.5)


def short_retry(module: ModuleType, wf: Any) -> None:
    """Notebook 08's policy with its attempts and backoff, in seconds instead of minutes."""
    module.retry = wf.RetryPolicy(
        first_retry_interval=timedelta(seconds=0.5),
        max_number_of_attempts=module.retry.max_number_of_attempts,
        backoff_coefficient=module.retry.backoff_coefficient,
        max_retry_interval=timedelta(seconds=1),
    )


def order(cost: float) -> Callable[[ModuleType], Any]:
    return lambda module: module.Order(cost=cost, product="laptop", quantity=1)


def job(module: ModuleType) -> Any:
    return module.JobStatus(job_id="job-1", is_healthy=True)


DONE = {"status": "COMPLETED"}
ESCALATION = "escalation.py"

CASES = [
    # ---------------------------------------------------------------- seeds
    Case("seed-chain", "task_chaining.py", "task_chain_workflow", 1, expect={"output": [2, 4, 6]}),
    Case("seed-fan-out", "fan_out_fan_in.py", "batch_processing_workflow", 4, prepare=no_sleep),
    Case(
        "seed-monitor",
        "monitor.py",
        "status_monitor_workflow",
        job,
        ends=False,
        prepare=always("unhealthy"),
    ),
    Case(
        "seed-order-auto",
        "purchase_order.py",
        "purchase_order_workflow",
        order(500),
        expect={"output": "Auto-approved", "scheduled": []},
    ),
    Case(
        "seed-order-approved",
        "purchase_order.py",
        "purchase_order_workflow",
        order(2000),
        events=(("approval_received", {"approver": "Ann"}),),
        expect={"output": "Approved by 'Ann'"},
    ),
    Case(
        "seed-order-waits", "purchase_order.py", "purchase_order_workflow", order(2000), ends=False
    ),
    Case("seed-escalation-auto", ESCALATION, "request_escalation", '{"amount": 500}'),
    Case(
        "seed-escalation-approved",
        ESCALATION,
        "request_escalation",
        '{"amount": 5000}',
        events=(("HUMAN_APPROVAL", {"approved": True}),),
    ),
    Case("seed-escalation-waits", ESCALATION, "request_escalation", '{"amount": 5000}', ends=False),
    # ---------------------------------------------------------------- notebooks
    Case("01-hello-week", "01_quickstart.ipynb", "hello_week", "notebook", ends=False),
    Case("02-chain", "02_task_chaining.ipynb", "task_chain_workflow", 10),
    Case("03-batch", "03_fan_out_fan_in.ipynb", "batch_processing_workflow", 5),
    Case("03-big-fan-out", "03_fan_out_fan_in.ipynb", "big_fan_out", 200, expect={"output": 39800}),
    Case(
        "04-order",
        "04_async_http_api.ipynb",
        "order_processing",
        {"Name": "Paperclips", "Quantity": 3},
        ends=False,
        expect={"custom_status": "waiting for the truck"},
    ),
    Case(
        "05-monitor",
        "05_monitor.ipynb",
        "status_monitor_workflow",
        job,
        ends=False,
        prepare=always("unhealthy"),
    ),
    Case(
        "06-auto",
        "06_external_events.ipynb",
        "request_escalation_workflow",
        '{"id": "A", "amount": 10}',
    ),
    Case(
        "06-approved",
        "06_external_events.ipynb",
        "request_escalation_workflow",
        '{"id": "C", "amount": 5000}',
        events=(("human_approval", {"approved": True}),),
    ),
    Case(
        "06-waits",
        "06_external_events.ipynb",
        "request_escalation_workflow",
        '{"id": "B", "amount": 5000}',
        ends=False,
    ),
    Case(
        "07-booked",
        "07_compensation.ipynb",
        "trip",
        ["flight", "hotel"],
        expect={"output": {"booked": ["flight-booking", "hotel-booking"], "undone": []}},
    ),
    Case(
        "07-compensated",
        "07_compensation.ipynb",
        "trip",
        ["flight", "hotel", "car"],
        expect={"custom_status": "compensated: no cars left"},
    ),
    Case(
        "08-children-retries",
        "08_child_workflows_and_retries.ipynb",
        "orders",
        [{"id": "o1", "fails": 0}, {"id": "o2", "fails": 2}, {"id": "o3", "fails": 9}],
        prepare=short_retry,
        expect={"output": ["charged o1", "charged o2", "failed: TaskFailedError"]},
    ),
    Case(
        "09-cheapest",
        "09_time_travel.ipynb",
        "cheapest_supplier",
        ["acme", "globex", "initech"],
        ends=False,
    ),
    Case(
        "11-checkout",
        "11_determinism.ipynb",
        "checkout",
        {"qty": 2},
        expect={"output": "charged 20"},
    ),
    Case(
        "11-rejected", "11_determinism.ipynb", "checkout", {"qty": 0}, expect={"output": "rejected"}
    ),
    Case("12-restock", "12_sql_and_dashboard.ipynb", "restock", 3, prepare=middle_prices),
    Case(
        "12-purchase",
        "12_sql_and_dashboard.ipynb",
        "purchase",
        2,
        ends=False,
        prepare=middle_prices,
    ),
    Case(
        "12-purchase-now",
        "12_sql_and_dashboard.ipynb",
        "purchase",
        0,
        prepare=middle_prices,
        expect={"output": 0, "scheduled": [("timerCreated", 1, None)]},
    ),
]


def load(case: Case, side: Engine) -> ModuleType:
    """The example's code on ``side``, its workflows and activities registered there."""
    wfr = side.runtime
    if case.source.endswith(".ipynb"):
        module = load_notebook(NOTEBOOKS / case.source, side.name, wfr)
    elif case.source == ESCALATION:  # the seed takes the runtime and registers on it
        module = load_module(SEEDS / "request_escalation.py", side.name)
        module.request_escalation = module.build(wfr)
        return module
    else:
        module = load_module(SEEDS / case.source, side.name)
    if not _registers_itself(case):
        for fn in vars(module).values():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__:
                if inspect.isgeneratorfunction(fn):
                    wfr.register_workflow(fn)
                else:
                    wfr.register_activity(fn)
    return module


def _registers_itself(case: Case) -> bool:
    """Notebooks that decorate with ``@wfr.workflow``/``@wfr.activity``."""
    return case.source.endswith(".ipynb") and "@wfr." in (NOTEBOOKS / case.source).read_text()


def run(case: Case, side: Engine) -> dict[str, Any]:
    module = load(case, side)
    if case.prepare is not None:
        case.prepare(module, side.module)
    side.runtime.start()
    client = side.client
    value = case.input(module) if callable(case.input) else case.input
    iid = f"{case.id}-{uuid.uuid4().hex[:8]}"
    client.schedule_new_workflow(getattr(module, case.workflow), input=value, instance_id=iid)
    if case.events or not case.ends:
        wait_idle(client, iid)
    for name, data in case.events:
        client.raise_workflow_event(iid, name, data=data)
    if case.ends:
        client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
        return observe(client, iid)
    seen = observe(client, iid)
    client.terminate_workflow(iid)
    client.wait_for_workflow_completion(iid, timeout_in_seconds=WAIT)
    seen["then"] = observe(client, iid)["status"]
    return seen


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_same_module_on_both_engines(case: Case, sidecar: Sidecar) -> None:
    with engine("dapr", sidecar) as dapr_side:
        on_dapr = run(case, dapr_side)
    with engine("wfkit") as wfkit_side:
        on_wfkit = run(case, wfkit_side)
    assert on_wfkit == on_dapr
    # and both did what the example is about
    expected = {
        **(DONE if case.ends else {"status": "RUNNING", "then": "TERMINATED"}),
        **case.expect,
    }
    assert {k: on_dapr[k] for k in expected} == expected


def test_every_seed_and_notebook_with_workflows_has_a_case() -> None:
    covered = {c.source for c in CASES} | {"request_escalation.py"}
    seeds = {p.name for p in SEEDS.glob("*.py") if p.name != "__init__.py"}
    assert seeds <= covered
    notebooks = {p.name for p in NOTEBOOKS.glob("*.ipynb")}
    # 10 writes its workflow to a file for a process it kills (the durability demo),
    # 13 runs its workflow on the real engine itself
    assert notebooks - covered <= {"10_durability.ipynb", "13_real_engine.ipynb"}
