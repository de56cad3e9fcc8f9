"""The monitor's pace as an option of the one option table's kind (vgtui.core.config.Option):
``--pace`` on the command line and the sidebar's pace field read it alike. Not a RunConfig
field: how fast a run is watched changes nothing in what it computes (and may change mid-run)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from vgtui.core.config import ConfigError, Option, parse_float


def parse_pace(text: str) -> float:
    """``full`` (or empty, or 0) for full speed, else iterations per second > 0."""
    text = text.strip().lower()
    if text in ("", "full", "0"):
        return 0.0
    try:
        rate = parse_float("pace", text)
    except ConfigError:
        raise ConfigError("pace must be iterations per second, or full") from None
    if not rate > 0 or not math.isfinite(rate):
        raise ConfigError("pace must be a positive number of iterations per second, or full")
    return rate


def show_pace(rate: float) -> str:
    return "full" if rate <= 0 else f"{rate:g}"


@dataclass(frozen=True)
class MonitorOption(Option):
    """An option of the monitor, not of the run: its default is its own."""

    fallback: float = 0.0

    def default(self) -> float:
        return self.fallback


PACE_OPTION = MonitorOption(
    "pace",
    "--pace",
    "pace (it/s)",
    "in the app, train at most RATE iterations per second, to watch a short run (full: "
    "as fast as it goes; - and + change it, also mid-run)",
    metavar="RATE",
    parse=parse_pace,
    show=show_pace,
)
MONITOR_OPTIONS: tuple[Option, ...] = (PACE_OPTION,)
"""The options of the monitor besides RUN_OPTIONS: the command line and the sidebar offer
both tables."""
