"""The Sweep tab: a sweep's test accuracy over (sigma_w^2, depth) as a heatmap that fills in
live, with mean-field theory on top, a cursor that reads a cell and opens it as a run, and keys
that start a sweep.

Why it is built this way:

- Dask stays out of the app. A sweep runs as its own process (``python -m vgtui sweep``, the
  command line's entry, started by :mod:`vgtui.ui.sweep.process`) writing to the app's output
  folder; the tab follows the newest sweep folder there with
  :class:`~vgtui.core.sweep.folder.SweepReader`, read by a thread worker every
  :data:`~vgtui.core.store.follow.FOLLOW_SECONDS` that only posts messages. A sweep started
  elsewhere (another terminal, ``nohup``) shows up the same way.
- The grid is the core's model (:class:`~vgtui.core.sweep.grid.Grid`), drawn by
  :mod:`vgtui.ui.sweep.drawing` in the notation ``vgtui sweep`` prints.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import RenderResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.widget import Widget
from textual.worker import get_current_worker

from vgtui.core.config import ConfigError
from vgtui.core.store.follow import polls
from vgtui.core.sweep.folder import SweepReader, newest_sweep
from vgtui.core.sweep.scores import scores, share
from vgtui.core.sweep.spec import Task, split_lane
from vgtui.ui.sweep.drawing import SweepDrawing, wrap
from vgtui.ui.sweep.messages import OpenSweepCell, SweepEnded, SweepProgress, SweepRead
from vgtui.ui.sweep.process import SweepProcess
from vgtui.ui.sweep.state import Cursor, SweepState

START_KEYS = {"w": "quick", "W": "schoenholz"}
"""The key that starts ``vgtui sweep --preset NAME`` from the tab."""
PRESET_TIMES = {"quick": "10 s", "schoenholz": "5-25 min"}
"""About what a preset takes on a 2-core machine (README, Sweeps), for the tab's hint."""


class SweepMap(Widget, can_focus=True):
    """The heatmap with its legend, the cursor's readout and the keys; it draws what its
    :class:`SweepTab` read."""

    DEFAULT_CSS = """
    SweepMap { height: auto; padding: 0 1; }
    """

    BINDINGS = [
        Binding("left,left_square_bracket", "move(0, -1)", "sigma_w^2 -", show=False),
        Binding("right,right_square_bracket", "move(0, 1)", "sigma_w^2 +", show=False),
        Binding("up,right_curly_bracket", "move(1, 0)", "Deeper", show=False),
        Binding("down,left_curly_bracket", "move(-1, 0)", "Shallower", show=False),
        Binding("a", "next_activation", "Activation", show=False),
        Binding("enter", "open_cell", "Open cell"),
        *(
            Binding(key, f"start('{preset}')", f"Sweep {preset}", show=False)
            for key, preset in START_KEYS.items()
        ),
        Binding("k", "stop_sweep", "Stop sweep", show=False),
    ]

    def __init__(self, tab: SweepTab, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.tab = tab
        self.cursor = Cursor()

    # -- what is drawn ----------------------------------------------------------------------------
    def available_height(self) -> int:
        parent = self.parent
        return parent.size.height if isinstance(parent, Widget) and parent.size.height else 24

    def drawing(self, width: int) -> SweepDrawing | None:
        state = self.tab.state
        if state is None:
            return None
        return SweepDrawing(
            state,
            self.cursor,
            width - 2,  # padding
            self.available_height(),
            self.tab.status_text(),
            self.tab.hints(),
        )

    def empty_lines(self, width: int) -> list[str]:
        return wrap(self.tab.empty_text(), width - 2)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        drawing = self.drawing(width + 2)
        return len(drawing.lines) if drawing is not None else len(self.empty_lines(width + 2))

    def render(self) -> RenderResult:
        drawing = self.drawing(self.size.width + 2)
        if drawing is None:
            return Text("\n".join(self.empty_lines(self.size.width + 2)))
        return Text("\n").join(drawing.lines)

    @property
    def plain(self) -> str:
        """The text shown (for tests, and what a terminal without colour shows)."""
        width = (self.size.width or 78) + 2
        drawing = self.drawing(width)
        return "\n".join(self.empty_lines(width)) if drawing is None else drawing.plain

    def redraw(self) -> None:
        self.refresh(layout=True)

    # -- keys -------------------------------------------------------------------------------------
    def action_move(self, depth: int, column: int) -> None:
        state = self.tab.state
        if state is None:
            return
        spec = state.spec
        self.cursor.depth = max(0, min(len(spec.depths) - 1, self.cursor.depth + depth))
        self.cursor.column = max(
            0, min(len(spec.weight_variances) - 1, self.cursor.column + column)
        )
        self.redraw()  # the readout may take another number of lines

    def action_next_activation(self) -> None:
        state = self.tab.state
        if state is not None:
            self.cursor.activation = (self.cursor.activation + 1) % len(state.spec.lanes)
            self.redraw()

    def action_open_cell(self) -> None:
        self.tab.open_cell(self.cursor)

    def action_start(self, preset: str) -> None:
        self.tab.start_sweep(preset)

    def action_stop_sweep(self) -> None:
        self.tab.stop_sweep()


class SweepTab(VerticalScroll):
    """The Sweep tab's pane: follows the newest sweep folder under ``root`` and, unless
    ``read_only``, starts and stops sweeps there and opens cells as runs."""

    def __init__(self, root: Path | None, *, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.read_only = read_only
        self.state: SweepState | None = None
        self.problem: str | None = None
        """Why the newest sweep folder cannot be read, if it cannot."""
        self.process: SweepProcess | None = None
        self.process_note = ""
        self.last_line = ""
        """The started sweep's last line on stderr: what it said before it ended."""
        self.map = SweepMap(self, id="sweep-map")

    def compose(self) -> Any:
        yield self.map

    def on_mount(self) -> None:
        if self.root is not None:
            self.follow(self.root)

    def on_unmount(self) -> None:
        self.stop_process()

    # -- the texts around the grid ----------------------------------------------------------------
    def folder_name(self, path: Path) -> str:
        return path.name if self.root is None else str(Path(self.root.name) / path.name)

    def empty_text(self) -> str:
        if self.root is None:
            return "No output folder to follow sweeps in."
        if self.problem is not None:
            return self.problem
        where = f"No sweep in {self.root.name or self.root}/: "
        if self.process is not None and self.process.running():
            return where + f"starting vgtui sweep --preset {self.process.preset}..."
        if self.read_only:
            return where + "vgtui sweep --preset quick starts one."
        (quick_key, quick), (full_key, full) = START_KEYS.items()
        return (
            where + f"{quick_key} starts a {quick} one ({PRESET_TIMES[quick]}), "
            f"{full_key} the {full} preset ({PRESET_TIMES[full]})."
        )

    def status_text(self) -> str:
        state = self.state
        assert state is not None
        spec = state.spec
        parts = [f"{self.folder_name(state.path)}: {state.done}/{spec.cell_count} cells"]
        own = scores(state.cells, spec.threshold)
        if own.judged:
            parts[0] += (
                f", {share(own.theory, own.judged)} agree with theory (always trains: "
                f"{own.always}, best depth-only rule: {own.depth_rule})"
            )
        if self.process_note:
            parts.append(self.process_note)
        if self.problem:
            parts.append(self.problem)
        return "; ".join(parts)

    def hints(self) -> list[str]:
        """The keys the map names under the grid, most needed first."""
        if self.read_only:
            return ["arrows or [ ] { }: move the cursor"]
        several = self.state is not None and len(self.state.spec.lanes) > 1
        keys = ["arrows or [ ] { }: move", "enter: open as a run (r runs it)"]
        keys += ["a: next grid"] * several
        running = self.process is not None and self.process.running()
        keys.append("k: stop the sweep" if running else "w W: start a sweep")
        return keys

    # -- following the newest sweep ---------------------------------------------------------------
    @work(thread=True, exclusive=True, group="sweep-follow", exit_on_error=False)
    def follow(self, root: Path) -> None:
        """Thread worker: every FOLLOW_SECONDS (core/store/follow), the newest sweep folder
        under ``root`` and what was appended to its cells.jsonl; it posts what it read and never
        touches widgets."""
        worker = get_current_worker()
        reader: SweepReader | None = None
        unreadable: set[Path] = set()
        for _ in polls(lambda: worker.is_cancelled):
            newest = newest_sweep(root)
            fresh = False
            if (
                newest is not None
                and newest not in unreadable
                and (reader is None or newest != reader.path)
            ):
                candidate = SweepReader(newest)
                try:
                    candidate.read_spec()  # whole: sweep.json is written atomically
                except ConfigError as error:
                    unreadable.add(newest)
                    self.post_message(SweepRead(newest, None, [], False, str(error)))
                else:
                    reader, fresh = candidate, True
            if reader is not None:
                try:
                    lines, reset = reader.read()
                except ConfigError as error:
                    self.post_message(SweepRead(reader.path, None, [], False, str(error)))
                    lines, reset = [], False
                if lines or reset or fresh:
                    self.post_message(SweepRead(reader.path, reader.spec, lines, reset or fresh))

    @on(SweepRead)
    def sweep_read(self, message: SweepRead) -> None:
        if message.spec is None:
            self.problem = f"{self.folder_name(message.path)}: {message.error}"
        else:
            state = self.state
            if message.reset or state is None or state.path != message.path:
                if state is None or state.spec != message.spec:
                    self.map.cursor = Cursor.start(message.spec)
                state = self.state = SweepState(message.path, message.spec)
                self.problem = None
            state.add(message.lines)
        self.map.redraw()

    # -- the sweep process ------------------------------------------------------------------------
    def start_sweep(self, preset: str) -> None:
        """Start ``vgtui sweep --preset PRESET`` writing to the output folder; the tab follows
        the folder it creates (the newest)."""
        if self.read_only or self.root is None:
            self.notify("saved runs are read-only: start sweeps from the monitor (vgtui)")
            return
        if self.process is not None and self.process.running():
            self.notify("a sweep is already running: k stops it", severity="warning")
            return
        try:
            self.process = SweepProcess(preset, self.root)
        except OSError as error:
            self.notify(str(error), title="cannot start a sweep", severity="error")
            return
        self.process_note = f"vgtui sweep --preset {preset} running (pid {self.process.pid})"
        self.notify(f"vgtui sweep --preset {preset} started (about {PRESET_TIMES[preset]})")
        self.watch_process(self.process)
        self.map.redraw()

    @work(thread=True, group="sweep-process", exit_on_error=False)
    def watch_process(self, process: SweepProcess) -> None:
        """Thread worker: read the sweep's stderr (so it never blocks on a full pipe) and post
        its lines, then its exit status."""
        stream = process.popen.stderr
        assert stream is not None
        for line in stream:
            self.post_message(SweepProgress(process, line.rstrip()))
        self.post_message(SweepEnded(process, process.popen.wait()))

    @on(SweepProgress)
    def sweep_progress(self, message: SweepProgress) -> None:
        if message.process is self.process:
            self.last_line = message.line

    @on(SweepEnded)
    def sweep_ended(self, message: SweepEnded) -> None:
        if message.process is not self.process or self.process is None:
            return  # stopped (k), or an earlier one
        preset = self.process.preset
        self.process.forget()
        if message.code == 0:
            self.process_note = f"the {preset} sweep finished"
            self.notify(self.process_note, title="sweep done")
        else:
            last = self.last_line.removeprefix("vgtui: ")
            self.process_note = f"the {preset} sweep ended (exit {message.code})"
            self.notify(last or self.process_note, title="sweep ended", severity="warning")
        self.process = None
        self.map.redraw()

    def stop_sweep(self) -> None:
        """k: stop the sweep started here, off the UI thread (it takes up to STOP_SECONDS)."""
        process, self.process = self.process, None
        if process is None or not process.running():
            self.notify("no sweep started here is running")
            return
        self.run_worker(process.stop, thread=True, group="sweep-stop", exit_on_error=False)
        self.process_note = f"the {process.preset} sweep stopped (k); its finished cells are kept"
        self.map.redraw()

    def stop_process(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.stop()

    # -- opening a cell ---------------------------------------------------------------------------
    def open_cell(self, cursor: Cursor) -> None:
        """Post the cell's run (the sweep's own task for seed 0) for the monitor to load."""
        state = self.state
        if state is None:
            return
        if self.read_only:
            self.notify("saved runs are read-only: open cells from the monitor (vgtui)")
            return
        lane, depth, weight_variance = cursor.key(state.spec)
        activation, variant = split_lane(lane)
        config = state.spec.config(Task(activation, depth, 0, variant))
        name = config.setups[state.spec.weight_variances.index(weight_variance)].name
        description = (
            f"{lane}, {depth} layers of {state.spec.width}: every sigma_w^2 of the "
            f"sweep as a setup (the cell's is {name}), seed 0"
        )
        self.post_message(OpenSweepCell(config, description))


__all__ = ["START_KEYS", "SweepMap", "SweepTab"]
