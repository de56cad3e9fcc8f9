"""``vgtui show RUN --replay [--speed X]``: a saved run's curves played back at a chosen pace,
with pause (p) and scrub (the arrow keys, or [ and ]): for a classroom, where the live run of a
few seconds is too fast to talk over."""

from __future__ import annotations

import bisect
import time
from collections.abc import Sequence

from textual.binding import Binding

from vgtui.core.records import MetricRecord
from vgtui.core.vocabulary import RunPhase, RunStatus
from vgtui.ui.header import format_elapsed
from vgtui.ui.history import RunHistory
from vgtui.ui.saved.screen import SavedRunsScreen, Shown, labelled

TICK_SECONDS = 1 / 8
SPEEDS = (10.0, 30.0, 100.0, 300.0, 1000.0, 3000.0)
"""The paces - and + step through, in iterations per second."""
REPLAYING = "replay"


class Timeline:
    """Every record of the runs in iteration order, and a play head: the records up to
    :attr:`position` are shown (no Textual here)."""

    def __init__(self, records: Sequence[MetricRecord], rate: float) -> None:
        self.records = sorted(records, key=lambda r: r.iteration)  # stable: setup order kept
        self.iterations = [r.iteration for r in self.records]
        self.points = sorted(set(self.iterations))
        self.rate = rate
        self.position = 0.0
        self.paused = False

    @property
    def end(self) -> int:
        return self.points[-1] if self.points else 0

    @property
    def finished(self) -> bool:
        return self.position >= self.end

    @property
    def shown(self) -> int:
        """How many records are due at the play head."""
        return bisect.bisect_right(self.iterations, self.position)

    def advance(self, seconds: float) -> None:
        if not self.paused:
            self.position = min(self.position + self.rate * seconds, self.end)

    def scrub(self, step: int) -> None:
        """Move the play head ``step`` evaluation points (it stays paused)."""
        self.paused = True
        if not self.points:
            return
        current = bisect.bisect_right(self.points, self.position) - 1  # -1: before the first
        target = min(max(current + step, -1), len(self.points) - 1)
        self.position = 0.0 if target < 0 else float(self.points[target])

    def change_rate(self, direction: int) -> float:
        faster = [s for s in SPEEDS if s > self.rate]
        slower = [s for s in SPEEDS if s < self.rate]
        if direction > 0 and faster:
            self.rate = faster[0]
        elif direction < 0 and slower:
            self.rate = slower[-1]
        return self.rate


class ReplayScreen(SavedRunsScreen):
    """The saved-runs view, its records revealed by a play head."""

    BINDINGS = [
        Binding("p", "pause", "Pause"),
        Binding("left", "scrub(-1)", "Earlier", priority=True),
        Binding("right", "scrub(1)", "Later", priority=True),
        Binding("left_square_bracket", "scrub(-1)", "Earlier", show=False),
        Binding("right_square_bracket", "scrub(1)", "Later", show=False),
        Binding("minus", "speed(-1)", "Slower", show=False),
        Binding("plus,equals_sign", "speed(1)", "Faster", show=False),
    ]

    def __init__(self, entries: Sequence[Shown], rate: float) -> None:
        super().__init__(entries, follow=False)
        records = [r for e in self.readable for r in labelled(e.run.records, e.label)]  # type: ignore[union-attr]
        self.timeline = Timeline(records, rate)
        self.revealed = 0
        self.clock = time.monotonic()

    def initial_records(self, entry: Shown) -> list[MetricRecord]:
        return []

    async def on_mount(self) -> None:
        await super().on_mount()
        self.clock = time.monotonic()
        self.set_interval(TICK_SECONDS, self.tick)

    async def tick(self) -> None:
        now = time.monotonic()
        self.timeline.advance(now - self.clock)
        self.clock = now
        await self.reveal()

    async def reveal(self) -> None:
        """Show the records due at the play head: new ones added, or (scrubbed back) the
        charts rebuilt from the start."""
        due = self.timeline.shown
        if due > self.revealed:
            self.tabs.add(self.timeline.records[self.revealed : due])
            self.redraw()
        elif due < self.revealed:
            history = RunHistory(self.setup_names())
            history.add(self.timeline.records[:due])
            await self.tabs.show_run(history, self.total_iterations)
        self.revealed = due
        self.update_header()

    def state(self) -> RunStatus | RunPhase | str:
        if self.timeline.finished:
            return RunStatus.DONE
        return RunPhase.PAUSED if self.timeline.paused else REPLAYING

    def header_parts(self) -> list[tuple[str, int]]:
        names = [e.name for e in self.entries]
        runs = [e.run for e in self.readable if e.run is not None]
        planned = max((r.config.iterations for r in runs), default=0)
        done = min(max(r.iterations_done for r in runs), int(self.timeline.position)) if runs else 0
        seconds = max((r.seconds for r in self.timeline.records[: self.revealed]), default=0.0)
        return [
            ("vgtui", 4),
            (str(self.state()).upper(), 0),
            (f"replay {self.timeline.rate:g} it/s", 0),
            (f"iter {done}/{planned}", 0),
            (format_elapsed(seconds), 2),
            (names[0] if len(names) == 1 else f"{len(names)} runs", 1),
        ]

    async def action_pause(self) -> None:
        timeline = self.timeline
        if timeline.finished:  # from the start again
            timeline.position = 0.0
            timeline.paused = False
        else:
            timeline.paused = not timeline.paused
        self.clock = time.monotonic()
        await self.reveal()

    async def action_scrub(self, step: int) -> None:
        self.timeline.scrub(step)
        await self.reveal()

    def action_speed(self, direction: int) -> None:
        rate = self.timeline.change_rate(direction)
        self.notify(f"replay {rate:g} it/s", timeout=1.5)
        self.update_header()
