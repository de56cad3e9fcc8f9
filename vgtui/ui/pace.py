"""Pace: slow a run down to a chosen number of iterations per second, so that a run of a few
seconds can be watched (in a classroom, say). Full speed by default.

The app sets :attr:`Pace.rate` (from the sidebar's field or the - and + keys); the training
worker holds after each batch of records until the iterations so far are due. Only the worker
thread sleeps; it never touches widgets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from vgtui.core.records import MetricRecord
from vgtui.core.run import Run

CHOICES = (0.0, 10.0, 30.0, 100.0, 300.0, 1000.0)
"""The rates the - and + keys step through (0: full speed)."""
SLICE_SECONDS = 0.05
"""A held worker checks this often whether the run was stopped."""
CATCH_UP_SECONDS = 0.5
"""Behind schedule by more than this (after a pause, or a slow evaluation): start afresh
rather than rushing to catch up."""


def parse_pace(text: str) -> float:
    """``full`` (or empty, or 0) for full speed, else iterations per second > 0."""
    text = text.strip().lower()
    if text in ("", "full", "0"):
        return 0.0
    try:
        rate = float(text)
    except ValueError:
        raise ValueError("pace must be iterations per second, or full") from None
    if not rate > 0 or rate == float("inf"):
        raise ValueError("pace must be a positive number of iterations per second, or full")
    return rate


def show_pace(rate: float) -> str:
    return "full" if rate <= 0 else f"{rate:g}"


class Pace:
    """The chosen rate, shared by the app (which sets it) and the training worker (which
    holds to it)."""

    def __init__(self) -> None:
        self.rate = 0.0
        self._mark: tuple[float, int, float] | None = None

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

    def paced(
        self, deliver: Callable[[Sequence[MetricRecord]], None], run: Run
    ) -> Callable[[Sequence[MetricRecord]], None]:
        """``deliver``, then hold: the callback for ``run.execute``."""

        def callback(records: Sequence[MetricRecord]) -> None:
            deliver(records)
            if records:
                self.hold(records[-1].iteration, lambda: run.control.cancelled)

        return callback
