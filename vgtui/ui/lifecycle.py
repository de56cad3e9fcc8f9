"""A run's life in the app around the core :class:`Run`: built off the UI thread (a large
network takes seconds to allocate), and let go of once it ends (its trainer's arrays may take
gigabytes).

While the training worker builds the Run, the app holds a :class:`PreparingRun`: it answers the
header and takes the keys (pause, step, stop), which it hands on to the Run once built. Once the
run ends, the app keeps only an :class:`EndedRun`: what the header, the save key and the exit
message need, and no reference to the trainer.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path

from vgtui.core.config import RunConfig
from vgtui.core.data import Dataset
from vgtui.core.run import Run
from vgtui.core.vocabulary import RunStatus


class PreparingRun:
    """Stands in for a Run that the worker is building; control calls made meanwhile (from the
    UI thread) are replayed on the Run as soon as it exists."""

    def __init__(self, config: RunConfig, paused: bool) -> None:
        self.config = config
        self.paused = paused
        self.total_iterations = config.iterations
        self.iteration = 0
        self.seconds = 0.0
        self.wall_seconds = 0.0
        self.path: Path | None = None
        self.status: RunStatus | None = None
        self.kept = False
        self.finished = threading.Event()
        self._lock = threading.Lock()
        self._calls: list[tuple[str, tuple]] = []
        self._run: Run | None = None

    def build(self, dataset: Dataset, out_root: Path) -> Run:
        """From the worker thread: build the Run (ConfigError if it cannot fit, OSError if its
        folder cannot be made) and replay the control calls made meanwhile."""
        run = Run(self.config, dataset, out_root, paused=self.paused)
        with self._lock:
            self._run = run
            self.finished = run.finished
            for name, args in self._calls:
                getattr(run, name)(*args)
            self._calls.clear()
        return run

    def release(self) -> None:
        """The app holds the Run itself now: keep no reference to it here."""
        with self._lock:
            self._run = None

    def _forward(self, name: str, *args: object) -> None:
        with self._lock:
            if self._run is None:
                self._calls.append((name, args))
                return
            getattr(self._run, name)(*args)

    def pause(self) -> None:
        self._forward("pause")

    def resume(self) -> None:
        self._forward("resume")

    def step(self) -> None:
        self._forward("step")

    def stop(self, status: RunStatus = RunStatus.INTERRUPTED) -> None:
        self._forward("stop", status)

    def request_flush(self) -> None:
        pass


@dataclass
class EndedRun:
    """What the app keeps of a run that has ended."""

    path: Path
    kept: bool
    status: RunStatus | None
    iteration: int
    total_iterations: int
    seconds: float
    wall_seconds: float
    finished: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def of(cls, run: Run) -> EndedRun:
        ended = cls(
            run.path,
            run.kept,
            run.status,
            run.iteration,
            run.total_iterations,
            run.seconds,
            run.wall_seconds,
        )
        ended.finished.set()
        return ended

    def stop(self, status: RunStatus = RunStatus.INTERRUPTED) -> None:
        pass

    def request_flush(self) -> None:
        pass
