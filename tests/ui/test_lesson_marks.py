"""Every mark told apart (issue 19, items 9 and 10): four clearly different hues for the
default setups, also in a 256-colour terminal; without colour, each series' own marker densely
along its curve; with --seeds, the strip and the summary show the same ratio and the legend
keeps "train" while train dots are drawn."""

from __future__ import annotations

import colorsys
from dataclasses import replace

import pytest
from rich.color import Color, ColorSystem

from tests.ui.apptools import SHORT, plot_rows, screen_lines, wait_for_state, wait_until
from vgtui.cli.report import format_summary
from vgtui.core.config import RunConfig
from vgtui.core.summary import format_ratio, summarize
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.accuracy import AccuracyChart
from vgtui.ui.charts.chart import BAND_MARKER
from vgtui.ui.charts.strip import SetupStrip
from vgtui.ui.look import series_color, series_marker


def hue(rgb: tuple[int, int, int]) -> float:
    return 360 * colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0]


def apart(a: float, b: float) -> float:
    return min(abs(a - b), 360 - abs(a - b))


@pytest.mark.parametrize("system", [ColorSystem.TRUECOLOR, ColorSystem.EIGHT_BIT])
def test_the_four_default_setups_have_four_clearly_different_hues(system):
    shown = []
    for index in range(4):
        color = Color.from_rgb(*series_color(index)).downgrade(system)
        shown.append(tuple(color.get_truecolor()))
    hues = [hue(rgb) for rgb in shown]
    for i in range(4):
        for j in range(i + 1, 4):
            assert apart(hues[i], hues[j]) >= 30, (shown, hues)


async def test_without_colour_each_curve_carries_its_marker_densely(mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = VgtuiApp(RunConfig(iterations=300, eval_every=10), mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("2")
        overlay = app.overlay
        await wait_until(pilot, lambda: overlay.region.height > 0, "the overlay laid out")
        await pilot.pause()
        # its own legend under the plot, not also the tab's legend line (which a redraw
        # before the overlay's first layout used to leave, under load: one row less)
        assert not overlay.short and not app.tabs.legend_line.display
        width = len(plot_rows(overlay)[0])
        assert width == overlay.size.width - 6  # the plot's columns (labels, frame: 6)
        plot = "\n".join(plot_rows(overlay))
        for index in range(4):  # all at once: every setup's marker, also on shared lines
            assert plot.count(series_marker(index)) >= 5, (index, plot)
        for index in range(4):  # each alone: one marker about every 3 columns
            await pilot.press("h")
            await pilot.pause()
            plot = "\n".join(plot_rows(overlay))
            assert plot.count(series_marker(index)) >= width // 4, (index, plot)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_seeds_the_strip_and_the_summary_agree_and_train_stays_named(mnist, tmp_path, size):
    config = replace(SHORT, seeds=3)
    app = VgtuiApp(config, mnist, tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        summaries = {s.setup: s for s in summarize(app.history.records, config.setup_names)}
        strip = app.query_one(SetupStrip).plain
        for name, summary in summaries.items():
            line = next(line for line in strip.splitlines() if name in line)
            entry = line[line.index(name) :].split()
            assert entry[3] == format_ratio(summary.grad_ratio), (entry, summary.grad_ratio)
        chart = app.query_one("#acc-3", AccuracyChart)
        assert chart.series.train_accuracy  # the train dots are drawn (the mean's) ...
        legend = chart.legend if not chart.short else app.tabs.legend_line.render()
        assert "train" in str(legend)  # ... and named (the band, as far as it fits)
        assert BAND_MARKER in "".join(plot_rows(chart))  # the band its legend's "··" names
        # the findings read the first seed (9.6% under a table of 10.4%): their heading says so
        await pilot.press("4")
        await pilot.pause()
        heading = "Diagnosis of each setup's first seed (the table shows the mean of 3):"
        assert " ".join(app.tabs.diagnosis.plain.split()).startswith(heading)
        report = format_summary(app.history.records, "done", config, 0.0, None, "mnist")
        assert heading in " ".join(report.split())
        assert any("train" in line for line in screen_lines(app))
