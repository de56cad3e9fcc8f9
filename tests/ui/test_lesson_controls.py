"""Issue 19's classroom controls, driven with Pilot at 80x24 and 120x40: pace, the keys that
ask before clearing, the Runs screen's keys, the sidebar, and how the app ends."""

from __future__ import annotations

from tests.ui.apptools import LONG, Notifications, read_summary, wait_for_state, wait_until
from vgtui.ui.app import VgtuiApp


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
