"""The Runs screen (key o): the run folders under the output folder, newest first, to open one
or compare several (read-only, in the saved-runs view). The last finished run stays reachable
here after a new run has started."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from vgtui.core.safe_text import NAME_LIMIT, fitted_name, safe_text
from vgtui.core.store.listing import RunListing, find_runs, list_runs
from vgtui.core.store.saved_runs import RunFolderError
from vgtui.core.summary import format_percent
from vgtui.core.traits import Trait, differing
from vgtui.ui.saved.screen import SavedRunsScreen, read_all

MARK = "✓"
NAME_WIDTH = 26
"""The run column's width: with the status and the best accuracies, 80 columns."""


@dataclass
class RunsListed(Message):
    """The worker read the run folders (or says why it could not)."""

    runs: list[RunListing | RunFolderError]
    paths: list[Path]
    error: Exception | None = None


class RunsScreen(Screen[None]):
    """One row per run folder: space marks runs to compare, enter opens them (or the
    highlighted one), esc goes back."""

    BINDINGS = [
        Binding("escape,o", "close", "Back"),
        Binding("space", "mark", "Mark"),
        Binding("enter", "open", "Open", priority=True),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, root: Path, current: Path | None = None, last: Path | None = None) -> None:
        super().__init__()
        self.root = Path(root)
        self.current = current
        self.last = last
        self.paths: list[Path] = []
        self.marked: set[Path] = set()
        self.title_line = Static(id="runs-title")
        self.table: DataTable = DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)

    def compose(self) -> ComposeResult:
        yield self.title_line
        yield self.table
        yield Footer()

    def on_mount(self) -> None:
        self.title_line.update(Text(f" Runs under {safe_text(self.root, NAME_LIMIT)}: reading..."))
        self.table.add_columns(" ", "run (settings that differ)", "status", "best test")
        self.table.focus()
        self.list_runs()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def list_runs(self) -> None:
        """Thread worker: read the folders; it only posts the result (or why there is none:
        the screen never stays at "reading...")."""
        try:
            paths = find_runs(self.root)
            self.post_message(RunsListed(list(list_runs(paths)), paths))
        except Exception as error:  # noqa: BLE001 - whatever it is, the screen says it
            self.post_message(RunsListed([], [], error))

    @on(RunsListed)
    def show_runs(self, message: RunsListed) -> None:
        if message.error is not None:
            self.title_line.update(Text(f" No runs: {safe_text(message.error, 1000)}"))
            return
        self.paths = message.paths
        self.table.clear()
        readable = [run for run in message.runs if isinstance(run, RunListing)]
        differ = [t for t in differing([r.config for r in readable]) if t.key != "setups"]
        for path, run in zip(message.paths, message.runs, strict=True):
            cells = self.cells(path, run, differ)
            height = max(cell.count("\n") + 1 for cell in cells)
            texts = [Text(cell) for cell in cells]  # never markup: names come from files
            self.table.add_row(" ", *texts, key=str(path), height=height)
        count = len(self.paths)
        root = safe_text(self.root, NAME_LIMIT)
        self.title_line.update(
            Text(f" Runs under {root}: {count} (space marks runs to compare, enter opens)")
            if count
            else Text(f" No runs under {root} yet")
        )

    def cells(
        self, path: Path, run: RunListing | RunFolderError, differ: Sequence[Trait] = ()
    ) -> list[str]:
        """The run's name with its settings that differ from the other runs' below it, its
        status and progress, and one line per setup's best test accuracy: every item whole,
        on lines of its own (the table is narrow at 80 columns)."""
        # a long name on several lines (after its hyphens): the numbers keep their room
        name = fitted_name(path.name)
        lines = textwrap.wrap(name, NAME_WIDTH, break_on_hyphens=True) or [name]
        if path == self.current:
            lines.append("(this run)")
        elif path == self.last:
            lines.append("(last run)")
        if isinstance(run, RunFolderError):
            return ["\n".join(lines), "unreadable", safe_text(run.problem, 1000)]
        lines += [f"  {trait.label} {trait.value(run.config)}" for trait in differ]
        status = [str(run.status), f"{run.iterations_done}/{run.config.iterations}"]
        if run.diverged:
            status.append(f"{len(run.diverged)} diverged")
        best = [f"{s.setup} {format_percent(s.best_test_accuracy)}" for s in run.summaries]
        return ["\n".join(lines), "\n".join(status), "\n".join(best)]

    def highlighted(self) -> Path | None:
        if not self.paths or self.table.cursor_row is None:
            return None
        return self.paths[min(self.table.cursor_row, len(self.paths) - 1)]

    def action_mark(self) -> None:
        path = self.highlighted()
        if path is None:
            return
        self.marked ^= {path}
        self.table.update_cell(str(path), next(iter(self.table.columns)), self.mark_of(path))

    def mark_of(self, path: Path) -> str:
        return MARK if path in self.marked else " "

    def action_open(self) -> None:
        chosen = [p for p in self.paths if p in self.marked] or [self.highlighted()]
        paths = [p for p in chosen if p is not None]
        if paths:
            self.app.push_screen(SavedRunsScreen(read_all(paths)))

    def action_close(self) -> None:
        self.dismiss()
