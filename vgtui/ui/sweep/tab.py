"""The Sweep tab: a sweep's test accuracy over (sigma_w^2, depth) as a heatmap that fills in
live, with mean-field theory on top, a cursor that reads a cell and opens it as a run, and keys
that start a sweep.

Why it is built this way:

- Dask stays out of the app. A sweep runs as its own process (``python -m vgtui sweep``, the
  command line's entry) writing to the app's output folder; the tab follows the newest sweep
  folder there with :class:`~vgtui.core.sweep.folder.SweepReader`, read by a thread worker every
  :data:`~vgtui.core.store.follow.FOLLOW_SECONDS` that only posts messages. A sweep started
  elsewhere (another terminal, ``nohup``) shows up the same way.
- The process belongs to the app: it runs in its own session (a Ctrl-C or hang-up of the
  terminal reaches the app only) and is stopped when the app goes, when k is pressed, or when
  Python exits: SIGTERM, then SIGKILL to its whole process group (its cluster's workers)
  after :data:`STOP_SECONDS`. Its finished cells are on disk: ``vgtui sweep --resume`` ends it.
- Readable without colour (NO_COLOR): every cell carries its accuracy band as a digit, the
  cursor as brackets, the theory curve as stars; colour only adds the blocks.
"""

from __future__ import annotations

import atexit
import contextlib
import math
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from textual import on, work
from textual.app import RenderResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.widget import Widget
from textual.worker import get_current_worker

from vgtui.core.config import ConfigError, RunConfig
from vgtui.core.store.follow import polls
from vgtui.core.summary import format_percent
from vgtui.core.sweep.folder import CELL_LINE, SEED_LINE, SweepReader, newest_sweep
from vgtui.core.sweep.grid import BAND_DIGITS, agreement, axis_label, band, critical, theory
from vgtui.core.sweep.spec import SweepSpec, Task
from vgtui.core.vocabulary import RunStatus

STOP_SECONDS = 1.0
"""How long a sweep told to stop (SIGTERM) gets before its process group is killed. Its
finished cells are on disk already; a graceful end (cancelling, closing its cluster while the
workers compute) takes about 5 s, too long for quitting the app."""
START_KEYS = {"w": "quick", "W": "schoenholz"}
"""The key that starts ``vgtui sweep --preset NAME`` from the tab."""
PRESET_TIMES = {"quick": "10 s", "schoenholz": "3 min"}
"""About what a preset takes on a 2-core machine (README, Sweeps), for the tab's hint."""

VIRIDIS: tuple[tuple[int, int, int], ...] = (
    (68, 1, 84),
    (72, 40, 120),
    (62, 73, 137),
    (49, 104, 142),
    (38, 130, 142),
    (31, 158, 137),
    (53, 183, 121),
    (110, 206, 88),
    (181, 222, 43),
    (253, 231, 37),
)
"""One colour per accuracy band (tens of %), dark (chance) to bright: a perceptually even
scale that also reads in grey and for colour-blind eyes."""
NO_RESULT_STYLE = "on rgb(60,60,60)"
CELL_WIDTHS = (7, 6, 5, 4, 3)
"""Cell widths tried, widest first (4 fits a label like 2.25); else 1, without gaps."""
MAX_ROW_HEIGHT = 3
LEGEND = (
    "digit: test accuracy in tens of % (9: 90% and up)  *d*: depth nearest 6 xi_c (theory: "
    "trains if shallower)  v: critical sigma_w^2"
)
MARKS = {"x": "x diverged", "?": "? failed", ".": ". not yet"}
"""Legend entries shown only when such a cell is on the map."""

CellKey = tuple[str, int, float]


# -- the sweep as read so far ----------------------------------------------------------------


@dataclass
class SweepState:
    """A followed sweep: its settings, the last cell line of each cell and the seeds in so far
    of each cell (a cell line comes once all seeds of its depth are in)."""

    path: Path
    spec: SweepSpec
    cells: dict[CellKey, dict] = field(default_factory=dict)
    seeds_in: dict[CellKey, set[int]] = field(default_factory=dict)

    def add(self, lines: Iterable[dict]) -> None:
        for line in lines:
            try:
                key = (str(line["activation"]), int(line["depth"]), float(line["weight_variance"]))
            except (KeyError, TypeError, ValueError):
                continue
            if line.get("kind") == CELL_LINE:
                self.cells[key] = line
            elif line.get("kind") == SEED_LINE:
                self.seeds_in.setdefault(key, set()).add(line.get("seed", -1))

    @property
    def done(self) -> int:
        """Cells of the grid with a result."""
        grid = set(self.grid())
        return sum(1 for key in self.cells if key in grid)

    def grid(self) -> list[CellKey]:
        spec = self.spec
        return [
            (a, d, w) for a in spec.activations for d in spec.depths for w in spec.weight_variances
        ]


@dataclass
class Cursor:
    """The cell read: indices into the spec's activations, depths (ascending) and sigma_w^2."""

    activation: int = 0
    depth: int = 0
    column: int = 0

    @classmethod
    def start(cls, spec: SweepSpec) -> Cursor:
        """The deepest row at the column nearest the critical sigma_w^2: the wedge's tip."""
        columns = spec.weight_variances
        crit = critical(spec.activations[0], spec.bias_variance)
        column = len(columns) // 2
        if crit is not None:
            column = min(range(len(columns)), key=lambda k: abs(columns[k] - crit))
        return cls(0, len(spec.depths) - 1, column)

    def key(self, spec: SweepSpec) -> CellKey:
        depths = sorted(spec.depths)
        return (
            spec.activations[self.activation],
            depths[self.depth],
            spec.weight_variances[self.column],
        )


# -- drawing ---------------------------------------------------------------------------------


def band_style(cell: dict | None) -> str:
    """The block's colour: the accuracy band's, grey without a number."""
    char = band(cell)
    if char not in BAND_DIGITS:
        return NO_RESULT_STYLE if cell is not None else ""
    index = BAND_DIGITS.index(char)
    text = "rgb(0,0,0)" if index >= 5 else "rgb(255,255,255)"
    return f"{text} on rgb({','.join(map(str, VIRIDIS[index]))})"


def theory_rows(spec: SweepSpec, activation: str) -> list[int | None]:
    """Per column, the index (ascending depths) of the row nearest 6 xi_c, or None when 6 xi_c
    lies beyond the grid by more than half a row: each row owns the depths from halfway to
    the row below to halfway to the row above."""
    depths = sorted(spec.depths)
    if len(depths) == 1:
        edges = [depths[0] / 2, depths[0] * 1.5]
    else:
        middles = [(a + b) / 2 for a, b in zip(depths, depths[1:], strict=False)]
        edges = [
            depths[0] - (depths[1] - depths[0]) / 2,
            *middles,
            depths[-1] + (depths[-1] - depths[-2]) / 2,
        ]
    found: list[int | None] = []
    for weight_variance in spec.weight_variances:
        limit = theory(activation, weight_variance, spec.bias_variance).trainable_depth
        row = None
        if math.isfinite(limit):
            row = next((i for i in range(len(depths)) if edges[i] <= limit < edges[i + 1]), None)
        found.append(row)
    return found


def limit_label(value: float, width: int) -> str:
    """6 xi_c in ``width`` characters: ``22``, ``2557``, ``3k``, ``inf``."""
    if math.isinf(value):
        return "inf"
    for text in (f"{value:.0f}", f"{value / 1000:.0f}k", "big"):
        if len(text) <= width:
            return text
    return ""


@dataclass(frozen=True)
class Geometry:
    """How the grid fits: the depth label's width, each cell's width, the gap between cells and
    the lines per row."""

    label: int
    cell: int
    gap: int
    row_height: int

    def center(self, column: int) -> int:
        return self.label + column * (self.cell + self.gap) + (self.cell - 1) // 2

    @classmethod
    def fit(cls, spec: SweepSpec, width: int, height: int, other_lines: int) -> Geometry:
        number = max(5, len(str(max(spec.depths))))
        label = number + 3  # "  100 > ": the cursor's row is marked
        columns = len(spec.weight_variances)
        cell, gap = 1, 0
        for candidate in CELL_WIDTHS:
            if label + columns * (candidate + 1) - 1 <= width:
                cell, gap = candidate, 1
                break
        spare = max(0, height - other_lines)
        row_height = max(1, min(MAX_ROW_HEIGHT, spare // len(spec.depths)))
        return cls(label, cell, gap, row_height)


def cell_text(char: str, width: int, cursor: bool, curve: bool) -> str:
    """A cell's middle line: its band digit, ``*`` either side on the theory curve, ``[ ]``
    at its edges under the cursor (the cursor wins where a cell is too narrow for both)."""
    if width == 1:
        return char
    chars = [" "] * width
    middle = (width - 1) // 2
    chars[middle] = char
    if curve:
        for at in (middle - 1, middle + 1):
            if 0 <= at < width and (not cursor or 0 < at < width - 1):
                chars[at] = "*"
    if cursor:
        chars[0], chars[-1] = "[", "]"
    return "".join(chars)


def fit_line(parts: Sequence[str], width: int, separator: str = ", ") -> str:
    """As many of ``parts`` as fit in ``width``, the first always."""
    text = parts[0]
    for part in parts[1:]:
        if len(text) + len(separator) + len(part) > width:
            break
        text += separator + part
    return text


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, max(20, width), break_on_hyphens=False) or [""]


class SweepDrawing:
    """The tab's lines for one state, cursor and size; ``lines`` holds them as Content and
    ``plain`` as text (what NO_COLOR shows, and what the tests read)."""

    def __init__(
        self,
        state: SweepState,
        cursor: Cursor,
        width: int,
        height: int,
        status: str,
        hints: str,
    ) -> None:
        self.state, self.cursor, self.width = state, cursor, max(20, width)
        spec = state.spec
        activation = spec.activations[cursor.activation]
        footer = [*wrap(self.legend(), self.width), *self.readout(), *wrap(status, self.width)]
        footer += wrap(hints, self.width) if hints else []
        self.geometry = Geometry.fit(spec, self.width, height, len(footer) + 4)
        self.lines = self.block(activation) + [Content(line) for line in footer]

    @property
    def plain(self) -> str:
        return "\n".join(line.plain.rstrip() for line in self.lines)

    def block(self, activation: str) -> list[Content]:
        """The cursor's activation's grid (a sweep of several shows one at a time): title,
        critical marker, sigma_w^2 labels, the rows (deepest on top), 6 xi_c per column."""
        spec, geometry, cursor = self.state.spec, self.geometry, self.cursor
        columns = spec.weight_variances
        seeds = f"{spec.seeds} seeds, mean" if spec.seeds > 1 else "1 seed"
        count = len(spec.activations)
        which = f" ({cursor.activation + 1} of {count}, a: next)" if count > 1 else ""
        title = fit_line(
            [
                f"{activation}{which}: test accuracy after {spec.iterations} iterations",
                f"width {spec.width}",
                f"sigma_b^2 {spec.bias_variance:g}",
                f"lr {spec.learning_rate:g}",
                seeds,
            ],
            self.width,
        )
        lines = [Content.styled(title, "bold")]
        lines.append(Content(self.critical_marker(activation)))
        header: list[Content | str] = [f"{'depth':<{geometry.label}}"]
        for k, w in enumerate(columns):
            label = axis_label(w, geometry.cell) if geometry.cell > 1 else ""
            text = f"{label:^{geometry.cell}}"
            chosen = k == cursor.column
            header += [Content.styled(text, "reverse bold") if chosen else text, " " * geometry.gap]
        lines.append(Content.assemble(*header))
        curve = theory_rows(spec, activation)
        depths = sorted(spec.depths)
        for row in reversed(range(len(depths))):
            depth = depths[row]
            for part in range(geometry.row_height):
                middle = part == geometry.row_height // 2
                here = row == cursor.depth
                mark = " > " if here and middle else "   "
                label = f"{depth:>{geometry.label - 3}}" if middle else " " * (geometry.label - 3)
                pieces: list[Content | str] = [label + mark]
                for k, w in enumerate(columns):
                    cell = self.state.cells.get((activation, depth, w))
                    chosen = here and k == cursor.column
                    if middle:
                        text = cell_text(band(cell), geometry.cell, chosen, curve[k] == row)
                    else:
                        text = " " * geometry.cell
                    style = band_style(cell)
                    if chosen and middle:  # the block keeps its colour above and below
                        style = f"{style} reverse bold".strip()
                    pieces.append(Content.styled(text, style) if style else text)
                    pieces.append(" " * geometry.gap)
                lines.append(Content.assemble(*pieces))
        if geometry.cell > 1:
            limits = [theory(activation, w, spec.bias_variance).trainable_depth for w in columns]
            labels = "".join(
                f"{limit_label(limit, geometry.cell):^{geometry.cell}}" + " " * geometry.gap
                for limit in limits
            )
            lines.append(Content(f"{'6xi_c':<{geometry.label}}" + labels))
        else:
            lines.append(Content("6 xi_c per column: in the line under the cursor"))
        return lines

    def legend(self) -> str:
        """What the marks mean: the band digits, the theory curve, the critical line, and the
        other marks on the map."""
        activation = self.state.spec.activations[self.cursor.activation]
        shown = {
            band(self.state.cells.get(key)) for key in self.state.grid() if key[0] == activation
        }
        return "  ".join([LEGEND, *(text for mark, text in MARKS.items() if mark in shown)])

    def critical_marker(self, activation: str) -> str:
        """``v`` over the critical sigma_w^2 (between the columns it falls between), named."""
        spec, geometry = self.state.spec, self.geometry
        columns = spec.weight_variances
        crit = critical(activation, spec.bias_variance)
        if crit is None:
            return f"{'':>{geometry.label}}no critical sigma_w^2 for {activation}"
        name = f"critical sigma_w^2 {crit:.3f}"
        if not columns[0] <= crit <= columns[-1]:
            return f"{'':>{geometry.label}}{name} (outside the grid)"
        k = max(j for j in range(len(columns)) if columns[j] <= crit)
        x = float(geometry.center(k))
        if k + 1 < len(columns):
            fraction = (crit - columns[k]) / (columns[k + 1] - columns[k])
            x += fraction * (geometry.center(k + 1) - geometry.center(k))
        at = round(x)
        if at + 2 + len(name) <= self.width:
            return " " * at + "v " + name
        return " " * max(0, at - len(name) - 1) + name + " v"

    def readout(self) -> list[str]:
        """What the cursor's cell is: accuracy, diagnosis, seed spread and theory."""
        state, spec = self.state, self.state.spec
        key = self.cursor.key(spec)
        activation, depth, weight_variance = key
        cell = state.cells.get(key)
        where = f"{activation}, depth {depth}, sigma_w^2 {weight_variance:g}"
        limit = theory(activation, weight_variance, spec.bias_variance).trainable_depth
        predicted = depth < limit
        shown = "infinite" if math.isinf(limit) else f"{limit:.0f}"
        model = f"theory: 6 xi_c {shown}, {'trains' if predicted else 'does not train'}"
        if cell is None:
            seeds = len(state.seeds_in.get(key, ()))
            waiting = f"{seeds} of {spec.seeds} seeds in" if seeds else "not run yet"
            return wrap(f"{where}: {waiting}; {model}", self.width)
        first = f"{where}:"
        accuracy = cell.get("test_accuracy")
        if accuracy is None:
            errors = "; ".join(cell.get("errors", [])) or "no result"
            first += f" {RunStatus.FAILED}: {errors}"
        else:
            first += f" test {format_percent(accuracy)}"
            train = cell.get("train_accuracy")
            if train is not None:
                first += f" (train {format_percent(train)})"
            findings = ", ".join(cell.get("diagnosis") or [])
            if findings:
                first += f"; {findings}"
        tests = [a for a in cell.get("per_seed_test_accuracy", []) if a is not None]
        if len(tests) > 1:
            std = 100 * (cell.get("test_accuracy_std") or 0.0)
            spread = (
                f"{len(tests)} seeds: {format_percent(min(tests))} to "
                f"{format_percent(max(tests))}, std {std:.1f} points"
            )
        else:
            spread = f"{cell.get('seeds_done', 0)} seed"
        if cell.get("diverged_seeds"):
            spread += f", {cell['diverged_seeds']} diverged"
        if "agrees" in cell:
            model += "; agrees" if cell["agrees"] else "; disagrees"
        return wrap(first, self.width) + wrap(f"{spread}; {model}", self.width)


# -- messages from the worker threads --------------------------------------------------------


@dataclass
class SweepRead(Message):
    """The follower read a sweep folder: new lines (all of them when ``reset``), or why the
    newest folder cannot be read."""

    path: Path
    spec: SweepSpec | None
    lines: list[dict]
    reset: bool
    error: str | None = None


@dataclass
class SweepProgress(Message):
    """A line of a started sweep's stderr (its progress)."""

    process: SweepProcess
    line: str


@dataclass
class SweepEnded(Message):
    """A started sweep's process ended with ``code``."""

    process: SweepProcess
    code: int


@dataclass
class OpenSweepCell(Message):
    """Open a cell as a run: ``config`` is its task's run (every sigma_w^2 of its activation,
    depth and seed 0, as the sweep trained it). The monitor puts it in its sidebar."""

    config: RunConfig
    description: str


# -- the sweep process -----------------------------------------------------------------------


class SweepProcess:
    """``vgtui sweep --preset NAME --out ROOT`` in a process of its own session."""

    live: set[SweepProcess] = set()
    """Every process not yet stopped: stopped at Python's exit too (:func:`stop_all`)."""

    def __init__(self, preset: str, out_root: Path) -> None:
        self.preset = preset
        command = [sys.executable, "-m", "vgtui", "sweep", "--preset", preset]
        self.popen = subprocess.Popen(
            [*command, "--out", str(out_root)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # the final heatmap: the tab shows it
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        SweepProcess.live.add(self)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def running(self) -> bool:
        return self.popen.poll() is None

    def stop(self, grace: float = STOP_SECONDS) -> int | None:
        """SIGTERM, then SIGKILL to whatever is left of its process group; return its exit
        status."""
        SweepProcess.live.discard(self)
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.popen.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(grace)
        # Its own group (start_new_session): the cluster's workers, if any outlived it.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(grace)
        return self.popen.returncode


@atexit.register
def stop_all(grace: float = STOP_SECONDS) -> None:
    """No sweep started by the app outlives it, however the app ends (a hang-up, which leaves
    at once, calls this itself)."""
    for process in list(SweepProcess.live):
        process.stop(grace)


# -- the widgets -----------------------------------------------------------------------------


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
            return Content("\n".join(self.empty_lines(self.size.width + 2)))
        return Content("\n").join(drawing.lines)

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
            self.cursor.activation = (self.cursor.activation + 1) % len(state.spec.activations)
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
        matches, judged = agreement(state.cells)
        if judged:
            parts[0] += f", {matches}/{judged} agree with theory ({100 * matches / judged:.0f}%)"
        if self.process_note:
            parts.append(self.process_note)
        if self.problem:
            parts.append(self.problem)
        return "; ".join(parts)

    def hints(self) -> str:
        if self.read_only:
            return "arrows or [ ] { }: move the cursor"
        several = self.state is not None and len(self.state.spec.activations) > 1
        keys = ["arrows or [ ] { }: move", "enter: open as a run (r runs it)"]
        keys += ["a: next activation"] * several
        running = self.process is not None and self.process.running()
        keys.append("k: stop the sweep" if running else "w W: start a sweep")
        return "  ".join(keys)

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
        SweepProcess.live.discard(self.process)
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
        activation, depth, weight_variance = cursor.key(state.spec)
        config = state.spec.config(Task(activation, depth, 0))
        description = (
            f"{activation}, {depth} layers of {state.spec.width}: every sigma_w^2 of the "
            f"sweep as a setup (the cell's is {activation}-var:{weight_variance:g}), seed 0"
        )
        self.post_message(OpenSweepCell(config, description))
