"""The one-line status header at the top of the monitor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual.widget import Widget

from vgtui.core.store.run_folder import FolderName
from vgtui.core.vocabulary import ACTIVE_PHASES, RunPhase, RunStatus
from vgtui.ui.pace import Pace


class RunHeader(Widget):
    """One line: app, dataset, run state, iteration i / N, elapsed time, iterations per second.

    Updated several times a second, so it repaints itself without a layout pass.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.parts: list[tuple[str, int]] = []
        """The line's parts and their priorities (0 = always shown, higher = dropped first)."""

    @property
    def text(self) -> str:
        """The whole line, as wide as it may get."""
        return fit_header(self.parts, 10_000)

    def show(self, parts: list[tuple[str, int]], state: str) -> None:
        """Repaint only when something changed; the state colours the line."""
        if parts != self.parts:
            self.parts = parts
            self.refresh()
        state_class = f"-{state}"
        if not self.has_class(state_class):
            self.set_classes(state_class)

    def show_run(
        self,
        state: RunPhase | RunStatus,
        dataset_name: str,
        run: Any,
        planned: int,
        pace: Pace | None = None,
    ) -> None:
        """The line for ``run`` (a Run, or what the app keeps of one; None before the first:
        ``planned`` iterations) in ``state``, with the run folder's name once there is one.
        Its clock is the run's ``wall_seconds`` (vgtui.core.run.Run: pauses excluded, the
        pace's holds included), the time summary.json records and a saved run's header
        shows, so that a run reads the same time live and saved."""
        iteration = run.iteration if run else 0
        compute = run.seconds if run else 0.0
        seconds = run.wall_seconds if run else 0.0
        elapsed, rate = self.timing_text(iteration, seconds).split("  ", 1)
        total = run.total_iterations if run else planned
        parts = [
            ("vgtui", 4),
            (state.upper(), 0),
            (dataset_name, 3),
            (f"iter {iteration}/{total}", 0),
            (elapsed, 2),
            (rate, 5),
        ]
        if state in (RunPhase.RUNNING, RunPhase.PAUSED) and iteration > 0 and compute > 0:
            ahead = (pace or Pace()).eta_rate(iteration / compute)
            parts.append((self.eta_text((total - iteration) / ahead), 2))
        if run is not None and run.path is not None:
            parts.append((self.folder_text(run.path), 1 if state in ACTIVE_PHASES else 0))
        self.show(parts, state)

    def timing_text(self, iteration: int, seconds: float) -> str:
        """Elapsed run time (pauses excluded) and iterations per second."""
        rate = iteration / seconds if seconds > 0 else 0.0
        return f"{format_elapsed(seconds)}  {rate:.1f} it/s"

    def eta_text(self, seconds: float) -> str:
        """How long the rest of the run takes at the present speed (the pace's, if slower)."""
        return f"eta {format_elapsed(seconds)}"

    def folder_text(self, path: Path) -> str:
        return path.name

    def render(self) -> RenderResult:
        return Text(fit_header(self.parts, self.size.width))


def fit_header(parts: list[tuple[str, int]], width: int) -> str:
    """The parts that fit ``width``, dropping the highest priorities first; a run folder's
    name that still does not fit loses its date (``151215-custom``)."""
    shown = list(parts)

    def line() -> str:
        return " " + "  ".join(text for text, _ in shown)

    while len(line()) > width and any(priority > 0 for _, priority in shown):
        worst = max(priority for _, priority in shown)
        shown = [part for part in shown if part[1] != worst]
    if len(line()) > width:
        shown = [(short_folder(text), p) for text, p in shown]
    return line()


def short_folder(name: str) -> str:
    """``20261129-151215-custom`` without its date: ``151215-custom``."""
    return name.partition("-")[2] if FolderName.parse(name) else name


def format_elapsed(seconds: float) -> str:
    """``mm:ss``, or ``h:mm:ss`` from an hour on."""
    minutes, secs = divmod(int(seconds), 60)
    if minutes >= 60:
        return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"
