"""The lesson's numbers at every size (issue 10): the summary table, the per-setup strip, one
title format, legends outside the data, colours and markers, the shared gradient scale, the
checkbox, the help, the header, divergence and a finished run that is not thrown away."""

from __future__ import annotations

import re

from textual.widgets import DataTable

from tests.ui.apptools import (
    DIVERGING,
    SHORT,
    Notifications,
    plot_rows,
    unnamed_strip_numbers,
    wait_for_state,
    wait_until,
)
from vgtui.core.config import RunConfig, parse_setups
from vgtui.core.records import MetricRecord
from vgtui.core.summary import SUMMARY_COLUMNS
from vgtui.core.vocabulary import ACTIVATION_NAMES, init_forms
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.accuracy import AccuracyChart, OverlayChart
from vgtui.ui.charts.chart import BAND_MARKER
from vgtui.ui.charts.gradients import GradientChart
from vgtui.ui.charts.strip import SetupStrip
from vgtui.ui.header import short_folder
from vgtui.ui.help import HelpScreen
from vgtui.ui.look import MARKERS, PALETTE

RATIO = re.compile(r"^\d\.\de-?\d+$|^\d\.\d{2}e[+-]\d\d$")
"""A gradient ratio that keeps its magnitude: 4.3e-3, or the summary's 4.30e-03."""


def y_ticks(chart) -> list[str]:
    """The labels on a chart's y axis, top to bottom."""
    lines = chart.render().plain.splitlines()
    return [line.split("┤")[0].strip() for line in lines if "┤" in line]


def below_plot(chart) -> str:
    lines = chart.render().plain.splitlines()
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    return "\n".join(lines[bottom + 1 :])


def assert_table_whole(table: DataTable) -> None:
    """Every shown column fits: no cell is cut, and the ratio column is there."""
    widths = [column.get_render_width(table) for column in table.columns.values()]
    assert sum(widths) <= table.scrollable_content_region.width, widths
    labels = [str(column.label) for column in table.columns.values()]
    assert labels[0] == "setup" and table.fixed_columns == 1
    assert any("1st/last" in label for label in labels), labels
    ratio_column = next(i for i, label in enumerate(labels) if "1st/last" in label)
    for row in range(table.row_count):
        cells = [str(cell) for cell in table.get_row_at(row)]
        assert RATIO.match(cells[ratio_column]), cells
        for cell, column in zip(cells, table.columns.values(), strict=True):
            assert len(cell) <= column.content_width


def table_whole(table: DataTable) -> bool:
    try:
        assert_table_whole(table)
    except AssertionError:
        return False
    return True


async def settled_whole(pilot, table: DataTable, what: str) -> None:
    """Wait for the table to refit after a resize (a busy machine may take a few frames),
    then check it whole: a table that never fits fails here."""
    await wait_until(pilot, lambda: table_whole(table), f"the summary to fit {what}")
    assert_table_whole(table)


async def test_summary_never_cuts_a_number_at_any_size(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("4")
        await pilot.pause()
        table = app.query_one("#summary-table", DataTable)
        assert app.sidebar.display
        await settled_whole(pilot, table, "120x40 with the sidebar open")
        for size in ((100, 30), (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await settled_whole(pilot, table, f"{size}")
        await pilot.press("b")  # 80x24 with the sidebar open: 45 columns left
        await pilot.pause()
        assert app.sidebar.display
        await settled_whole(pilot, table, "80x24 with the sidebar open")
        await pilot.resize_terminal(200, 60)
        await wait_until(
            pilot,
            lambda: [str(c.label) for c in table.columns.values()] == list(SUMMARY_COLUMNS),
            "every column at 200x60",
        )


async def test_strip_shows_every_setup_on_every_tab(mnist, tmp_path):
    app = VgtuiApp(DIVERGING, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        app.clear_notifications()
        strip = app.query_one(SetupStrip)
        diverged = app.history.series["relu-gauss:100"].diverged_at
        for tab in "1234":
            await pilot.press(tab)
            await pilot.pause()
            assert strip.display and strip.region.height >= 1
            assert strip.region.bottom <= app.size.height - 1  # above the footer
            text = strip.plain
            assert f"diverged at {diverged}" in text
            assert "sigmoid-gauss" in text and "relu-gauss:100" in text
            line = next(line for line in text.splitlines() if "sigmoid-gauss" in line)
            entry = line[line.index("sigmoid-gauss") :].split()
            assert entry[1] in ("ok", "stalled") and entry[2].endswith("%")
            assert RATIO.match(entry[-1]), entry
            assert not unnamed_strip_numbers(app), strip.plain  # each labelled or under its name


async def test_one_title_format_and_legends_below_the_data(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        titles = [chart.title for chart in app.query(AccuracyChart)]
        formats = {re.sub(r"\d+\.\d%", "N", title.split(maxsplit=1)[1]) for title in titles}
        assert formats in ({"test N  train N"}, {"test N"}), titles
        for chart in app.query(AccuracyChart):
            assert not any("test" in row or "train" in row for row in plot_rows(chart))
            assert "test" in below_plot(chart)
        await pilot.press("3")
        await pilot.pause()
        for chart in app.query(GradientChart):
            assert re.match(r"^\S+  first/last \S+$", chart.title), chart.title
            assert not any("L1" in row for row in plot_rows(chart))
            assert "1 L1 in" in below_plot(chart)
        strip = app.query_one(SetupStrip)  # beside the sidebar: every number named on screen
        assert strip.region.x > 30 and not unnamed_strip_numbers(app), strip.plain
        # 80x24 with the sidebar open: neighbours still share one format
        await pilot.resize_terminal(80, 24)
        await pilot.press("b")
        await pilot.pause()
        shapes = {len(chart.title.split()) for chart in app.query(GradientChart)}
        assert len(shapes) == 1, [chart.title for chart in app.query(GradientChart)]
        assert not unnamed_strip_numbers(app), strip.plain


async def test_a_deep_network_shows_first_middle_last_and_a_band(mnist, tmp_path):
    config = RunConfig(
        iterations=20, eval_every=10, hidden=(16,) * 7, setups=parse_setups("relu-he")
    )
    app = VgtuiApp(config, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("3")
        await pilot.pause()
        chart = app.query_one(GradientChart)
        legend = below_plot(chart)
        assert "f L1 in" in legend and "m L5" in legend and "l L8 out" in legend
        assert "range of all 8" in legend
        drawn = set("".join(plot_rows(chart)))
        assert {"f", "m", "l"} <= drawn  # first, middle and last layer: not one per layer
        assert BAND_MARKER in drawn  # the range the legend's "··" names (not the "•" of train)
        assert not drawn & set("12345678")


def test_palette_and_markers_keep_ten_series_apart():
    assert len(set(PALETTE)) >= 10 and len(set(MARKERS)) >= 10
    for red, green, blue in PALETTE:  # no dark colours on the dark background
        assert 0.2126 * red + 0.7152 * green + 0.0722 * blue >= 90


async def test_overlay_draws_a_marker_per_setup_without_colour(mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    names = "sigmoid-gauss,relu-gauss,sigmoid-xavier,relu-he,tanh-xavier,tanh-gauss"
    names += ",elu-he,leaky-relu-he,elu-xavier,tanh-he"
    config = RunConfig(iterations=20, eval_every=10, setups=parse_setups(names))
    app = VgtuiApp(config, mnist, tmp_path)
    async with app.run_test(size=(160, 50)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("2")
        await pilot.pause()
        overlay = app.query_one(OverlayChart)
        plot = "\n".join(plot_rows(overlay))
        assert sum(marker in plot for marker in MARKERS[:10]) >= 5  # (curves may overlap)
        strip = app.query_one(SetupStrip).plain
        assert all(f"{MARKERS[i]} {name}" in strip for i, name in enumerate(names.split(",")))
        for index in range(10):  # each setup alone (h): its marker on its curve
            await pilot.press("h")
            await pilot.pause()
            assert MARKERS[index] in "\n".join(plot_rows(overlay)), index


def y_label_rows(chart) -> list[tuple[int, str]]:
    rows = chart.render().plain.splitlines()
    return [(row, line.split("┤")[0].strip()) for row, line in enumerate(rows) if "┤" in line]


def gradient_record(iteration: int, setup: str, norms: tuple[float, ...]) -> MetricRecord:
    return MetricRecord(iteration, setup, 0.5, 0.5, 1.0, norms, 1.0)


async def test_gradient_panels_share_one_range_and_show_zeros(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        names = SHORT.setup_names
        app.tabs.add(
            [gradient_record(10, names[0], (1e-6, 1e-3, 1.0))]
            + [gradient_record(10, name, (1.0, 2.0, 3.0)) for name in names[1:3]]
            + [gradient_record(10, names[3], (0.0, 1e-2, 1.0))]
        )
        await pilot.press("3")
        await pilot.pause()
        charts = list(app.query(GradientChart))
        # one range for every panel: the same labels at the same heights above the bottom
        # (a taller panel shows more above: issue 19, item 6)
        ticks = [y_ticks(chart)[::-1] for chart in charts]
        shortest = min(ticks, key=len)
        assert len(shortest) >= 2 and all(t[: len(shortest)] == shortest for t in ticks)
        heights = [[row for row, _ in y_label_rows(chart)] for chart in charts]
        heights = [[r[-1] - row for row in r][::-1] for r in heights]
        assert all(h[: len(shortest)] == heights[0][: len(shortest)] for h in heights)
        underflow = charts[3]
        assert "0 / underflow" in below_plot(underflow)
        assert underflow.title.endswith("first/last 0")
        ticks = [line.split("┤")[0].strip() for line in underflow.render().plain.splitlines()]
        assert "0" in ticks  # the row of exact zeros
        strip = app.query_one(SetupStrip)
        entries = dict(e for line in strip.entry_lines(strip.size.width) for e in line)
        entry = entries[3].strip()
        assert entry.endswith((" 0", "0 / underflow")), entry  # a zero ratio, not "-"


async def test_checkbox_state_shows_without_colour(mnist, tmp_path, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        box = app.query_one("#field-notebook_grad")
        off = box.render().plain
        box.value = True
        await pilot.pause()
        on = box.render().plain
        assert off != on and "X" in on and "X" not in off
        setups = app.query_one("#setups")
        setups.deselect("relu-gauss")
        await pilot.pause()
        lines = [setups.render_line(y).text for y in range(4)]
        assert "X" in lines[0] and "X" not in lines[1] and "relu-gauss" in lines[1]


async def test_help_scrolls_at_80x24_and_explains_every_control(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        scroll = app.screen.query_one("#help-scroll")
        assert scroll.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        text = str(app.screen.query_one("#help-text").render())
        for label in ("notebook gradient", "iterations", "batch size", "learning rate"):
            assert label in text
        for label in ("hidden sizes", "eval interval", "seed", "setups", "ACTIVATION-INIT"):
            assert label in text
        assert all(len(line) <= 72 for line in text.splitlines())
        words = {word.strip(".,;") for word in text.split()}
        missing = [n for n in (*ACTIVATION_NAMES, *init_forms()) if n not in words]
        assert not missing, missing  # every activation and init a setup may name


async def test_header_keeps_the_run_folder_at_80_columns(mnist, tmp_path):
    config = RunConfig(iterations=2000, eval_every=10)
    app = VgtuiApp(config, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")  # a run, paused at its first evaluation
        await wait_until(pilot, lambda: len(app.history) == 4, "first step")
        await pilot.pause()
        line = app.header.render().plain
        assert len(line) <= 80
        assert short_folder(app.current_run.path.name) in line
        assert "PAUSED" in line and "iter 10/2000" in line
        await pilot.press("x")
        await wait_for_state(pilot, app, "stopped")


async def test_divergence_is_named_in_its_plots_and_titles(mnist, tmp_path):
    app = VgtuiApp(DIVERGING, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        at = app.history.series["relu-gauss:100"].diverged_at
        accuracy = app.query_one("#acc-0", AccuracyChart)
        assert f"diverged at {at}" in below_plot(accuracy)
        assert "waiting" not in accuracy.render().plain
        await pilot.press("3")
        await pilot.pause()
        gradients = app.query_one("#grad-0", GradientChart)
        assert f"diverged at {at}" in gradients.title
        await pilot.press("2")
        await pilot.pause()
        assert f"diverged at {at}" in below_plot(app.query_one(OverlayChart))


async def test_a_finished_run_is_replaced_only_on_a_second_press(mnist, tmp_path):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    shown = Notifications(app)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        finished = app.current_run
        for key in ("r", "n"):
            await pilot.press(key)
            await pilot.pause()
            assert app.current_run is finished and app.run_state == "done"
            assert len(app.history) == 16  # the finished run's curves stay
            assert f"press {key} again" in shown.text
            app.clear_notifications()
        await pilot.press("n", "n")
        await wait_until(pilot, lambda: app.current_run is not finished, "a new run")
        await wait_for_state(pilot, app, "paused")


async def test_the_same_columns_get_shorter_headers_when_the_table_narrows(mnist, tmp_path):
    """Every column still fits a narrower table once its headers are short: the headers
    must change although the columns do not (they once stayed long and the table was cut)."""
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        table = app.query_one("#summary-table", DataTable)
        await pilot.press("b", "4")  # no sidebar: the whole width, the long headers
        await wait_until(pilot, lambda: not app.sidebar.display, "the sidebar to go")
        await settled_whole(pilot, table, "120 columns")
        wide = [str(c.label) for c in table.columns.values()]
        assert wide == list(SUMMARY_COLUMNS)
        await pilot.press("b")  # the sidebar back: the same columns, short headers
        await wait_until(pilot, lambda: app.sidebar.display, "the sidebar to come back")
        await settled_whole(pilot, table, "with the sidebar")
        narrow = [str(c.label) for c in table.columns.values()]
        assert len(narrow) == len(wide) and "test" in narrow and "final test" not in narrow
