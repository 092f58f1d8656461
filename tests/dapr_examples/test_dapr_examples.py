"""Each program of Dapr's workflow examples, with only ``dapr.ext.workflow`` changed to
wfkit (by the stand-in on PYTHONPATH), prints the lines its README's mechanical-markdown
step expects. See conftest.py for how to point the tests at a checkout."""

from __future__ import annotations

import pytest
from _run import run_step
from _steps import Step, read_steps
from conftest import HOW, readmes

STEPS: list[Step] = [step for readme in readmes() for step in read_steps(readme)]


@pytest.mark.skipif(not STEPS, reason=HOW)
@pytest.mark.parametrize("step", STEPS, ids=[s.id for s in STEPS])
def test_example_prints_what_its_readme_expects(step: Step) -> None:
    outcome = run_step(step)
    tail = "\n".join(outcome.output[-40:])
    assert not outcome.failed_programs, (
        f"programs failed {outcome.failed_programs} after {outcome.seconds:.1f} s:\n{tail}"
    )
    assert not outcome.missing, f"missing lines {outcome.missing}:\n{tail}"
