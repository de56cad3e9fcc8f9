"""--seeds in the app: each setup's accuracy chart draws the mean of its seeds and, dotted,
their min-max band; the strip and the summary show the means, the summary the standard
deviation of the final test accuracy (issues #13, #18 item 8); --same-batches is a switch in
the sidebar."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Checkbox

from tests.ui.apptools import SHORT, drawn_colors, wait_for_state
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.accuracy import AccuracyChart
from vgtui.ui.look import BAND_COLOR


async def test_accuracy_charts_draw_the_mean_and_the_band_of_the_seeds(mnist, tmp_path):
    bands = {}
    for seeds in (1, 2):
        app = VgtuiApp(replace(SHORT, seeds=seeds), mnist, tmp_path / str(seeds))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.press("r")
            await wait_for_state(pilot, app, "done")
            await pilot.pause()
            chart = app.query_one("#acc-3", AccuracyChart)  # relu-he
            bands[seeds] = BAND_COLOR in drawn_colors(chart)
            series = chart.series
            assert series.setup == "relu-he" and series.seeds == seeds
            assert len(app.tabs.accuracy_grid.charts) == 4  # one chart per setup, not per seed
            if seeds == 2:
                assert "mean of 2" in chart.legend and "train" in chart.legend
                low, high = series.test_low[-1], series.test_high[-1]
                assert low <= series.test_accuracy[-1] <= high and low < high
                await pilot.press("4")
                await pilot.pause()
                cells = [str(c) for c in app.tabs.table.get_row_at(3)]
                assert cells[0] == "relu-he" and any(" sd " in cell for cell in cells)
    assert bands == {1: False, 2: True}  # the band of the seeds' range, dotted


async def test_the_sidebar_offers_same_batches_from_the_option_table(mnist, tmp_path):
    app = VgtuiApp(replace(SHORT, seeds=2, same_batches=True), mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        box = app.query_one("#field-same_batches", Checkbox)
        assert box.value and "same batches" in str(box.label)
        assert app.sidebar.read_config().same_batches
        box.value = False
        await pilot.pause()
        assert not app.sidebar.read_config().same_batches
