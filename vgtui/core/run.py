"""One training run from start to summary: trainer, run control and run folder.

The command line, the app and (later) sweep workers all drive this same object. It assumes no
terminal, no UI and no particular process or thread: records go to a callback, control calls
may come from any thread, and the run folder is complete however :meth:`Run.execute` ends.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from vgtui.core.budget import check_memory
from vgtui.core.config import RunConfig
from vgtui.core.control import RunControl
from vgtui.core.data import Dataset
from vgtui.core.evaluation.interface import Evaluator
from vgtui.core.records import MetricRecord
from vgtui.core.store.run_folder import RunWriteError, RunWriter
from vgtui.core.summary import SetupSummary, summarize
from vgtui.core.trainer import Trainer
from vgtui.core.vocabulary import RunStatus

OnRecords = Callable[[Sequence[MetricRecord]], None]


class Run:
    """A run of ``config`` on ``dataset`` that writes ``out_root/<timestamp>-<preset>/``.

    Building it checks that the model fits in memory (ConfigError if not) and creates the run
    folder (OSError if it cannot). :meth:`execute` trains until done or stopped; every other
    method may be called from another thread meanwhile. A run that ends before recording
    anything leaves no folder behind (``kept`` is then False)."""

    def __init__(
        self,
        config: RunConfig,
        dataset: Dataset,
        out_root: Path | str,
        *,
        paused: bool = False,
        evaluator: Evaluator | None = None,
    ) -> None:
        check_memory(config)
        self.config = config
        self.dataset_name = dataset.name
        self.control = RunControl(paused=paused)
        self.trainer = Trainer(
            config, dataset, np.random.default_rng(config.seed), evaluator=evaluator
        )
        try:
            self.writer = RunWriter(out_root, config, dataset.name, dataset.source)
        except BaseException:
            self.trainer.close()
            raise
        self.status: RunStatus | None = None
        self.summaries: list[SetupSummary] = []
        self._started: float | None = None
        self._ended_seconds: float | None = None
        self.finished = threading.Event()
        self.write_error: RunWriteError | None = None
        """The first file of the run folder that could not be written, if any."""
        self.kept = True
        self._stop_status = RunStatus.INTERRUPTED
        self._flush_requested = threading.Event()

    @property
    def path(self) -> Path:
        return self.writer.path

    @property
    def records(self) -> list[MetricRecord]:
        """Every record so far (read it from the thread that executes, or once finished)."""
        return self.writer.records

    @property
    def iteration(self) -> int:
        return self.trainer.iteration

    @property
    def total_iterations(self) -> int:
        return self.config.iterations

    @property
    def seconds(self) -> float:
        """Compute time so far, pauses excluded."""
        return self.trainer.seconds

    @property
    def wall_seconds(self) -> float:
        """The run's time: wall time from the start of training to its end (or now), the
        waits while paused excluded. The one clock of a run: the app's header shows it live,
        summary.json records it, and a saved run's header reads it back."""
        if self._ended_seconds is not None:
            return self._ended_seconds
        if self._started is None:
            return 0.0
        return time.perf_counter() - self._started - self.control.paused_seconds

    # -- control, from any thread -----------------------------------------------------------------
    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def step(self) -> None:
        """Run to the next evaluation point, then pause; repeated calls queue up."""
        self.control.step_interval(self.config.eval_every)

    def stop(self, status: RunStatus = RunStatus.INTERRUPTED) -> None:
        """Stop after the current iteration; the run ends as ``status``."""
        self._stop_status = status
        self.control.cancel()

    def request_flush(self) -> None:
        """Write metrics.csv with the next records instead of waiting for the usual interval."""
        self._flush_requested.set()

    # -- the run itself ---------------------------------------------------------------------------
    def execute(self, on_records: OnRecords | None = None) -> RunStatus:
        """Train until done or stopped, keeping the run folder up to date, and return how the
        run ended. Each batch of records is saved, then handed to ``on_records`` (on this
        thread). Whatever happens (Ctrl-C, a closed pipe, an error in ``on_records``), the
        helpers are stopped and summary.json is written before the exception goes on.

        A file of the run folder that cannot be written (a full disk, the folder deleted)
        stops the run as failed; summary.json is still tried, the files already written stay
        valid, and :attr:`write_error` names the file: it is raised unless another exception
        is on its way."""
        self._started = time.perf_counter()

        def deliver(records: Sequence[MetricRecord]) -> None:
            self.writer.add(records)
            if self._flush_requested.is_set():
                self._flush_requested.clear()
                self.writer.flush()
            if on_records is not None:
                on_records(records)

        status = RunStatus.INTERRUPTED
        try:
            self.trainer.run(deliver, self.control)
            status = RunStatus.DONE if self.trainer.done else self._stop_status
        except RunWriteError as error:
            status, self.write_error = RunStatus.FAILED, error
            raise
        finally:
            self.status = status
            try:
                self.trainer.close()
                self._ended_seconds = self.wall_seconds
                self._finish(status)
            finally:
                self.finished.set()
        if self.write_error is not None:
            raise self.write_error
        return status

    def _finish(self, status: RunStatus) -> None:
        """Write the summary, or drop the folder of a run that recorded nothing."""
        if not self.writer.records and status != RunStatus.DONE:
            self.writer.discard()
            self.kept = False
            return
        try:
            self.summaries = self.writer.finish(status, self.wall_seconds, self.trainer.iteration)
        except RunWriteError as error:
            self.summaries = summarize(self.writer.records, self.config.setup_names)
            self.write_error = self.write_error or error
