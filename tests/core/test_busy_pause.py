"""The collector's pause across turns (``BusyPause``): it begins with a turn, lasts
across the turns that follow until it is ``SECONDS`` old, and leaves alone a collector
the user turned off."""

from __future__ import annotations

import gc
import time

import pytest

from wfkit.core._gc import BusyPause


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_a_pause_lasts_across_turns_until_it_is_due() -> None:
    pause = BusyPause()
    pause.SECONDS = 0.05
    assert pause.turn_started() is True and not gc.isenabled()
    pause.end_if_due()  # the first turn ends early: still paused
    assert not gc.isenabled()
    assert pause.turn_started() is False  # the next turn joins the pause
    due = pause.due()
    assert due is not None and 0 < due <= 0.05
    time.sleep(0.06)
    pause.end_if_due()
    assert gc.isenabled() and pause.due() is None
    assert pause.turn_started() is True  # a new pause
    pause.end()  # a detached turn ends it at once
    assert gc.isenabled() and pause.due() is None


def test_a_collector_the_user_turned_off_stays_off() -> None:
    pause = BusyPause()
    pause.SECONDS = 0.0
    gc.disable()
    assert pause.turn_started() is False
    pause.end_if_due()
    pause.end()
    assert not gc.isenabled() and pause.due() is None
