"""The Runs screen (key o, issue 12 item 4) and the life of a run in the app (issue 10, items 17
and 18): built off the UI thread, refused with the reason when it cannot fit, let go of once it
ends."""

from __future__ import annotations

import gc
import re
import threading
import weakref

from tests.ui.apptools import (
    SHORT,
    Notifications,
    read_summary,
    wait_for_state,
    wait_until,
)
from vgtui.core import budget
from vgtui.core.config import RunConfig
from vgtui.core.run import Run
from vgtui.ui import lifecycle
from vgtui.ui.app import VgtuiApp
from vgtui.ui.base import COMPACT_WIDTH, ChartsScreen
from vgtui.ui.header import format_elapsed
from vgtui.ui.saved.runs_list import RunsScreen
from vgtui.ui.saved.screen import SavedRunsScreen

CLOCK = re.compile(r"(?<!\S)\d+:\d\d(?::\d\d)?(?!\S)")
"""A header's run time: 00:02, or 1:02:03."""


async def test_runs_screen_reopens_the_last_finished_run_after_a_new_one_started(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        first = app.current_run.path
        await pilot.press("n", "n")  # a new run, paused after its first evaluation
        await wait_for_state(pilot, app, "paused")
        await pilot.press("o")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        await wait_until(pilot, lambda: runs.table.row_count == 2, "the run folders listed")
        assert runs.paths[1] == first and "(last run)" in str(runs.table.get_row_at(1)[1])
        assert "(this run)" in str(runs.table.get_row_at(0)[1])
        await pilot.press("down", "enter")
        saved = app.screen
        assert isinstance(saved, SavedRunsScreen)
        assert len(saved.history) == 16 and first.name in saved.header.text
        await pilot.press("escape", "up", "space", "down", "space", "enter")  # compare both
        compared = app.screen
        assert isinstance(compared, SavedRunsScreen) and compared is not saved
        assert len(compared.history.setup_names) == 8
        await pilot.press("escape", "escape")
        assert app.screen is app.screen_stack[0] and app.run_state == "paused"
        assert len(app.history) == 4  # the monitor still shows the new run


async def test_a_network_is_built_off_the_ui_thread_and_one_that_cannot_fit_is_refused(
    mnist, tmp_path, monkeypatch
):
    gate = threading.Event()

    class SlowRun(Run):
        def __init__(self, *args, **kwargs) -> None:
            gate.wait(30)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(lifecycle, "Run", SlowRun)
    app = VgtuiApp(SHORT, mnist, tmp_path)
    shown = Notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        assert app.run_state == "preparing" and "PREPARING" in app.header.text
        await pilot.press("b")  # the UI answers while the network is built
        assert not app.sidebar.display
        gate.set()
        await wait_for_state(pilot, app, "done")
        monkeypatch.setattr(budget, "available_bytes", lambda: 2**20)
        await pilot.press("r", "r")
        await wait_for_state(pilot, app, "ready")
        refused = shown.titled("cannot run")
        assert refused and "of memory" in refused[-1]


async def test_a_run_that_ended_and_was_reset_leaves_no_trainer_behind(mnist, tmp_path):
    """Also: the stopped run reads the same time live and saved (issue 19: 00:02 in the live
    header, 00:03 opened from the Runs screen), its time without its pause."""
    app = VgtuiApp(RunConfig(iterations=1000, eval_every=10, hidden=(300, 100)), mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.current_run, Run), "the run built")
        trainer = weakref.ref(app.current_run.trainer)
        await wait_for_state(pilot, app, "paused")
        await pilot.pause(1.1)  # a pause, which neither header counts (no timing asserted)
        await pilot.press("x")
        await wait_for_state(pilot, app, "stopped")
        await pilot.pause()
        live = CLOCK.findall(app.header.text)
        await pilot.press("o", "enter")
        saved = app.screen
        assert isinstance(saved, SavedRunsScreen)
        wall = read_summary(app.current_run.path)["wall_seconds"]
        assert live == CLOCK.findall(saved.header.text) == [format_elapsed(wall)], (
            app.header.text, saved.header.text, wall)  # fmt: skip
        await pilot.press("escape", "escape")
        await pilot.press("x", "x")  # the second x confirms
        await wait_for_state(pilot, app, "ready")
        gc.collect()
        assert trainer() is None


async def test_the_monitor_and_a_saved_run_over_it_share_the_compact_layout(mnist, tmp_path):
    """One charts screen (vgtui.ui.base) under both: a resize fits every one in the stack,
    the monitor under the saved run too, with the same chart keys on both."""
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        monitor = app.screen
        assert isinstance(monitor, ChartsScreen) and not monitor.has_class("-compact")
        await pilot.press("o", "enter")
        saved = app.screen
        assert isinstance(saved, SavedRunsScreen) and isinstance(saved, ChartsScreen)
        await pilot.resize_terminal(COMPACT_WIDTH - 1, 40)
        await pilot.pause()
        assert saved.has_class("-compact") and monitor.has_class("-compact")
        assert not app.sidebar.display
        await pilot.press("2", "z")  # the chart keys of the one charts screen
        await pilot.pause()
        assert saved.tabs.active == "overlay" and saved.tabs.view.zoom < 1
        assert app.tabs.active == "accuracy" and app.tabs.view.zoom == 1  # the monitor's own
        await pilot.resize_terminal(COMPACT_WIDTH, 40)
        await pilot.press("escape", "escape")  # the saved run, then the Runs screen
        await pilot.pause()
        assert app.screen is monitor and not monitor.has_class("-compact")
        assert app.sidebar.display
        await pilot.press("2")
        assert app.tabs.active == "overlay"
