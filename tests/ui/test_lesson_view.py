"""The lesson's view (issue 19, items 1, 2, 3, 6, 7): one persistent status line instead
of toasts over the charts, a cursor that pages and jumps, zoom to the start or around
the cursor, log axes whose labels sit at their true height, the ratio in every gradient title."""

from __future__ import annotations

import math
import re

import pytest

from tests.ui.apptools import Notifications, screen_lines, wait_for_state, wait_until
from vgtui.core.config import RunConfig, parse_setups
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.axes import decade_axis, decade_labels
from vgtui.ui.charts.chart import Chart, fit_legend
from vgtui.ui.charts.gradients import GradientChart
from vgtui.ui.goto import GoToScreen
from vgtui.ui.view import CURSOR_PAGE, ChartView

RUN = RunConfig(iterations=300, eval_every=10)


def overlaps(a, b) -> bool:
    return bool(a.intersection(b).area)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_run_end_and_a_save_say_so_in_the_status_line_over_no_chart(
    mnist, tmp_path, size
):
    app = VgtuiApp(RunConfig(iterations=40, eval_every=10), mnist, tmp_path)
    async with app.run_test(size=size, notifications=True) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        status = app.tabs.status
        assert "done: results in" in status.plain  # persistent: it does not time out
        charts = [chart.region for chart in app.query(Chart) if chart.display]
        assert charts
        for toast in app.screen.query("Toast"):
            assert not any(overlaps(toast.region, chart) for chart in charts)
        assert not any(overlaps(status.region, chart) for chart in charts)
        await pilot.press("minus")  # the pace: said in the status line, no toast
        await wait_until(pilot, lambda: "full speed" not in status.plain, "the new pace")
        assert re.search(r"pace \d+ it/s", status.plain) and not status.message
        await pilot.press("s")  # a one-off event: a message, under the charts
        await wait_until(pilot, lambda: "saved" in status.plain, "the saved message")
        saved = next(tmp_path.rglob("screen-*.svg"))
        message = status.message.split()
        lines = status.message_lines(status.content_region.width)
        screen = screen_lines(app)
        assert all(any(line in row for row in screen) for line in lines)
        said = " ".join(lines).split()
        assert saved.name in said  # whole
        assert all(word in message or word == "…" for word in said)  # no word cut
        assert str(saved.parent) in message  # the folder: one word, shown whole or as …
        assert not list(app.screen.query("Toast"))
        charts = [chart.region for chart in app.query(Chart) if chart.display]
        assert not any(overlaps(status.region, chart) for chart in charts)


async def test_cursor_pages_jumps_and_says_where_it_is_without_toasts(mnist, tmp_path):
    app = VgtuiApp(RUN, mnist, tmp_path)
    shown = Notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        shown.shown.clear()
        view = app.tabs.view
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert view.cursor == 290
        await pilot.press("left_curly_bracket")
        assert view.cursor == 290 - 10 * CURSOR_PAGE
        await pilot.press("home")
        assert view.cursor == 10
        await pilot.press("pagedown")  # on a chart tab: a page forward
        assert view.cursor == 10 + 10 * CURSOR_PAGE
        await pilot.press("end")
        assert view.cursor == 300
        await pilot.press("g")
        assert isinstance(app.screen, GoToScreen)
        await pilot.press("1", "5", "4")
        await pilot.pause()
        assert screen_lines(app)[-1].strip() == "154"  # one line at the bottom, readable
        await pilot.press("enter")
        await pilot.pause()
        assert view.cursor == 150 and not isinstance(app.screen, GoToScreen)
        assert shown.shown == []  # no toast per key: the status line says it
        assert "@150" in app.tabs.status.plain
        assert "@150" in "\n".join(screen_lines(app)[-3:])


def test_zoom_to_the_first_iterations_and_around_the_cursor():
    view = ChartView()
    assert view.x_range(2000) == (0, 2000)
    view.cycle_zoom()
    assert view.x_range(2000) == (0, 500) and view.zoom_text == "zoom first 25 %"
    view.cycle_zoom()
    assert view.x_range(2000) == (0, 100)
    view.cycle_zoom()  # no cursor: no window around it, back to everything
    assert view.x_range(2000) == (0, 2000)
    view.cursor = 530  # where relu-gauss's plateau ends
    for _ in range(3):
        view.cycle_zoom()
    assert view.zoom_anchor == "cursor" and view.x_range(2000) == (280, 780)
    view.cursor = 1990
    assert view.x_range(2000) == (1500, 2000)  # kept within the run
    assert "around the cursor" in " ".join(view.status_parts)
    view.clear_cursor()
    assert view.x_range(2000) == (0, 500)


@pytest.mark.parametrize("rows", [2, 3, 4, 5, 6, 8, 11, 20])
@pytest.mark.parametrize("low,high", [(-4.2, 0.6), (-7.5, -1.1), (-40, 0.3), (0.1, 0.2)])
@pytest.mark.parametrize("zero", [False, True])
def test_every_decade_label_sits_on_its_own_row_at_its_true_height(rows, low, high, zero):
    if zero and rows < 3:
        pytest.skip("no room for a zero row and a decade apart (the charts have more rows)")
    ticks, labels, (bottom, top) = decade_axis(low, high, rows, zero)
    assert bottom <= low and top >= high
    step = ticks[1] - ticks[0]
    assert step == int(step) and all(b - a == step for a, b in zip(ticks, ticks[1:], strict=False))
    where = [(t - bottom) / (top - bottom) * (rows - 1) for t in ticks]
    assert all(abs(w - round(w)) < 1e-9 for w in where)  # exactly on a row
    assert len(set(map(round, where))) == len(ticks) <= rows  # none shares a row
    assert labels[0] == ("0" if zero else f"1e{int(ticks[0])}")
    assert labels[1:] == [f"1e{int(t)}" for t in ticks[1:]]
    # the rows are used: one more row per step would no longer reach the data (the Profile's
    # error chart, 1e-6.6..1e-2.5 on 10 rows, ran to 1e2 at a row a decade, half of it empty)
    rows_per_step = round((rows - 1) * step / (top - bottom))
    decades_drawn = (top - bottom) * rows_per_step / (rows_per_step + 1)
    assert bottom + decades_drawn < max(high, math.floor(low) + 1) or step > 1


def test_a_log_axis_fills_its_rows_with_the_data():
    """The Profile tab's error chart at 80x24: 1e-6.6..1e-2.5 on 10 rows takes two rows a
    decade up to 1e-2.5, not one a decade up to 1e2 (its top half empty)."""
    ticks, labels, (bottom, top) = decade_axis(-6.58, -2.52, 10)
    assert labels == ["1e-7", "1e-6", "1e-5", "1e-4", "1e-3"] and (bottom, top) == (-7, -2.5)


def test_decades_read_as_plain_numbers_only_where_all_of_an_axis_are_short():
    assert decade_labels([-2.0, -1.0, 0.0, 1.0], plain=True) == ["0.01", "0.1", "1", "10"]
    assert decade_labels([-3.0, 3.0], plain=True) == ["0.001", "1000"]
    assert decade_labels([-4.0, -2.0, 0.0], plain=True) == ["1e-4", "1e-2", "1e0"]  # one form
    assert decade_labels([-3.0, -2.0], zero=True, plain=True) == ["0", "0.01"]
    assert decade_labels([-1.0, 0.0]) == ["1e-1", "1e0"]


def y_labels(chart) -> list[tuple[int, str]]:
    """(row, label) of the y axis as the chart draws it."""
    rows = chart.render().plain.splitlines()
    return [(row, line.split("┤")[0].strip()) for row, line in enumerate(rows) if "┤" in line]


async def test_gradient_titles_keep_the_ratio_and_the_log_labels_are_true(mnist, tmp_path):
    app = VgtuiApp(RUN, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        for keys in (("3",), ("d",)):  # the gradient norm, then the error std
            await pilot.press(*keys)
            await pilot.pause()
            for chart in app.query(GradientChart):
                assert re.search(r"\d(\.\d)?e-?\d", chart.title), chart.title
                assert chart.series.setup in chart.title
                if keys == ("d",):
                    assert "δ" in chart.title
                labels = [(row, label) for row, label in y_labels(chart) if label != "0"]
                assert len(labels) >= 2
                exponents = [int(label[2:]) for _, label in labels]
                # one step in exponent per fixed number of rows: each at its true height
                rate = (exponents[0] - exponents[-1]) / (labels[-1][0] - labels[0][0])
                for (row, _), exponent in zip(labels, exponents, strict=True):
                    assert math.isclose(exponents[0] - exponent, rate * (row - labels[0][0]))
        assert "sigmoid-gauss  δ" in " ".join(screen_lines(app))


async def test_summary_findings_cause_first_scroll_without_focus(mnist, tmp_path):
    """Issue 19, item 8: at 80x24 the causal finding is in view, PgDn/PgUp and the arrows
    scroll the findings with no Tab to focus them, and the tab keys keep working."""
    app = VgtuiApp(RUN, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("4")
        await pilot.pause()
        diagnosis = app.tabs.diagnosis
        text = diagnosis.plain
        assert text.index("sigmoid-gauss: vanishing gradient") < text.index("stalled")
        assert any("vanishing gradient" in line for line in screen_lines(app))
        focused = app.focused
        await pilot.press("pagedown")
        await wait_until(pilot, lambda: diagnosis.scroll_y > 0, "the findings to scroll")
        assert app.focused is focused  # no focus taken
        down = diagnosis.scroll_y
        await pilot.press("down")
        await wait_until(pilot, lambda: diagnosis.scroll_y > down, "one line more")
        await pilot.press("pageup", "pageup")
        await wait_until(pilot, lambda: diagnosis.scroll_y == 0, "back to the top")
        await pilot.press("1")
        await pilot.pause()
        assert app.tabs.active == "accuracy"
        assert app.tabs.view.cursor is None  # PgDn on the summary moved no cursor


async def test_one_legend_line_per_tab_at_80x24(mnist, tmp_path):
    """Issue 19, item 4: the charts at 80x24 are too short for legends of their own; one line
    under the tab says what the line, the dots and the digits are."""
    app = VgtuiApp(RUN, mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.pause()
        lines = screen_lines(app)
        legend = next(line for line in lines if "line: test" in line)
        assert "dots: train" in legend and len(legend) <= 80
        await pilot.press("3")
        await pilot.pause()
        legend = next(line for line in screen_lines(app) if "per layer" in line)
        assert "1 L1 (input)" in legend and "3 L3 (output)" in legend
        await pilot.press("d")
        await pilot.pause()
        assert any("error std per layer" in line for line in screen_lines(app))


def test_a_legend_names_every_series_or_says_how_many_it_leaves_out():
    """Issue 19, item 5: never a silent cut."""
    names = [f"{marker} setup-{n}" for n, marker in enumerate("ox+*#@%&$")]
    assert fit_legend(names, 200) == "  ".join(names)
    line = fit_legend(names, 60)
    shown = [name for name in names if name in line]
    assert len(line) <= 60 and line.endswith(f"+{len(names) - len(shown)} more")
    assert shown == names[: len(shown)]


async def test_a_nine_setup_overlay_names_all_or_counts_the_rest(mnist, tmp_path):
    setups = "sigmoid-gauss,relu-gauss,sigmoid-xavier,relu-he,tanh-xavier,tanh-gauss,"
    config = RunConfig(iterations=20, eval_every=10, setups=parse_setups(
        setups + "relu-xavier,leaky-relu-he,softsign-xavier"))  # fmt: skip
    app = VgtuiApp(config, mnist, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("2")
        await pilot.pause()
        text = "\n".join(app.overlay.render().plain.splitlines()[-3:])
        named = [name for name in config.setup_names if f" {name}" in text]
        more = re.search(r"\+(\d+) more", text)
        assert len(named) + (int(more.group(1)) if more else 0) == 9


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
async def test_every_tab_title_stays_visible(mnist, tmp_path, size):
    """Eight tabs (the Profile tab added one): titles shorten rather than scroll away."""
    app = VgtuiApp(RUN, mnist, tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        bar = next(line for line in screen_lines(app) if " 1  " in line)
        numbers = re.findall(r"[A-Z][a-z]+ (\d)", bar)
        assert numbers == [str(n) for n in range(1, 9)], bar
