"""Pilot tests of the monitor: real short runs on the bundled MNIST."""

from __future__ import annotations

import csv
import re

import pytest
from textual.widgets import DataTable, Input, SelectionList

from tests.ui.apptools import (
    DIVERGING,
    LONG,
    SHORT,
    Notifications,
    header_text,
    plot_rows,
    read_summary,
    start_run,
    wait_for_state,
    wait_until,
)
from vgtui.core.config import RunConfig
from vgtui.core.summary import SUMMARY_COLUMNS, format_percent
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.accuracy import AccuracyChart, OverlayChart
from vgtui.ui.charts.gradients import GradientChart
from vgtui.ui.help import HelpScreen
from vgtui.ui.sidebar import ConfigSidebar


async def test_short_run_fills_charts_header_and_run_folder(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        assert "READY" in header_text(app)
        assert "iter 0/40" in header_text(app)
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        charts = list(app.query(AccuracyChart))
        assert [c.series.setup for c in charts] == list(SHORT.setup_names)
        for chart in charts:
            assert chart.series.iterations == [10, 20, 30, 40]
            assert all(0.0 <= a <= 1.0 for a in chart.series.test_accuracy)
            assert not chart.dirty
            assert format_percent(chart.series.latest_test) in chart.title
        assert "DONE" in header_text(app)
        assert "iter 40/40" in header_text(app)
        run_dir = app.current_run.path
    assert run_dir.parent == tmp_path
    summary = read_summary(run_dir)
    assert summary["status"] == "done"
    assert summary["iterations_done"] == 40
    rows = list(csv.DictReader((run_dir / "metrics.csv").open()))
    assert len(rows) == 4 * len(SHORT.setups)
    # relu-he learns in 40 iterations, sigmoid-gauss does not: the charts show the contrast.
    best = {s["setup"]: s["best_test_accuracy"] for s in summary["setups"]}
    assert best["relu-he"] > 0.5 > best["sigmoid-gauss"]


def header_iteration(app: VgtuiApp) -> int:
    match = re.search(r"iter (\d+)/", header_text(app))
    assert match, header_text(app)
    return int(match.group(1))


async def test_header_advances_while_running(mnist, tmp_path):
    app = VgtuiApp(LONG, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_run(pilot, app)
        await wait_until(pilot, lambda: header_iteration(app) > 0, "header moves")
        first = header_iteration(app)
        assert "RUNNING" in header_text(app)
        assert "it/s" in header_text(app)
        await wait_until(pilot, lambda: header_iteration(app) > first, "header moves on")
        await pilot.press("q")
    assert app.current_run.status == "interrupted"


async def test_pause_resume_step_and_stop(mnist, tmp_path):
    app = VgtuiApp(LONG, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("n")  # step from ready: start paused, run to the first evaluation
        await wait_until(pilot, lambda: app.current_run.iteration == 10, "first step")
        await wait_until(pilot, lambda: len(app.history) == 4, "step records")
        assert app.run_state == "paused"
        await pilot.press("n")
        await wait_until(pilot, lambda: len(app.history) == 8, "second step records")
        assert app.current_run.iteration == 20
        assert app.history.last_iteration == 20
        await pilot.press("n", "n")  # presses queue up: two more evaluation intervals
        await wait_until(pilot, lambda: len(app.history) == 16, "queued step records")
        assert app.current_run.iteration == 40
        assert "PAUSED" in header_text(app)

        app.simulate_key("p")  # resume (Pilot.press would wait 2 s for an idle process)
        await wait_for_state(pilot, app, "running")
        await wait_until(pilot, lambda: app.history.last_iteration >= 60, "running again")
        await pilot.press("p")  # pause
        assert app.run_state == "paused"
        await wait_until(pilot, lambda: app.current_run.control.paused, "paused control")
        await pilot.pause(0.3)
        held = app.current_run.iteration
        await pilot.pause(0.3)
        assert app.current_run.iteration == held  # nothing runs while paused

        await pilot.press("x")  # stop keeps the results
        await wait_for_state(pilot, app, "stopped")
        await pilot.pause()
        kept = len(app.history)
        assert kept >= 24
        assert all(c.series.iterations for c in app.query(AccuracyChart))
        summary = read_summary(app.current_run.path)
        assert summary["status"] == "stopped"
        assert summary["iterations_done"] == app.current_run.iteration >= app.history.last_iteration

        await pilot.press("x")  # x on a stopped run asks first (issue 19.14) ...
        assert app.run_state == "stopped"
        assert len(app.history) == kept
        await pilot.press("x")  # ... and a second x resets the charts for the next run
        assert app.run_state == "ready"
        assert len(app.history) == 0
        assert all(not c.series.iterations for c in app.query(AccuracyChart))


async def test_invalid_sidebar_input_blocks_the_run_and_says_why(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    shown = Notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        field = app.query_one("#field-iterations", Input)
        field.focus()
        field.value = ""
        await pilot.press("a", "b", "c")
        await pilot.pause()
        reason = str(app.query_one("#error-iterations").render())
        assert "iterations must be a whole number" in reason
        assert field.has_class("-invalid")
        await pilot.press("escape", "r")
        await pilot.pause()
        assert app.run_state == "ready"
        assert app.current_run is None
        assert "iterations must be a whole number" in shown.text
        assert not list(tmp_path.iterdir())  # no run folder for a blocked run

        field.focus()
        field.value = ""
        await pilot.press("2", "0")
        await pilot.pause()
        assert str(app.query_one("#error-iterations").render()) == ""
        assert not field.has_class("-invalid")

        batch = app.query_one("#field-batch_size", Input)
        batch.value = "70000"
        await pilot.pause()
        assert "training set" in str(app.query_one("#error-batch_size").render())
        batch.value = "50"

        setups = app.query_one("#setups", SelectionList)
        setups.deselect_all()
        await pilot.press("escape", "r")
        await pilot.pause()
        assert app.current_run is None
        assert "no setups selected" in shown.text

        custom = app.query_one("#custom-setup", Input)
        custom.focus()
        await pilot.press(*"mish-he", "enter")
        await pilot.pause()
        assert "unknown activation" in str(app.query_one("#error-custom").render())
        custom.value = ""
        await pilot.press(*"tanh-xavier", "enter")
        await pilot.pause()
        assert setups.selected == ["tanh-xavier"]

        await pilot.press("escape", "r")
        await wait_for_state(pilot, app, "done")
        assert app.config.iterations == 20 and app.config.batch_size == 50
        assert [c.series.setup for c in app.query(AccuracyChart)] == ["tanh-xavier"]
        assert app.history.last_iteration == 20


async def test_quit_mid_run_stops_the_worker_and_saves(mnist, tmp_path):
    app = VgtuiApp(LONG, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await start_run(pilot, app)
        await wait_until(pilot, lambda: len(app.history) >= 4, "records")
        await pilot.press("q")
    run = app.current_run
    assert run.finished.is_set()
    assert run.status == "interrupted"
    summary = read_summary(run.path)
    assert summary["status"] == "interrupted"
    assert 0 < summary["iterations_done"] < 2000
    rows = list(csv.DictReader((run.path / "metrics.csv").open()))
    assert len(rows) >= 4


async def test_restart_after_editing_replaces_the_charts(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        first_path = app.current_run.path
        first_charts = list(app.query(AccuracyChart))
        assert len(first_charts) == 4
        await pilot.press("r", "r")  # same setups: the chart widgets stay, their data is new
        await wait_for_state(pilot, app, "done")
        assert list(app.query(AccuracyChart)) == first_charts
        assert all(c.series.iterations == [10, 20, 30, 40] for c in first_charts)
        second_path = app.current_run.path
        assert second_path != first_path
        setups = app.query_one("#setups", SelectionList)
        setups.deselect("sigmoid-gauss")
        setups.deselect("relu-gauss")
        app.query_one("#field-iterations", Input).value = "30"
        await pilot.pause()
        await pilot.press("r", "r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        charts = list(app.query(AccuracyChart))
        assert [c.series.setup for c in charts] == ["sigmoid-xavier", "relu-he"]
        assert all(c.series.iterations == [10, 20, 30] for c in charts)
        assert len(app.query(GradientChart)) == 2
        assert set(app.query_one(OverlayChart).history.series) == {"sigmoid-xavier", "relu-he"}
        assert app.current_run.path not in (first_path, second_path)
        assert read_summary(first_path)["iterations_done"] == 40


async def test_diverged_setup_is_shown_and_the_others_go_on(mnist, tmp_path):
    app = VgtuiApp(DIVERGING, mnist, tmp_path)
    shown = Notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        diverged, healthy = list(app.query(AccuracyChart))
        assert f"diverged at {diverged.series.diverged_at}" in diverged.title
        assert diverged.has_class("-diverged")
        assert healthy.series.iterations[-1] == 60
        assert not healthy.has_class("-diverged")
        assert "diverged" in shown.text
        await pilot.press("4")
        await pilot.pause()
        table = app.query_one("#summary-table", DataTable)
        shown = [column for column in SUMMARY_COLUMNS if column in table.shown_columns]
        assert list(table.shown_columns) == shown and "status" in shown  # fitted to the width
        assert table.row_count == 2
        assert "diverged" in [str(c) for c in table.get_row_at(0)]


async def test_resize_to_80x24_and_back(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        sidebar = app.query_one(ConfigSidebar)
        assert app.screen.has_class("-compact")
        assert not sidebar.display  # charts get the whole width on a small terminal
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        for chart in app.query(AccuracyChart):
            # Two charts a row over the whole width; the height is what the header, tabs,
            # legend, strip (with its header line), status and footer leave: at least 3 plot
            # rows, enough for 0.00, 0.50 and 1.00 each on its own row (their true heights
            # are test_axis_labels.py's), and the run's points drawn in them.
            assert chart.size.width >= 30 and len(plot_rows(chart)) >= 3
            labels = [line.split("┤")[0].strip() for line in chart.render().plain.splitlines()]
            assert "0.00" in labels and "1.00" in labels
            assert chart.series.iterations and "".join(plot_rows(chart)).strip()
        await pilot.press("b")
        assert sidebar.display
        await pilot.press("b")
        assert not sidebar.display
        await pilot.resize_terminal(200, 60)
        await pilot.pause()
        assert not app.screen.has_class("-compact")
        assert sidebar.display
        assert all(c.size.width >= 60 for c in app.query(AccuracyChart))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.screen.has_class("-compact")


async def test_tabs_help_save_and_gradients(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        for chart in app.query(GradientChart):
            assert chart.dirty  # hidden tab: nothing drawn yet
        await pilot.press("3")
        await pilot.pause()
        assert app.active_tab == "gradients"
        for chart in app.query(GradientChart):
            assert not chart.dirty
            assert len(chart.series.grad_norms) == 4
            assert len(chart.series.grad_norms[0]) == 3  # 784-40-20-10: three weight layers
        await pilot.press("2", "t")
        await pilot.pause()
        assert app.active_tab == "overlay"
        assert app.query_one(OverlayChart).show_train
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("s")
        await pilot.pause()
        saved = list(app.current_run.path.glob("screen-overlay-*.svg"))
        assert len(saved) == 1
        assert "test&#160;accuracy" in saved[0].read_text()


async def test_worker_errors_become_notifications(mnist, tmp_path, monkeypatch):
    from vgtui.core.trainer import Trainer

    def broken_run(self, on_records, control=None):
        raise RuntimeError("the engine broke")

    monkeypatch.setattr(Trainer, "run", broken_run)
    app = VgtuiApp(SHORT, mnist, tmp_path)
    shown = Notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "failed")
        assert "the engine broke" in shown.text
        assert app.is_running
    run = app.current_run
    if getattr(run, "kept", True):
        assert read_summary(run.path)["status"] == "interrupted"
    else:  # a run that recorded nothing leaves no folder behind
        assert not run.path.exists()


async def test_autostart_runs_without_a_key(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path, autostart=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for_state(pilot, app, "done")
        assert app.history.last_iteration == 40


async def test_no_color_draws_curves_with_distinct_markers(mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.no_color
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("3")
        await pilot.pause()
        chart = app.query_one("#grad-3", GradientChart)
        drawn = chart.render().plain
        assert "3 L3 out" in drawn  # the legend, below the plot
        plot_rows = drawn.splitlines()[1:-3]
        assert any("3" in row for row in plot_rows)  # the third layer's marker on its curve


async def test_edits_during_a_run_are_noted_until_it_ends(mnist, tmp_path):
    app = VgtuiApp(LONG, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        note = app.query_one("#config-note")
        await pilot.press("n")  # a run, paused at its first evaluation
        await wait_until(pilot, lambda: len(app.history) == 4, "first step")
        field = app.query_one("#field-seed", Input)
        field.value = "7"
        await pilot.pause()
        assert "next run" in str(note.content)
        field.value = str(LONG.seed)  # back to the run's config: nothing to note
        await pilot.pause()
        assert str(note.content) == ""
        field.value = "8"
        await pilot.pause()
        assert "next run" in str(note.content)
        await pilot.press("x")
        await wait_for_state(pilot, app, "stopped")
        assert str(note.content) == ""  # no run under way: edits are for the next one anyway


async def test_an_error_in_the_app_stops_and_saves_the_run(mnist, tmp_path):
    """A crash mid-run ends the app; the run stops then, not at its end, and is saved."""
    app = VgtuiApp(RunConfig(iterations=100_000), mnist, tmp_path)

    def crash() -> None:
        raise RuntimeError("a bug in a handler")

    with pytest.raises(RuntimeError, match="a bug in a handler"):  # run_test re-raises it
        async with app.run_test(size=(120, 40)) as pilot:
            await start_run(pilot, app)
            await wait_until(pilot, lambda: len(app.history) >= 4, "first records")
            app.call_later(crash)
            await wait_until(pilot, lambda: not app.is_running, "the app to end")
    run = app.current_run
    assert run.finished.wait(30)
    summary = read_summary(run.path)
    assert summary["status"] == "interrupted"
    assert 0 < summary["iterations_done"] < 100_000
