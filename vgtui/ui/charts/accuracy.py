"""The accuracy charts: one setup's train and test accuracy (the notebook's figure), and the
overlay of every setup's test accuracy."""

from __future__ import annotations

from typing import Any

from vgtui.ui.charts.axes import MOST_HEADROOM
from vgtui.ui.charts.chart import (
    BAND_MARKER,
    COMPACT_CHART_HEIGHT,
    NO_DATA,
    Chart,
    SetupChart,
)
from vgtui.ui.history import RunHistory
from vgtui.ui.look import BAND_COLOR, TRAIN_COLOR, format_accuracy, series_color, series_marker
from vgtui.ui.view import ALL_HIDDEN, hidden_parts, in_range, value_at

ACCURACY_STEPS = (0.25, 0.5, 1.0)
COMPACT_ACCURACY_STEPS = (0.5, 1.0)


def accuracy_axis(rows: int, steps: tuple[float, ...]) -> tuple[list[float], list[str], float]:
    """Ticks, labels and the top of a 0..1 axis ``rows`` rows high (0 on the bottom row), so
    that every label sits exactly on the row of its value: the finest step in ``steps`` that
    takes a whole number of rows with the top at most :data:`MOST_HEADROOM`, else 0 and 1
    alone (4 rows would put 0.5 between two rows)."""
    intervals = max(rows - 1, 1)
    for step in steps:
        rows_per_step = intervals // round(1 / step)
        if rows_per_step < 1:
            continue
        top = intervals / rows_per_step * step
        if top <= MOST_HEADROOM + 1e-9:
            ticks = [i * step for i in range(round(1 / step) + 1)]
            return ticks, [f"{tick:.2f}" for tick in ticks], top
    return [0.0, 1.0], ["0.00", "1.00"], 1.0


class AccuracyAxis(Chart):
    """A chart with accuracy (0 to 1) on the y axis: fewer ticks when it is short, each at
    its true height."""

    def fit_to_size(self) -> None:
        super().fit_to_size()
        short = self.size.height < COMPACT_CHART_HEIGHT
        ticks, labels, top = accuracy_axis(
            self.plot_rows, COMPACT_ACCURACY_STEPS if short else ACCURACY_STEPS
        )
        self.set_y_axis((ticks, labels, (0.0, top)))


class AccuracyChart(SetupChart, AccuracyAxis):
    """Train and test accuracy of one setup, y from 0 to 1: the notebook's figure."""

    def title_options(self) -> list[str]:
        series = self.series
        if series.diverged_at is not None:
            return [f"{series.setup}  {self.diverged_text()}", series.setup]
        if not series.iterations:
            return [series.setup]
        test = format_accuracy(series.latest_test)
        train = format_accuracy(series.latest_train)
        return [
            f"{series.setup}  test {test}  train {train}",
            f"{series.setup}  test {test}",
            series.setup,
        ]

    def curve_legend(self) -> list[str]:
        if self.series.seeds > 1:  # train before the band: its dots are drawn too
            return [f"{series_marker(self.index)}⠤ test, mean of {self.series.seeds}",
                    "• train", "·· seeds' min-max"]  # fmt: skip
        return [f"{series_marker(self.index)}⠤ test", "• train (batch)"]

    def tab_legend(self) -> list[str]:
        if self.series.seeds > 1:
            return [f"⠤ line: test, mean of {self.series.seeds} seeds",
                    "• dots: train (batch)", "·· min-max of test"]  # fmt: skip
        return ["⠤ line: test accuracy", "• dots: train (batch)"]

    def cursor_readout(self, iteration: int) -> str:
        series = self.series
        test = value_at(series.iterations, series.test_accuracy, iteration)
        train = value_at(series.iterations, series.train_accuracy, iteration)
        return f"@{iteration} test {format_accuracy(test)} train {format_accuracy(train)}"

    def draw(self) -> None:
        series = self.series
        plt = self.plt
        plt.ylim(0, 1)
        self.set_x_limits()
        if series.iterations:
            self.plot_noisy(series.iterations, series.train_accuracy, TRAIN_COLOR, None)
            if series.seeds > 1:  # the seeds' range of test accuracy, dotted, behind the mean
                for bound in (series.test_low, series.test_high):
                    xs, ys = in_range(series.iterations, bound, self.x_limits())
                    self.plt.plot(xs, ys, marker=BAND_MARKER, color=BAND_COLOR)
            self.plot_noisy(
                series.iterations,
                series.test_accuracy,
                series_color(self.index),
                series_marker(self.index),
                smooth=False,  # test accuracy is measured on all 10,000 images: not noisy
            )
        self.draw_divergence()


class OverlayChart(AccuracyAxis):
    """The test curves of every setup on one chart; train curves on demand. Each setup has
    the colour and marker it has in the strip below the tabs."""

    def __init__(self, history: RunHistory, total_iterations: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history = history
        self.total_iterations = total_iterations
        self.show_train = False

    def title_options(self) -> list[str]:
        if self.show_train:
            return ["test accuracy (and train, dotted)", "test (and train)"]
        return ["test accuracy (t: show train)", "test accuracy"]

    def legend_parts(self) -> list[str]:
        if not any(series.iterations for series in self.history.series.values()):
            return [NO_DATA]
        parts = hidden_parts(self.view, list(self.history.series))
        for index, series in enumerate(self.history.series.values()):
            if not self.view.shows(series.setup):
                continue
            part = f"{series_marker(index)} {series.setup}"
            if series.diverged_at is not None:
                part += f" (diverged at {series.diverged_at})"
            parts.append(part)
        return parts

    def status_parts(self) -> list[str]:
        """An overlay that hides every setup says so, however short it is."""
        parts = hidden_parts(self.view, list(self.history.series))
        return parts if parts == [ALL_HIDDEN] else []

    def x_limits(self) -> tuple[float, float]:
        return self.view.x_range(self.total_iterations, self.history.last_iteration)

    def cursor_readout(self, iteration: int) -> str:
        values = [
            f"{series_marker(index)} "
            + format_accuracy(value_at(series.iterations, series.test_accuracy, iteration))
            for index, series in enumerate(self.history.series.values())
            if self.view.shows(series.setup)
        ]
        return f"@{iteration} test " + " ".join(values)

    def draw(self) -> None:
        plt = self.plt
        plt.ylim(0, 1)
        self.set_x_limits()
        for index, series in enumerate(self.history.series.values()):
            if not self.view.shows(series.setup):
                continue
            color = series_color(index)
            if series.iterations:
                if self.show_train:
                    self.plot_noisy(series.iterations, series.train_accuracy, color, None)
                self.plot_noisy(
                    series.iterations,
                    series.test_accuracy,
                    color,
                    series_marker(index),
                    offset=index,
                    smooth=False,
                )
            if series.diverged_at is not None:
                plt.vline(series.diverged_at, color=color)
