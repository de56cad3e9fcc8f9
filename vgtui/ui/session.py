"""One training run started from the app: trainer, run control and run folder (no Textual).

The app runs :meth:`RunSession.execute` in a thread worker. New records go to an outbox; the
worker calls ``notify`` only when the outbox was empty, and the app takes everything at once
with :meth:`RunSession.take_records`. So at most one notification is posted per take: a fast
run cannot flood the UI with messages, and no record waits in the worker (after a step or a
pause, the last evaluation reaches the screen at once).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from vgtui.core.config import RunConfig
from vgtui.core.data import Dataset
from vgtui.core.records import MetricRecord
from vgtui.core.results import RUN_DONE, RUN_INTERRUPTED, RunWriter
from vgtui.core.trainer import OUTCOME_DONE, RunControl, Trainer

Notify = Callable[[], None]


class RunSession:
    """A run in progress: the same Trainer and RunWriter as ``--no-ui``."""

    def __init__(
        self, config: RunConfig, dataset: Dataset, out_root: Path, *, paused: bool = False
    ) -> None:
        self.config = config
        self.trainer = Trainer(config, dataset, np.random.default_rng(config.seed))
        self.control = RunControl(paused=paused)
        self.writer = RunWriter(out_root, config, dataset.name)
        self.stop_status = RUN_INTERRUPTED
        self.status: str | None = None
        self.wall_seconds = 0.0
        self.finished = threading.Event()
        self.flush_requested = False
        self._outbox: list[MetricRecord] = []
        self._outbox_lock = threading.Lock()

    @property
    def path(self) -> Path:
        return self.writer.path

    @property
    def iteration(self) -> int:
        return self.trainer.iteration

    @property
    def total_iterations(self) -> int:
        return self.trainer.total_iterations

    @property
    def seconds(self) -> float:
        """Compute time so far, pauses excluded."""
        return self.trainer.seconds

    def stop(self, status: str) -> None:
        """Ask the trainer to stop after the current iteration; the run ends as ``status``."""
        self.stop_status = status
        self.control.cancel()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    def step(self) -> None:
        """Let the trainer run to the next evaluation point, then pause. Repeated presses
        queue up: each one adds one evaluation interval."""
        self.control.step_interval(self.config.eval_every)

    def take_records(self) -> list[MetricRecord]:
        """Every record produced since the last call (called by the app's thread)."""
        with self._outbox_lock:
            records, self._outbox = self._outbox, []
        return records

    def execute(self, notify: Notify) -> str:
        """Train until done or stopped, writing the run folder; return the run status.

        ``notify()`` is called from this thread when records arrive in an empty outbox."""
        started = time.perf_counter()

        def on_records(records: Sequence[MetricRecord]) -> None:
            self.writer.add(records)
            if self.flush_requested:
                self.flush_requested = False
                self.writer.flush()
            with self._outbox_lock:
                was_empty = not self._outbox
                self._outbox.extend(records)
            if was_empty:
                notify()

        status = RUN_INTERRUPTED
        try:
            outcome = self.trainer.run(on_records, self.control)
            status = RUN_DONE if outcome == OUTCOME_DONE else self.stop_status
        finally:
            self.status = status
            try:
                self.trainer.close()
                self.wall_seconds = time.perf_counter() - started
                self.writer.finish(status, self.wall_seconds)
            finally:
                self.finished.set()
        return status
