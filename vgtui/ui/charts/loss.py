"""The Loss tab: every setup's train loss on one log-scale chart."""

from __future__ import annotations

import math
from functools import partial
from typing import Any

from vgtui.core.summary import format_number
from vgtui.ui.charts.axes import decade_axis, linear_axis
from vgtui.ui.charts.chart import NO_DATA, Chart
from vgtui.ui.history import RunHistory
from vgtui.ui.look import series_color, series_marker
from vgtui.ui.view import ALL_HIDDEN, hidden_parts, value_at

LOSS_MEASURE = "mean cross-entropy of the mini-batches since the previous evaluation"


class LossChart(Chart):
    """Train loss per setup over iterations, log y; markers and colours as in the strip."""

    def __init__(self, history: RunHistory, total_iterations: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history = history
        self.total_iterations = total_iterations

    def title_options(self) -> list[str]:
        scale = "log" if self.view.log_y else "linear"
        return [f"train loss ({scale} scale)", "train loss"]

    def legend_parts(self) -> list[str]:
        if not any(series.iterations for series in self.history.series.values()):
            return [NO_DATA]
        return [*hidden_parts(self.view, list(self.history.series)), f"loss: {LOSS_MEASURE}"]

    def status_parts(self) -> list[str]:
        """No data yet, or every setup hidden: said however short the chart is."""
        parts = self.legend_parts()
        return parts[:1] if parts[0] in (NO_DATA, ALL_HIDDEN) else []

    def x_limits(self) -> tuple[float, float]:
        return self.view.x_range(self.total_iterations, self.history.last_iteration)

    def cursor_readout(self, iteration: int) -> str:
        values = [
            f"{series_marker(index)} "
            + format_number(value_at(series.iterations, series.train_loss, iteration), ".3g")
            for index, series in enumerate(self.history.series.values())
            if self.view.shows(series.setup)
        ]
        return f"@{iteration} loss " + " ".join(values)

    def draw(self) -> None:
        plt = self.plt
        self.set_x_limits()
        log = self.view.log_y
        low, high = math.inf, -math.inf
        for index, series in enumerate(self.history.series.values()):
            if not self.view.shows(series.setup):
                continue
            points = [
                (x, math.log10(v) if log else v)
                for x, v in zip(series.iterations, series.train_loss, strict=True)
                if v > 0 and math.isfinite(v)
            ]
            if series.diverged_at is not None:
                plt.vline(series.diverged_at, color=series_color(index))
            if not points:
                continue
            xs, ys = (list(column) for column in zip(*points, strict=True))
            low, high = min(low, *ys), max(high, *ys)
            self.plot_noisy(xs, ys, series_color(index), series_marker(index), offset=index)
        if math.isfinite(low) and log:  # 0.1 reads more easily than 1e-1 for a student
            self.fit_y = partial(decade_axis, low, high, plain=True)  # fitted when painted
        elif math.isfinite(low):
            self.fit_y = partial(linear_axis, high)
