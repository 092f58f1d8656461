"""Each program of Dapr's workflow examples, with only ``dapr.ext.workflow`` changed to
wfkit (by the stand-in on PYTHONPATH), prints the lines its README's mechanical-markdown
step expects. See conftest.py for how to point the tests at a checkout."""

from __future__ import annotations

import pytest
from _run import run_step
from _sources import HOW, readmes
from _steps import Step, read_steps
from _tour import Item, read_tour, walk

STEPS: list[Step] = [step for readme in readmes() for step in read_steps(readme)]

MULTI_PROCESS = (
    "its apps run as separate processes, as `dapr run -f` starts them; wfkit routes app_id "
    "calls between runtimes of one process (tests/runtime/test_multi_app.py runs these apps in "
    "one) and, across processes, fails the call with AppNotFoundError naming Dapr's engine"
)
#: Steps that differ for a stated reason; strict, so one that starts passing is reported.
KNOWN = {
    "workflow/5-Run apps": MULTI_PROCESS,
    "workflow/6-Run apps": MULTI_PROCESS,
    "workflow/7-Run apps": MULTI_PROCESS,
    "workflow/8-Run the versioning example": (
        "test8 removes a patch check from running code, which Dapr's sidecar stalls on and "
        "wfkit runs on; part2 needs the state of an earlier process (a file store here)"
    ),
}
KNOWN_TOURS = {
    "combined-patterns/1-Run multi app run template": (
        "the README's expected-output block is malformed (its opening quote is missing)"
    ),
    "external-system-interaction/1-Run multi app run template": (
        "the README shows a C#-style log line (`Order { id = ... }`) the Python app never prints"
    ),
    "resiliency-and-compensation/1-Run multi app run template": (
        "the README shows `Received divisor` where the app prints `Received input`, and the "
        "custom status JSON-encoded where Dapr 1.19 keeps a str as given"
    ),
}


def params(cases: list, known: dict[str, str]) -> list:
    """Each case as a pytest param, expected to fail where ``known`` says why."""
    out = []
    for case in cases:
        step = case[0] if isinstance(case, tuple) else case
        values = case if isinstance(case, tuple) else (case,)
        reason = next((why for key, why in known.items() if step.id.endswith(key)), None)
        marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
        out.append(pytest.param(*values, id=step.id, marks=marks))
    return out


@pytest.mark.skipif(not STEPS, reason=HOW)
@pytest.mark.parametrize("step", params(STEPS, KNOWN))
def test_example_prints_what_its_readme_expects(step: Step) -> None:
    outcome = run_step(step)
    tail = "\n".join(outcome.output[-40:])
    assert not outcome.failed_programs, (
        f"programs failed {outcome.failed_programs} after {outcome.seconds:.1f} s:\n{tail}"
    )
    assert not outcome.missing, f"missing lines {outcome.missing}:\n{tail}"


#: Tutorials whose README walks through requests after starting the app.
TOURS = [(s, read_tour(s.readme)) for s in STEPS if s.background]
TOURS = [(s, items) for s, items in TOURS if items]


@pytest.mark.skipif(not TOURS, reason=HOW)
@pytest.mark.parametrize(("step", "items"), params(TOURS, KNOWN_TOURS))
def test_tutorial_walk_through_shows_what_its_readme_says(step: Step, items: list[Item]) -> None:
    outcome = run_step(step, tour=lambda output: walk(items, output))
    tail = "\n".join(outcome.output[-40:])
    assert not outcome.missing, f"missing lines {outcome.missing}:\n{tail}"
    assert not outcome.tour_problems, "\n".join(outcome.tour_problems) + f"\n{tail}"
