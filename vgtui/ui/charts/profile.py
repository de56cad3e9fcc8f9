"""The Profile tab: why Xavier and He work (Glorot & Bengio 2010). Three charts across the
layers, on log scales: the signal going forward (each hidden layer's activation std), the
error coming back (the delta std at each layer's output) and the weights' std against what
the init prescribes. Every setup is a line in its colour and marker at the cursor (or the
latest evaluation), dotted at initialisation; with N(0, 0.01^2) weights the signal and the
error shrink layer by layer, Xavier and He keep them level."""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import partial
from typing import Any

from rich.text import Text
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from vgtui.core.layer_profile import LayerProfile
from vgtui.core.records import MetricRecord
from vgtui.ui.charts.axes import decade_axis
from vgtui.ui.charts.chart import LINE, TRAIN_MARKER, Chart, fit_legend
from vgtui.ui.charts.profile_bn import batch_norm_lines
from vgtui.ui.history import RunHistory
from vgtui.ui.look import series_color, series_marker
from vgtui.ui.view import ChartView

CAPTIONS = (
    "Std 0.01 weights shrink signal and error layer by layer; Xavier keeps the signal level,"
    " He both (Glorot & Bengio 2010)",
    "Std 0.01 weights shrink signal and error per layer; Xavier keeps the signal level, He both",
    "0.01 weights shrink signal, error per layer; Xavier: signal level; He: both",
    "0.01: signal, error shrink; Xavier: signal level; He: both",
)
"""The tab's one-line caption, from the longest form to the shortest that fits."""
QUANTITIES = ("forward", "backward", "weights")
TITLES = {
    "forward": ("signal: activation std", "signal (fwd)"),
    "backward": ("error: delta std", "error (back)"),
    "weights": ("weight std vs prescribed", "weights vs prescribed", "weights"),
}

DOTS = "• dots: init (weights: prescribed)"
"""The dotted lines, in the legend the three charts share: the weights chart's dots are what
the init prescribes (0.01, 1/sqrt(n_in), sqrt(2/n_in)), not a measurement at init."""


def layer_values(profile: LayerProfile, quantity: str) -> list[float]:
    if quantity == "forward":
        return list(profile.activation_std)
    if quantity == "backward":
        return list(profile.delta_std)
    return list(profile.weight_std)


class ProfileChart(Chart):
    """One quantity across the layers, every setup: solid at the cursor, dotted at init (for
    the weights: dotted is what the init prescribes)."""

    def __init__(self, quantity: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.quantity = quantity
        self.profiles: list[tuple[int, LayerProfile | None, LayerProfile | None]] = []
        """(setup index, at init, at the cursor) per shown setup."""

    def title_options(self) -> list[str]:
        return list(TITLES[self.quantity])

    def x_limits(self) -> tuple[float, float]:
        layers = max((len(self.series_of(p)) for _, p, _ in self.profiles if p), default=2)
        return 0.7, layers + 0.3

    def series_of(self, profile: LayerProfile) -> list[float]:
        return layer_values(profile, self.quantity)

    def reference(self, profile: LayerProfile) -> list[float]:
        """The dotted line: the init's values (the prescribed std, for the weights)."""
        if self.quantity == "weights":
            return list(profile.prescribed_std)
        return self.series_of(profile)

    def shown_values(self) -> list[tuple[int, list[float], list[float]]]:
        """(setup index, dotted, solid) log10 values per setup (NaN: nothing to draw)."""
        shown = []
        for index, initial, current in self.profiles:
            dotted = self.reference(initial) if initial is not None else []
            solid = self.series_of(current) if current is not None else []
            shown.append((index, _log(dotted), _log(solid)))
        return shown

    def draw(self) -> None:
        plt = self.plt
        values = self.shown_values()
        finite = [v for _, a, b in values for v in (*a, *b) if math.isfinite(v)]
        low, high = self.x_limits()
        plt.xlim(low, high)
        layers = round(high - 0.3)
        plt.xticks(list(range(1, layers + 1)), [f"L{n}" for n in range(1, layers + 1)])
        if not finite:
            return
        self.fit_y = partial(decade_axis, min(finite), max(finite))  # fitted when painted
        for index, dotted, solid in values:
            color = series_color(index)
            for ys, marker in ((dotted, TRAIN_MARKER), (solid, None)):
                points = [(n + 1, y) for n, y in enumerate(ys) if math.isfinite(y)]
                if not points:
                    continue
                xs, ys_shown = [p[0] for p in points], [p[1] for p in points]
                if marker is None:  # its markers over every line (Chart.redraw)
                    plt.plot(xs, ys_shown, marker=LINE, color=color)
                    self.marks.append((xs, ys_shown, series_marker(index), color))
                else:
                    plt.plot(xs, ys_shown, marker=marker, color=color)


def _log(values: Sequence[float]) -> list[float]:
    return [math.log10(v) if v > 0 and math.isfinite(v) else math.nan for v in values]


class ProfileView(Vertical):
    """The caption, the three charts side by side and the legend line."""

    def __init__(self, view: ChartView, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view = view
        self.caption = Static("", id="profile-caption")
        self.charts = [ProfileChart(q, id=f"profile-{q}", classes="profile-chart")
                       for q in QUANTITIES]  # fmt: skip
        self.legend = Static("", id="profile-legend")
        self.batch_norm = Static("", id="profile-bn")
        """The +bn setups' batch-norm numbers (vgtui.ui.charts.profile_bn); hidden without."""
        self.history: RunHistory | None = None
        self.initial: dict[str, LayerProfile] = {}
        """Each setup's profile at initialisation (computed when a run starts)."""
        self.pending = "init: computing…"
        """What the legend says while there is no profile at initialisation."""
        self.dirty = True

    def compose(self) -> Any:
        yield self.caption
        with Horizontal(id="profile-charts"):
            yield from self.charts
        yield self.batch_norm
        yield self.legend

    def mark_dirty(self) -> None:
        self.dirty = True
        for chart in self.charts:
            chart.mark_dirty()

    def show(self, history: RunHistory, initial: dict[str, LayerProfile]) -> None:
        self.history = history
        self.initial = initial
        self.mark_dirty()

    def at_cursor(self, setup: str) -> LayerProfile | None:
        """The setup's profile at the cursor's evaluation point (the latest one without a
        cursor; at init before the first)."""
        initial = self.initial.get(setup)
        if self.history is None:
            return initial
        records = [r for r in self.history.records if r.setup == setup and r.layers]
        record = _at(records, self.view.cursor)
        if record is None:
            return initial
        prescribed = initial.prescribed_std if initial else (math.nan,) * len(record.layers)
        return LayerProfile.of_record(record, prescribed)

    def redraw(self) -> None:
        self.dirty = False
        names = list(self.history.setup_names) if self.history else []
        profiles = [
            (index, self.initial.get(name), self.at_cursor(name))
            for index, name in enumerate(names)
            if self.view.shows(name)
        ]
        width = self.size.width or 80
        self.caption.update(next((c for c in CAPTIONS if len(c) <= width - 2), CAPTIONS[-1]))
        for chart in self.charts:
            chart.profiles = profiles
            chart.view = self.view
            chart.redraw()
        iteration = self.view.cursor
        where = f"@{iteration}" if iteration is not None else "latest"
        rows = (self.size.height or 24) // 2 - 6  # the charts keep at least about half
        bn = batch_norm_lines(profiles, names, where, width - 2, rows)
        self.batch_norm.display = bool(bn)
        self.batch_norm.update(Text("\n".join(bn)))  # names from files: never markup
        parts = [f"⠤ line: {where}", DOTS if self.initial else self.pending]
        parts += [f"{series_marker(i)} {names[i]}" for i, _, _ in profiles]
        self.legend.update(fit_legend(parts, width - 2))  # (its padding)


def _at(records: list[MetricRecord], cursor: int | None) -> MetricRecord | None:
    if cursor is None:
        return records[-1] if records else None
    before = [r for r in records if r.iteration <= cursor]
    return before[-1] if before else None
