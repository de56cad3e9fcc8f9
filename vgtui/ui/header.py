"""The one-line status header at the top of the monitor."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

from vgtui.core.run import Run
from vgtui.core.vocabulary import ACTIVE_PHASES, RunPhase, RunStatus


class RunHeader(Widget):
    """One line: app, dataset, run state, iteration i / N, elapsed time, iterations per second.

    Updated several times a second, so it repaints itself without a layout pass.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.text = ""

    def show(self, text: str, state: str) -> None:
        """Repaint only when something changed; the state colours the line."""
        if text != self.text:
            self.text = text
            self.refresh()
        state_class = f"-{state}"
        if not self.has_class(state_class):
            self.set_classes(state_class)

    def show_run(
        self, state: RunPhase | RunStatus, dataset_name: str, run: Run | None, planned: int
    ) -> None:
        """The line for ``run`` (None before the first: ``planned`` iterations) in ``state``;
        the run folder's name once the run has ended."""
        iteration = run.iteration if run else 0
        parts = [
            dataset_name,
            f"iter {iteration}/{run.total_iterations if run else planned}",
            self.timing_text(iteration, run.seconds if run else 0.0),
        ]
        if run is not None and state not in ACTIVE_PHASES:
            parts.append(self.folder_text(run.path))
        self.show(f" vgtui  {state.upper()}  " + "  ".join(parts), state)

    def timing_text(self, iteration: int, seconds: float) -> str:
        """Elapsed compute time (pauses excluded) and iterations per second."""
        rate = iteration / seconds if seconds > 0 else 0.0
        return f"{format_elapsed(seconds)}  {rate:.1f} it/s"

    def folder_text(self, path: Path) -> str:
        return path.name

    def render(self) -> RenderResult:
        return Content(self.text)


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"
