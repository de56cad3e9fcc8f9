"""Issue 19's classroom controls, driven with Pilot at 80x24 and 120x40: pace, the keys that
ask before clearing, the Runs screen's keys, the sidebar, and how the app ends."""

from __future__ import annotations

import re
from dataclasses import replace

from textual.widgets import Input

from tests.ui.apptools import (
    LONG,
    SHORT,
    Notifications,
    read_summary,
    screen_lines,
    start_run,
    wait_for_state,
    wait_until,
)
from vgtui.core.run import Run
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.accuracy import AccuracyChart
from vgtui.ui.saved.opener import saved_screen
from vgtui.ui.saved.runs_list import RunsScreen
from vgtui.ui.saved.screen import SavedRunsApp


async def test_ctrl_c_in_the_app_exits_130_as_headless_does(mnist, tmp_path):
    app = VgtuiApp(LONG, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await start_run(pilot, app)
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
    long = {"notebook_grad": True, "batch_size": 50, "seed": 3}  # a long folder name
    for changes in ({"learning_rate": 0.5}, long):
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
        for row, name in enumerate(names):  # a long name on two lines, each on screen
            cell = str(runs.table.get_row_at(row)[1])
            assert cell.replace("\n", "").startswith(name)
            assert all(line in text for line in cell.splitlines())
        assert {name.split("-", 2)[2] for name in names} == {
            "notebook-iters20-lr0.5",
            "notebook-iters20-batch50-notebook-grad-seed3",
        }


async def test_a_paced_run_reads_its_pace_a_running_clock_and_an_eta(mnist, tmp_path):
    """At pace 30 it/s the header said '00:00  499.3 it/s': its clock left out the time the
    pace holds the run, which is the run's own time; charts redraw at the full frame rate
    while the pace holds the trainer back; the header says when the run will end."""
    app = VgtuiApp(LONG, mnist, tmp_path, pace=30.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_until(pilot, lambda: app.history.last_iteration >= 60, "60 iterations")
        assert app.pace.holding()  # the pace sets the speed: redraws need not wait
        app.update_header()
        parts = dict((text.split(" ")[-1], text) for text, _ in app.header.parts)
        rate = float(parts["it/s"].split()[0])
        # iterations / the run's time, never the compute rate; the trainer may be ahead of
        # the records the pace holds it by (a few evaluations)
        ahead = app.current_run.iteration / app.history.last_iteration
        assert 0 < rate <= 30 * ahead * 1.1, app.header.text  # (the clock starts a message late)
        clock = next(text for text, _ in app.header.parts if re.fullmatch(r"\d\d:\d\d", text))
        assert clock != "00:00"
        eta = next(text for text, _ in app.header.parts if text.startswith("eta "))
        minutes, seconds = map(int, eta.removeprefix("eta ").split(":"))
        remaining = LONG.iterations - app.current_run.iteration
        assert 60 * minutes + seconds >= remaining / 30 - 1  # at most the pace's speed
        assert "eta" in app.header.render().plain  # it fits 80 columns
        await pilot.press("x")
        await wait_for_state(pilot, app, "stopped")
        assert all(not text.startswith("eta ") for text, _ in app.header.parts)


async def test_the_sidebar_takes_tab_keys_and_setups_as_they_are(mnist, tmp_path):
    """At 120x40: the first Tab from READY lands on the first field (it landed on the sidebar
    itself, which shows no cursor); 'x x' typed into iterations leaves 2000 (it gave 2000xx);
    adding a setup already listed says so (it said 'added setup relu-he')."""
    app = VgtuiApp(LONG, mnist, tmp_path)
    shown = Notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("tab")
        assert app.focused is app.query_one("#field-preset")
        await pilot.press("tab")
        iterations = app.query_one("#field-iterations", Input)
        assert app.focused is iterations
        await pilot.press("end", "x", "space", "x")
        assert iterations.value == "2000"
        await pilot.press("escape", "x")  # out of the field, x acts (nothing to stop)
        custom = app.query_one("#custom-setup", Input)
        custom.focus()
        await pilot.press(*"relu-he", "enter")
        await pilot.pause()
        assert shown.shown[-1][0] == "relu-he is already listed and ticked"
        await pilot.press(*"tanh-xavier", "enter")
        await pilot.pause()
        assert shown.shown[-1][0] == "added setup tanh-xavier"


async def test_only_the_keys_of_the_screen_shown_act_and_show(mnist, tmp_path):
    """The Runs screen's footer showed the monitor's keys and r there started a run behind the
    list; the replay's footer had two different 'Back' keys."""
    Run(replace(SHORT, iterations=20), mnist, tmp_path).execute()
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        footer = screen_lines(app)[-1]
        assert "r Run" in footer and "o Runs" in footer
        await pilot.press("o")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        await wait_until(pilot, lambda: runs.table.row_count == 1, "the run folder listed")
        await pilot.press("r", "n", "p", "x", "b", "s")
        await pilot.pause()
        assert app.run_state == "ready" and app.current_run is None
        assert app.screen is runs
        footer = screen_lines(app)[-1]
        assert "Back" in footer and "Mark" in footer and "Open" in footer
        assert not any(word in footer for word in ("Run", "Pause", "Step", "Stop", "Sidebar"))
        await pilot.press("escape", "r")  # the monitor again: its keys act
        await wait_until(pilot, lambda: app.current_run is not None, "a run started")
        await pilot.press("q")  # as a user quits: the run stops and is saved first
    replay = SavedRunsApp(saved_screen([runs.paths[0]], replay=100.0))
    async with replay.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        footer = screen_lines(replay)[-1]
        assert footer.count("Back") == 1, footer


async def test_s_saves_the_screen_as_export_svg_does(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("s")
        await pilot.pause()
    (saved,) = app.current_run.path.glob("screen-*.svg")
    svg = saved.read_text(encoding="utf-8")
    assert '"Noto Sans Symbols 2"' in svg
    dots = re.findall(r"<text[^>]*>[\u2800-\u28ff]</text>", svg)
    assert dots and all('lengthAdjust="spacingAndGlyphs"' in dot for dot in dots)


async def test_compared_runs_show_each_setup_s_panels_side_by_side(mnist, tmp_path):
    """Two runs of four setups: eight panels, each setup's two in the same row (in a grid of
    three columns the pairs broke across rows)."""
    paths = []
    for changes in ({"learning_rate": 0.5}, {"notebook_grad": True}):
        run = Run(replace(SHORT, iterations=20, **changes), mnist, tmp_path)
        run.execute()
        paths.append(run.path)
    app = SavedRunsApp(saved_screen(paths))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        charts = list(app.query(AccuracyChart))
        names = [chart.series.setup for chart in charts]
        assert names[:2] == ["lr0.5,exact-grad/sigmoid-gauss", "lr0.1,notebook-grad/sigmoid-gauss"]
        for first, second in zip(charts[::2], charts[1::2], strict=True):
            assert first.series.setup.split("/")[1] == second.series.setup.split("/")[1]
            assert first.region.y == second.region.y and first.region.x < second.region.x
