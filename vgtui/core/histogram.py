"""Activation histograms: the one definition of their bins, range and saturation, and their one
drawing as block characters.

The probe experiment (vgtui.core.probe) and the run statistics (vgtui.core.activation_stats)
bin by :func:`histogram_scale`, so ``vgtui probe`` and the Activations tab show an activation
on the same scale. The drawing is plain text; the front ends colour it (no rich here).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

BINS = 20
SATURATION = 0.99
"""A bounded activation beyond 99% of its range: sigmoid < 0.01 or > 0.99, |tanh| > 0.99."""
BOUNDED = ("sigmoid", "tanh", "softsign")
LOG_LOW = -5.0  # the log scale's first positive bin starts at 1e-5 ...
BINS_PER_DECADE = 3  # ... and each bin is a third of a decade: the last one ends at 21.5
BLOCKS = " ▁▂▃▄▅▆▇█"
"""Eighths of a cell, from empty to full."""


@dataclass(frozen=True)
class HistogramScale:
    """The bins of an activation's histogram. ``linear``: BINS equal bins from ``low`` to
    ``high``. ``log10``: bin 0 holds a <= 0 (inactive), bins 1.. are a third of a decade each
    from 10**low, the first and last also taking what lies beyond them."""

    kind: Literal["linear", "log10"]
    low: float
    high: float

    def edges(self) -> list[float]:
        """The BINS + 1 bin edges (for log10, bin 0's edges are -inf and 0)."""
        if self.kind == "linear":
            step = (self.high - self.low) / BINS
            return [self.low + step * k for k in range(BINS + 1)]
        logs = [self.low + k / BINS_PER_DECADE for k in range(BINS)]
        return [-math.inf, 0.0, *(10.0**v for v in logs[1:])]

    def label(self, index: int) -> str:
        """A short name of bin ``index`` (its lower edge)."""
        if self.kind == "log10":
            return "<=0" if index == 0 else f"1e{self.low + (index - 1) / BINS_PER_DECADE:.1f}"
        return f"{self.edges()[index]:.2g}"

    def counts(self, values: np.ndarray) -> np.ndarray:
        """The BINS counts of ``values`` (in the activation's own units; NaN left out), values
        beyond the ends in the first and last bin."""
        values = np.asarray(values, dtype=np.float64).ravel()
        values = values[~np.isnan(values)]
        if self.kind == "linear":
            index = np.floor((values - self.low) * (BINS / (self.high - self.low)))
            index = np.clip(index, 0, BINS - 1)
        else:
            index = np.zeros(values.shape)
            positive = values > 0
            logs = np.log10(values[positive])
            index[positive] = np.clip(
                np.floor((logs - self.low) * BINS_PER_DECADE) + 1, 1, BINS - 1
            )
        return np.bincount(index.astype(np.intp), minlength=BINS)

    def top(self, counts: Sequence[float]) -> float:
        """The count a full bar stands for: on the log scale the inactive bin (often half of
        all) is left out, so the shape of the active values shows."""
        if self.kind == "log10":
            return max(counts[1:], default=0) or max(counts, default=0)
        return max(counts, default=0)

    @property
    def text(self) -> str:
        """The x range in a few characters: ``0..1``, ``-1..1``, ``<=0|1e-5..22``."""
        if self.kind == "linear":
            return f"{self.low:g}..{self.high:g}"
        return f"<=0|1e{self.low:g}..{10**self.high:.0f}"

    def axis(self, width: int) -> str:
        """The x axis under ``BINS * width`` cells: its two ends, and 1 on the log scale where
        it fits."""
        span = BINS * width
        if self.kind == "linear":
            low, high = f"{self.low:g}", f"{self.high:g}"
            return low + " " * max(1, span - len(low) - len(high)) + high
        # bin 0 is "<= 0"; bin k >= 1 starts at 10**(low + (k - 1) / 3): 1 is at bin 16
        one = (1 + round(-self.low * BINS_PER_DECADE)) * width
        left, high = f"0 1e{self.low:g}", f"{10**self.high:.0f}"
        text = list(left.ljust(span))
        if one + 1 < span - len(high) and one > len(left):
            text[one] = "1"
        line = "".join(text)
        return line[: span - len(high)] + high


def histogram_scale(activation: str) -> HistogramScale:
    """Sigmoid on [0, 1], tanh and softsign on [-1, 1] (their ranges); ReLU-like activations on
    a log scale that keeps both the tiny values of a small init and the tail, with the
    inactive units (<= 0) in a bin of their own."""
    if activation == "sigmoid":
        return HistogramScale("linear", 0.0, 1.0)
    if activation in BOUNDED:
        return HistogramScale("linear", -1.0, 1.0)
    return HistogramScale("log10", LOG_LOW, LOG_LOW + (BINS - 1) / BINS_PER_DECADE)


def saturated_share(activation: str, values: np.ndarray) -> float:
    """The share of ``values`` (the activation's own units) beyond :data:`SATURATION` of a
    bounded activation's range; NaN for an unbounded activation."""
    if activation not in BOUNDED:
        return math.nan
    if activation == "sigmoid":
        return float(np.mean((values < 1 - SATURATION) | (values > SATURATION)))
    return float(np.mean(np.abs(values) > SATURATION))


def bars(counts: Sequence[float], rows: int, width: int, top: float | None = None) -> list[str]:
    """A vertical bar chart of ``counts`` (each bar ``width`` cells wide) in ``rows`` text
    rows, top row first, heights in eighths of a row relative to ``top`` (by default the
    largest count; a larger count is cut at the top). A count above 0 always shows."""
    top = max(counts, default=0) if top is None else top
    heights = [min(8 * rows, round(8 * rows * c / top)) if top > 0 else 0 for c in counts]
    heights = [max(h, 1) if c > 0 else 0 for h, c in zip(heights, counts, strict=True)]
    lines = []
    for row in range(rows - 1, -1, -1):
        cells = []
        for height in heights:
            eighths = min(max(height - 8 * row, 0), 8)
            cells.append(BLOCKS[eighths] * width)
        lines.append("".join(cells))
    return lines


def sparkline(values: Sequence[float], width: int) -> str:
    """``values`` in [0, 1] over the whole run as one row of at most ``width`` eighth blocks
    (each the largest value of its stretch); a share of 0 is the flat baseline, so any block
    above it is real."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) > width:
        edges = [round(k * len(finite) / width) for k in range(width + 1)]
        finite = [max(finite[a:b]) for a, b in zip(edges, edges[1:], strict=False) if b > a]
    return "".join(BLOCKS[max(1, min(8, 1 + round(7 * v)))] if v > 0 else "▁" for v in finite)
