"""Plotext charts that own their data: accuracy per setup, an overlay, gradient norms."""

from __future__ import annotations

import math
from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from vgtui.core.results import format_number
from vgtui.ui.history import RunHistory, SetupSeries

TRAIN_MARKER = "dot"
TEST_MARKER = "braille"
NO_DATA = "waiting for the first evaluation"
ACCURACY_TICKS = [0, 0.25, 0.5, 0.75, 1.0]
COMPACT_ACCURACY_TICKS = [0, 0.5, 1.0]
COMPACT_CHART_HEIGHT = 14
MONO_MARKERS = ("braille", "dot", "+", "x", "o", "*", "#", "%")
"""Under NO_COLOR the curves of one chart differ by marker instead of colour."""


def grid_columns(count: int) -> int:
    """Columns of the chart grid: 2x2 for four setups, side by side for two or three."""
    if count <= 3:
        return max(count, 1)
    return math.ceil(math.sqrt(count))


class Chart(PlotextPlot):
    """A plot that owns its data, is rebuilt only when shown and fits its title to its width."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.dirty = True

    def mark_dirty(self) -> None:
        self.dirty = True

    def redraw(self) -> None:
        """Rebuild the plot from the data and schedule a repaint."""
        self.dirty = False
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.draw()
        self.refresh()

    def draw(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def series_marker(self, index: int) -> str:
        """The marker of the ``index``-th curve: one style in colour, distinct ones without."""
        if self.app.no_color:
            return MONO_MARKERS[index % len(MONO_MARKERS)]
        return TEST_MARKER

    def title_options(self) -> list[str]:
        """Titles from the most to the least detailed; the first that fits is shown."""
        return []

    @property
    def title(self) -> str:
        options = self.title_options()
        for option in options:
            if len(option) <= self.size.width - 6:
                return option
        return options[-1] if options else ""

    def fit_to_size(self) -> None:
        """Adapt what depends on the size; called at paint time, as the size may have changed
        since :meth:`draw`."""
        self.plt.title(self.title)

    def render(self) -> RenderResult:
        self.fit_to_size()
        try:
            return super().render()
        except Exception as error:  # plotext can fail on degenerate sizes
            return Text(f"(chart unavailable: {error})")


class AccuracyAxis(Chart):
    """A chart with accuracy (0 to 1) on the y axis: fewer ticks when it is short."""

    def fit_to_size(self) -> None:
        super().fit_to_size()
        short = self.size.height < COMPACT_CHART_HEIGHT
        self.plt.yticks(COMPACT_ACCURACY_TICKS if short else ACCURACY_TICKS)


class SetupChart(Chart):
    """A chart of one setup's series."""

    def __init__(self, series: SetupSeries, total_iterations: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.series = series
        self.total_iterations = total_iterations

    def redraw(self) -> None:
        self.set_class(self.series.diverged_at is not None, "-diverged")
        super().redraw()


class AccuracyChart(SetupChart, AccuracyAxis):
    """Train and test accuracy of one setup, y from 0 to 1: the notebook's figure."""

    def title_options(self) -> list[str]:
        series = self.series
        if series.diverged_at is not None:
            return [f"{series.setup}  DIVERGED at {series.diverged_at}", f"{series.setup} DIVERGED"]
        if not series.iterations:
            return [series.setup]
        train = format_number(series.latest_train, ".2f")
        test = format_number(series.latest_test, ".2f")
        return [
            f"{series.setup}  train {train}  test {test}",
            f"{series.setup}  tr {train} te {test}",
            f"{series.setup} {test}",
            series.setup,
        ]

    def draw(self) -> None:
        series = self.series
        plt = self.plt
        plt.ylim(0, 1)
        plt.xlim(0, self.total_iterations)
        if series.iterations:
            plt.plot(series.iterations, series.train_accuracy, label="train", marker=TRAIN_MARKER)
            plt.plot(series.iterations, series.test_accuracy, label="test", marker=TEST_MARKER)
        else:
            plt.xlabel(NO_DATA)


class OverlayChart(AccuracyAxis):
    """The test curves of every setup on one chart; train curves on demand."""

    def __init__(self, history: RunHistory, total_iterations: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history = history
        self.total_iterations = total_iterations
        self.show_train = False

    def title_options(self) -> list[str]:
        if self.show_train:
            return ["test accuracy (and train, dotted)", "test (and train)"]
        return ["test accuracy (t: show train)", "test accuracy"]

    def draw(self) -> None:
        plt = self.plt
        plt.ylim(0, 1)
        plt.xlim(0, self.total_iterations)
        any_data = False
        for index, series in enumerate(self.history.series.values()):
            if not series.iterations:
                continue
            any_data = True
            color = index + 1
            plt.plot(
                series.iterations,
                series.test_accuracy,
                label=series.setup,
                marker=self.series_marker(index),
                color=color,
            )
            if self.show_train:
                plt.plot(series.iterations, series.train_accuracy, marker=TRAIN_MARKER, color=color)
        if not any_data:
            plt.xlabel(NO_DATA)


def log_ticks(low: float, high: float) -> tuple[list[int], list[str]]:
    """Integer powers of ten covering ``low..high`` (both log10 values), labelled 1e-3 etc."""
    first, last = math.floor(low), math.ceil(high)
    if first == last:
        last += 1
    step = max(1, (last - first) // 4)
    ticks = list(range(first, last + 1, step))
    if ticks[-1] < last:
        ticks.append(ticks[-1] + step)
    return ticks, [f"1e{t}" for t in ticks]


def layer_label(layer: int, layers: int) -> str:
    if layer == 0:
        return "L1 in"
    if layer == layers - 1:
        return f"L{layer + 1} out"
    return f"L{layer + 1}"


class GradientChart(SetupChart):
    """Gradient norm of each layer of one setup over iterations, on a log scale."""

    def title_options(self) -> list[str]:
        series = self.series
        if not series.grad_norms:
            return [f"{series.setup}  gradient norm per layer (log)", series.setup]
        first, last = series.grad_norms[-1][0], series.grad_norms[-1][-1]
        ratio = f"{first / last:.2g}" if last > 0 else "-"
        suffix = "  DIVERGED" if series.diverged_at is not None else ""
        return [
            f"{series.setup}  first/last layer {ratio}{suffix}",
            f"{series.setup}  L1/Lout {ratio}{suffix}",
            f"{series.setup} {ratio}",
            series.setup,
        ]

    def draw(self) -> None:
        series = self.series
        plt = self.plt
        plt.xlim(0, self.total_iterations)
        if not series.grad_norms:
            plt.xlabel(NO_DATA)
            return
        layers = len(series.grad_norms[0])
        low, high = math.inf, -math.inf
        for layer in range(layers):
            points = [
                (x, math.log10(v))
                for x, v in zip(series.iterations, series.layer_norms(layer), strict=True)
                if v > 0 and math.isfinite(v)
            ]
            if not points:
                continue
            xs, logs = zip(*points, strict=True)
            low, high = min(low, *logs), max(high, *logs)
            plt.plot(
                list(xs),
                list(logs),
                label=layer_label(layer, layers),
                marker=self.series_marker(layer),
            )
        if math.isfinite(low):
            ticks, labels = log_ticks(low, high)
            plt.yticks(ticks, labels)
            plt.ylim(ticks[0], ticks[-1])
