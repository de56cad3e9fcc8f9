"""The vgtui monitor: a config sidebar, a status header and live charts in tabs.

The app lays these out and drives one :class:`~vgtui.core.run.Run` at a time: a thread worker
builds it (see vgtui.ui.lifecycle) and executes it, its records come back through a
:class:`RecordOutbox`, and the worker's end (done, stopped, failed) arrives as a
Worker.StateChanged message. Key o opens the Runs screen: saved runs, read-only.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterator
from pathlib import Path

from textual import on, work
from textual.containers import Horizontal
from textual.reactive import reactive, var
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from vgtui.core.budget import long_run_warning
from vgtui.core.config import ConfigError, RunConfig
from vgtui.core.data import Dataset
from vgtui.core.layer_profile import LayerProfile, initial_profiles, profile_affordable
from vgtui.core.run import Run
from vgtui.core.vocabulary import ACTIVE_PHASES, RunPhase, RunStatus
from vgtui.ui import signals
from vgtui.ui.base import ChartsApp, ChartsScreen
from vgtui.ui.charts.tabs import ChartTabs
from vgtui.ui.confirm import SecondPress
from vgtui.ui.header import RunHeader
from vgtui.ui.help import KEYS, MONITOR_KEYS, HelpScreen
from vgtui.ui.history import RunHistory
from vgtui.ui.lifecycle import EndedRun, PreparingRun
from vgtui.ui.messages import RecordsReady, RunBuilt
from vgtui.ui.outbox import RecordOutbox
from vgtui.ui.pace import Pace, show_pace
from vgtui.ui.pacer import FLUSH_HZ, RedrawPacer
from vgtui.ui.saved.runs_list import RunsScreen
from vgtui.ui.saved.svg import place_braille_in_cells
from vgtui.ui.sidebar import ConfigSidebar
from vgtui.ui.status import Part
from vgtui.ui.sweep.messages import OpenSweepCell

TRAINING = "training"
"""The worker group of the training thread."""
ENDED = (WorkerState.SUCCESS, WorkerState.ERROR, WorkerState.CANCELLED)


class MonitorScreen(ChartsScreen):
    """The charts of the live run, with the config sidebar beside them (hidden when compact).
    The app's base screen (its one mode): Textual builds it as the app composes, so the app's
    mount finds every widget in place."""

    BINDINGS = MONITOR_KEYS

    def __init__(self) -> None:
        monitor = self.app  # the app being composed
        assert isinstance(monitor, VgtuiApp)
        super().__init__(monitor.header, monitor.tabs)
        self.monitor = monitor

    def compose_body(self) -> Iterator[Widget]:
        with Horizontal(id="body"):
            yield self.monitor.sidebar
            yield from self.compose_charts()

    def compact_changed(self, compact: bool) -> None:
        self.monitor.sidebar_visible = not compact

    def redraw(self) -> None:
        self.monitor.redraw_visible()

    def redrawn(self, drawn: bool) -> None:
        self.monitor.pacer.redrawn = drawn


class VgtuiApp(ChartsApp):
    """Watch several network setups learn, or fail to, side by side."""

    BINDINGS = KEYS
    MODES = {"monitor": MonitorScreen}
    DEFAULT_MODE = "monitor"

    run_state: var[RunPhase | RunStatus] = var(RunPhase.READY, always_update=True)
    """Where the current run is (ready, running, paused, stopping) or how it ended."""
    sidebar_visible: reactive[bool] = reactive(True)
    early_signal_status: int | None = None
    """The status of a stop signal that came before the screen was mounted (see on_load)."""

    def __init__(
        self,
        config: RunConfig,
        dataset: Dataset,
        out_root: Path,
        *,
        autostart: bool = False,
        pace: float = 0.0,
    ) -> None:
        super().__init__()
        self.config = config
        self.dataset = dataset
        self.out_root = Path(out_root)
        self.autostart = autostart
        self.current_run: Run | PreparingRun | EndedRun | None = None
        self.last_path: Path | None = None
        """The folder of the last run that ended (the Runs screen marks it)."""
        self.outbox: RecordOutbox | None = None
        self.training: Worker[RunStatus] | None = None
        self.run_number = 0
        self.pacer = RedrawPacer()
        self.second_press = SecondPress()
        self.quitting = False
        self.profiled: tuple[RunConfig, dict[str, LayerProfile]] | None = None
        """The last config whose layer profiles at initialisation were computed, and them."""
        self.header = RunHeader(id="header")
        self.pace = Pace(pace)
        self.sidebar = ConfigSidebar(config, dataset.train_size, self.pace, id="sidebar")
        self.tabs = ChartTabs(
            RunHistory(config.setup_names), config.iterations, sweep_root=self.out_root, id="tabs"
        )
        self.overlay = self.tabs.overlay
        self.table = self.tabs.table

    @property
    def history(self) -> RunHistory:
        return self.tabs.history

    @property
    def active_tab(self) -> str:
        return self.tabs.active

    @property
    def running(self) -> bool:
        return self.current_run is not None and not self.current_run.finished.is_set()

    # -- layout -----------------------------------------------------------------------------------
    def on_load(self) -> None:
        """Stop signals are the loop's from its first moment: one that comes while the screen
        is composed is kept until it is mounted, then quits (the command line's latch would
        raise it inside Textual's compose, which printed a traceback)."""

        def keep(status: int) -> None:
            self.early_signal_status = status

        signals.handle_signals(keep, lambda: None)

    async def on_mount(self) -> None:
        await self.show_new_run(self.config)
        self.set_interval(1 / FLUSH_HZ, self.flush_pending)
        self.update_header()

        def quit_with(status: int) -> None:
            self.run_worker(self.action_quit(status), group="quit", exclusive=True)

        signals.handle_signals(quit_with, lambda: self.current_run)
        if self.early_signal_status is not None:
            quit_with(self.early_signal_status)
        # Most widgets live as long as the app: keep the cyclic GC, which holds the GIL the
        # trainer needs, from scanning them again and again during a run. (Charts replaced
        # when the setups change stay frozen: a small, one-off cost.)
        gc.freeze()
        if self.autostart:
            # After the first full paint: laying out and drawing the whole screen while the
            # trainer starts would only slow both down.
            self.call_after_refresh(self.run_worker, self.action_run(), name="autostart")

    def watch_sidebar_visible(self, visible: bool) -> None:
        self.sidebar.display = visible
        if not visible and self.sidebar.has_focus_within:
            self.tabs.focus_tabs()

    # -- drawing ----------------------------------------------------------------------------------
    async def show_new_run(self, config: RunConfig) -> None:
        """Empty charts for ``config``, with no records left from an earlier run."""
        self.pacer.redrawn = await self.tabs.show_run(
            RunHistory(config.setup_names), config.iterations
        )
        self.profile_at_init(config)

    @work(thread=True, exclusive=True, group="profile", exit_on_error=False)
    def profile_at_init(self, config: RunConfig) -> None:
        """Thread worker: the setups' layer profiles at initialisation (the Profile tab)."""
        if self.profiled is not None and self.profiled[0] == config:
            profiles = self.profiled[1]
        elif not profile_affordable(config):
            self.tabs.profile.pending = "init: not computed (a large network)"
            return
        else:
            profiles = initial_profiles(config, self.dataset)
            self.profiled = (config, profiles)
        self.call_from_thread(self.tabs.show_initial_profiles, profiles)

    def redraw_visible(self) -> None:
        with self.batch_update():
            self.pacer.redrawn = self.tabs.redraw_visible()

    def flush_pending(self, force: bool = False) -> None:
        """Timer: move new records into the history; redraw at a bounded rate."""
        if self.quitting or not self.header.is_mounted:
            return
        records = self.outbox.take() if self.outbox is not None else []
        # The trainer needs the CPU, unless the pace holds it back: then charts may be
        # redrawn at the full frame rate (as a replay is).
        running = self.run_state == RunPhase.RUNNING and not self.pace.holding()
        if self.pacer.header_due(running):
            self.update_header()
        self.pacer.measure()
        if records:
            self.tabs.add(records)
            self.pacer.stale = True
        if self.pacer.may_redraw(running, force):
            self.pacer.stale = False
            self.redraw_visible()

    def watch_run_state(self, state: RunPhase | RunStatus) -> None:
        """The header and the sidebar's note follow the run's state."""
        active = state in ACTIVE_PHASES or state == RunPhase.PREPARING
        self.sidebar.running_config = self.config if active else None
        self.sidebar.note_edits()
        self.update_header()

    def update_header(self) -> None:
        planned = self.config.iterations
        self.header.show_run(
            self.run_state, self.dataset.name, self.current_run, planned, self.pace
        )
        self.tabs.status.show_run(self.status_parts())

    def folder_text(self, path: Path, short: bool = False) -> str:
        """A run folder as the status line names it: its path, or its name when narrow."""
        return path.name if short else shown_path(path)

    def status_parts(self) -> list[Part]:
        """The run's state (where its results are, once it ended: the path, or the folder's
        name when narrow) and the pace, for the status line: persistent, where a toast would
        cover a chart for a few seconds."""
        state: Part = str(self.run_state)
        run = self.current_run
        ended = self.run_state not in (*ACTIVE_PHASES, RunPhase.READY, RunPhase.PREPARING)
        if ended and run is not None and run.path is not None:
            state = (f"{state}: results in {self.folder_text(run.path)}",
                     f"{state}: results in {self.folder_text(run.path, short=True)}",
                     state)  # fmt: skip
        rate = self.pace.rate
        return [state, f"pace {show_pace(rate)} it/s" if rate else "full speed"]

    # -- messages ---------------------------------------------------------------------------------
    @on(RecordsReady)
    def records_ready(self, message: RecordsReady) -> None:
        """While running, the next flush_pending tick takes the records (so there is at most
        one such message per tick); when paused or stepping, show them at once."""
        if message.run_number == self.run_number and self.run_state != RunPhase.RUNNING:
            self.flush_pending()

    @on(OpenSweepCell)
    def open_sweep_cell(self, message: OpenSweepCell) -> None:
        """The Sweep tab opened a cell: its run goes into the sidebar, for r to run it."""
        self.sidebar.show_config(message.config)
        self.notify(f"{message.description}. r runs it", title="sweep cell in the sidebar")

    @on(Input.Submitted)
    def leave_input(self, event: Input.Submitted) -> None:
        if event.input.id != "custom-setup":
            self.tabs.focus_tabs()

    # -- the run and its worker -------------------------------------------------------------------
    @work(thread=True, exclusive=True, group=TRAINING, exit_on_error=False)
    def train(self, preparing: PreparingRun, outbox: RecordOutbox, number: int) -> RunStatus:
        """Thread worker: build the run (a large network takes a while: the UI goes on), then
        execute it. It never touches widgets: the built run is posted, records go through the
        outbox, and its end (or a run that cannot be built) reaches :meth:`training_changed`."""
        run = preparing.build(self.dataset, self.out_root)
        self.post_message(RunBuilt(number, run))
        return run.execute(self.pace.paced(outbox.put, run))

    @on(RunBuilt)
    def run_built(self, message: RunBuilt) -> None:
        preparing = self.current_run
        if message.run_number != self.run_number or not isinstance(preparing, PreparingRun):
            return  # a newer run replaced it, or the app is quitting
        preparing.release()
        self.current_run = message.run
        if self.run_state == RunPhase.PREPARING:
            self.run_state = RunPhase.PAUSED if preparing.paused else RunPhase.RUNNING

    @on(Worker.StateChanged)
    def training_changed(self, event: Worker.StateChanged) -> None:
        """The training worker ended: done or stopped, failed, or cancelled (by the app)."""
        worker, state = event.worker, event.state
        run = self.current_run
        if worker.group != TRAINING or state not in ENDED or run is None or self.quitting:
            return
        if worker is not self.training:
            return  # an earlier run's worker: its run is no longer shown
        if isinstance(run, PreparingRun):  # it could not be built: it does not fit, say
            self.current_run = None
            self.run_state = RunPhase.READY
            self.notify(str(worker.error), title="cannot run", severity="error", timeout=10)
            return
        self.flush_pending(force=True)
        if state == WorkerState.SUCCESS:
            assert worker.result is not None
            self.run_state = worker.result  # said in the status line, which stays
        elif state == WorkerState.ERROR:
            self.run_state = RunStatus.FAILED
            error = f"{type(worker.error).__name__}: {worker.error}"
            self.notify(error, title="run failed", severity="error", timeout=10)
        else:  # cancelled: the thread goes on until the run stops
            run.stop(RunStatus.INTERRUPTED)
            self.run_state = RunStatus.INTERRUPTED
        if isinstance(run, Run) and run.finished.is_set():  # let its trainer's memory go
            self.current_run = EndedRun.of(run)
            self.last_path = run.path if run.kept else self.last_path

    async def start_run(self, *, paused: bool = False) -> PreparingRun | None:
        """Start a run with the sidebar's config: its worker builds it (the header says
        preparing meanwhile), then trains."""
        try:
            config = self.sidebar.read_config()
        except ConfigError as error:
            self.sidebar.set_note(f"cannot run: {error}")
            self.notify(str(error), title="cannot run", severity="error")
            return None
        self.config = config
        self.run_number += 1
        run_number = self.run_number
        run = self.current_run = PreparingRun(config, paused)
        self.outbox = RecordOutbox(lambda: self.post_message(RecordsReady(run_number)))
        await self.show_new_run(config)
        self.run_state = RunPhase.PREPARING
        self.training = self.train(run, self.outbox, run_number)
        if (warning := long_run_warning(config)) is not None:
            self.notify(warning, title="a long run", timeout=8)
        return run

    # -- actions ----------------------------------------------------------------------------------
    def may_replace_finished(self, key: str, clear: bool = False) -> bool:
        """A finished run stays on screen until ``key`` is pressed a second time."""
        run = None if self.running else self.current_run
        return self.second_press.may_replace(key, run, self.run_state, self.notify, clear)

    async def action_run(self) -> None:
        """Start a run with the sidebar's config (or resume a paused one)."""
        if not self.running:
            if self.may_replace_finished("r"):
                await self.start_run()
        elif self.run_state == RunPhase.PAUSED:
            self.action_pause()
        else:
            self.notify("a run is already going: x stops it", severity="warning")

    def action_pause(self) -> None:
        """Pause between iterations, or resume."""
        run = self.current_run
        if not self.running or run is None or self.run_state == RunPhase.STOPPING:
            self.notify("nothing to pause: r starts a run")
            return
        if self.run_state == RunPhase.PREPARING:
            run.pause()
            self.run_state = RunPhase.PAUSED
            return
        if self.run_state == RunPhase.PAUSED:
            run.resume()
            self.run_state = RunPhase.RUNNING
        else:
            run.pause()
            self.run_state = RunPhase.PAUSED

    async def action_step(self) -> None:
        """Advance to the next evaluation point, then pause."""
        if not self.running and not self.may_replace_finished("n"):
            return
        run = self.current_run if self.running else await self.start_run(paused=True)
        if run is None or self.run_state == RunPhase.STOPPING:
            return
        run.step()
        self.run_state = RunPhase.PAUSED

    async def action_stop(self) -> None:
        """Stop the run and keep its results; when nothing runs, reset the charts (and let go
        of the finished run: on a second press, as r and n ask)."""
        if self.running and self.current_run is not None:
            self.current_run.stop(RunStatus.STOPPED)
            self.run_state = RunPhase.STOPPING
            return
        if not self.may_replace_finished("x", clear=True):
            return
        with contextlib.suppress(ConfigError):  # else keep the last valid config
            self.config = self.sidebar.read_config()
        self.current_run = None
        self.outbox = None
        await self.show_new_run(self.config)
        self.run_state = RunPhase.READY

    def action_toggle_sidebar(self) -> None:
        self.sidebar_visible = not self.sidebar_visible

    def action_pace(self, direction: int) -> None:
        """Slower (-1) or faster (+1); applies at once, also to a run under way."""
        self.pace.step(direction)
        self.sidebar.show_pace()
        self.update_header()  # the status line says the pace

    def action_leave_field(self) -> None:
        self.tabs.focus_tabs()

    def action_open_runs(self) -> None:
        """The Runs screen: saved runs to open or compare (also the last finished one)."""
        current = self.current_run.path if self.running and self.current_run else None
        self.push_screen(RunsScreen(self.out_root, current, self.last_path))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_save(self) -> None:
        """Save a screenshot of the app (SVG) into the run folder, or the output folder."""
        run = self.current_run
        folder = run.path if run is not None and run.path is not None else self.out_root
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = f"screen-{self.active_tab}-{time.strftime('%H%M%S')}.svg"
            saved = self.save_screenshot(filename=name, path=str(folder))
            shot = Path(saved)
            shot.write_text(place_braille_in_cells(shot.read_text("utf-8")), "utf-8")
        except OSError as error:
            self.notify(str(error), title="cannot save", severity="error")
            return
        if self.running and run is not None:
            run.request_flush()
        self.notify(f"saved {Path(saved).name} in {shown_path(folder)}")

    async def action_quit(self, exit_status: int = 0) -> None:
        """Quit; a running run is stopped (within half a second) and saved as interrupted."""
        self.quitting = True
        await self.stop_and_wait()
        self.exit(return_code=exit_status)

    def on_unmount(self) -> None:
        """However the app ends (q, a signal, an error in a handler), the run stops and is
        saved before Textual waits for its worker thread to end."""
        self.quitting = True
        signals.stop_and_wait(self.current_run)

    async def stop_and_wait(self) -> None:
        """Stop a running run and wait (off the UI thread) until its run folder is written."""
        await asyncio.to_thread(signals.stop_and_wait, self.current_run)


def shown_path(path: Path) -> str:
    """A run folder as the status line names it: relative to the working folder if inside."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return str(path)


def run_app(
    config: RunConfig, dataset: Dataset, out_root: Path, autostart: bool = False, pace: float = 0.0
) -> int:
    """Run the monitor until the user quits; return the process exit code."""
    app = VgtuiApp(config, dataset, out_root, autostart=autostart, pace=pace)
    try:
        result = app.run()
    finally:
        signals.stop_and_wait(app.current_run)
    run = app.current_run
    if run is not None and run.status is not None:
        print(f"vgtui: run {run.status}; results in {run.path}")
    if app.return_code not in (None, 0):
        return app.return_code
    return 0 if result is None else int(result)
