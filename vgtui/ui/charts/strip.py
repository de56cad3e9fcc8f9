"""The per-setup strip under the tabs: every setup's state, test accuracy and gradient ratio,
on every tab and at every size (entries wrap onto more lines rather than being cut). Every
number is named: after its label, or, where two labelled entries do not fit on a line (80
columns, or beside the sidebar), under a header line that names the columns."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Size
from textual.widget import Widget

from vgtui.ui.history import RunHistory, SetupSeries
from vgtui.ui.look import (
    format_accuracy,
    format_gradient_ratio,
    series_color,
    series_marker,
    state_text,
)
from vgtui.ui.view import ChartView

GAP = 3
"""Spaces between two entries on one line."""
HIDDEN_MARK = "-"
"""In place of the marker of a setup the overlay and loss charts leave out (H); its name is
also struck through. In place, not an extra word: at 80 columns two entries fill a line."""
LABELS = {3: "test", 4: "1st/last"}
"""The names of the number columns: before each number, or in the header over them."""


class SetupStrip(Widget):
    """One entry per setup: ``o relu-he  ok  94.8%  1st/last 1.8e0``; the marker (in the
    setup's colour) is the one its curve carries on the overlay."""

    DEFAULT_CSS = """
    SetupStrip { height: auto; }
    """

    def __init__(self, history: RunHistory, view: ChartView, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.history = history
        self.view = view
        """With a cursor set, the strip reads the values at the cursor's iteration."""
        self.dirty = True

    def show(self, history: RunHistory) -> None:
        """Show ``history`` (a new run's); the number of lines may change."""
        self.history = history
        self.dirty = False
        self.refresh(layout=True)

    def update_values(self) -> None:
        """Repaint new values; a layout pass (costly: the whole screen) only when the strip
        needs another number of lines."""
        if self.dirty:
            self.dirty = False
            lines = len(self.text_lines(self.size.width)) if self.size.width else 0
            self.refresh(layout=lines != self.size.height)

    def columns(self, labels: bool) -> list[list[str]]:
        """The cells of each entry: marker, setup, state, test accuracy, gradient ratio
        (numbers right-aligned, after their label when ``labels``)."""
        rows = []
        cursor = self.view.cursor
        for index, name in enumerate(self.history.setup_names):
            series = self.history.series[name]
            if cursor is not None:
                series = series_until(series, cursor)
            rows.append(
                [
                    series_marker(index) if self.view.shows(name) else HIDDEN_MARK,
                    name,
                    state_text(series) if cursor is None else f"@{cursor}",
                    format_accuracy(series.latest_test),
                    format_gradient_ratio(series, short=not labels),
                ]
            )
        for column, label in LABELS.items():
            width = max((len(row[column]) for row in rows), default=0)
            for row in rows:
                row[column] = (f"{label} " if labels else "") + row[column].rjust(width)
        return rows

    def layout_for(self, width: int) -> tuple[list[list[str]], list[int], int, bool]:
        """Rows, column widths, entries per line and whether the numbers carry labels: they
        do when at least two entries (or all of them) still fit on a line, else a header
        names the columns."""
        count = len(self.history.setup_names)
        for labels in (True, False):
            rows = self.columns(labels)
            widths = [max((len(row[i]) for row in rows), default=0) for i in range(5)]
            entry = sum(widths) + len(widths) - 1
            per_line = max(1, (width + GAP) // (entry + GAP))
            if per_line >= min(2, count):
                break
        return rows, widths, per_line, labels

    def header(self, width: int) -> str | None:
        """The line naming the number columns of unlabelled entries (None: they are labelled):
        ``test`` over the accuracies, ``1st/last`` over the ratios. The ratios are narrower
        than their name, which reaches into the gap after them as far as the width lets it
        (at 80 columns, one column), else starts left of them."""
        rows, widths, per_line, labels = self.layout_for(width)
        if labels or not rows:
            return None
        slots = min(per_line, len(rows))
        slot = sum(widths) + len(widths) - 1 + GAP
        room = min(GAP - 1, max(0, width - slots * slot + GAP))
        ratio_at = sum(widths[:4]) + 4
        ratio_end = ratio_at + widths[4] + min(room, max(0, len(LABELS[4]) - widths[4]))
        names = f"{LABELS[3]} {LABELS[4]}".rjust(ratio_end)
        return "".join(names.ljust(slot) for _ in range(slots)).rstrip()

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.text_lines(width)))

    def entry_lines(self, width: int) -> list[list[tuple[int, str]]]:
        """The strip's lines as (setup index, text) entries."""
        rows, widths, per_line, _ = self.layout_for(width)
        entries = []
        for index, row in enumerate(rows):
            cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
            entries.append((index, " ".join(cells)))
        return [entries[i : i + per_line] for i in range(0, len(entries), per_line)]

    def text_lines(self, width: int) -> list[str]:
        """The strip's lines as shown, the header first if there is one."""
        header = self.header(width)
        return [header] * (header is not None) + [
            (" " * GAP).join(text for _, text in line).rstrip() for line in self.entry_lines(width)
        ]

    def render(self) -> RenderResult:
        header = self.header(self.size.width)
        lines = [Text(header, style="dim")] if header is not None else []
        for line in self.entry_lines(self.size.width):
            parts: list[tuple[str, str] | str] = []
            for number, (index, text) in enumerate(line):
                if number:
                    parts.append(" " * GAP)
                marker, rest = text[0], text[1:]
                color = "rgb({},{},{})".format(*series_color(index))
                parts.append((marker, f"bold {color}"))
                rest = rest.rstrip() if number == len(line) - 1 else rest
                name = self.history.setup_names[index]
                if not self.view.shows(name):  # " name": struck through
                    parts.append(" ")
                    parts.append((name, "strike dim"))
                    rest = rest[1 + len(name) :]
                parts.append(rest)
            lines.append(Text.assemble(*parts))
        return Text("\n").join(lines)

    @property
    def plain(self) -> str:
        """The text shown (for tests)."""
        return "\n".join(self.text_lines(self.size.width))


def series_until(series: SetupSeries, iteration: int) -> SetupSeries:
    """``series`` as it stood at ``iteration`` (its values there are the latest)."""
    count = sum(1 for x in series.iterations if x <= iteration)
    if count and series.iterations[count - 1] != iteration:
        count = 0  # no evaluation of this setup at the cursor: nothing to read
    return SetupSeries(
        series.setup,
        series.iterations[:count],
        series.train_accuracy[:count],
        series.test_accuracy[:count],
        series.train_loss[:count],
        series.grad_norms[:count],
        seeds=series.seeds,
        grad_ratio=series.grad_ratio[:count],
    )
