"""One training run started from the app: trainer, run control and run folder (no Textual).

The app runs :meth:`RunSession.execute` in a thread worker. Records reach the app through the
``publish`` callback, at most every ``PUBLISH_INTERVAL`` seconds, so that a fast run cannot
flood the UI with messages.
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
from vgtui.core.results import RUN_DONE, RUN_INTERRUPTED, RunWriter, SetupSummary
from vgtui.core.trainer import OUTCOME_DONE, RunControl, Trainer

PUBLISH_INTERVAL = 0.1

Publish = Callable[[tuple[MetricRecord, ...]], None]


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
        self.summaries: list[SetupSummary] = []
        self.wall_seconds = 0.0
        self.finished = threading.Event()
        self.flush_requested = False

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

    def steps_to_next_evaluation(self) -> int:
        every = self.config.eval_every
        return every - self.trainer.iteration % every

    def execute(self, publish: Publish) -> str:
        """Train until done or stopped, writing the run folder; return the run status."""
        started = time.perf_counter()
        pending: list[MetricRecord] = []
        last_publish = 0.0

        def on_records(records: Sequence[MetricRecord]) -> None:
            nonlocal last_publish
            self.writer.add(records)
            if self.flush_requested:
                self.flush_requested = False
                self.writer.flush()
            pending.extend(records)
            now = time.monotonic()
            if now - last_publish >= PUBLISH_INTERVAL:
                publish(tuple(pending))
                pending.clear()
                last_publish = now

        status = RUN_INTERRUPTED
        try:
            outcome = self.trainer.run(on_records, self.control)
            status = RUN_DONE if outcome == OUTCOME_DONE else self.stop_status
        finally:
            if pending:
                publish(tuple(pending))
            self.status = status
            try:
                self.wall_seconds = time.perf_counter() - started
                self.summaries = self.writer.finish(status, self.wall_seconds)
            finally:
                self.finished.set()
        return status
