"""The app may cost at most 15% over the headless trainer (opt-in: VGTUI_SPEED=1).

Timing depends on the machine and its load, so this is a measurement, not part of the
default suite: ``VGTUI_SPEED=1 pytest tests/ui/test_app_speed.py -s``.
"""

from __future__ import annotations

import asyncio
import os
import time

import numpy as np
import pytest

from vgtui.core.config import RunConfig
from vgtui.core.store.run_folder import RunWriter
from vgtui.core.trainer import Trainer
from vgtui.core.vocabulary import RunStatus
from vgtui.ui.app import VgtuiApp

pytestmark = pytest.mark.skipif(
    os.environ.get("VGTUI_SPEED") != "1", reason="speed measurement: set VGTUI_SPEED=1"
)

FULL = RunConfig()  # the notebook's 2000 iterations, four setups
ALLOWED_SLOWDOWN = 1.15


def headless_seconds(dataset, out_root) -> float:
    """The ``--no-ui`` path: Trainer.run feeding a RunWriter, timed from start to summary."""
    writer = RunWriter(out_root, FULL, dataset.name)
    trainer = Trainer(FULL, dataset, np.random.default_rng(FULL.seed))
    started = time.perf_counter()
    trainer.run(writer.add)
    writer.finish(RunStatus.DONE, time.perf_counter() - started)
    return time.perf_counter() - started


async def app_seconds(dataset, out_root, size=(160, 50)) -> float:
    """The same run started with r in the app, timed the same way (by its Run),
    while the app draws the charts and the header."""
    app = VgtuiApp(FULL, dataset, out_root)
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.5)
        await pilot.press("r")
        while app.run_state != "done":  # plain sleeps: Pilot's pause would add its own work
            await asyncio.sleep(0.2)
        await pilot.press("q")
    assert app.current_run.status == RunStatus.DONE
    return app.current_run.wall_seconds


async def test_full_run_in_the_app_is_at_most_15_percent_slower(mnist, tmp_path):
    # Interleaved, best of three each: other processes on the machine add noise to both.
    headless_times, app_times = [], []
    for _ in range(3):
        headless_times.append(headless_seconds(mnist, tmp_path / "headless"))
        app_times.append(await app_seconds(mnist, tmp_path / "app"))
    headless, in_app = min(headless_times), min(app_times)
    print(
        "\nheadless", [round(t, 2) for t in headless_times], "app", [round(t, 2) for t in app_times]
    )
    print(f"best: headless {headless:.2f} s, app {in_app:.2f} s, ratio {in_app / headless:.3f}")
    assert in_app <= ALLOWED_SLOWDOWN * headless


async def test_quit_mid_run_stops_within_half_a_second(mnist, tmp_path):
    app = VgtuiApp(FULL, mnist, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("r")
        while len(app.history) < 40:
            await asyncio.sleep(0.05)
        started = time.perf_counter()
        await pilot.press("q")
        while not app.current_run.finished.is_set():
            await asyncio.sleep(0.01)
        stopped = time.perf_counter() - started
    print(f"\nquit mid-run: run folder saved {stopped * 1000:.0f} ms after q")
    assert app.current_run.status == "interrupted"
    assert stopped <= 0.5
