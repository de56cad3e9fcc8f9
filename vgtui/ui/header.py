"""The one-line status header at the top of the monitor."""

from __future__ import annotations

from typing import Any

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget


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

    def render(self) -> RenderResult:
        return Content(self.text)


def format_elapsed(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def timing_text(iteration: int, seconds: float) -> str:
    """Elapsed compute time (pauses excluded) and iterations per second."""
    rate = iteration / seconds if seconds > 0 else 0.0
    return f"{format_elapsed(seconds)}  {rate:.1f} it/s"
