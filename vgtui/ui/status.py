"""The status line under the strip: what the charts show and where the run is, persistent
(``done: results in runs/…  ·  smooth 0.9  ·  zoom first 25 %  ·  pace 30 it/s  ·  @500``),
and above it, for a few seconds, a one-off message (the app's notifications). A toast would
cover a chart; this line never does."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.timer import Timer
from textual.widget import Widget

from vgtui.ui.view import ChartView

SEPARATOR = "  ·  "
MESSAGE_LINES = 3
"""A message longer than this is cut at a word (the sidebar's note keeps an error whole)."""
SEVERITY_STYLES = {"information": "bold", "warning": "bold yellow", "error": "bold red"}


Part = str | tuple[str, ...]
"""A part of the line, or its forms from the longest to the shortest."""


def fit_whole(parts: Sequence[Part], width: int, separator: str = SEPARATOR) -> str:
    """The parts that fit ``width`` in order, each whole (the longest form that fits): one
    too long is left out, the ones after it may still fit."""
    shown: list[str] = []
    for part in parts:
        for form in (part,) if isinstance(part, str) else part:
            if form and len(separator.join([*shown, form])) <= width:
                shown.append(form)
                break
    return separator.join(shown)


def wrap_words(text: str, width: int, lines: int = MESSAGE_LINES) -> list[str]:
    """``text`` wrapped at spaces only (a path or a name is never broken), at most ``lines``
    lines; a word longer than the width is left out of the line and said with an ellipsis."""
    wrapped = textwrap.wrap(
        text, max(width, 1), break_long_words=False, break_on_hyphens=False
    ) or [""]
    wrapped = [line if len(line) <= width else "…" for line in wrapped]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], fit_whole([*wrapped[lines - 1].split(" "), "…"],
                                                    width, " ")]  # fmt: skip
    return wrapped


class StatusLine(Widget):
    """One persistent line (the run's state, pace, smoothing, zoom, cursor) and, above it
    while it lasts, the latest message."""

    DEFAULT_CSS = """
    StatusLine { height: auto; padding: 0 1; }
    """

    def __init__(self, view: ChartView, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.view = view
        self.run_parts: list[Part] = []
        """What the screen says of its run: its state (where its results are), the pace."""
        self.message = ""
        self.message_style = ""
        self.timer: Timer | None = None

    @property
    def parts(self) -> list[Part]:
        """The persistent parts: the view's (what the charts show), then the run's."""
        return [*self.view.status_parts, *self.run_parts]

    def show_run(self, parts: list[Part]) -> None:
        if parts != self.run_parts:
            self.run_parts = parts
            self.refresh()

    def say(self, message: str, title: str = "", severity: str = "information",
            timeout: float = 5.0) -> None:  # fmt: skip
        """Show ``message`` above the persistent line for ``timeout`` seconds."""
        self.message = f"{title}: {message}" if title else message
        self.message_style = SEVERITY_STYLES.get(severity, "bold")
        if self.timer is not None:
            self.timer.stop()
        self.timer = self.set_timer(timeout, self.forget)
        self.refresh(layout=True)

    def forget(self) -> None:
        self.message = ""
        self.timer = None
        self.refresh(layout=True)

    def message_lines(self, width: int) -> list[str]:
        return wrap_words(self.message, width) if self.message else []

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.message_lines(width)) + 1

    @property
    def plain(self) -> str:
        """The text shown (for tests)."""
        width = self.content_region.width or 80
        return "\n".join([*self.message_lines(width), fit_whole(self.parts, width)])

    def render(self) -> RenderResult:
        width = self.content_region.width
        text = Text(no_wrap=True, overflow="crop")
        for line in self.message_lines(width):
            text.append(line + "\n", self.message_style)
        text.append(fit_whole(self.parts, width), "dim" if not self.parts else "")
        return text
