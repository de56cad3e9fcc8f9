"""The charts' base: a plotext plot that owns its data, with one title format and its legend
below the plot; and the grid the per-setup charts share. The charts themselves are in
vgtui.ui.charts.accuracy, .gradients and .loss.

Every chart has one title format (``setup  label value  label value``, dropping whole parts
when narrow) and its legend below the plot (the x label row), never over the data. Every curve
is a line in its colour plus a few marker characters, so curves stay apart without colour.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.text import Text
from textual.app import RenderResult
from textual.message import Message
from textual.widget import Widget
from textual_plotext import PlotextPlot

from vgtui.ui.charts.axes import Axis, AxisFit
from vgtui.ui.history import SetupSeries
from vgtui.ui.look import BAND_COLOR, no_color, series_marker
from vgtui.ui.view import ChartView, ema, in_range

LINE = "braille"
TRAIN_MARKER = "dot"
BAND_MARKER = "·"
"""A range (the seeds' min-max, a deep network's layers): the ``··`` its legend names, apart
from the train dots (``•``) also without colour."""
NO_DATA = "waiting for the first evaluation"
TOO_SMALL = "(too small to draw)"
COMPACT_CHART_HEIGHT = 14
MARKS_PER_CURVE = 6
DIVERGED_COLOR = (230, 60, 60)
CURSOR_COLOR = (255, 255, 255)


def grid_columns(count: int, together: int = 1) -> int:
    """Columns of the chart grid: 2x2 for four setups, side by side for two or three; a
    multiple of ``together`` (the runs compared: each setup's panels side by side)."""
    columns = max(count, 1) if count <= 3 else math.ceil(math.sqrt(count))
    if together > 1:
        columns = together * max(1, round(columns / together))
    return columns


def runs_compared(names: Sequence[str]) -> int:
    """How many runs' panels of one setup come in a row (``a/relu-he, b/relu-he, ...``: the
    saved-runs view orders them so); 1 for a single run."""
    suffixes = [name.partition("/")[2] for name in names]
    if not suffixes or not suffixes[0]:
        return 1
    return next((i for i, s in enumerate(suffixes) if s != suffixes[0]), len(suffixes))


def shape_grid(grid: Widget, count: int, together: int = 1) -> None:
    """Lay a grid out for ``count`` setups (see :func:`grid_columns`)."""
    columns = grid_columns(count, together)
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


def fit_legend(parts: Sequence[str], width: int, separator: str = "  ") -> str:
    """A legend that lists every part or says how many it leaves out (``+4 more``), never
    a silent cut: as many whole parts as fit, in order, then the count of the rest."""
    for shown in range(len(parts), -1, -1):
        left = len(parts) - shown
        line = separator.join([*parts[:shown], *([f"+{left} more"] if left else [])])
        if len(line) <= width:
            return line
    return ""


class Chart(PlotextPlot):
    """A plot that owns its data, is rebuilt only when shown and fits its title to its width."""

    class Resized(Message):
        """A chart has its new size: only now is it known whether it is :attr:`short`, for a
        tab just shown (its charts' first layout comes after the tab's redraw)."""

    def on_resize(self) -> None:
        self.post_message(self.Resized())

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.dirty = True
        self.name_width = 0
        """The longest setup name among this chart's neighbours: they pick the same title
        format."""
        self.view = ChartView()
        """Smoothing, scale, x range and cursor: the app shares one view among its charts."""
        self.marks: list[tuple[list[float], list[float], str, Any]] = []
        """The curves' markers, drawn after every line (plot_curve collects them)."""
        self.fit_y: AxisFit | None = None
        """The y axis :meth:`draw` asks for (:mod:`vgtui.ui.charts.axes`), fitted to the plot
        rows when painted, as the size may change after the draw; None: plotext's own."""
        self.y_axis: Axis | None = None
        """The y ticks, labels and limits last set by :meth:`set_y_axis` (None: plotext's)."""

    def mark_dirty(self) -> None:
        self.dirty = True

    def redraw(self) -> None:
        """Rebuild the plot from the data and schedule a repaint."""
        self.dirty = False
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.marks: list[tuple[list[float], list[float], str, Any]] = []
        self.fit_y = self.y_axis = None
        self.draw()
        for xs, ys, marker, color in self.marks:  # over every line: none hides another's
            plt.scatter(xs, ys, marker=marker, color=color)
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
        low, high = self.x_limits()
        if no_color():  # the markers alone tell the curves apart: one every 3 columns
            width = self.size.width or self.app.size.width  # (0 before its first layout)
            count = max(MARKS_PER_CURVE, (width - 6) // 3)
            shift = (offset * 0.37) % 1.0
            spacing = max(high - low, 1) / count
            targets = [low + (j + shift) * spacing for j in range(count)]
            targets = [x for x in targets if xs[0] <= x <= xs[-1]]
            marks = np.interp(targets, xs, ys) if len(xs) > 1 else ys
            self.marks.append((targets if len(xs) > 1 else xs, list(marks), marker, color))
            return
        # markers spread over the x range (not over the points: few points, few markers),
        # shifted per curve so that curves on top of each other still show theirs
        spacing = max(high - low, 1) / MARKS_PER_CURVE
        shift = (offset * 0.37) % 1.0
        picks = []
        for j in range(MARKS_PER_CURVE):
            target = low + (j + shift) * spacing
            nearest = min(range(len(xs)), key=lambda i: abs(xs[i] - target))
            if abs(xs[nearest] - target) <= spacing / 2 and nearest not in picks:
                picks.append(nearest)
        self.marks.append(([xs[i] for i in picks], [ys[i] for i in picks], marker, color))

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
        return self.title_within(self.size.width - 6)

    def title_within(self, room: int) -> str:
        """The first title option that fits ``room`` columns (less the name's padding)."""
        options = self.title_options()
        room -= self.name_padding()
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
        parts = self.status_parts() if self.short else self.legend_parts()
        if self.view.cursor is not None:
            parts = [self.cursor_readout(self.view.cursor), *self.status_parts()]
        return fit_legend(parts, self.size.width - 6)

    @property
    def short(self) -> bool:
        """Too short for a legend of its own: the tab's legend line says what the marks are."""
        return self.size.height < COMPACT_CHART_HEIGHT

    def tab_legend(self) -> list[str]:
        """What the marks mean, for the one legend line of a tab of short charts."""
        return [p for p in self.legend_parts() if p not in self.status_parts()]

    def cursor_readout(self, iteration: int) -> str:
        """Every series' exact value at the cursor's iteration."""
        return f"@{iteration}"

    @property
    def plot_rows(self) -> int:
        """The rows inside the frame: the height but the title, frame, ticks and legend."""
        return max(2, self.size.height - 4 - (1 if self.legend else 0))

    def set_y_axis(self, axis: Axis) -> None:
        """Ticks and limits that put every label on the row of its value (the caller fits them
        to :attr:`plot_rows`)."""
        ticks, labels, limits = axis
        self.plt.yticks(ticks, labels)
        self.plt.ylim(*limits)
        self.y_axis = axis

    def fit_to_size(self) -> None:
        """Adapt what depends on the size; called at paint time, as the size may have changed
        since :meth:`draw`."""
        self.plt.title(self.title)
        self.plt.xlabel(self.legend)
        if self.fit_y is not None:
            self.set_y_axis(self.fit_y(self.plot_rows))

    def render(self) -> RenderResult:
        self.fit_to_size()
        if self.size.height - 4 - (1 if self.legend else 0) < 1:
            # no plot row left (9 setups, or 2 runs compared, at 80x24): plotext drew the
            # axis labels on the frame, 1.00 below 0.00, and no data
            return Text(f"{self.title_within(self.size.width)}\n{TOO_SMALL}", no_wrap=True)
        try:
            return super().render()
        except Exception as error:  # plotext can fail on degenerate sizes
            return Text(f"(chart unavailable: {error})")


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

    def title_within(self, room: int) -> str:
        """A compared run's panel whose ``label/setup`` title does not fit is named by the
        strip's marker instead of the run's label (``x sigmoid-gauss  first/last 1.0e-3``):
        else the title, and the ratio in it, vanished (a long name is not drawn at all)."""
        title = super().title_within(room)
        label, _, setup = self.series.setup.rpartition("/")
        if not label or len(title) <= room - self.name_padding():
            return title
        short = f"{series_marker(self.index)} {setup}"
        for option in self.title_options():
            if len(named := option.replace(self.series.setup, short, 1)) <= room:
                return named
        return short

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
