"""How every chart is viewed, changed by keys: smoothing, log or linear y, x range, a cursor.

One :class:`ChartView` is shared by all charts of the app (no Textual here)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

SMOOTHING_WEIGHTS = (0.0, 0.6, 0.9, 0.97)
"""The EMA weights the smoothing key cycles through (0: off)."""
ZOOMS: tuple[tuple[str, float], ...] = (
    ("all", 1.0), ("first", 0.25), ("first", 0.05), ("cursor", 0.25), ("cursor", 0.05)
)  # fmt: skip
"""x ranges the zoom key cycles through: all iterations, the first quarter and the first 5%
(the lesson happens at the start: relu-he rises within 5% of 2000 iterations), then a window of
25% and 5% around the cursor (only when there is one)."""
CURSOR_PAGE = 10
"""Evaluation points a page step ({ } PgUp PgDn) moves the cursor."""


def ema(values: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average, debiased as in Adam: the first points are not pulled
    towards 0 (TensorBoard's old smoothing was). NaN and infinite values are skipped (left
    as they are) and do not disturb the average."""
    if weight <= 0:
        return list(values)
    smoothed: list[float] = []
    average, count = 0.0, 0
    for value in values:
        if not math.isfinite(value):
            smoothed.append(value)
            continue
        count += 1
        average = weight * average + (1 - weight) * value
        smoothed.append(average / (1 - weight**count))
    return smoothed


GradientQuantity = Literal["norm", "delta"]
"""What the Gradients tab draws per layer: the weight gradient's norm, or the std of the
back-propagated error (delta) at the layer's output (Glorot & Bengio's fig. 7)."""


@dataclass
class ChartView:
    smoothing: float = 0.0
    log_y: bool = True
    """Gradient norms and loss on a log scale (accuracy is always linear, 0 to 1)."""
    zoom: float = 1.0
    """The share of the iterations shown (1: all)."""
    zoom_anchor: str = "all"
    """Where the zoomed window sits: "first" (from iteration 0) or "cursor" (around it)."""
    cursor: int | None = None
    """The iteration the cursor is on, if any."""
    solo: str | None = None
    """The one setup the overlay and loss charts show, if they show one only (the others
    hidden)."""
    hidden: set[str] = field(default_factory=set)
    """Setups the overlay and loss charts leave out (when no setup is shown alone); by name,
    so they stay hidden through new records, redraws and the next run of the same setups."""

    def cycle_solo(self, setups: Sequence[str]) -> str:
        """Show every setup, then each alone in turn, then every setup again (but the hidden
        ones: ``h`` looks at one setup for a moment, the hidden set stays)."""
        order = [None, *setups]
        index = order.index(self.solo) if self.solo in order else 0
        self.solo = order[(index + 1) % len(order)]
        if self.solo is not None:
            return f"only {self.solo} shown"
        hidden = self.hidden_among(setups)
        return f"every setup shown but {', '.join(hidden)}" if hidden else "every setup shown"

    def shows(self, setup: str) -> bool:
        if self.solo is not None:
            return setup == self.solo
        return setup not in self.hidden

    def hidden_among(self, setups: Sequence[str]) -> list[str]:
        """The setups of ``setups`` the overlay and loss charts leave out, in their order."""
        return [setup for setup in setups if not self.shows(setup)]

    def hide(self, setups: Iterable[str]) -> None:
        """Leave ``setups`` out of the overlay and loss charts, show the others; ends a ``h``
        solo (the picker's ticks are the lasting choice)."""
        self.solo = None
        self.hidden = set(setups)

    gradient_quantity: GradientQuantity = "norm"

    def toggle_gradient_quantity(self) -> str:
        self.gradient_quantity = "delta" if self.gradient_quantity == "norm" else "norm"
        if self.gradient_quantity == "delta":
            return "gradients tab: error (delta) std per layer"
        return "gradients tab: gradient norm per layer"

    def cycle_smoothing(self) -> str:
        index = (
            SMOOTHING_WEIGHTS.index(self.smoothing) if self.smoothing in SMOOTHING_WEIGHTS else 0
        )
        self.smoothing = SMOOTHING_WEIGHTS[(index + 1) % len(SMOOTHING_WEIGHTS)]
        return f"smoothing {self.smoothing:g}" if self.smoothing else "smoothing off"

    def toggle_log(self) -> str:
        self.log_y = not self.log_y
        return "log scale" if self.log_y else "linear scale"

    def cycle_zoom(self) -> str:
        zooms = [z for z in ZOOMS if z[0] != "cursor" or self.cursor is not None]
        now = (self.zoom_anchor, self.zoom)
        index = zooms.index(now) if now in zooms else 0
        self.zoom_anchor, self.zoom = zooms[(index + 1) % len(zooms)]
        return self.zoom_text or "all iterations"

    @property
    def zoom_text(self) -> str:
        """The zoom as the status line says it: ``zoom first 25 %``; empty when not zoomed."""
        if self.zoom >= 1:
            return ""
        share = f"{self.zoom * 100:g} %"
        return (
            f"zoom {share} around the cursor"
            if self.zoom_anchor == "cursor"
            else (f"zoom first {share}")
        )

    def x_range(self, total: int, last: int = 0) -> tuple[int, int]:
        """The x limits: 0..total, the first ``zoom * total`` iterations, or a window of that
        width centred on the cursor (kept within 0..total)."""
        if self.zoom >= 1:
            return 0, total
        width = max(1, round(self.zoom * total))
        if self.zoom_anchor != "cursor" or self.cursor is None:
            return 0, width
        start = min(max(self.cursor - width // 2, 0), max(total - width, 0))
        return start, start + width

    def move_cursor(self, iterations: Sequence[int], step: int) -> str:
        """Move the cursor ``step`` evaluation points along ``iterations`` (it starts at the
        latest)."""
        if not iterations:
            self.cursor = None
            return "no evaluations yet"
        if self.cursor is None or self.cursor not in iterations:
            position = len(iterations) - 1  # the cursor appears on the latest evaluation
        else:
            position = iterations.index(self.cursor) + step
        position = min(max(position, 0), len(iterations) - 1)
        self.cursor = iterations[position]
        return f"cursor at iteration {self.cursor}"

    def jump_cursor(self, iterations: Sequence[int], target: int) -> str:
        """Put the cursor on the evaluation point nearest ``target`` (Home: the first, End:
        the latest, g: any iteration typed)."""
        if not iterations:
            self.cursor = None
            return "no evaluations yet"
        self.cursor = min(iterations, key=lambda x: (abs(x - target), x))
        return f"cursor at iteration {self.cursor}"

    @property
    def status_parts(self) -> list[str]:
        """What the view's state adds to the status line: smoothing, zoom, cursor."""
        parts = [f"smooth {self.smoothing:g}"] if self.smoothing else []
        if self.zoom_text:
            parts.append(self.zoom_text)
        if self.gradient_quantity == "delta":
            parts.append("d: error std")
        if self.cursor is not None:
            parts.append(f"@{self.cursor}")
        return parts

    def clear_cursor(self) -> str:
        self.cursor = None
        if self.zoom_anchor == "cursor":  # no cursor to sit around: the first iterations
            self.zoom_anchor = "first"
        return "cursor off"


def in_range(
    xs: Sequence[float], ys: Sequence[float], limits: tuple[float, float]
) -> tuple[list[float], list[float]]:
    """The points of (xs, ys) within the x ``limits``."""
    low, high = limits
    points = [(x, y) for x, y in zip(xs, ys, strict=True) if low <= x <= high]
    return [x for x, _ in points], [y for _, y in points]


def value_at(xs: Sequence[int], ys: Sequence[float], x: int) -> float:
    """The value of the series at iteration ``x`` (NaN if it has none there)."""
    try:
        return ys[list(xs).index(x)]
    except ValueError:
        return math.nan


ALL_HIDDEN = "every setup hidden (H shows them)"


def hidden_parts(view: ChartView, setups: Sequence[str]) -> list[str]:
    """What a chart of several setups says about those it leaves out: how many, or that it
    shows none at all (an empty plot must not look like a run without data)."""
    hidden = view.hidden_among(setups)
    if not hidden:
        return []
    if len(hidden) == len(setups):
        return [ALL_HIDDEN]
    return [f"{len(hidden)} hidden (H)"]
