"""The Activations tab: Deep Learning from Scratch's activation histograms (ch. 6), live.

One panel per setup: each shown hidden layer's histogram on the probe images at the current
evaluation point (or at the cursor's iteration), its mean, std and saturated / inactive
share beside it, and under them the saturated (bounded activations) or dead-unit (ReLU-like)
share over time. Deep networks show their first, middle and last hidden layer (the over-time
line covers every layer: its worst). Drawn as text with eighth blocks, so it fits 80x24 and
reads without colour.
"""

from __future__ import annotations

import math
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.containers import Grid
from textual.widgets import Static

from vgtui.core.config import parse_setup
from vgtui.core.histogram import BINS, BOUNDED, bars, histogram_scale, sparkline
from vgtui.core.records import ActivationStats, MetricRecord
from vgtui.ui.charts.chart import fit_parts, runs_compared, shape_grid
from vgtui.ui.history import RunHistory
from vgtui.ui.look import series_color, series_marker
from vgtui.ui.view import ChartView

MAX_LAYERS = 3
"""Hidden layers drawn per setup: first, middle and last of a deeper network."""
WAITING = "no activation statistics yet (a run without a probe has none)"


def shown_layers(count: int) -> list[int]:
    """Hidden layer indices (0-based) to draw: all of a shallow network, else first, middle,
    last."""
    if count <= MAX_LAYERS:
        return list(range(count))
    return [0, count // 2, count - 1]


def layer_text(stats: ActivationStats, activation: str) -> list[str]:
    """One layer's numbers, most important first: ``μ 0.5  σ 0.027``, then ``sat 0%`` or
    ``off 39%  dead 2`` (off: activations <= 0; dead: units never active on the probe);
    two spaces part the numbers, which are shown whole or not at all."""
    first = f"μ {stats.mean:.2g}  σ {stats.std:.2g}"
    if activation in BOUNDED:
        return [first, f"sat {100 * stats.saturated:.0f}%"]
    return [first, f"off {100 * stats.inactive:.0f}%  dead {stats.dead_units}"]


def worst_share(record: MetricRecord, activation: str) -> float:
    """The over-time value: the largest saturated share (bounded) or dead-unit share
    (ReLU-like) among the hidden layers."""
    if activation in BOUNDED:
        return max((a.saturated for a in record.activations), default=math.nan)
    return max((a.dead_units / max(a.units, 1) for a in record.activations), default=math.nan)


class ActivationPanel(Static):
    """One setup's histograms; redrawn from the history when shown and dirty."""

    def __init__(self, setup: str, index: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.setup = setup
        self.index = index
        self.activation = _activation_of(setup)
        self.scale = histogram_scale(self.activation)
        self.history: RunHistory | None = None
        self.view = ChartView()
        self.dirty = True

    def mark_dirty(self) -> None:
        self.dirty = True

    def records(self) -> list[MetricRecord]:
        if self.history is None:
            return []
        return [r for r in self.history.records if r.setup == self.setup and r.activations]

    def redraw(self) -> None:
        self.dirty = False
        self.update(self.render_text(self.size.width or 40, self.size.height or 8))

    def on_resize(self) -> None:
        if self.history is not None:
            self.redraw()

    def render_text(self, width: int, height: int) -> Text:
        """The panel as text for ``width`` x ``height`` cells."""
        color = Style(color="rgb({},{},{})".format(*series_color(self.index)), bold=True)
        text = Text(no_wrap=True, overflow="crop")
        records = self.records()
        record = _at_cursor(records, self.view.cursor)
        title = f"{series_marker(self.index)} {self.setup}"
        if record is None:
            text.append(title, color)
            text.append(f"\n{WAITING}"[: width + 1])
            return text
        layers = shown_layers(len(record.activations))
        # Room: the title and the over-time line; per layer its rows, its axis when tall.
        free = max(height - 2, len(layers))
        per_layer = max(1, free // len(layers))
        bin_width = 2 if width >= 2 * BINS + 24 else 1
        prefix = 4  # "L12 "
        label_width = width - prefix - BINS * bin_width - 1
        beside = label_width >= 12  # else the numbers get a line of their own, under the bars
        with_axis = per_layer >= (4 if beside else 5)
        rows = max(1, per_layer - with_axis - (not beside and per_layer > 1))
        head = [f"it {record.iteration}" + (" (cursor)" if self.view.cursor is not None else "")]
        if not with_axis:  # the x range, in the title instead
            head.append(f"[{self.scale.text}]")
        text.append(title, color)
        # a neighbour's title may follow at once: keep a column free, drop whole parts only
        fitted = fit_parts(head, width - 1 - len(title) - 2, "  ")
        text.append(f"  {fitted}" if fitted else "")
        for layer in layers:
            stats = record.activations[layer]
            top = self.scale.top(stats.histogram)
            labels = layer_text(stats, self.activation)
            if beside and rows == 1:
                labels = [labels[0]]
            for row, line in enumerate(bars(stats.histogram, rows, bin_width, top)):
                text.append("\n" + (f"L{layer + 1}" if row == rows - 1 else "").ljust(prefix))
                text.append(line, color)
                if beside and row < len(labels):
                    text.append(" " + fit_parts(labels[row].split("  "), label_width, "  "))
            if with_axis:
                text.append("\n" + " " * prefix + self.scale.axis(bin_width)[: width - prefix])
            if not beside and per_layer > 1:
                parts = [part for label in labels for part in label.split("  ")]
                text.append("\n" + " " * prefix + fit_parts(parts, width - prefix - 1, "  "))
        what = "sat" if self.activation in BOUNDED else "dead"
        shares = [worst_share(r, self.activation) for r in records]
        latest = shares[-1] if shares else math.nan
        label = f"{what} {100 * latest:.0f}% "
        text.append("\n" + label)
        text.append(sparkline(shares, max(1, width - len(label) - 1)), color)
        return text


def _at_cursor(records: list[MetricRecord], cursor: int | None) -> MetricRecord | None:
    """The latest record at or before the cursor (the latest one without a cursor)."""
    if cursor is None:
        return records[-1] if records else None
    before = [r for r in records if r.iteration <= cursor]
    return before[-1] if before else (records[0] if records else None)


def _activation_of(setup: str) -> str:
    """The activation of a setup name (``run/setup`` when runs are compared)."""
    try:
        return parse_setup(setup.rsplit("/", 1)[-1]).activation
    except ValueError:
        return "relu"


class ActivationsGrid(Grid):
    """One :class:`ActivationPanel` per setup, in a grid like the accuracy charts."""

    def __init__(self, view: ChartView, **kwargs: Any) -> None:
        super().__init__(classes="chart-grid", **kwargs)
        self.view = view

    @property
    def panels(self) -> list[ActivationPanel]:
        return list(self.query(ActivationPanel))

    @property
    def setup_names(self) -> list[str]:
        return [panel.setup for panel in self.panels]

    async def mount_panels(self, history: RunHistory) -> None:
        await self.remove_children()
        shape_grid(self, len(history.setup_names), runs_compared(history.setup_names))
        await self.mount_all(
            ActivationPanel(name, index, id=f"act-{index}", classes="activation-panel")
            for index, name in enumerate(history.setup_names)
        )
        self.show(history)

    def show(self, history: RunHistory) -> None:
        for panel in self.panels:
            panel.history = history
            panel.view = self.view
            panel.mark_dirty()

    def tab_legend(self) -> list[str]:
        """What the panels' marks mean, for the tab's legend line (the panels have no legend
        of their own): the bounded activations' sat, the ReLU-like ones' off and dead, and
        the bottom row (the words of the help, shortened to fit 80 columns)."""
        if not any(panel.records() for panel in self.panels):
            return []
        kinds = {panel.activation in BOUNDED for panel in self.panels}
        parts = ["sat: >99% of range"] if True in kinds else []
        if False in kinds:
            parts += ["off: <=0", "dead: never active"]
        return [*parts, "▁▂▄ worst layer over time"]
