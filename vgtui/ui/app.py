"""The vgtui monitor: a config sidebar, a status header and live charts in tabs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import math
import os
import signal
import time
from functools import partial
from pathlib import Path
from typing import Any

from textual import events, on
from textual.app import App, ComposeResult, RenderResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive, var
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Input, Static, TabbedContent, TabPane, Tabs

from vgtui.core.config import ConfigError, RunConfig
from vgtui.core.data import Dataset
from vgtui.core.records import STATUS_DIVERGED, MetricRecord
from vgtui.core.results import RUN_INTERRUPTED, RUN_STOPPED, summarize
from vgtui.ui.charts import (
    AccuracyChart,
    Chart,
    GradientChart,
    OverlayChart,
    SetupChart,
    grid_columns,
)
from vgtui.ui.history import RunHistory
from vgtui.ui.session import RunSession
from vgtui.ui.sidebar import ConfigSidebar

FLUSH_HZ = 8
"""How often pending records are taken and drawn, at most."""
HEADER_EVERY_TICKS = 2
"""While training, the header's counters are repainted every other tick (4 times a second)."""
UI_CPU_SHARE = 0.02
"""While training, redraws may use at most this share of one core: the trainer keeps the rest.
A redraw that cost 50 ms of UI-thread CPU delays the next one by 50 ms / UI_CPU_SHARE."""
QUIT_WAIT_SECONDS = 2.0
EXIT_HANGUP = 128 + signal.SIGHUP
COMPACT_WIDTH = 100
COMPACT_HEIGHT = 30

STATE_READY = "ready"
STATE_RUNNING = "running"
STATE_PAUSED = "paused"
STATE_STOPPING = "stopping"
STATE_FAILED = "failed"
ACTIVE_STATES = (STATE_RUNNING, STATE_PAUSED, STATE_STOPPING)

TAB_IDS = ("accuracy", "overlay", "gradients", "summary")

HELP_TEXT = """\
[b]vgtui[/b] trains every selected setup in lockstep on the same mini-batches and draws them live.

[b]Keys[/b]
  r        run (a new run replaces the charts; resumes when paused)
  p        pause / resume (stops between iterations)
  n        step: advance to the next evaluation point, then pause
  x        stop the run (results are kept); when stopped: reset the charts
  b        hide / show the config sidebar
  1 2 3 4  accuracy, overlay, gradients, summary tabs
  t        overlay: show train curves too
  s        save a screenshot (SVG) into the run folder
  ?  F1    this help        q  ctrl+c  quit (a running run is saved)
  esc      leave a field      tab  move between fields

[b]Reading the charts[/b]
  Accuracy: train (dots) and test (line) accuracy per setup, 0 to 1.
  Gradients: the gradient norm of each layer on a log scale. When the
  input layer (L1) sits orders of magnitude below the output layer, the
  gradient vanishes on its way back: the first/last ratio says by how much.

Every run writes config.json, metrics.csv and summary.json to its run folder,
exactly like [b]vgtui --no-ui[/b].
"""


class RecordsReady(Message):
    """The training worker has new records in its session's outbox (posted from the worker)."""

    def __init__(self, run_number: int) -> None:
        super().__init__()
        self.run_number = run_number


class RunEnded(Message):
    """The training worker finished, was stopped or failed."""

    def __init__(self, run_number: int, status: str, error: str | None) -> None:
        super().__init__()
        self.run_number = run_number
        self.status = status
        self.error = error


class HelpScreen(ModalScreen[None]):
    """Key bindings and how to read the charts."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(HELP_TEXT, id="help-text")


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


class VgtuiApp(App[int]):
    """Watch several network setups learn, or fail to, side by side."""

    CSS_PATH = Path(__file__).with_name("vgtui.tcss")  # absolute: subclasses live elsewhere
    TITLE = "vgtui"
    ENABLE_COMMAND_PALETTE = False

    BINDINGS = [
        Binding("r", "run", "Run"),
        Binding("p", "pause", "Pause"),
        Binding("n", "step", "Step"),
        Binding("x", "stop", "Stop/Reset"),
        Binding("b", "toggle_sidebar", "Sidebar"),
        Binding("t", "toggle_train", "Train", show=False),
        Binding("s", "save", "Save"),
        Binding("question_mark,f1", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("escape", "leave_field", "Leave field", show=False),
        *(
            Binding(str(number), f"show_tab('{tab}')", tab.title(), show=False)
            for number, tab in enumerate(TAB_IDS, start=1)
        ),
    ]

    run_state: var[str] = var(STATE_READY)
    """ready, running, paused, stopping, or how the last run ended (done, stopped, ...)."""
    sidebar_visible: reactive[bool] = reactive(True)

    def __init__(
        self,
        config: RunConfig,
        dataset: Dataset,
        out_root: Path,
        *,
        autostart: bool = False,
    ) -> None:
        super().__init__()
        self.config = config
        self.dataset = dataset
        self.out_root = Path(out_root)
        self.autostart = autostart
        self.session: RunSession | None = None
        self.run_number = 0
        self.history = RunHistory(config.setup_names)
        self.pending: list[MetricRecord] = []
        self.summary_dirty = True
        self.next_redraw = 0.0
        self.cpu_mark = 0.0
        self.redrawn = False
        self.stale = False
        self.ticks = 0
        self.compact: bool | None = None
        self.quitting = False
        self.header = RunHeader(id="header")
        self.sidebar = ConfigSidebar(config, dataset.train_size, id="sidebar")
        self.tabbed = TabbedContent(id="tabs", initial="accuracy")
        self.accuracy_grid = Grid(id="accuracy-grid", classes="chart-grid")
        self.gradient_grid = Grid(id="gradient-grid", classes="chart-grid")
        self.overlay = OverlayChart(self.history, config.iterations, id="overlay-chart")
        self.table: DataTable = DataTable(id="summary-table", cursor_type="row", zebra_stripes=True)

    # ----------------------------------------------------------------- layout

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="body"):
            yield self.sidebar
            with self.tabbed:
                with TabPane("Accuracy 1", id="accuracy"):
                    yield self.accuracy_grid
                with TabPane("Overlay 2", id="overlay"):
                    yield self.overlay
                with TabPane("Gradients 3", id="gradients"):
                    yield self.gradient_grid
                with TabPane("Summary 4", id="summary"):
                    yield self.table
        yield Footer()

    async def on_mount(self) -> None:
        self.table.add_columns(
            "setup",
            "status",
            "iter",
            "final test",
            "best test",
            "@iter",
            "final train",
            "time s",
            "L1/Lout",
        )
        await self.rebuild_charts(self.config)
        self.update_compact(self.size.width, self.size.height)
        self.focus_tabs()
        self.set_interval(1 / FLUSH_HZ, self.flush_pending)
        self.update_header()
        self.handle_hangups()
        # Most widgets live as long as the app: keep the cyclic GC, which holds the GIL the
        # trainer needs, from scanning them again and again during a run. (Charts replaced
        # when the setups change stay frozen: a small, one-off cost.)
        gc.freeze()
        if self.autostart:
            # After the first full paint: laying out and drawing the whole screen while the
            # trainer starts would only slow both down.
            self.call_after_refresh(self.run_worker, self.action_run(), name="autostart")

    def handle_hangups(self) -> None:
        """SIGTERM quits as q does; SIGHUP (terminal or SSH session closed) saves and exits."""
        loop = asyncio.get_running_loop()
        for number, handler in (
            (signal.SIGTERM, self.quit_on_signal),
            (signal.SIGHUP, self.exit_on_hangup),
        ):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(number, handler)

    def quit_on_signal(self) -> None:
        self.run_worker(self.action_quit(), name="quit", group="quit", exclusive=True)

    def exit_on_hangup(self) -> None:
        """The terminal is gone: nothing can be drawn or restored (Textual would block trying),
        so stop the run, let the worker write the run folder, and leave at once."""
        session = self.session
        if session is not None and not session.finished.is_set():
            session.stop(RUN_INTERRUPTED)
            session.finished.wait(QUIT_WAIT_SECONDS)
        os._exit(EXIT_HANGUP)

    async def rebuild_charts(self, config: RunConfig) -> None:
        """Give every chart fresh, empty data for ``config``. The chart widgets are replaced
        only when the setups changed: remounting costs a layout pass, at the start of a run."""
        drawn_empty = len(self.history) == 0 and config.iterations == self.overlay.total_iterations
        self.history = RunHistory(config.setup_names)
        self.pending.clear()
        shown = [chart.series.setup for chart in self.accuracy_grid.query(SetupChart)]
        if shown == list(config.setup_names):
            for chart in self.all_charts():
                if isinstance(chart, SetupChart):
                    chart.series = self.history.series[chart.series.setup]
            if drawn_empty:  # the charts already show exactly this: no repaint needed
                self.overlay.history = self.history
                return
        else:
            await self.mount_setup_charts(config)
        for chart in self.all_charts():
            if isinstance(chart, SetupChart):
                chart.total_iterations = config.iterations
            chart.mark_dirty()
        self.overlay.history = self.history
        self.overlay.total_iterations = config.iterations
        self.summary_dirty = True
        with self.batch_update():
            self.redraw_visible()

    async def mount_setup_charts(self, config: RunConfig) -> None:
        """Replace the accuracy and gradient charts by one per setup of ``config``."""
        columns = grid_columns(len(config.setups))
        rows = math.ceil(len(config.setups) / columns)
        with self.batch_update():
            for grid, chart_type, prefix in (
                (self.accuracy_grid, AccuracyChart, "acc"),
                (self.gradient_grid, GradientChart, "grad"),
            ):
                await grid.remove_children()
                grid.styles.grid_size_columns = columns
                grid.styles.grid_size_rows = rows
                await grid.mount_all(
                    chart_type(
                        self.history.series[name],
                        config.iterations,
                        id=f"{prefix}-{index}",
                        classes="setup-chart",
                    )
                    for index, name in enumerate(config.setup_names)
                )

    def update_compact(self, width: int, height: int) -> None:
        compact = width < COMPACT_WIDTH or height < COMPACT_HEIGHT
        if compact == self.compact:
            return
        self.compact = compact
        self.header.screen.set_class(compact, "-compact")  # the main screen, even under help
        self.sidebar_visible = not compact

    def on_resize(self, event: events.Resize) -> None:
        self.update_compact(event.size.width, event.size.height)

    def watch_sidebar_visible(self, visible: bool) -> None:
        self.sidebar.display = visible
        if not visible and self.sidebar.has_focus_within:
            self.focus_tabs()

    # ----------------------------------------------------------------- drawing

    def focus_tabs(self) -> None:
        self.tabbed.query_one(Tabs).focus()

    def all_charts(self) -> list[Chart]:
        return [
            *self.accuracy_grid.query(Chart),
            self.overlay,
            *self.gradient_grid.query(Chart),
        ]

    @property
    def active_tab(self) -> str:
        return self.tabbed.active

    def visible_charts(self) -> list[Chart]:
        tab = self.active_tab
        if tab == "accuracy":
            return list(self.accuracy_grid.query(Chart))
        if tab == "gradients":
            return list(self.gradient_grid.query(Chart))
        if tab == "overlay":
            return [self.overlay]
        return []

    def redraw_visible(self) -> None:
        """Redraw the dirty charts of the visible tab and, if shown, the summary."""
        charts = [chart for chart in self.visible_charts() if chart.dirty]
        for chart in charts:
            chart.redraw()
        if self.active_tab == "summary" and self.summary_dirty:
            self.update_summary()
        self.redrawn = bool(charts)  # flush_pending measures what painting them costs

    def flush_pending(self, force: bool = False) -> None:
        """Timer: move pending records into the history; redraw at a bounded rate."""
        if self.quitting or not self.header.is_mounted:
            return
        if self.session is not None:
            self.pending.extend(self.session.take_records())
        self.ticks += 1
        if self.run_state != STATE_RUNNING or self.ticks % HEADER_EVERY_TICKS == 0:
            self.update_header()
        # The UI thread's CPU time since the last tick is mostly the cost of painting the
        # previous redraw: space redraws so that they stay within UI_CPU_SHARE.
        cpu = time.thread_time()
        if self.redrawn:
            self.redrawn = False
            self.next_redraw = time.monotonic() + (cpu - self.cpu_mark) / UI_CPU_SHARE
        self.cpu_mark = cpu
        if self.pending:
            records, self.pending = self.pending, []
            self.history.add(records)
            for record in records:
                if record.status == STATUS_DIVERGED:
                    self.notify(
                        f"{record.setup} diverged at iteration {record.iteration}; "
                        "the others go on",
                        title="diverged",
                        severity="warning",
                    )
            for chart in self.all_charts():
                chart.mark_dirty()
            self.summary_dirty = True
            self.stale = True
        if not self.stale:
            return
        throttled = self.run_state == STATE_RUNNING and time.monotonic() < self.next_redraw
        if force or not throttled:
            self.stale = False
            with self.batch_update():
                self.redraw_visible()

    def update_summary(self) -> None:
        self.summary_dirty = False
        table = self.table
        table.clear()
        for row in summarize(self.history.records, self.history.setup_names):
            table.add_row(
                row.setup,
                row.status,
                str(row.iterations),
                fmt(row.final_test_accuracy, ".3f"),
                fmt(row.best_test_accuracy, ".3f"),
                str(row.best_iteration) if row.best_iteration else "-",
                fmt(row.final_train_accuracy, ".3f"),
                f"{row.seconds:.1f}",
                fmt(row.grad_ratio, ".2g"),
            )

    def update_header(self) -> None:
        session = self.session
        iteration = session.iteration if session else 0
        total = session.total_iterations if session else self.config.iterations
        seconds = session.seconds if session else 0.0
        state = self.run_state
        parts = [
            f"{self.dataset.name}",
            f"iter {iteration}/{total}",
            self.timing_text(iteration, seconds),
        ]
        if session is not None and state not in ACTIVE_STATES:
            parts.append(self.run_folder_text(session.path))
        text = f" vgtui  {state.upper()}  " + "  ".join(parts)
        self.header.show(text, state)

    def timing_text(self, iteration: int, seconds: float) -> str:
        """Elapsed compute time (pauses excluded) and iterations per second."""
        rate = iteration / seconds if seconds > 0 else 0.0
        return f"{format_elapsed(seconds)}  {rate:.1f} it/s"

    def run_folder_text(self, path: Path) -> str:
        return path.name

    @on(TabbedContent.TabActivated)
    def tab_shown(self) -> None:
        with self.batch_update():
            self.redraw_visible()

    # ----------------------------------------------------------------- messages

    @on(RecordsReady)
    def records_ready(self, message: RecordsReady) -> None:
        """While running, the next flush_pending tick takes the records (so there is at most
        one such message per tick); when paused or stepping, show them at once."""
        if message.run_number == self.run_number and self.run_state != STATE_RUNNING:
            self.flush_pending()

    @on(RunEnded)
    def run_ended(self, message: RunEnded) -> None:
        if self.quitting or message.run_number != self.run_number or self.session is None:
            return
        self.flush_pending(force=True)
        path = self.session.path
        if message.error is not None:
            self.run_state = STATE_FAILED
            self.notify(message.error, title="run failed", severity="error", timeout=10)
        else:
            self.run_state = message.status
            self.notify(f"results in {path}", title=f"run {message.status}")
        self.update_header()

    @on(ConfigSidebar.Edited)
    def config_edited(self) -> None:
        """While a run goes on, say that edits wait for the next run."""
        try:
            edited = self.sidebar.read_config() != self.config
        except ConfigError:
            edited = True
        running = self.run_state in ACTIVE_STATES
        self.sidebar.set_note("changes apply to the next run (r)" if running and edited else "")

    @on(Input.Submitted)
    def leave_input(self, event: Input.Submitted) -> None:
        if event.input.id != "custom-setup":
            self.focus_tabs()

    # ----------------------------------------------------------------- worker

    def train(self, session: RunSession, run_number: int) -> None:
        """Thread worker: run the session, posting messages (never touching widgets)."""
        error: str | None = None
        try:
            status = session.execute(lambda: self.post_message(RecordsReady(run_number)))
        except Exception as problem:  # reported to the user as a notification
            status = RUN_INTERRUPTED
            error = f"{type(problem).__name__}: {problem}"
        self.post_message(RunEnded(run_number, status, error))

    @property
    def running(self) -> bool:
        return self.session is not None and not self.session.finished.is_set()

    async def start_run(self, *, paused: bool = False) -> RunSession | None:
        sidebar = self.sidebar
        try:
            config = sidebar.read_config()
        except ConfigError as error:
            sidebar.set_note(f"cannot run: {error}")
            self.notify(str(error), title="cannot run", severity="error")
            return None
        try:
            session = RunSession(config, self.dataset, self.out_root, paused=paused)
        except (ConfigError, OSError) as error:
            self.notify(str(error), title="cannot run", severity="error")
            return None
        sidebar.set_note("")
        self.config = config
        self.run_number += 1
        self.session = session  # its worker starts below: nothing to take before that
        await self.rebuild_charts(config)
        self.run_state = STATE_PAUSED if paused else STATE_RUNNING
        self.run_worker(
            partial(self.train, session, self.run_number),
            name="training",
            group="training",
            thread=True,
            exit_on_error=False,
        )
        self.update_header()
        return session

    # ----------------------------------------------------------------- actions

    async def action_run(self) -> None:
        """Start a run with the sidebar's config (or resume a paused one)."""
        if self.running:
            if self.run_state == STATE_PAUSED:
                self.action_pause()
            else:
                self.notify("a run is already going: x stops it", severity="warning")
            return
        await self.start_run()

    def action_pause(self) -> None:
        """Pause between iterations, or resume."""
        session = self.session
        if not self.running or session is None or self.run_state == STATE_STOPPING:
            self.notify("nothing to pause: r starts a run")
            return
        if self.run_state == STATE_PAUSED:
            session.resume()
            self.run_state = STATE_RUNNING
        else:
            session.pause()
            self.run_state = STATE_PAUSED
        self.update_header()

    async def action_step(self) -> None:
        """Advance to the next evaluation point, then pause."""
        if not self.running:
            session = await self.start_run(paused=True)
            if session is None:
                return
        session = self.session
        assert session is not None
        if self.run_state == STATE_STOPPING:
            return
        session.step()
        self.run_state = STATE_PAUSED
        self.update_header()

    async def action_stop(self) -> None:
        """Stop the run and keep its results; when nothing runs, reset the charts."""
        if self.running and self.session is not None:
            self.session.stop(RUN_STOPPED)
            self.run_state = STATE_STOPPING
            self.update_header()
            return
        sidebar = self.sidebar
        try:
            config = sidebar.read_config()
        except ConfigError:
            config = self.config
        self.session = None
        self.config = config
        await self.rebuild_charts(config)
        self.run_state = STATE_READY
        self.update_header()

    def action_toggle_sidebar(self) -> None:
        self.sidebar_visible = not self.sidebar_visible

    def action_toggle_train(self) -> None:
        overlay = self.overlay
        overlay.show_train = not overlay.show_train
        overlay.mark_dirty()
        self.action_show_tab("overlay")
        self.redraw_visible()

    def action_show_tab(self, tab: str) -> None:
        self.tabbed.active = tab

    def action_leave_field(self) -> None:
        self.focus_tabs()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_save(self) -> None:
        """Save a screenshot of the app (SVG) into the run folder, or the output folder."""
        folder = self.session.path if self.session is not None else self.out_root
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = f"screen-{self.active_tab}-{time.strftime('%H%M%S')}.svg"
            saved = self.save_screenshot(filename=name, path=str(folder))
        except OSError as error:
            self.notify(str(error), title="cannot save", severity="error")
            return
        if self.running and self.session is not None:
            self.session.flush_requested = True
        self.notify(f"saved {saved}", title="saved")

    async def action_quit(self) -> None:
        """Quit; a running run is stopped (within half a second) and saved as interrupted."""
        self.quitting = True
        await self.stop_and_wait()
        self.exit(0)

    async def stop_and_wait(self, timeout: float = QUIT_WAIT_SECONDS) -> None:
        """Stop a running run and wait until its run folder is written."""
        session = self.session
        if session is None or session.finished.is_set():
            return
        session.stop(RUN_INTERRUPTED)
        await asyncio.to_thread(session.finished.wait, timeout)


def fmt(value: float, spec: str) -> str:
    return "-" if math.isnan(value) else format(value, spec)


def run_app(config: RunConfig, dataset: Dataset, out_root: Path, autostart: bool = False) -> int:
    """Run the monitor until the user quits; return the process exit code."""
    app = VgtuiApp(config, dataset, out_root, autostart=autostart)
    try:
        result = app.run()
    finally:
        session = app.session
        if session is not None and not session.finished.is_set():
            session.stop(RUN_INTERRUPTED)
            session.finished.wait(QUIT_WAIT_SECONDS)
    session = app.session
    if session is not None and session.status is not None:
        print(f"vgtui: run {session.status}; results in {session.path}")
    if app.return_code not in (None, 0):
        return app.return_code
    return 0 if result is None else int(result)
