"""``vgtui show RUN...`` in the app (issue 12, item 2, 3 and 7): saved runs on every tab,
read-only; several compared with the run named in every legend and row; a run still being
written followed live; an unreadable one named while the others open."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from tests.ui.apptools import wait_until
from vgtui.cli.runs import export_main
from vgtui.core.config import RunConfig, parse_setups
from vgtui.core.run import Run
from vgtui.core.vocabulary import RunStatus
from vgtui.ui.charts.accuracy import AccuracyChart
from vgtui.ui.charts.chart import TOO_SMALL
from vgtui.ui.charts.gradients import GradientChart
from vgtui.ui.charts.tabs import TAB_IDS
from vgtui.ui.look import format_gradient_ratio
from vgtui.ui.saved.opener import saved_screen
from vgtui.ui.saved.screen import SavedRunsApp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "run_folders"
FORMAT2 = FIXTURES / "20261129-152238-format2"
TWO = RunConfig(iterations=20, eval_every=10, setups=parse_setups("relu-he,sigmoid-gauss"))


def folder_state(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*")}


def legend(chart) -> str:
    lines = chart.render().plain.splitlines()
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return "\n".join(lines[bottom + 1 :])


async def test_a_saved_run_on_every_tab_read_only_with_cursor_smoothing_and_zoom():
    before = folder_state(FIXTURES)
    app = SavedRunsApp(saved_screen([FORMAT2]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.saved
        assert "DONE" in screen.header.text and "iter 20/20" in screen.header.text
        assert FORMAT2.name in screen.header.text
        history = screen.history
        assert history.setup_names == ("relu-he", "sigmoid-gauss")
        assert [s.iterations for s in history.series.values()] == [[10, 20], [10, 20]]
        assert len(screen.tabs.accuracy_grid.charts) == 2
        await pilot.press("2")
        await pilot.pause()
        assert "o relu-he" in legend(screen.tabs.overlay)
        await pilot.press("4")
        await pilot.pause()
        assert screen.tabs.table.row_count == 2
        diagnosis = screen.tabs.diagnosis.plain
        assert "sigmoid-gauss: vanishing gradient" in diagnosis and "relu-he: healthy" in diagnosis
        await pilot.press("5", "left_square_bracket", "e", "z")
        await pilot.pause()
        view = screen.tabs.view
        assert view.cursor == 20 and view.smoothing > 0 and view.zoom < 1
        assert "@20 loss o " in legend(screen.tabs.loss)
        await pilot.press("r", "x", "s")  # read-only: nothing starts, nothing is saved
        await pilot.pause()
        await pilot.press("q")
    assert folder_state(FIXTURES) == before


async def test_runs_compared_named_in_every_legend_and_row_and_an_unreadable_one(mnist, tmp_path):
    paths = []
    for seed in (0, 1):
        run = Run(RunConfig(**{**TWO.__dict__, "seed": seed}), mnist, tmp_path / f"s{seed}")
        run.execute()
        paths.append(run.path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    app = SavedRunsApp(saved_screen([*paths, broken]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.saved
        # the same setup's runs side by side (issue 19.19)
        names = ["seed0/relu-he", "seed1/relu-he", "seed0/sigmoid-gauss", "seed1/sigmoid-gauss"]
        assert list(screen.history.setup_names) == names
        assert "unreadable: " in screen.notes_text and "config.json (not valid JSON" in (
            screen.notes_text
        )
        assert f"seed1 = {paths[1].name}" in screen.notes_text
        await pilot.press("2")
        await pilot.pause()
        for name in names:
            assert name in legend(screen.tabs.overlay)
        await pilot.press("4")
        await pilot.pause()
        rows = [str(screen.tabs.table.get_row_at(i)[0]) for i in range(4)]
        assert rows == names
        assert "seed1/sigmoid-gauss: vanishing gradient" in screen.tabs.diagnosis.plain
        assert all(name in screen.tabs.strip.plain for name in names)


async def test_a_run_being_written_updates_live_and_the_header_says_when_it_finished(
    mnist, tmp_path
):
    run = Run(RunConfig(**{**TWO.__dict__, "iterations": 1000}), mnist, tmp_path, paused=True)
    writer = threading.Thread(target=run.execute)
    writer.start()
    try:
        run.step()
        await_records = threading.Event()
        while not run.records:  # the folder has its first evaluation point
            await_records.wait(0.05)
        app = SavedRunsApp(saved_screen([run.path]))
        async with app.run_test(size=(100, 30)) as pilot:
            screen = app.saved
            assert "RUNNING  following" in screen.header.text
            assert screen.history.last_iteration == 10
            run.step()
            await wait_until(pilot, lambda: screen.history.last_iteration == 20, "live records")
            run.stop(RunStatus.STOPPED)
            await wait_until(pilot, lambda: "STOPPED" in screen.header.text, "the end")
            assert "writer finished" in screen.header.text
    finally:
        run.stop()
        writer.join(30)


async def test_replay_plays_back_with_pause_and_scrub():
    app = SavedRunsApp(saved_screen([FORMAT2], replay=10.0))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = app.saved
        await pilot.press("p")  # paused at the start: nothing shown yet
        assert len(screen.history) < 4 and "PAUSED" in screen.header.text
        assert "replay 10 it/s" in screen.header.text
        await pilot.press("right", "right")
        assert len(screen.history) == 4 and screen.history.last_iteration == 20
        await pilot.press("left")  # scrub back: the charts show iteration 10 only
        assert len(screen.history) == 2 and "iter 10/20" in screen.header.text
        await pilot.press("plus", "p")  # faster, and play on to the end
        await wait_until(pilot, lambda: "DONE" in screen.header.text, "the end of the replay")
        assert len(screen.history) == 4


def test_export_svg_writes_one_file_per_tab_with_braille_in_cells(tmp_path):
    before = folder_state(FIXTURES)
    assert export_main([str(FORMAT2), "--svg", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{FORMAT2.name}-{tab}.svg" for tab in TAB_IDS if tab != "sweep")
    overlay = (tmp_path / f"{FORMAT2.name}-overlay.svg").read_text()
    assert "test&#160;accuracy" in overlay and "relu-he" in overlay
    assert re.search(r">[\u2800-\u28ff]</text>", overlay)  # one braille character per cell
    assert not re.search(r">[^<]*[\u2800-\u28ff][^<]+</text>", overlay)
    assert folder_state(FIXTURES) == before


async def test_two_runs_compared_keep_every_title_and_draw_no_axis_without_rows(mnist, tmp_path):
    """Issue 19 (items 7, 19) on two 4-setup runs with long labels (lr0.5,exact-grad): at
    120x40 every gradient panel kept no title (a label/setup name wider than the panel is not
    drawn), so no ratio; at 80x24 the panels had no plot row, and plotext drew 0.00 above 1.00
    on the frame, with no data."""
    paths = []
    for settings in ({"learning_rate": 0.5}, {"notebook_grad": True}):
        run = Run(RunConfig(iterations=20, eval_every=10, **settings), mnist, tmp_path)
        run.execute()
        paths.append(run.path)
    app = SavedRunsApp(saved_screen(paths))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.saved
        assert "lr0.5,exact-grad/relu-he" in screen.history.setup_names
        await pilot.press("3")
        await pilot.pause()
        for chart in screen.query(GradientChart):
            ratio = format_gradient_ratio(chart.series, short=True)
            assert chart.title.endswith(ratio) and len(chart.title) <= chart.size.width - 6
            assert chart.title in chart.render().plain
        await pilot.resize_terminal(80, 24)
        await pilot.press("1")
        await pilot.pause()
        for chart in screen.query(AccuracyChart):
            text = chart.render().plain
            assert TOO_SMALL in text or "1.00┤" in text, text
            assert "0.00┌" not in text and "1.00└" not in text
