"""Log axes whose every label sits exactly on a plot row at its true height: plotext rounds a
tick to its nearest row (up to half a row off) and drops one that shares a row with another,
so the gradient, profile and loss charts all take their decades from here."""

from __future__ import annotations

import math
from collections.abc import Sequence

PLAIN_DECADES = range(-3, 4)
"""Exponents of the decades an axis may label as plain numbers (0.001 to 1000)."""


def decade_labels(ticks: Sequence[float], zero: bool = False, plain: bool = False) -> list[str]:
    """Labels of decade ticks (log10 values): 1e-2, 1e-1, 1e0 ...; with ``plain``, 0.01, 0.1,
    1 ... when every tick is in :data:`PLAIN_DECADES` (one form per axis, never both); with
    ``zero``, the first is the row of exact zeros, labelled 0."""
    exponents = [round(t) for t in ticks]
    decades = exponents[1:] if zero else exponents
    plain = plain and all(e in PLAIN_DECADES for e in decades)
    labels = [f"{10.0**e:g}" if plain else f"1e{e}" for e in exponents]
    return ["0", *labels[1:]] if zero and labels else labels


def decade_axis(
    low: float, high: float, rows: int, zero: bool = False, plain: bool = False
) -> tuple[list[float], list[str], tuple[float, float]]:
    """Ticks, labels and y limits of a log axis of ``rows`` plot rows covering ``low..high``
    (log10 values) whose every label sits exactly on a row at its true height: decades a
    whole number of steps apart, each step a whole number of rows, the bottom decade on the
    bottom row (plotext drops a tick that shares a row with another, which skipped decades:
    1e1, 1e0, 1e-1, 1e-3). No 2 or 5 between decades: log10(2) is never a whole number of
    rows. With ``zero``, a row labelled 0 one step below the lowest decade, for exact zeros;
    ``plain``: see :func:`decade_labels`."""
    first, last = math.floor(low), max(math.ceil(high), math.floor(low) + 1)
    intervals_free = max(rows - 1, 1)
    span, extra = last - first, 1 if zero else 0
    fits = [s for s in range(1, span + 1) if -(-span // s) + extra <= intervals_free]
    step = fits[0] if fits else span  # (too few rows for a zero row too: degenerate)
    intervals = -(-span // step) + extra
    bottom = first - step if zero else first
    rows_per_step = intervals_free // intervals
    top = bottom + (intervals_free * step / rows_per_step if rows_per_step else intervals * step)
    ticks = [float(bottom + j * step) for j in range(int((top - bottom) // step) + 1)]
    return ticks, decade_labels(ticks, zero, plain), (float(bottom), float(top))
