"""Plotext charts that own their data: accuracy per setup, an overlay, gradient norms."""

from __future__ import annotations

import math
import time

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from vgtui.ui.history import RunHistory, SetupSeries

TRAIN_MARKER = "dot"
TEST_MARKER = "braille"
NO_DATA = "waiting for the first evaluation"


def percent(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.2f}"


def grid_columns(count: int) -> int:
    """Columns of the chart grid: 2x2 for four setups, side by side for two or three."""
    if count <= 3:
        return max(count, 1)
    return math.ceil(math.sqrt(count))


class Chart(PlotextPlot):
    """A plot that is redrawn only when shown, and that measures its own render time."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.dirty = True
        self.render_seconds = 0.0

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

    def render(self) -> RenderResult:
        started = time.perf_counter()
        try:
            return super().render()
        except Exception as error:  # plotext can fail on degenerate sizes
            return Text(f"(chart unavailable: {error})")
        finally:
            self.render_seconds = time.perf_counter() - started


class AccuracyChart(Chart):
    """Train and test accuracy of one setup, y from 0 to 1: the notebook's figure."""

    def __init__(self, series: SetupSeries, total_iterations: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series = series
        self.total_iterations = total_iterations

    @property
    def title(self) -> str:
        """Setup name and latest values, shortened to fit the chart's width."""
        series = self.series
        if series.diverged_at is not None:
            return f"{series.setup}  DIVERGED at {series.diverged_at}"
        if not series.iterations:
            return series.setup
        train, test = percent(series.latest_train), percent(series.latest_test)
        for title in (
            f"{series.setup}  train {train}  test {test}",
            f"{series.setup}  tr {train} te {test}",
            f"{series.setup} {test}",
        ):
            if len(title) <= self.size.width - 4:
                return title
        return series.setup

    def draw(self) -> None:
        series = self.series
        plt = self.plt
        plt.title(self.title)
        plt.ylim(0, 1)
        plt.xlim(0, self.total_iterations)
        plt.yticks([0, 0.25, 0.5, 0.75, 1.0])
        if series.iterations:
            plt.plot(series.iterations, series.train_accuracy, label="train", marker=TRAIN_MARKER)
            plt.plot(series.iterations, series.test_accuracy, label="test", marker=TEST_MARKER)
        else:
            plt.xlabel(NO_DATA)
        self.set_class(series.diverged_at is not None, "-diverged")


class OverlayChart(Chart):
    """The test curves of every setup on one chart; train curves on demand."""

    def __init__(self, history: RunHistory, total_iterations: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.history = history
        self.total_iterations = total_iterations
        self.show_train = False

    def draw(self) -> None:
        plt = self.plt
        plt.title("test accuracy" + (" (and train, dotted)" if self.show_train else ""))
        plt.ylim(0, 1)
        plt.xlim(0, self.total_iterations)
        plt.yticks([0, 0.25, 0.5, 0.75, 1.0])
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
                marker=TEST_MARKER,
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
    return ticks, [f"1e{t}" for t in ticks]


class GradientChart(Chart):
    """Gradient norm of each layer of one setup over iterations, on a log scale."""

    def __init__(self, series: SetupSeries, total_iterations: int, **kwargs) -> None:
        super().__init__(**kwargs)
        self.series = series
        self.total_iterations = total_iterations

    def draw(self) -> None:
        series = self.series
        plt = self.plt
        plt.xlim(0, self.total_iterations)
        if not series.grad_norms:
            plt.title(f"{series.setup}  gradient norm per layer (log)")
            plt.xlabel(NO_DATA)
            return
        layers = len(series.grad_norms[0])
        low, high = math.inf, -math.inf
        for layer in range(layers):
            logs = [
                math.log10(v) if v > 0 and math.isfinite(v) else math.nan
                for v in series.layer_norms(layer)
            ]
            finite = [v for v in logs if not math.isnan(v)]
            if not finite:
                continue
            low, high = min(low, *finite), max(high, *finite)
            xs = [x for x, v in zip(series.iterations, logs, strict=True) if not math.isnan(v)]
            plt.plot(xs, finite, label=layer_label(layer, layers), marker=TEST_MARKER)
        if math.isfinite(low):
            ticks, labels = log_ticks(low, high)
            plt.yticks(ticks, labels)
            plt.ylim(ticks[0], ticks[-1])
        ratio = (
            series.grad_norms[-1][0] / series.grad_norms[-1][-1]
            if series.grad_norms[-1][-1] > 0
            else math.nan
        )
        suffix = "  DIVERGED" if series.diverged_at is not None else ""
        plt.title(f"{series.setup}  first/last {ratio:.2g}{suffix}")
        self.set_class(series.diverged_at is not None, "-diverged")


def layer_label(layer: int, layers: int) -> str:
    if layer == 0:
        return "L1 in"
    if layer == layers - 1:
        return f"L{layer + 1} out"
    return f"L{layer + 1}"
