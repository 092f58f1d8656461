"""The harness itself, on a README and a program written here in the shape of Dapr's
examples (runs without a checkout)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from _run import run_step
from _steps import read_steps

PROGRAM = """
import os
from dataclasses import dataclass
import dapr.ext.workflow as wf
from dapr.clients import DaprClient
from dapr.ext.workflow.workflow_runtime import WorkflowRuntime

wfr = WorkflowRuntime()
assert wf.WorkflowRuntime is WorkflowRuntime


@dataclass
class Order:
    item: str
    quantity: int


@wfr.activity(name="reserve")
def reserve(ctx, order: Order):
    with DaprClient() as client:
        client.save_state("statestore", order.item, str(order.quantity))
        print(f"reserved {order}", flush=True)
        return client.get_state("statestore", order.item).data.decode()


@wfr.workflow(name="checkout")
def checkout(ctx: wf.DaprWorkflowContext, order: Order):
    left = yield ctx.call_activity(reserve, input=order)
    return f"{os.environ['GREETING']} {left}"


if __name__ == "__main__":
    wfr.start()
    client = wf.DaprWorkflowClient()
    iid = client.schedule_new_workflow(checkout, input=Order("cars", 9))
    state = client.wait_for_workflow_completion(iid, timeout_in_seconds=30)
    print(f"Workflow completed! Result: {state.serialized_output}", flush=True)
    print(f"id is hex: {len(iid) == 32 and '-' not in iid}", flush=True)
    try:
        import dapr.actor  # not stood in
    except ImportError:
        print("other dapr modules are absent", flush=True)
    wfr.shutdown()
"""

README = """
# Demo

<!-- STEP
name: Run the demo
expected_stdout_lines:
  - "reserved namespace(item='cars', quantity=9)"
  - 'Workflow completed! Result: "hello 9"'
  - "id is hex: True"
  - "other dapr modules are absent"
timeout_seconds: 60
-->

```sh
export GREETING=hello
dapr run --app-id demo -- python3 demo.py
```
<!-- END_STEP -->

<!-- STEP
name: Expect what is not printed
match_order: none
expected_stdout_lines:
  - "other dapr modules are absent"
  - "a line the program never prints"
timeout_seconds: 60
-->

```sh
export GREETING=hi
dapr run --app-id wfexample
dapr run --app-id demo -- python3 demo.py
```
<!-- END_STEP -->

<!-- STEP
name: Install, no expected output so not a test
-->

```sh
pip3 install -r requirements.txt
```
<!-- END_STEP -->
"""


def write_example(tmp_path: Path) -> Path:
    (tmp_path / "demo.py").write_text(textwrap.dedent(PROGRAM))
    readme = tmp_path / "README.md"
    readme.write_text(README)
    return readme


def test_steps_with_expected_output_are_read_from_the_readme(tmp_path: Path) -> None:
    steps = read_steps(write_example(tmp_path))
    assert [s.name for s in steps] == ["Run the demo", "Expect what is not printed"]
    first, second = steps
    assert first.ordered and not first.substring and first.timeout == 60
    assert not second.ordered
    # a `dapr run` with no program starts only a sidecar: nothing to run here
    assert [c.argv for c in second.commands] == [["python3", "demo.py"]]
    assert second.commands[0].env == {"GREETING": "hi"}
    assert second.commands[0].app_id == "demo"


def test_a_program_written_for_dapr_runs_with_only_the_import_changed(tmp_path: Path) -> None:
    step = read_steps(write_example(tmp_path))[0]
    outcome = run_step(step)
    assert outcome.exit_codes == {"python3 demo.py": 0}, outcome.output
    assert outcome.missing == [], outcome.output


def test_lines_the_program_does_not_print_are_reported(tmp_path: Path) -> None:
    step = read_steps(write_example(tmp_path))[1]
    outcome = run_step(step)
    assert outcome.missing == ["a line the program never prints"]
