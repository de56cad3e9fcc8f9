"""How often the app repaints while a run trains: the trainer keeps nearly all of the CPU."""

from __future__ import annotations

import time

FLUSH_HZ = 8
"""How often pending records are taken and drawn, at most."""
HEADER_EVERY_TICKS = 2
"""While training, the header's counters are repainted every other tick (4 times a second)."""
UI_CPU_SHARE = 0.02
"""While training, redraws aim at this share of one core: the trainer keeps the rest. A redraw
that cost 5 ms of UI-thread CPU delays the next one by 5 ms / UI_CPU_SHARE..."""
MAX_WAIT_SECONDS = 0.3
"""...but never by more than this: with the tick that measures the cost before it, charts
are redrawn at least every 0.5 s (2 frames a second) while a run trains."""


class RedrawPacer:
    """Decides, tick by tick, whether the header and the charts may be repainted.

    The UI thread's CPU time between two ticks is mostly the cost of painting the previous
    redraw: the next redraw waits until that cost is within :data:`UI_CPU_SHARE`."""

    def __init__(self) -> None:
        self.ticks = 0
        self.next_redraw = 0.0
        self.cpu_mark = 0.0
        self.redrawn = False
        """Charts were redrawn since the last tick (their painting is measured)."""
        self.stale = False
        """New records arrived that the visible charts do not show yet."""

    def header_due(self, running: bool) -> bool:
        """Start a tick; the header is repainted every tick, or every few while running."""
        self.ticks += 1
        return not running or self.ticks % HEADER_EVERY_TICKS == 0

    def measure(self) -> None:
        """Charge the UI thread's CPU time since the last tick to the last redraw, if any."""
        cpu = time.thread_time()
        if self.redrawn:
            self.redrawn = False
            wait = min((cpu - self.cpu_mark) / UI_CPU_SHARE, MAX_WAIT_SECONDS)
            self.next_redraw = time.monotonic() + wait
        self.cpu_mark = cpu

    def may_redraw(self, running: bool, force: bool = False) -> bool:
        """Stale charts may be redrawn now: always, unless a run trains and the last redraw's
        cost is not paid off yet."""
        if not self.stale:
            return False
        return force or not running or time.monotonic() >= self.next_redraw
