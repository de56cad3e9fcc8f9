"""Axes whose every label sits exactly on a plot row at its true height: plotext rounds a
tick to its nearest row (up to half a row off) and drops one that shares a row with another,
so the gradient, profile and loss charts take their y axes from here."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

Axis = tuple[list[float], list[str], tuple[float, float]]
"""Ticks, their labels and the y limits."""
AxisFit = Callable[[int], Axis]
"""An axis for a number of plot rows (a chart's, known when it is painted)."""
PLAIN_DECADES = range(-3, 4)
"""Exponents of the decades an axis may label as plain numbers (0.001 to 1000)."""
ROWS_APART = 3
"""A linear axis' labels are this many rows apart or more where the rows allow."""
MOST_HEADROOM = 1.15
"""The highest top of a linear axis that labels may ask for, as a multiple of its range: a
few rows over it buy labels at their true heights when the rows do not divide evenly."""


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
) -> Axis:
    """A log axis of ``rows`` plot rows covering ``low..high`` (log10 values) whose every
    label sits exactly on a row at its true height: decades a whole number of rows apart
    (plotext dropped a tick that shared a row with another, which skipped decades: 1e1,
    1e0, 1e-1, 1e-3). No 2 or 5 between decades: log10(2) is never a whole number of rows.
    The fewest decades per label, then the most rows per decade that still reach ``high``:
    the top need not be a decade (1e-7..1e-2.5 on 10 rows is 2 rows a decade, where
    1e-7..1e2 at one row a decade left the top rows empty). With ``zero``, a row labelled 0
    one step below the lowest decade, for exact zeros; ``plain``: see
    :func:`decade_labels`."""
    first = math.floor(low)
    need = max(high, first + 1.0)  # the top: the data, and at least two decades labelled
    intervals_free = max(rows - 1, 1)
    for step in range(1, math.ceil(need - first) + 1):
        bottom = first - step if zero else first
        for rows_per_step in range(intervals_free, 0, -1):
            top = bottom + intervals_free * step / rows_per_step
            if top >= need - 1e-9:
                ticks = [float(bottom + j * step)
                         for j in range(intervals_free // rows_per_step + 1)]  # fmt: skip
                return ticks, decade_labels(ticks, zero, plain), (float(bottom), float(top))
    # too few rows for a zero row and a decade a step apart (two rows): degenerate
    step = math.ceil(need - first)
    ticks = [float(first + j * step) for j in (-1, 0, 1)]
    return ticks, decade_labels(ticks, zero, plain), (ticks[0], ticks[-1])


def linear_axis(high: float, rows: int) -> Axis:
    """A linear axis from 0 on the bottom row to a top at or just over ``high`` on the top
    row of ``rows`` plot rows, labelled at a 1-2-5 step (0, 0.5, 1 ...) that is a whole
    number of rows, so each label is exactly on its row (plotext's own, 0.42 and 0.84 on a
    0..2.51 axis, sat up to half a row off): the finest step :data:`ROWS_APART` rows apart
    or more whose top is at most :data:`MOST_HEADROOM` times ``high``, else the step whose
    top wastes the fewest rows; 0 alone when no step fits (two rows)."""
    intervals = max(rows - 1, 1)
    high = high if high > 0 else 1.0
    exponents = range(math.floor(math.log10(high / intervals)), math.ceil(math.log10(high)) + 1)
    fits = []  # (top / high, step, rows apart) of each 1-2-5 step with 0 and a label more
    for unit in (m * 10.0**e for e in exponents for m in (1, 2, 5)):
        rows_apart = math.floor(intervals * unit / high + 1e-9)
        top = intervals * unit / rows_apart if rows_apart else 0.0
        if top >= unit:
            fits.append((round(top / high, 9), unit, rows_apart))  # ties: equal tops
    roomy = [f for f in fits if f[2] >= ROWS_APART and f[0] <= MOST_HEADROOM]
    if not fits:
        return [0.0], ["0"], (0.0, high)
    _, unit, rows_apart = min(roomy, key=lambda f: f[1]) if roomy else min(fits)
    top = intervals * unit / rows_apart
    ticks = [n * unit for n in range(math.floor(intervals / rows_apart + 1e-9) + 1)]
    return ticks, [f"{t:g}" for t in ticks], (0.0, top)
