"""Accuracy axes label each value at its true height (issue 19, item 6, for the linear axes):
a label sits on the row its value falls on, so a 4-row chart at 80x24 labels 0 and 1 only
(0.5 would fall between two rows), and a taller one whose rows do not divide evenly reaches
a little over 1.0 rather than misplace its labels."""

from __future__ import annotations

import pytest

from tests.ui.apptools import SHORT, wait_for_state
from vgtui.ui.app import VgtuiApp
from vgtui.ui.charts.accuracy import AccuracyChart, OverlayChart, accuracy_axis


def labels_by_row(chart) -> tuple[list[tuple[int, float]], int]:
    """(row counted from the bottom, label) for each y label inside the chart's frame, read
    from what the chart renders, and the number of rows."""
    lines = chart.render().plain.splitlines()
    top = next(i for i, line in enumerate(lines) if "┌" in line)
    bottom = next(i for i, line in enumerate(lines) if "└" in line)
    rows = lines[top + 1 : bottom]
    shown = []
    for index, line in enumerate(rows):
        if "┤" in line:
            shown.append((len(rows) - 1 - index, float(line.split("┤", 1)[0])))
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
                labels, rows = labels_by_row(chart)
                values = dict(labels)
                assert values.get(0) == 0.0 and 1.0 in values.values(), (size, labels)
                per_row = max(values.values()) / max(values)  # from 0.00 on the bottom row
                for row, label in labels:
                    assert label == pytest.approx(row * per_row, abs=1e-9), (size, labels)
                assert (rows - 1) * per_row <= 1.15 + 1e-9  # not much over 1.0 at the top
