"""Chart controls (issue 10, items 13 to 16): the Loss tab, a cursor readout, debiased EMA
smoothing, log/linear scale, x-range zoom and hiding series."""

from __future__ import annotations

import re
import time

import pytest
from textual.widgets import Input

from tests.ui.apptools import SHORT, drawn_colors, plot_rows, wait_for_state
from vgtui.core.config import RunConfig, parse_setups
from vgtui.core.run import Run
from vgtui.core.summary import format_percent
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.accuracy import AccuracyChart
from vgtui.ui.charts.gradients import GradientChart
from vgtui.ui.charts.strip import HIDDEN_MARK, SetupStrip
from vgtui.ui.look import BAND_COLOR, series_color, series_marker
from vgtui.ui.pace import Pace
from vgtui.ui.series import SeriesScreen
from vgtui.ui.view import ALL_HIDDEN, ChartView, ema

MEDIUM = RunConfig(iterations=100, eval_every=10)


def setups_drawn(chart, count: int = len(SHORT.setups)) -> list[int]:
    """The setups (by index) whose colour the chart draws in."""
    colors = drawn_colors(chart)
    return [index for index in range(count) if series_color(index) in colors]


def x_ticks(chart) -> list[int]:
    """The numbers under a chart's x axis."""
    lines = chart.render().plain.splitlines()
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return [int(number) for number in re.findall(r"\d+", lines[bottom + 1])]


def legend(chart) -> str:
    lines = chart.render().plain.splitlines()
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return "\n".join(lines[bottom + 1 :])


def test_ema_is_debiased_at_the_start():
    assert ema([1.0, 1.0, 1.0], 0.9) == pytest.approx([1.0, 1.0, 1.0])  # not 0.1, 0.19, ...
    smoothed = ema([0.0, 10.0, float("nan"), 10.0], 0.5)
    assert smoothed[0] == 0.0 and smoothed[1] == pytest.approx(10 * 0.5 / 0.75)
    assert smoothed[2] != smoothed[2]  # NaN stays NaN and does not poison what follows
    assert ema([3.0, 4.0], 0.0) == [3.0, 4.0]


async def test_loss_tab_draws_every_setup_on_a_log_scale(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("5")
        await pilot.pause()
        assert app.active_tab == "loss"
        chart = app.tabs.loss
        assert chart.title == "train loss (log scale)"
        for index in range(len(SHORT.setups)):  # each alone (h): its line and its markers
            await pilot.press("h")
            await pilot.pause()
            assert setups_drawn(chart) == [index]
            assert series_marker(index) in "\n".join(plot_rows(chart))
        await pilot.press("h")  # every setup again
        await pilot.pause()
        assert len(setups_drawn(chart)) >= 2  # (curves on top of each other hide their colour)
        assert all(series.train_loss for series in app.history.series.values())
        ticks = [line.split("┤")[0].strip() for line in chart.render().plain.splitlines()]
        assert "1" in ticks  # decades on the log axis, as plain numbers (test_axis_labels.py)
        assert "mean cross-entropy" in legend(chart)


async def test_cursor_reads_exact_values_on_every_chart_and_the_strip(mnist, tmp_path):
    app = VgtuiApp(MEDIUM, mnist, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("left_square_bracket", "left_square_bracket")  # latest, then back one
        await pilot.pause()
        assert app.tabs.view.cursor == 90
        chart = app.query_one("#acc-3", AccuracyChart)
        series = chart.series
        expected = f"@90 test {format_percent(series.test_accuracy[-2])}"
        assert expected in legend(chart)
        assert f"train {format_percent(series.train_accuracy[-2])}" in legend(chart)
        assert "@90" in app.query_one(SetupStrip).plain
        await pilot.press("3")
        await pilot.pause()
        assert "@90 L1 " in legend(app.query_one("#grad-0", GradientChart))
        await pilot.press("right_square_bracket", "c")
        await pilot.pause()
        assert app.tabs.view.cursor is None
        assert "@" not in app.query_one(SetupStrip).plain


async def test_smoothing_scale_and_zoom_keys(mnist, tmp_path):
    app = VgtuiApp(MEDIUM, mnist, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        chart = app.query_one("#acc-0", AccuracyChart)
        assert BAND_COLOR not in drawn_colors(chart)
        await pilot.press("e")
        await pilot.pause()
        assert app.tabs.view.smoothing == 0.6
        assert BAND_COLOR in drawn_colors(chart)  # the raw train points stay, dotted, behind
        await pilot.press("z")
        await pilot.pause()
        assert min(x_ticks(chart)) == 0 and max(x_ticks(chart)) == 25  # the first quarter
        await pilot.press("3", "l")
        await pilot.pause()
        gradients = app.query_one("#grad-0", GradientChart)
        assert gradients.scale is not None and not gradients.scale.log
        assert "linear" in gradients.title or "first/last" in gradients.title
        ticks = [line.split("┤")[0].strip() for line in gradients.render().plain.splitlines()]
        assert not any(tick.startswith("1e") for tick in ticks if tick)
        await pilot.press("l", "z", "z", "e", "e", "e")
        await pilot.pause()
        view = app.tabs.view
        assert view.log_y and view.zoom == 1 and view.smoothing == 0


async def test_pace_slows_a_run_to_the_chosen_rate(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        field = app.query_one("#field-pace", Input)
        assert field.value == "full"
        await pilot.press("minus", "minus")  # full speed -> 1000 -> 300 it/s
        await pilot.pause()
        assert app.pace.rate == 300 and field.value == "300"
        field.value = "fast"
        await pilot.pause()
        assert "pace must be" in str(app.query_one("#error-pace").render())
        field.value = "100"
        await pilot.pause()
        assert app.pace.rate == 100
        started = time.monotonic()
        await pilot.press("escape", "r")
        await wait_for_state(pilot, app, "done")
        # 30 iterations after the first evaluation at 100 it/s: at least 0.3 s
        assert time.monotonic() - started >= 0.29


def test_training_holds_to_the_pace_at_every_iteration(mnist, tmp_path):
    """Issue 19 item 12: training held to the pace only when records arrived, so it ran ahead
    by the evaluations still pending (--eval-every 100 at 30 it/s: 300 iterations in the first
    second, then ten seconds still). Iteration k may start k - 1 paced steps after the start,
    never before; a slow machine only makes it later."""
    run = Run(RunConfig(iterations=60, eval_every=30, setups=parse_setups("relu-he")), mnist,
              tmp_path)  # fmt: skip
    seen: list[tuple[int, float]] = []
    started = time.monotonic()

    def deliver(records) -> None:  # on the training thread: its own iteration count, now
        seen.append((run.iteration, time.monotonic() - started))

    run.execute(Pace(30.0).paced(deliver, run))
    assert len(seen) == 2 and all(done <= 30 * seconds + 1 for done, seconds in seen), seen


async def test_h_shows_one_setup_alone_then_all_again(mnist, tmp_path):
    """Hiding series: the overlay and loss charts show each setup alone in turn, then all."""
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("2")
        await pilot.pause()
        overlay = app.overlay
        names = list(SHORT.setup_names)
        every = setups_drawn(overlay)
        assert len(every) >= 2  # (curves on top of each other hide their colour)
        for index, name in enumerate(names):
            await pilot.press("h")
            await pilot.pause()
            assert app.tabs.view.solo == name
            assert setups_drawn(overlay) == [index]
            shown = legend(overlay)
            assert name in shown and not any(n in shown for n in names if n != name)
        await pilot.press("h")  # after the last setup alone: every setup again
        await pilot.pause()
        assert app.tabs.view.solo is None and setups_drawn(overlay) == every


def test_h_looks_at_one_setup_and_keeps_the_hidden_ones():
    view = ChartView()
    names = ["a", "b", "c"]
    view.hide(["b"])
    assert view.hidden_among(names) == ["b"]
    assert view.cycle_solo(names) == "only a shown" and view.hidden_among(names) == ["b", "c"]
    for _ in names:
        view.cycle_solo(names)
    assert view.solo is None and view.hidden_among(names) == ["b"]  # back to all but b
    view.cycle_solo(names)
    view.hide([])  # the picker's choice ends a solo
    assert view.solo is None and view.hidden_among(names) == []


async def test_hidden_setups_stay_hidden_through_a_run_and_all_hidden_is_said(mnist, tmp_path):
    """Hiding series (H): a list of the setups; the ones unticked leave the overlay and loss
    charts, through every new record and redraw, and the strip marks them (not by colour)."""
    app = VgtuiApp(SHORT, mnist, tmp_path)
    names = list(SHORT.setup_names)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("H")  # before the run: opens on the overlay, every setup ticked
        assert isinstance(app.screen, SeriesScreen) and app.active_tab == "overlay"
        await pilot.press("2", "escape", "r")  # hide relu-gauss, close, run
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        overlay = app.overlay
        shown = legend(overlay)
        assert "1 hidden (H)" in shown and "relu-gauss" not in shown
        assert all(name in shown for name in names if name != "relu-gauss")
        strip = app.query_one(SetupStrip).plain
        assert f"{HIDDEN_MARK} relu-gauss" in strip and "x relu-gauss" not in strip
        assert "o sigmoid-gauss" in strip
        shown_setups = setups_drawn(overlay)
        assert shown_setups and 1 not in shown_setups  # relu-gauss's curves are left out
        await pilot.press("H", "a")  # every setup shown again
        assert "hidden" not in legend(overlay) and all(name in legend(overlay) for name in names)
        assert HIDDEN_MARK not in app.query_one(SetupStrip).plain.split()
        await pilot.press("1", "2", "3", "4")  # none shown: the chart says so
        assert setups_drawn(overlay) == [] and ALL_HIDDEN in legend(overlay)
        await pilot.press("escape", "5")
        await pilot.pause()
        assert setups_drawn(app.tabs.loss) == [] and ALL_HIDDEN in legend(app.tabs.loss)
