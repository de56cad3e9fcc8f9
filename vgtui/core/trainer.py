"""The trainer: several setups stepped in lockstep on the same mini-batches.

A plain object, driven step by step: ``step()`` runs one SGD iteration and returns the records
of an evaluation point (or nothing). ``run()`` loops until done, honouring a :class:`RunControl`
that another thread may use to pause, single-step or cancel. No printing, no global state: all
randomness comes from the ``numpy.random.Generator`` it is given.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from vgtui.core.config import RunConfig
from vgtui.core.data import NUM_CLASSES, PIXELS, Dataset
from vgtui.core.engine import NetworkBank
from vgtui.core.records import STATUS_DIVERGED, MetricRecord

PIXEL_SCALE = np.float32(1.0 / 255.0)

OUTCOME_DONE = "done"
OUTCOME_CANCELLED = "cancelled"


class RunControl:
    """Thread-safe pause / resume / single-step / cancel for :meth:`Trainer.run`."""

    def __init__(self, paused: bool = False) -> None:
        self._condition = threading.Condition()
        self._paused = paused
        self._cancelled = False
        self._step_budget = 0

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def pause(self) -> None:
        with self._condition:
            self._paused = True
            self._step_budget = 0

    def resume(self) -> None:
        with self._condition:
            self._paused = False
            self._condition.notify_all()

    def grant_steps(self, iterations: int) -> None:
        """While paused, let the trainer run ``iterations`` more iterations, then pause again."""
        with self._condition:
            self._paused = True
            self._step_budget += iterations
            self._condition.notify_all()

    def cancel(self) -> None:
        with self._condition:
            self._cancelled = True
            self._condition.notify_all()

    def wait_to_proceed(self) -> bool:
        """Block while paused; False once cancelled, True when one iteration may run."""
        with self._condition:
            while self._paused and self._step_budget == 0 and not self._cancelled:
                self._condition.wait()
            if self._cancelled:
                return False
            if self._paused:
                self._step_budget -= 1
            return True


class Trainer:
    """Trains one network per setup of ``config`` on ``data`` in lockstep."""

    def __init__(self, config: RunConfig, data: Dataset, rng: np.random.Generator) -> None:
        self.config = config.validate(train_size=data.train_size)
        self.data = data
        self.rng = rng
        sizes = (PIXELS, *config.hidden, NUM_CLASSES)
        self.bank = NetworkBank(sizes, config.setups, rng, notebook_grad=config.notebook_grad)
        self.setup_names = config.setup_names
        # Pixels that are zero in every test image add nothing to the test products: skip them.
        self._test_columns = np.flatnonzero(data.test_images.any(axis=0))
        self._test_inputs = data.test_images[:, self._test_columns].astype(np.float32)
        self._test_inputs *= PIXEL_SCALE
        self._test_labels = data.test_labels.astype(np.intp)
        self._batch = np.empty((config.batch_size, PIXELS), dtype=np.float32)
        self.iteration = 0
        self.seconds = 0.0
        self._loss_sum = np.zeros(len(config.setups))
        self._loss_steps = 0
        self.diverged_at: dict[str, int] = {}

    @property
    def total_iterations(self) -> int:
        return self.config.iterations

    @property
    def done(self) -> bool:
        return self.iteration >= self.config.iterations

    def _next_batch(self) -> np.ndarray:
        # Sampled with replacement, as the notebook's np.random.choice(train_size, batch_size).
        index = self.rng.integers(0, self.data.train_size, size=self.config.batch_size)
        np.multiply(self.data.train_images[index], PIXEL_SCALE, out=self._batch)
        return self.data.train_labels[index].astype(np.intp)

    def step(self) -> tuple[MetricRecord, ...]:
        """Run one SGD iteration; return the records of this iteration if it is an evaluation
        point (or a setup diverged), else an empty tuple."""
        if self.done:
            return ()
        started = time.perf_counter()
        # Overflow in a diverging setup is expected; it is detected below, not printed.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            labels = self._next_batch()
            losses = self.bank.backward(self._batch, labels)
            self.iteration += 1
            records: list[MetricRecord] = []
            for s, loss in enumerate(losses):
                if not self.bank.frozen[s] and not math.isfinite(loss):
                    records.append(self._diverged_record(s))
            self.bank.apply_gradients(self.config.learning_rate)
            self._loss_sum += losses
            self._loss_steps += 1
            if self.iteration % self.config.eval_every == 0 or self.done:
                records.extend(self._evaluate(labels))
        self.seconds += time.perf_counter() - started
        return tuple(records)

    def _diverged_record(self, s: int) -> MetricRecord:
        name = self.setup_names[s]
        self.diverged_at[name] = self.iteration
        record = MetricRecord(
            iteration=self.iteration,
            setup=name,
            train_accuracy=math.nan,
            test_accuracy=math.nan,
            train_loss=math.inf,
            grad_norms=self.bank.grad_norms(s),
            seconds=self.seconds,
            status=STATUS_DIVERGED,
        )
        self.bank.freeze(s)
        return record

    def _evaluate(self, batch_labels: np.ndarray) -> list[MetricRecord]:
        test_pred = self.bank.predict(
            self._test_inputs, self.bank.first_weights[self._test_columns]
        )
        test_acc = (test_pred == self._test_labels).mean(axis=1)
        train_acc = (self.bank.predict(self._batch) == batch_labels).mean(axis=1)
        mean_loss = self._loss_sum / max(self._loss_steps, 1)
        self._loss_sum[:] = 0.0
        self._loss_steps = 0
        return [
            MetricRecord(
                iteration=self.iteration,
                setup=name,
                train_accuracy=float(train_acc[s]),
                test_accuracy=float(test_acc[s]),
                train_loss=float(mean_loss[s]),
                grad_norms=self.bank.grad_norms(s),
                seconds=self.seconds,
            )
            for s, name in enumerate(self.setup_names)
            if not self.bank.frozen[s]
        ]

    def run(
        self,
        on_records: Callable[[Sequence[MetricRecord]], None],
        control: RunControl | None = None,
    ) -> str:
        """Step until done or cancelled; hand every non-empty batch of records to
        ``on_records``. Returns ``"done"`` or ``"cancelled"``."""
        while not self.done:
            if control is not None and not control.wait_to_proceed():
                return OUTCOME_CANCELLED
            records = self.step()
            if records:
                on_records(records)
        return OUTCOME_DONE
