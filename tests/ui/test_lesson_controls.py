"""Issue 19's classroom controls, driven with Pilot at 80x24 and 120x40: pace, the keys that
ask before clearing, the Runs screen's keys, the sidebar, and how the app ends."""

from __future__ import annotations

import re
from dataclasses import replace

from tests.ui.apptools import (
    LONG,
    SHORT,
    Notifications,
    read_summary,
    screen_lines,
    wait_for_state,
    wait_until,
)
from vgtui.core.run import Run
from vgtui.ui.app import VgtuiApp
from vgtui.ui.saved.runs_list import RunsScreen


async def test_ctrl_c_in_the_app_exits_130_as_headless_does(mnist, tmp_path):
    app = VgtuiApp(LONG, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: len(app.history) >= 4, "records")
        await pilot.press("ctrl+c")
    assert app.return_code == 130
    assert read_summary(app.current_run.path)["status"] == "interrupted"


async def test_x_on_a_stopped_run_asks_before_clearing_the_charts(mnist, tmp_path):
    app = VgtuiApp(LONG, mnist, tmp_path)
    shown = Notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await wait_until(pilot, lambda: len(app.history) == 4, "first step")
        await pilot.press("x")
        await wait_for_state(pilot, app, "stopped")
        await pilot.press("x")
        await pilot.pause()
        assert app.run_state == "stopped" and len(app.history) == 4
        message, title = shown.shown[-1]
        assert title == "clear the stopped run?"
        assert "press x again to clear the charts" in message
        assert app.current_run.path.name in message
        await pilot.press("x")
        await wait_for_state(pilot, app, "ready")
        assert len(app.history) == 0


async def test_the_runs_screen_shows_what_differs_and_every_number_whole(mnist, tmp_path):
    """At 80x24 the Runs screen names the settings that differ (lr, gradient) under each run
    and every setup's best accuracy whole on a line of its own (it showed 'relu-he 9')."""
    for changes in ({"learning_rate": 0.5}, {"notebook_grad": True}):
        Run(replace(SHORT, iterations=20, **changes), mnist, tmp_path).execute()
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("o")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        await wait_until(pilot, lambda: runs.table.row_count == 2, "the run folders listed")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        assert "lr 0.5" in text and "lr 0.1" in text
        assert "gradient exact" in text and "gradient notebook" in text
        best = re.findall(r"(sigmoid-gauss|relu-gauss|sigmoid-xavier|relu-he) +(\d+\.\d%)", text)
        assert len(best) == 8, text
        names = [path.name for path in runs.paths]
        assert all(name in text for name in names)
        assert {name.split("-", 2)[2] for name in names} == {
            "notebook-iters20-lr0.5",
            "notebook-iters20-notebook-grad",
        }
