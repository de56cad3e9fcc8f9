"""Axes label each value at its true height (issue 19, item 6): a label sits on the row its
value falls on, so a 4-row accuracy chart at 80x24 labels 0 and 1 only (0.5 would fall
between two rows), a taller one whose rows do not divide evenly reaches a little over 1.0
rather than misplace its labels, and the Loss tab's log axis labels decades alone, none
skipped (2 and 5 never fall on a row)."""

from __future__ import annotations

import math

import pytest

from tests.ui.apptools import SHORT, plot_rows, wait_for_state
from vgtui.core.config import RunConfig
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.accuracy import AccuracyChart, OverlayChart, accuracy_axis
from vgtui.ui.charts.axes import linear_axis
from vgtui.ui.look import series_marker


def labels_by_row(chart) -> tuple[list[tuple[int, str]], int]:
    """(row counted from the bottom, label) for each y label inside the chart's frame, read
    from what the chart renders, and the number of rows."""
    lines = chart.render().plain.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    rows = lines[top + 1 : bottom]
    shown = []
    for index, line in enumerate(rows):
        if "┤" in line:
            shown.append((len(rows) - 1 - index, line.split("┤", 1)[0].strip()))
    return shown, len(rows)


def test_labels_fall_on_rows():
    assert accuracy_axis(4, (0.5, 1.0)) == ([0.0, 1.0], ["0.00", "1.00"], 1.0)
    assert accuracy_axis(3, (0.5, 1.0))[:2] == ([0.0, 0.5, 1.0], ["0.00", "0.50", "1.00"])
    assert accuracy_axis(9, (0.25, 0.5, 1.0))[0] == [0.0, 0.25, 0.5, 0.75, 1.0]
    ticks, _, top = accuracy_axis(12, (0.25, 0.5, 1.0))  # 11 intervals: 0.5 every 5 rows
    assert ticks == [0.0, 0.5, 1.0] and top == pytest.approx(1.1)
    for rows in range(2, 60):
        ticks, _, top = accuracy_axis(rows, (0.25, 0.5, 1.0))
        assert 1.0 <= top <= 1.15 + 1e-9 and ticks[0] == 0.0 and ticks[-1] == 1.0
        for tick in ticks:  # on a row: tick / top of the way up the rows - 1 intervals
            position = tick / top * (rows - 1)
            assert position == pytest.approx(round(position), abs=1e-9)


@pytest.mark.parametrize("high", [2.51, 2.3, 1.0, 0.07, 13.0, 1e-9])
def test_linear_labels_fall_on_rows_at_1_2_5_steps(high):
    for rows in range(2, 60):
        ticks, labels, (bottom, top) = linear_axis(high, rows)
        assert bottom == 0 and ticks[0] == 0 and top >= high * (1 - 1e-12), (rows, labels)
        assert [float(label) for label in labels] == pytest.approx(ticks, rel=1e-12)
        if rows >= 3:
            step = ticks[1]
            assert f"{step / 10 ** math.floor(math.log10(step)):.9g}" in ("1", "2", "5")
            assert len(ticks) >= 2 and top < ticks[-1] + step, (rows, labels)
        for tick in ticks:
            position = tick / top * (rows - 1)
            assert position == pytest.approx(round(position), abs=1e-9), (rows, labels)
    assert linear_axis(2.51, 28)[1] == ["0", "0.5", "1", "1.5", "2", "2.5"]


@pytest.mark.parametrize("size", [(80, 24), (100, 30), (120, 40)])
async def test_every_accuracy_label_sits_at_its_true_height(mnist, tmp_path, size):
    app = VgtuiApp(SHORT, mnist, tmp_path)
    async with app.run_test(size=size) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        for tab in ("1", "2"):
            await pilot.press(tab)
            await pilot.pause()
            charts = [*app.query(AccuracyChart), *app.query(OverlayChart)]
            shown = [c for c in charts if c.display and c.size.height > 0 and c.region.area]
            assert shown
            for chart in shown:
                shown, rows = labels_by_row(chart)
                labels = [(row, float(label)) for row, label in shown]
                values = dict(labels)
                assert values.get(0) == 0.0 and 1.0 in values.values(), (size, labels)
                per_row = max(values.values()) / max(values)  # from 0.00 on the bottom row
                for row, label in labels:
                    assert label == pytest.approx(row * per_row, abs=1e-9), (size, labels)
                assert (rows - 1) * per_row <= 1.15 + 1e-9  # not much over 1.0 at the top


def at_true_heights(chart, scale=lambda value: value) -> list[float]:
    """The values of a chart's y labels from the bottom up (``scale``d: log10 for a log
    axis), each checked to be the axis' value at the label's row, from the limits the chart
    set and the rows it renders."""
    shown, rows = labels_by_row(chart)
    assert rows == chart.plot_rows and chart.y_axis is not None, shown
    _, _, (bottom, top) = chart.y_axis
    per_row = (top - bottom) / (rows - 1)
    values = []
    for row, label in sorted(shown):
        value = scale(float(label))
        assert value == pytest.approx(bottom + row * per_row, abs=1e-9), shown
        values.append(value)
    assert len(values) >= 2, shown
    steps = [b - a for a, b in zip(values, values[1:], strict=False)]
    assert steps[0] > 0 and steps == pytest.approx([steps[0]] * len(steps)), shown  # no skip
    return values


async def test_every_loss_label_sits_at_its_true_height_none_skipped(mnist, tmp_path):
    """The Loss tab at 80x24, 120x40 and sizes between: on the log scale each label, a plain
    decade (0.1, 1, 10), is on the row where the axis' limits put its value, every decade
    from the first label to the last is there, and they cover every loss drawn. Before, 1-2-5
    labels sat where plotext rounded them, up to half a row off (0.2 at 80x24). The linear
    scale's labels (0, 0.5, 1 ...; plotext's were 0.42, 0.84 ... half a row off) likewise."""
    app = VgtuiApp(RunConfig(iterations=300, eval_every=10), mnist, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        await wait_for_state(pilot, app, "done")
        await pilot.press("5")
        await pilot.pause()
        chart = app.tabs.loss
        losses = [v for s in app.history.series.values() for v in s.train_loss]
        for scale in ("log", "linear"):
            if scale == "linear":
                await pilot.press("l")
            for size in ((80, 24), (90, 27), (100, 30), (110, 35), (120, 40)):
                await pilot.resize_terminal(*size)
                await pilot.pause()
                assert app.size == size and chart.title == f"train loss ({scale} scale)"
                shown, _ = labels_by_row(chart)
                top = chart.y_axis[2][1] if chart.y_axis else None
                if scale == "log":
                    exponents = at_true_heights(chart, math.log10)
                    assert all("e" not in label for _, label in shown), shown  # 0.1, not 1e-1
                    assert exponents == [round(e) for e in exponents], shown  # decades only
                    assert 10 ** exponents[0] <= min(losses) and 10**top >= max(losses)
                else:
                    values = at_true_heights(chart)
                    assert values[0] == 0 and top >= max(losses), shown
                assert series_marker(0) in "\n".join(plot_rows(chart))
