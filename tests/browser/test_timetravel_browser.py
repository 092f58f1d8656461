"""The time-travel player and the divergence view in JupyterLab, in headless Chromium:
buttons, keyboard, slider, the highlighted line, locals, history row and graph."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SETUP = """
from datetime import datetime

import wfkit as wf
from wfkit.timetravel import check_replay, open_cursor

wfr = wf.WorkflowRuntime(clock=wf.VirtualClock(datetime(2025, 1, 1), flow=False))


@wfr.activity
def double(ctx, x):
    return 2 * x


@wfr.workflow
def chain(ctx, n):
    first = yield ctx.call_activity(double, input=n)
    second = yield ctx.call_activity(double, input=first)
    return first + second


def chain_edited(ctx, n):
    first = yield ctx.call_activity(double, input=n)
    second = yield ctx.call_activity("triple", input=first)
    return first + second


wfr.start()
client = wf.DaprWorkflowClient(wfr)
client.schedule_new_workflow(chain, input=1, instance_id="tt-1")
client.wait_for_workflow_completion("tt-1", timeout_in_seconds=30)
cursor = open_cursor(wfr, "tt-1")
print("ready", len(cursor))
"""

CELLS = {
    "setup": SETUP,
    "player": "cursor.player(interval=100)",
    "divergence": 'check_replay(wfr, chain_edited, instance_id="tt-1").view()',
}
INDEX = {name: i for i, name in enumerate(CELLS)}


@pytest.fixture(scope="module")
def nb(run_notebook: Any) -> Any:
    return run_notebook("timetravel.ipynb", list(CELLS.values()))


def until(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def at(player: Any, n: int) -> None:
    counter = player.locator('[data-role="counter"]')
    until(lambda: counter.text_content().startswith(f"{n} /"), f"position {n}")


def current_line(player: Any) -> str:
    return player.locator('[data-role="code"] .wfk-tt-current .wfk-tt-text').text_content()


def test_notebook_ran(nb: Any) -> None:
    assert "ready 9" in nb.output(INDEX["setup"]).inner_text()


def test_player_steps_with_buttons_keys_and_slider(nb: Any, shoot: Any) -> None:
    player = nb.output(INDEX["player"]).locator('[data-role="player"]')
    player.wait_for()
    at(player, 0)
    assert player.locator('[data-role="counter"]').text_content() == "0 / 8"
    # before the workflow starts there is no current line
    assert player.locator('[data-role="code"] .wfk-tt-current').count() == 0
    assert "def chain(ctx, n):" in player.locator('[data-role="code"]').inner_text()

    player.locator('[data-role="step"]').click()
    at(player, 1)
    until(lambda: "first = yield" in current_line(player), "the first yield highlighted")
    state = player.locator('[data-role="state"]')
    until(lambda: "1 · ExecutionStarted" in state.inner_text(), "the frame of event 1")
    history = player.locator('[data-role="history"]')
    assert history.locator("tr.wfk-tt-current").get_attribute("data-index") == "1"

    player.focus()
    player.press("ArrowRight")
    at(player, 2)
    player.press("ArrowLeft")
    at(player, 1)

    slider = player.locator('[data-role="slider"]')
    slider.fill("4")
    at(player, 4)
    until(lambda: "second = yield" in current_line(player), "the second yield highlighted")
    first = player.locator('[data-role="locals"] tr[data-name="first"] td')
    until(lambda: first.count() == 1 and first.text_content() == "2", "first == 2 in locals")
    assert history.locator("tr.wfk-tt-current").get_attribute("data-index") == "4"
    graph = player.locator('[data-role="graph"]')
    until(
        lambda: (
            graph.locator('.wfkit-node[data-kind="activity"][data-status="completed"]').count() == 1
        ),
        "one activity completed in the graph",
    )

    player.press("End")
    at(player, 8)
    until(lambda: "return first + second" in current_line(player), "the return highlighted")
    until(lambda: "COMPLETED" in state.inner_text(), "the completed status")
    shoot(player, "timetravel-player")

    player.press("Home")
    at(player, 0)
    player.locator('[data-role="play"]').click()  # plays to the end, 100 ms a step
    at(player, 8)
    play = player.locator('[data-role="play"]')
    until(lambda: play.text_content() == "▶ play", "the player to stop at the end")


def test_history_row_click_moves_the_player(nb: Any) -> None:
    player = nb.output(INDEX["player"]).locator('[data-role="player"]')
    player.locator('[data-role="history"] tr[data-index="7"]').click()
    at(player, 7)
    state = player.locator('[data-role="state"]')
    until(lambda: "7 · TaskCompleted" in state.inner_text(), "the frame of event 7")


def test_divergence_view_shows_both_lines(nb: Any, shoot: Any) -> None:
    view = nb.output(INDEX["divergence"]).locator('[data-role="divergence"]')
    view.wait_for()
    verdict = view.locator('[data-role="verdict"]').inner_text()
    assert "records call_activity('double') with task id 2" in verdict
    recorded = view.locator('[data-role="recorded"] .wfk-tt-current').inner_text()
    current = view.locator('[data-role="current"] .wfk-tt-current').inner_text()
    assert "second = yield ctx.call_activity(double, input=first)" in recorded
    assert 'ctx.call_activity("triple", input=first)' in current
    shoot(view, "timetravel-divergence")
