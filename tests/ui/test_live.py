"""Really live (issue 10, item 10): charts repaint at least twice a second while training, and
at once after a resize."""

from __future__ import annotations

from tests.ui.apptools import start_run, wait_until
from vgtui.core.config import RunConfig
from vgtui.ui import pacer as pacer_module
from vgtui.ui.app import VgtuiApp
from vgtui.ui.pacer import RedrawPacer


def test_an_expensive_redraw_delays_the_next_by_at_most_a_third_of_a_second(monkeypatch):
    clock = {"cpu": 0.0, "wall": 100.0}
    monkeypatch.setattr(pacer_module.time, "thread_time", lambda: clock["cpu"])
    monkeypatch.setattr(pacer_module.time, "monotonic", lambda: clock["wall"])
    pacer = RedrawPacer()
    pacer.measure()
    pacer.redrawn = True
    pacer.stale = True
    clock["cpu"] += 0.2  # painting the charts took 200 ms of the UI thread
    clock["wall"] += 0.125
    pacer.measure()
    assert not pacer.may_redraw(running=True)
    clock["wall"] += 0.375  # half a second after the redraw
    assert pacer.may_redraw(running=True)
    pacer.measure()
    pacer.redrawn = True
    clock["cpu"] += 0.001  # a cheap redraw: the next one soon after
    clock["wall"] += 0.125
    pacer.measure()
    clock["wall"] += 0.125
    assert pacer.may_redraw(running=True)


async def test_charts_repaint_twice_a_second_and_at_once_after_a_resize(mnist, tmp_path):
    app = VgtuiApp(RunConfig(iterations=100_000, eval_every=10), mnist, tmp_path)
    frames: list[int] = []
    async with app.run_test(size=(120, 40)) as pilot:
        original = app.tabs.redraw_visible

        def counting() -> bool:
            drawn = original()
            if drawn:
                frames.append(len(app.history))
            return drawn

        app.tabs.redraw_visible = counting  # type: ignore[method-assign]
        await start_run(pilot, app)
        await wait_until(pilot, lambda: len(app.history) >= 8, "first records")
        frames.clear()
        await pilot.pause(2.0)
        assert len(frames) >= 3  # 2 s of training: at least 3 frames (4 expected)
        frames.clear()
        shown = len(app.history)
        await pilot.resize_terminal(100, 30)
        await pilot.pause(0.15)
        assert frames and frames[0] >= shown  # redrawn with every record taken so far
        for chart in app.tabs.visible_charts():
            assert not chart.dirty or len(app.history) > frames[-1]
            assert "waiting" not in chart.render().plain
        await pilot.press("q")
