"""Pace: slow a run down to a chosen number of iterations per second, so that a run of a few
seconds can be watched (in a classroom, say). Full speed by default.

The app sets :attr:`Pace.rate` (from the sidebar's field or the - and + keys); the training
worker holds before each iteration until it is due (RunControl.throttle). Only the worker
thread sleeps; it never touches widgets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from functools import partial

from vgtui.core.pace_option import parse_pace, show_pace
from vgtui.core.records import MetricRecord
from vgtui.core.run import Run

CHOICES = (0.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
"""The rates the - and + keys step through (0: full speed)."""
SLICE_SECONDS = 0.05
"""A held worker checks this often whether the run was stopped."""
CATCH_UP_SECONDS = 0.5
"""Behind schedule by more than this (after a pause, or a slow evaluation): start afresh
rather than rushing to catch up."""
HOLDING_SECONDS = 1.0
"""The worker held within this long: the pace, not the trainer, sets the speed."""

__all__ = ["CHOICES", "Pace", "parse_pace", "show_pace"]


class Pace:
    """The chosen rate, shared by the app (which sets it) and the training worker (which
    holds to it)."""

    def __init__(self, rate: float = 0.0) -> None:
        self.rate = rate
        self._mark: tuple[float, int, float] | None = None
        self.last_hold = -math.inf
        """When the worker last held (time.monotonic())."""

    def holding(self) -> bool:
        """Whether the pace, not the trainer, sets the speed now: the trainer leaves the CPU
        free, so charts may be redrawn at the full frame rate."""
        return self.rate > 0 and time.monotonic() - self.last_hold < HOLDING_SECONDS

    def eta_rate(self, compute_rate: float) -> float:
        """Iterations per second from now on: the trainer's, or the pace if slower."""
        return min(self.rate, compute_rate) if self.rate > 0 else compute_rate

    def step(self, direction: int) -> float:
        """The next slower (-1) or faster (+1) rate of :data:`CHOICES`; full speed is the
        fastest."""
        ladder = [*CHOICES[1:], 0.0]  # slowest first, full speed last
        if self.rate in ladder:
            current = ladder.index(self.rate)
        else:  # a rate typed in the sidebar: step from the nearest choice on its side
            current = sum(1 for rate in ladder[:-1] if rate < self.rate) - (direction > 0)
        self.rate = ladder[min(max(current + direction, 0), len(ladder) - 1)]
        return self.rate

    def hold(self, iteration: int, stopped: Callable[[], bool]) -> None:
        """Wait until ``iteration`` is due at the current rate (from the worker thread)."""
        rate, now = self.rate, time.monotonic()
        if rate <= 0:
            self._mark = None
            return
        if self._mark is None or self._mark[2] != rate:
            self._mark = (now, iteration, rate)
            return
        start, first, _ = self._mark
        due = start + (iteration - first) / rate
        if now - due > CATCH_UP_SECONDS:
            self._mark = (now, iteration, rate)
            return
        while not stopped() and (wait := due - time.monotonic()) > 0:
            time.sleep(min(wait, SLICE_SECONDS))
            self.last_hold = time.monotonic()

    def paced(
        self, deliver: Callable[[Sequence[MetricRecord]], None], run: Run
    ) -> Callable[[Sequence[MetricRecord]], None]:
        """``deliver``: the callback for ``run.execute``, whose training holds to the pace
        before each iteration. The schedule starts now, at iteration 0. (Holding when records
        arrived let training run ahead by the evaluations still pending: with --eval-every
        100 at 30 it/s, 300 iterations came at once.)"""
        self._mark = (time.monotonic(), 0, self.rate) if self.rate > 0 else None
        run.control.throttle = partial(self.hold, stopped=lambda: run.control.cancelled)
        return deliver
