"""The gradient charts: each layer's gradient norm (or error std) of one setup over the
iterations, on one scale shared by every panel."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vgtui.core.summary import format_ratio
from vgtui.ui.charts.axes import decade_axis, decade_labels
from vgtui.ui.charts.chart import BAND_MARKER, SetupChart
from vgtui.ui.history import RunHistory
from vgtui.ui.look import BAND_COLOR, format_gradient_ratio, series_color
from vgtui.ui.view import GradientQuantity, in_range, value_at

ALL_LAYERS_UP_TO = 4
"""Deeper networks show the first, middle and last layer plus a band of all layers."""
UNDERFLOW = "0 / underflow"


@dataclass
class GradientScale:
    """The one range of every gradient panel, so equal heights mean equal norms. On the log
    scale, exact zeros (underflow, dead layers) sit on a row of their own below the range,
    labelled 0; on the linear scale the range is 0 to the largest norm."""

    ticks: list[float]
    labels: list[str]
    zero_level: float | None = None
    log: bool = True
    decades: tuple[float, float] = (0.0, 1.0)
    """On the log scale, the log10 range of the nonzero values (the axis is fitted to a
    panel's rows when it is painted: :meth:`axis`)."""
    rows: int | None = None
    """The plot rows of the shortest panel: every panel takes its steps and its rows per
    decade, so a norm sits at the same height above the bottom in every panel (a taller one
    shows more above)."""

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
            return None if not zeros else cls([0, 1], ["1e0", "1e1"], -1.0, decades=(0, 1))
        decades = (math.log10(low), math.log10(high))
        ticks, labels, _ = decade_axis(*decades, rows=8, zero=zeros)
        return cls(ticks, labels, ticks[0] if zeros else None, decades=decades)

    def axis(self, rows: int) -> tuple[list[float], list[str], tuple[float, float]]:
        """Ticks, labels and limits for a panel of ``rows`` plot rows."""
        if not self.log:
            return self.ticks, self.labels, self.limits
        zero = self.zero_level is not None
        shortest = min(rows, self.rows or rows)
        ticks, _, (bottom, top) = decade_axis(*self.decades, shortest, zero)
        if zero:  # the zero row: one step below, as drawn
            self.zero_level = ticks[0]
        per_row = (top - bottom) / max(shortest - 1, 1)
        top = bottom + per_row * max(rows - 1, 1)
        step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
        while ticks[-1] + step <= top + 1e-9:
            ticks.append(ticks[-1] + step)
        return ticks, decade_labels(ticks, zero), (bottom, top)

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
            ratio = format_ratio(first_last) if last else ""
            forms = [f"error std first/last {ratio}", f"δ first/last {ratio}",
                     f"δ 1st/last {ratio}", f"δ {ratio}"] if last else ["δ std"]  # fmt: skip
        else:
            ratio = format_gradient_ratio(series, short=True)
            forms = [f"first/last {ratio}", f"1st/last {ratio}", ratio]
            forms = forms if series.grad_norms else [""]
        if series.diverged_at is not None:
            forms = [f"{form}  {self.diverged_text()}".strip() for form in forms] + forms
        # the ratio is the lesson: every title keeps it, the setup's name whole before it
        options = [f"{series.setup}  {form}".strip() for form in forms]
        options += [f"{series.setup} {forms[-1]}".strip(), series.setup]
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

    def tab_legend(self) -> list[str]:
        if not self.series.grad_norms:
            return []
        layers = len(self.series.grad_norms[0])
        names = {0: " (input)", layers - 1: " (output)"}
        what = "error std" if self.view.gradient_quantity == "delta" else "gradient norm"
        parts = [f"{what} per layer:"]
        parts += [
            f"{layer_marker(position, layer, layers)} L{layer + 1}{names.get(layer, '')}"
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
        self.fit_axis()  # first: the zero row's level depends on the panel's rows
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

    def fit_axis(self) -> None:
        """The y axis for the rows the panel has now (at paint time: the size may change)."""
        if self.scale is None:
            return
        panels = [c for c in self.parent.children if isinstance(c, GradientChart)] if (
            self.parent is not None
        ) else [self]  # fmt: skip
        self.scale.rows = min(panel.plot_rows for panel in panels)  # their sizes now
        self.set_y_axis(self.scale.axis(self.plot_rows))

    def fit_to_size(self) -> None:
        super().fit_to_size()
        self.fit_axis()

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
            self.plt.plot(shown_x, shown_y, marker=BAND_MARKER, color=BAND_COLOR)
