"""Helpers for the app tests: short configs and waiting on the app without timed assertions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from textual.pilot import Pilot

from vgtui.core.config import RunConfig, parse_setups
from vgtui.ui.app import VgtuiApp
from vgtui.ui.header import RunHeader

SHORT = RunConfig(iterations=40, eval_every=10)
LONG = RunConfig(iterations=2000, eval_every=10)
DIVERGING = RunConfig(
    iterations=60,
    eval_every=10,
    learning_rate=10.0,
    setups=parse_setups("relu-gauss:100,sigmoid-gauss"),
)
GIVE_UP_SECONDS = 60.0
"""Only a guard against a hung test: no assertion depends on how fast anything is."""


async def wait_until(pilot: Pilot, condition: Callable[[], bool], what: str) -> None:
    """Let the app run until ``condition`` holds (fails if it never does)."""
    loop_time = 0.0
    while not condition():
        await pilot.pause(0.05)
        loop_time += 0.05
        if loop_time > GIVE_UP_SECONDS:
            raise AssertionError(f"gave up waiting for {what}")


async def wait_for_state(pilot: Pilot, app: VgtuiApp, *states: str) -> None:
    await wait_until(pilot, lambda: app.run_state in states, f"state in {states}")


def read_summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def header_text(app: VgtuiApp) -> str:
    return app.header.text


class FixedClockHeader(RunHeader):
    """The header with its timing and run-folder parts fixed, for snapshots."""

    def timing_text(self, iteration: int, seconds: float) -> str:
        return "00:01  99.9 it/s"

    def folder_text(self, path: Path) -> str:
        return "<run folder>"


class FixedClockApp(VgtuiApp):
    """The app with a :class:`FixedClockHeader`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.header = FixedClockHeader(id="header")
