"""Saved runs in the app, read-only: ``vgtui show RUN [RUN...]`` and the Runs screen's picks.

Every tab shows the saved records with the cursor, smoothing and zoom of the monitor. Several
runs are compared: their setups are named ``run/setup`` (e.g. ``seed0/relu-he``) in every
legend and row. A run still being written is followed: a thread worker reads what was appended
to it every :data:`~vgtui.core.store.follow.FOLLOW_SECONDS` and only posts messages; the header
says when its writer finished or died. A run that cannot be read is named with the reason, and
the others still open. Nothing here writes to a run folder.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from pathlib import Path

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import get_current_worker

from vgtui.core.records import MetricRecord
from vgtui.core.safe_text import fitted_name, safe_text
from vgtui.core.store.follow import polls
from vgtui.core.store.run_folder import FolderName
from vgtui.core.store.saved_runs import RunFolderError, RunFollower, SavedRun
from vgtui.core.traits import labels as config_labels
from vgtui.core.vocabulary import RunPhase, RunStatus
from vgtui.ui.base import ChartsApp, ChartsScreen
from vgtui.ui.charts.tabs import ChartTabs
from vgtui.ui.header import RunHeader, format_elapsed
from vgtui.ui.help import HelpScreen
from vgtui.ui.history import RunHistory

READ_ONLY = "saved runs are read-only: esc goes back, q quits"

SAVED_HELP = """\
[b]Saved runs[/b] (vgtui show, or o in the monitor), read-only. Several
runs are compared: every setup is named run/setup in the legends, the
strip and the summary. A run still being written updates live, and the
header says when its writer finished or died. esc closes this help.

[b]Keys[/b]
  1 to 7   tabs: accuracy, overlay, gradients, summary, loss,
           activations, sweep (the newest sweep next to the run, read
           only: the arrow keys move its cursor)
  t        overlay: show train curves too
  e        smoothing of the noisy series: off, 0.6, 0.9, 0.97
  l        gradients and loss: log or linear scale
  z        x range: all iterations, the last 25%, the last 5%
  [ ]      cursor: previous / next evaluation point (replay: scrub)
  c        cursor off
  h        overlay and loss: one setup alone, each in turn, then all
  H        overlay and loss: choose the setups shown (digits, space, a:
           all, esc closes); the strip marks the hidden ones with -
  p        replay: pause / resume
  < >      replay: scrub one evaluation point back / forward (also the
           left and right arrow keys)
  - +      replay: slower / faster
  esc      back to the monitor (in vgtui show: quit)
  q        quit
"""


@dataclasses.dataclass
class Shown:
    """One saved run as shown: the last read of it (or why it cannot be read), its label, how
    many of its records are on screen, and what its writer did while we followed it."""

    path: Path
    run: SavedRun | None
    error: RunFolderError | None = None
    label: str = ""
    shown: int = 0
    followed: bool = False
    """It was still being written when opened (or is now)."""
    follower: RunFollower | None = None
    """What read it: following goes on from that read."""

    @property
    def name(self) -> str:
        """The folder's name, safe to show."""
        return fitted_name(self.path.name)


@dataclasses.dataclass
class SavedRunRead(Message):
    """The follower read run ``index`` again (it changed), or it became unreadable."""

    index: int
    run: SavedRun | None
    error: RunFolderError | None = None


def run_labels(runs: Sequence[SavedRun]) -> list[str]:
    """Short names that tell ``runs`` apart: what differs in their configurations (``seed0``,
    ``notebook-grad``, ``lr0.5``: vgtui.core.traits), else when they started (``151215``),
    never a preset's name; empty for a single run."""
    if len(runs) < 2:
        return [""] * len(runs)

    def started(run: SavedRun) -> str:
        parsed = FolderName.parse(run.name)
        if parsed is None:
            return run.name
        return parsed.stamp[-6:] + (f"-{parsed.number}" if parsed.number > 1 else "")

    candidates = [
        config_labels([run.config for run in runs]),
        [label_text(started(run)) for run in runs],
        [label_text(run.name) for run in runs],
    ]
    for labels in candidates:
        if all(labels) and len(set(labels)) == len(labels):
            return labels
    return [f"{label_text(run.name)}#{number}" for number, run in enumerate(runs, start=1)]


def label_text(name: str) -> str:
    """A folder's name as a label: safe to show and free of brackets, so that no widget can
    take it for markup."""
    return safe_text(name, 40).replace("[", "(").replace("]", ")")


def labelled(records: Sequence[MetricRecord], label: str) -> list[MetricRecord]:
    """``records`` with their setups named ``label/setup`` (unchanged without a label)."""
    if not label:
        return list(records)
    return [dataclasses.replace(r, setup=f"{label}/{r.setup}") for r in records]


def read_all(paths: Sequence[Path]) -> list[Shown]:
    """Each run folder read (its error kept when it cannot be), labelled for comparison."""
    shown = []
    for path in paths:
        follower = RunFollower(path)
        try:
            shown.append(Shown(Path(path), follower.read(), follower=follower))
        except RunFolderError as error:
            shown.append(Shown(Path(path), None, error))
    readable = [s for s in shown if s.run is not None]
    for entry, label in zip(readable, run_labels([s.run for s in readable]), strict=True):  # type: ignore[misc]
        entry.label = label
        entry.followed = not entry.run.finished  # type: ignore[union-attr]
    return shown


class SavedRunsScreen(ChartsScreen):
    """The tabs of the monitor on saved runs (the chart keys of the charts screen): read-only,
    notes under the header instead of a sidebar."""

    BINDINGS = [
        Binding("escape", "close", "Back"),
        Binding("q", "quit_app", "Quit"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("r,n,x,s,b,p,o,minus,plus,equals_sign", "read_only", show=False),
    ]

    def __init__(self, entries: Sequence[Shown], *, follow: bool = True) -> None:
        readable = [e.run for e in entries if e.run is not None]
        total = max((run.config.iterations for run in readable), default=0)
        folder = entries[0].path.parent if entries else None
        # The Sweep tab shows the newest sweep next to the (first) run, read-only.
        tabs = ChartTabs(RunHistory(()), total, sweep_root=folder, sweep_read_only=True, id="tabs")
        super().__init__(RunHeader(id="header"), tabs)
        self.entries = list(entries)
        self.follow = follow
        self.total_iterations = total
        self.notes = Static(id="saved-notes")
        self.notes_text = ""

    @property
    def readable(self) -> list[Shown]:
        return [e for e in self.entries if e.run is not None]

    @property
    def history(self) -> RunHistory:
        return self.tabs.history

    def compose_body(self) -> Iterator[Widget]:
        yield self.notes
        yield from self.compose_charts()

    def setup_names(self) -> list[str]:
        """Every run's setups, the same setup's runs next to each other (their panels side by
        side): ``seed0/relu-he, seed1/relu-he, seed0/sigmoid-gauss, ...``."""
        setups = dict.fromkeys(
            name
            for e in self.readable
            for name in e.run.config.setup_names  # type: ignore[union-attr]
        )
        return [
            f"{e.label}/{name}" if e.label else name
            for name in setups
            for e in self.readable
            if name in e.run.config.setup_names  # type: ignore[union-attr]
        ]

    def initial_records(self, entry: Shown) -> list[MetricRecord]:
        """The records shown when the screen opens (all of them; a replay starts empty)."""
        assert entry.run is not None
        return list(entry.run.records)

    async def on_mount(self) -> None:
        history = RunHistory(self.setup_names())
        for entry in self.readable:
            records = self.initial_records(entry)
            history.add(labelled(records, entry.label))
            entry.shown = len(records)
        await self.tabs.show_run(history, self.total_iterations)
        self.show_notes()
        self.update_header()
        following = [
            (i, e.follower) for i, e in enumerate(self.entries) if e.followed and e.follower
        ]
        if self.follow and following:
            self.follow_runs(following)

    # -- the header and the notes -----------------------------------------------------------------
    def state(self) -> RunStatus | RunPhase | str:
        statuses = list(dict.fromkeys(e.run.status for e in self.readable if e.run))
        if not statuses:
            return "unreadable"
        if RunPhase.RUNNING in statuses:
            return RunPhase.RUNNING
        return statuses[0] if len(statuses) == 1 else "mixed"

    def writer_note(self) -> str:
        followed = [e for e in self.readable if e.followed and e.run]
        if not followed:
            return "saved"
        if any(not e.run.finished for e in followed):  # type: ignore[union-attr]
            return "following"
        died = [e for e in followed if e.run.status == RunStatus.DIED]  # type: ignore[union-attr]
        return "writer died" if died else "writer finished"

    def header_parts(self) -> list[tuple[str, int]]:
        runs = [e.run for e in self.readable if e.run is not None]
        done = max((r.iterations_done for r in runs), default=0)
        datasets = ",".join(dict.fromkeys(r.dataset for r in runs)) or "-"
        names = [e.name for e in self.entries]
        where = names[0] if len(names) == 1 else f"{len(names)} runs"
        return [
            ("vgtui", 4),
            (str(self.state()).upper(), 0),
            (self.writer_note(), 0),
            (datasets, 3),
            (f"iter {done}/{self.total_iterations}", 0),
            (format_elapsed(max((r.wall_seconds for r in runs), default=0.0)), 2),
            (where, 1),
        ]

    def update_header(self) -> None:
        state = str(self.state()).replace(" ", "-")
        self.header.show(self.header_parts(), state)

    def show_notes(self) -> None:
        """Under the header: the runs that cannot be read (and why), and which run each
        label names when several are compared."""
        lines = [f"unreadable: {safe_text(e.error, 1000)}" for e in self.entries if e.error]
        compared = [f"{e.label} = {e.name}" for e in self.readable if e.label not in ("", e.name)]
        if compared:
            lines.append("compared: " + "  ".join(compared))
        self.notes_text = "\n".join(lines)
        self.notes.update(Text(self.notes_text))
        self.notes.display = bool(lines)

    # -- following runs still being written -------------------------------------------------------
    @work(thread=True, exclusive=True, group="follow", exit_on_error=False)
    def follow_runs(self, following: list[tuple[int, RunFollower]]) -> None:
        """Thread worker: read what was appended to each run still being written every
        :data:`~vgtui.core.store.follow.FOLLOW_SECONDS`; post what changed. It never touches
        widgets."""
        worker = get_current_worker()
        seen = {index: (-1, None) for index, _ in following}
        pending = dict(following)
        for _ in polls(lambda: worker.is_cancelled):
            for index, follower in list(pending.items()):
                try:
                    run = follower.read()
                except RunFolderError as error:
                    self.post_message(SavedRunRead(index, None, error))
                    del pending[index]
                    continue
                if (len(run.records), run.status) != seen[index]:
                    seen[index] = (len(run.records), run.status)
                    self.post_message(SavedRunRead(index, run))
                if run.finished:
                    del pending[index]
            if not pending:
                break

    @on(SavedRunRead)
    def run_read(self, message: SavedRunRead) -> None:
        entry = self.entries[message.index]
        if message.run is None:
            entry.error = message.error
            self.notify(
                escape(safe_text(message.error, 1000)),
                title="unreadable",
                severity="error",
                timeout=10,
            )
            self.show_notes()
            self.update_header()
            return
        run = message.run
        new = run.records[entry.shown :]
        entry.run, entry.shown = run, len(run.records)
        if new:
            self.tabs.add(labelled(new, entry.label))
            self.tabs.strip.dirty = True
            self.redraw()
        if run.finished:
            if run.status == RunStatus.DIED:
                self.notify(
                    escape(f"{entry.name}: its writer stopped without finishing the run"),
                    title="writer died",
                    severity="error",
                    timeout=10,
                )
            else:
                self.notify(escape(f"{entry.name}: run {run.status}"), title="writer finished")
        self.update_header()

    # -- actions ----------------------------------------------------------------------------------
    def action_read_only(self) -> None:
        self.notify(READ_ONLY, timeout=3)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(SAVED_HELP))

    def action_close(self) -> None:
        if len(self.app.screen_stack) > 1 and self.app.screen_stack[0] is not self:
            self.dismiss()
        else:
            self.app.exit()

    def action_quit_app(self) -> None:
        self.app.exit()


class SavedRunsApp(ChartsApp):
    """``vgtui show RUN...``: the saved-runs screen on its own (no dataset, no training)."""

    def __init__(self, screen: SavedRunsScreen) -> None:
        super().__init__()
        self.saved = screen

    def get_default_screen(self) -> Screen:
        return self.saved
