"""Plotext charts that own their data: accuracy per setup, an overlay, gradient norms.

Every chart has one title format (``setup  label value  label value``, dropping whole parts
when narrow) and its legend below the plot (the x label row), never over the data. Every curve
is a line in its colour plus a few marker characters, so curves stay apart without colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget
from textual_plotext import PlotextPlot

from vgtui.core.summary import format_ratio
from vgtui.ui.history import RunHistory, SetupSeries
from vgtui.ui.look import (
    BAND_COLOR,
    TRAIN_COLOR,
    format_accuracy,
    format_gradient_ratio,
    series_color,
    series_marker,
)
from vgtui.ui.view import (
    ALL_HIDDEN,
    ChartView,
    GradientQuantity,
    ema,
    hidden_parts,
    in_range,
    value_at,
)

LINE = "braille"
TRAIN_MARKER = "dot"
NO_DATA = "waiting for the first evaluation"
ACCURACY_TICKS = [0, 0.25, 0.5, 0.75, 1.0]
COMPACT_ACCURACY_TICKS = [0, 0.5, 1.0]
COMPACT_CHART_HEIGHT = 14
MARKS_PER_CURVE = 6
DIVERGED_COLOR = (230, 60, 60)
CURSOR_COLOR = (255, 255, 255)
ALL_LAYERS_UP_TO = 4
"""Deeper networks show the first, middle and last layer plus a band of all layers."""
UNDERFLOW = "0 / underflow"


def grid_columns(count: int) -> int:
    """Columns of the chart grid: 2x2 for four setups, side by side for two or three."""
    if count <= 3:
        return max(count, 1)
    return math.ceil(math.sqrt(count))


def shape_grid(grid: Widget, count: int) -> None:
    """Lay a grid out for ``count`` setups (see :func:`grid_columns`)."""
    columns = grid_columns(count)
    grid.styles.grid_size_columns = columns
    grid.styles.grid_size_rows = math.ceil(count / columns)


def fit_parts(parts: Sequence[str], width: int, separator: str = "  ") -> str:
    """As many whole ``parts`` as fit in ``width`` (never a part cut in two)."""
    shown: list[str] = []
    for part in parts:
        if len(separator.join([*shown, part])) > width:
            break
        shown.append(part)
    return separator.join(shown)


class Chart(PlotextPlot):
    """A plot that owns its data, is rebuilt only when shown and fits its title to its width."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.dirty = True
        self.name_width = 0
        """The longest setup name among this chart's neighbours: they pick the same title
        format."""
        self.view = ChartView()
        """Smoothing, scale, x range and cursor: the app shares one view among its charts."""

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

    def x_limits(self) -> tuple[float, float]:  # pragma: no cover - overridden
        raise NotImplementedError

    def set_x_limits(self) -> tuple[float, float]:
        limits = self.x_limits()
        self.plt.xlim(*limits)
        low, high = limits
        if self.view.zoom < 1:  # whole iterations, not plotext's 243.8
            self.plt.xticks(sorted({round(low + i * (high - low) / 4) for i in range(5)}))
        if self.view.cursor is not None:
            self.plt.vline(self.view.cursor, color=CURSOR_COLOR)
        return limits

    def plot_noisy(
        self,
        xs: list[float],
        ys: list[float],
        color: Any,
        marker: str | None,
        offset: int = 0,
        smooth: bool = True,
    ) -> None:
        """A curve in the x range; smoothed (EMA over the whole series, the raw points
        dotted behind) when the view smooths and ``smooth``; ``marker`` None: dots only."""
        weight = self.view.smoothing if smooth else 0.0
        limits = self.x_limits()
        if weight:
            raw_x, raw_y = in_range(xs, ys, limits)
            self.plt.plot(raw_x, raw_y, marker=TRAIN_MARKER, color=BAND_COLOR)
            ys = ema(ys, weight)
        shown_x, shown_y = in_range(xs, ys, limits)
        if marker is None:
            self.plt.plot(shown_x, shown_y, marker=LINE if weight else TRAIN_MARKER, color=color)
        else:
            self.plot_curve(shown_x, shown_y, color, marker, offset)

    def plot_curve(
        self, xs: list[float], ys: list[float], color: Any, marker: str, offset: int = 0
    ) -> None:
        """A line through (xs, ys) with ``marker`` at a few of its points."""
        plt = self.plt
        plt.plot(xs, ys, marker=LINE, color=color)
        if not xs:
            return
        # markers spread over the x range (not over the points: few points, few markers),
        # shifted per curve so that curves on top of each other still show theirs
        low, high = self.x_limits()
        spacing = max(high - low, 1) / MARKS_PER_CURVE
        shift = (offset * 0.37) % 1.0
        picks = []
        for j in range(MARKS_PER_CURVE):
            target = low + (j + shift) * spacing
            nearest = min(range(len(xs)), key=lambda i: abs(xs[i] - target))
            if abs(xs[nearest] - target) <= spacing / 2 and nearest not in picks:
                picks.append(nearest)
        plt.scatter([xs[i] for i in picks], [ys[i] for i in picks], marker=marker, color=color)

    def title_options(self) -> list[str]:
        """Titles from the most to the least detailed; the first that fits is shown."""
        return []

    def legend_parts(self) -> list[str]:
        """The legend, shown below the plot as far as it fits."""
        return []

    def name_padding(self) -> int:
        return 0

    @property
    def title(self) -> str:
        options = self.title_options()
        room = self.size.width - 6 - self.name_padding()
        for option in options:
            if len(option) <= room:
                return option
        return options[-1] if options else ""

    def status_parts(self) -> list[str]:
        """The part of the legend that short charts keep (divergence, no data yet)."""
        return []

    @property
    def legend(self) -> str:
        """The legend below the plot; a short chart keeps its plot rows and shows only the
        status (its curves' markers are those of the strip, and the help explains them)."""
        short = self.size.height < COMPACT_CHART_HEIGHT
        parts = self.status_parts() if short else self.legend_parts()
        if self.view.cursor is not None:
            parts = [self.cursor_readout(self.view.cursor), *self.status_parts()]
        return fit_parts(parts, self.size.width - 6)

    def cursor_readout(self, iteration: int) -> str:
        """Every series' exact value at the cursor's iteration."""
        return f"@{iteration}"

    def fit_to_size(self) -> None:
        """Adapt what depends on the size; called at paint time, as the size may have changed
        since :meth:`draw`."""
        self.plt.title(self.title)
        self.plt.xlabel(self.legend)

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
    """A chart of one setup's series (the ``index``-th setup: its colour and marker)."""

    def __init__(
        self, series: SetupSeries, total_iterations: int, index: int = 0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.series = series
        self.total_iterations = total_iterations
        self.index = index

    def name_padding(self) -> int:
        return max(0, self.name_width - len(self.series.setup))

    def x_limits(self) -> tuple[float, float]:
        last = self.series.iterations[-1] if self.series.iterations else 0
        return self.view.x_range(self.total_iterations, last)

    def redraw(self) -> None:
        self.set_class(self.series.diverged_at is not None, "-diverged")
        super().redraw()

    def diverged_text(self) -> str:
        return f"diverged at {self.series.diverged_at}"

    def status_parts(self) -> list[str]:
        series = self.series
        if series.diverged_at is not None:
            return [self.diverged_text()]
        if not series.iterations:
            return [NO_DATA]
        return []

    def legend_parts(self) -> list[str]:
        status = self.status_parts()
        if status and not self.series.iterations:
            return status
        return [*status, *self.curve_legend()]

    def curve_legend(self) -> list[str]:
        return []

    def draw_divergence(self) -> None:
        if self.series.diverged_at is not None:
            self.plt.vline(self.series.diverged_at, color=DIVERGED_COLOR)


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
        if self.series.seeds > 1:
            return [f"{series_marker(self.index)}⠤ test, mean of {self.series.seeds} seeds",
                    "·· min-max", "• train"]  # fmt: skip
        return [f"{series_marker(self.index)}⠤ test", "• train (batch)"]

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
                    self.plt.plot(xs, ys, marker=TRAIN_MARKER, color=BAND_COLOR)
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


@dataclass
class GradientScale:
    """The one range of every gradient panel, so equal heights mean equal norms. On the log
    scale, exact zeros (underflow, dead layers) sit on a row of their own below the range,
    labelled 0; on the linear scale the range is 0 to the largest norm."""

    ticks: list[float]
    labels: list[str]
    zero_level: float | None = None
    log: bool = True

    @classmethod
    def of(
        cls, history: RunHistory, log: bool = True, quantity: GradientQuantity = "norm"
    ) -> GradientScale | None:
        low, high, zeros = math.inf, -math.inf, False
        for series in history.series.values():
            for norms in series.per_layer(quantity):
                for value in norms:
                    if value == 0:
                        zeros = True
                    elif value > 0 and math.isfinite(value):
                        low, high = min(low, value), max(high, value)
        if not log:
            return cls([0.0, high], ["0", format_ratio(high)], log=False) if high > 0 else None
        if not math.isfinite(low):
            return None if not zeros else cls([0, 1], ["1e0", "1e1"], -1.0)
        ticks, labels = log_ticks(math.log10(low), math.log10(high))
        if not zeros:
            return cls(list(ticks), labels)
        step = ticks[1] - ticks[0]
        return cls([ticks[0] - step, *ticks], ["0", *labels], ticks[0] - step)

    @property
    def limits(self) -> tuple[float, float]:
        return self.ticks[0], self.ticks[-1]

    def position(self, value: float) -> float | None:
        """Where ``value`` is drawn on this scale (None: not at all)."""
        if not math.isfinite(value) or value < 0:
            return None
        if not self.log:
            return value
        if value == 0:
            return self.zero_level
        return math.log10(value)


def layer_label(layer: int, layers: int) -> str:
    if layer == 0:
        return "L1 in"
    if layer == layers - 1:
        return f"L{layer + 1} out"
    return f"L{layer + 1}"


def shown_layers(layers: int) -> list[int]:
    """Every layer of a shallow network; first, middle and last of a deep one."""
    if layers <= ALL_LAYERS_UP_TO:
        return list(range(layers))
    return [0, layers // 2, layers - 1]


def layer_marker(position: int, layer: int, layers: int) -> str:
    """Layer number as marker (1, 2, 3); f, m, l for a deep network's first, middle, last."""
    if layers <= ALL_LAYERS_UP_TO:
        return str(layer + 1)
    return "fml"[position]


class GradientChart(SetupChart):
    """Gradient norm of each layer of one setup over iterations, on the shared log scale (or,
    with ``d``, the std of the back-propagated error at each layer's output)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scale: GradientScale | None = None

    @property
    def values(self) -> list[tuple[float, ...]]:
        """Per recorded iteration, what the chart draws for each layer."""
        return self.series.per_layer(self.view.gradient_quantity)

    def layer_values(self, layer: int) -> list[float]:
        return [per_layer[layer] for per_layer in self.values]

    def title_options(self) -> list[str]:
        series = self.series
        delta = self.view.gradient_quantity == "delta"
        what = "error (delta) std" if delta else "gradient norm"
        if not series.grad_norms and series.diverged_at is None:
            scale = "log" if self.view.log_y else "linear"
            return [f"{series.setup}  {what} per layer ({scale})", series.setup]
        if delta:
            last = self.values[-1] if self.values else ()
            first_last = last[0] / last[-1] if last and last[-1] > 0 else math.nan
            detail = f"error std first/last {format_ratio(first_last)}" if last else ""
            short = f"δ first/last {format_ratio(first_last)}" if last else "δ std"
        else:
            ratio = format_gradient_ratio(series, short=True)
            detail = short = f"first/last {ratio}" if series.grad_norms else ""
        if series.diverged_at is not None:
            detail = f"{detail}  {self.diverged_text()}".strip()
            short = f"{short}  {self.diverged_text()}".strip()
        options = [f"{series.setup}  {detail}", f"{series.setup}  {short}", series.setup]
        return list(dict.fromkeys(options))

    def status_parts(self) -> list[str]:
        parts = super().status_parts()
        if any(0 in norms for norms in self.values):
            parts.append(UNDERFLOW)
        return parts

    def curve_legend(self) -> list[str]:
        if not self.series.grad_norms:
            return []
        layers = len(self.series.grad_norms[0])
        parts = [
            f"{layer_marker(position, layer, layers)} {layer_label(layer, layers)}"
            for position, layer in enumerate(shown_layers(layers))
        ]
        if layers > ALL_LAYERS_UP_TO:
            parts.append(f"·· range of all {layers}")
        return parts

    def cursor_readout(self, iteration: int) -> str:
        series = self.series
        layers = len(series.grad_norms[0]) if series.grad_norms else 0
        values = [
            f"{layer_label(layer, layers).split()[0]} "
            + format_ratio(value_at(series.iterations, self.layer_values(layer), iteration))
            for layer in shown_layers(layers)
        ]
        return " ".join([f"@{iteration}", *values])

    def points(self, layer: int) -> tuple[list[float], list[float], list[float]]:
        """(iterations, positions) of ``layer``'s norms on the scale, and the iterations
        where the norm is exactly zero (drawn apart on the log scale)."""
        scale = self.scale
        xs: list[float] = []
        ys: list[float] = []
        zeros: list[float] = []
        if scale is None:
            return xs, ys, zeros
        for x, value in zip(self.series.iterations, self.layer_values(layer), strict=True):
            if value == 0 and scale.log:
                zeros.append(x)
                continue
            position = scale.position(value)
            if position is not None:
                xs.append(x)
                ys.append(position)
        return xs, ys, zeros

    def draw(self) -> None:
        series = self.series
        plt = self.plt
        limits = self.set_x_limits()
        self.draw_divergence()
        if not series.grad_norms or self.scale is None:
            return
        layers = len(series.grad_norms[0])
        if layers > ALL_LAYERS_UP_TO:
            self.draw_band()
        for position, layer in enumerate(shown_layers(layers)):
            xs, ys, zeros = self.points(layer)
            marker = layer_marker(position, layer, layers)
            color = series_color(position)
            self.plot_noisy(xs, ys, color, marker, offset=position)
            zero_xs, _ = in_range(zeros, zeros, limits)
            if zero_xs and self.scale.zero_level is not None:
                plt.scatter(
                    zero_xs, [self.scale.zero_level] * len(zero_xs), marker=marker, color=color
                )
        plt.yticks(self.scale.ticks, self.scale.labels)
        plt.ylim(*self.scale.limits)

    def draw_band(self) -> None:
        """The lowest and highest layer norm at each iteration, dotted."""
        scale = self.scale
        assert scale is not None
        lows, highs, xs = [], [], []
        for x, norms in zip(self.series.iterations, self.values, strict=True):
            positions = [p for p in map(scale.position, norms) if p is not None]
            if positions:
                xs.append(x)
                lows.append(min(positions))
                highs.append(max(positions))
        limits = self.x_limits()
        for ys in (lows, highs):
            shown_x, shown_y = in_range(xs, ys, limits)
            self.plt.plot(shown_x, shown_y, marker=TRAIN_MARKER, color=BAND_COLOR)
