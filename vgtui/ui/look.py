"""How the monitor shows its numbers and series: one format per quantity, one palette, one set
of markers, and the per-setup state the strip and the charts agree on (no Textual here)."""

from __future__ import annotations

import os

from vgtui.core.diagnosis import setup_state
from vgtui.core.summary import format_percent, format_ratio
from vgtui.core.vocabulary import SetupState, SetupStatus
from vgtui.ui.history import SetupSeries

PALETTE: tuple[tuple[int, int, int], ...] = (
    (86, 180, 233),  # sky blue
    (204, 121, 167),  # reddish purple
    (0, 200, 140),  # bluish green
    (240, 228, 66),  # yellow
    (240, 100, 40),  # vermilion
    (230, 159, 0),  # orange
    (120, 150, 255),  # blue
    (235, 235, 235),  # white
    (170, 120, 255),  # violet
    (150, 220, 90),  # lime
    (255, 130, 130),  # salmon
    (160, 160, 160),  # light grey
)
"""Series colours, all readable on a dark background and apart from each other; the first
four (the default setups) of four clearly different hues, also in a 256-colour terminal
(orange and yellow there were both yellow: 178, 221); beyond 12 series the markers alone
keep them apart."""
MARKERS = ("o", "x", "+", "*", "#", "@", "%", "&", "$", "=", "~", "^", "v", "s", "z", "k")
"""One marker per series, drawn at a few points of its curve (and in the strip), so that curves
stay apart without colour (NO_COLOR) and beyond the palette."""
TRAIN_COLOR = (150, 150, 150)
BAND_COLOR = (110, 110, 110)


def no_color() -> bool:
    """Whether the user asked for no colour (https://no-color.org): the curves are then told
    apart by their markers alone, drawn densely."""
    return bool(os.environ.get("NO_COLOR"))


def series_color(index: int) -> tuple[int, int, int]:
    return PALETTE[index % len(PALETTE)]


def series_marker(index: int) -> str:
    return MARKERS[index % len(MARKERS)]


def format_accuracy(value: float) -> str:
    """Accuracies as in the summary table: ``94.8%``."""
    return format_percent(value)


def format_gradient_ratio(series: SetupSeries, short: bool = False) -> str:
    """The latest first/last-layer gradient ratio of ``series``; ``0 / underflow`` (``short``:
    ``0``) when the first layer's gradient is exactly zero."""
    if not series.grad_norms:
        return "-"
    if series.seeds > 1 and series.grad_ratio:  # the seeds' mean ratio, as the summary's
        return format_ratio(series.grad_ratio[-1])
    first, last = series.grad_norms[-1][0], series.grad_norms[-1][-1]
    if first == 0:
        return "0" if short else "0 / underflow"
    return format_ratio(first / last) if last > 0 else "-"


def series_state(series: SetupSeries) -> SetupState:
    """The state of a setup's series so far (or up to the cursor), as the summary names it."""
    if series.diverged_at is not None:
        return SetupState.DIVERGED
    status = SetupStatus.OK if series.iterations else SetupStatus.NO_DATA
    return setup_state(status, len(series.iterations), series.latest_test)


def state_text(series: SetupSeries) -> str:
    """The state as shown: ``ok``, ``stalled``, ``diverged at 40``, ``no data``."""
    state = series_state(series)
    if state == SetupState.DIVERGED:
        return f"diverged at {series.diverged_at}"
    return str(state)


def latest_test_text(series: SetupSeries) -> str:
    return format_accuracy(series.latest_test)
