"""Pause, resume, single-step and cancel a training loop from another thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RunControl:
    """Thread-safe pause / resume / step / cancel for :meth:`Trainer.run`."""

    def __init__(self, paused: bool = False) -> None:
        self._condition = threading.Condition()
        self._paused = paused
        self._cancelled = False
        self._interval = 1
        self._pending_intervals = 0  # step requests not yet turned into a target iteration
        self._run_until = 0  # while paused, run while the iteration is below this
        self.throttle: Callable[[int], None] | None = None
        """Called on the training thread before each iteration with the iterations done (the
        app's pace waits there, so training never runs ahead of it)."""
        self._paused_total = 0.0
        self._waiting_since: float | None = None

    @property
    def paused_seconds(self) -> float:
        """How long the training loop has waited while paused (a pace's holds are not pauses:
        they are the run's time)."""
        since = self._waiting_since
        return self._paused_total + (time.perf_counter() - since if since is not None else 0.0)

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def pause(self) -> None:
        with self._condition:
            self._paused = True
            self._clear_steps()

    def resume(self) -> None:
        with self._condition:
            self._paused = False
            self._clear_steps()
            self._condition.notify_all()

    def _clear_steps(self) -> None:
        self._pending_intervals = 0
        self._run_until = 0

    def step_interval(self, every: int) -> None:
        """Run to the next multiple of ``every`` iterations, then pause; each further call
        before that adds one more interval. The target is fixed by the trainer's thread from
        its own iteration count, so a request made while running never overshoots."""
        with self._condition:
            self._paused = True
            if self._run_until:
                self._run_until += every
            else:
                self._interval = every
                self._pending_intervals += 1
            self._condition.notify_all()

    def cancel(self) -> None:
        with self._condition:
            self._cancelled = True
            self._condition.notify_all()

    def wait_to_proceed(
        self, before_waiting: Callable[[], None] | None = None, iteration: int | None = None
    ) -> bool:
        """Block while paused; False once cancelled, True when one iteration may run.
        ``iteration`` is the number of iterations done (needed by :meth:`step_interval`);
        ``before_waiting`` is called (without the lock held) once before blocking."""
        if before_waiting is not None:
            with self._condition:
                must_wait = not self._may_run(iteration) and not self._cancelled
            if must_wait:
                before_waiting()
        with self._condition:
            if not self._may_run(iteration) and not self._cancelled:
                self._waiting_since = time.perf_counter()
                while not self._may_run(iteration) and not self._cancelled:
                    self._condition.wait()
                self._paused_total += time.perf_counter() - self._waiting_since
                self._waiting_since = None
        if self.throttle is not None and iteration is not None and not self._cancelled:
            self.throttle(iteration)
        return not self._cancelled

    def _may_run(self, iteration: int | None) -> bool:
        """Whether one more iteration may run (call with the lock held)."""
        if not self._paused:
            return True
        if iteration is None:
            return False
        if self._pending_intervals:
            self._run_until = (iteration // self._interval + self._pending_intervals) * (
                self._interval
            )
            self._pending_intervals = 0
        return iteration < self._run_until
