"""The gradient charts: each layer's gradient norm (or error std) of one setup over the
iterations, on one scale shared by every panel."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from vgtui.core.summary import format_ratio
from vgtui.ui.charts.chart import TRAIN_MARKER, SetupChart
from vgtui.ui.history import RunHistory
from vgtui.ui.look import BAND_COLOR, format_gradient_ratio, series_color
from vgtui.ui.view import GradientQuantity, in_range, value_at

ALL_LAYERS_UP_TO = 4
"""Deeper networks show the first, middle and last layer plus a band of all layers."""
UNDERFLOW = "0 / underflow"


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
