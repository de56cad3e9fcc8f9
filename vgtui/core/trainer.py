"""The trainer: several setups stepped in lockstep on the same mini-batches.

A plain object, driven step by step: ``step()`` runs one SGD iteration and returns the records
of an evaluation point (or nothing). ``run()`` loops until done, honouring a :class:`RunControl`
that another thread may use to pause, single-step or cancel. No printing, no global state: all
randomness comes from the ``numpy.random.Generator`` it is given.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from vgtui.core.blas import limit_blas_threads
from vgtui.core.config import RunConfig
from vgtui.core.data import IMAGE_SIDE, NUM_CLASSES, PIXELS, Dataset
from vgtui.core.engine import NetworkBank
from vgtui.core.records import STATUS_DIVERGED, MetricRecord

PIXEL_SCALE = np.float32(1.0 / 255.0)
TEST_BLOCK_ROWS = 500  # test images per evaluation product
MAX_LANES = 4  # threads sharing the test-set evaluation, at most one per available core


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


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
        # The test set in blocks of similar images; each block skips the pixels none of its
        # images uses (zero columns add nothing to the products). Blocks are spread over
        # evaluation lanes: the calling thread plus helper threads, one BLAS thread each (the
        # policy and its measurements are described in vgtui.core.blas).
        limit_blas_threads(1)
        self.lanes = max(1, min(MAX_LANES, available_cores()))
        self._test_blocks = test_blocks(data.test_images, data.test_labels, TEST_BLOCK_ROWS)
        self._lane_blocks = spread(self._test_blocks, self.lanes)
        widest = max(block.layer_rows.size for block in self._test_blocks)
        self._gathered = [
            np.empty((widest, self.bank.first_layer.shape[1]), dtype=np.float32)
            for _ in range(self.lanes)
        ]
        self._helpers = (
            ThreadPoolExecutor(self.lanes - 1, thread_name_prefix="vgtui-eval")
            if self.lanes > 1
            else None
        )
        self._train_buffers = self.bank.buffers(config.batch_size)
        self._batch = self._train_buffers.inputs[:, :PIXELS]
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
            losses = self.bank.backward_prepared(self._train_buffers, labels)[self.bank.slot_of]
            self.iteration += 1
            records: list[MetricRecord] = []
            for s, loss in enumerate(losses):
                if not self.bank.is_frozen(s) and not math.isfinite(loss):
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
        bank = self.bank
        helpers = self._helpers
        pending = (
            [helpers.submit(self._count_correct, lane) for lane in range(1, self.lanes)]
            if helpers is not None
            else []
        )
        correct = self._count_correct(0)
        for future in pending:
            correct += future.result()
        test_acc = correct[bank.slot_of] / self.data.test_size
        logits = bank.forward_prepared(self._train_buffers)
        train_acc = (logits.argmax(axis=2) == batch_labels).mean(axis=1)[bank.slot_of]
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
            if not self.bank.is_frozen(s)
        ]

    def _count_correct(self, lane: int) -> np.ndarray:
        """Correct test predictions per slot over one lane's blocks of the test set."""
        bank = self.bank
        correct = np.zeros(bank.num_setups, dtype=np.int64)
        gathered = self._gathered[lane]
        for block in self._lane_blocks[lane]:
            layer = gathered[: block.layer_rows.size]
            np.take(bank.first_layer, block.layer_rows, axis=0, out=layer)
            correct += bank.count_correct(block.inputs, layer, block.labels, lane)
        return correct

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


@dataclass(frozen=True)
class TestBlock:
    """Similar test images and the pixel columns any of them uses."""

    inputs: np.ndarray  # (rows, used + 1) float32 pixels in [0, 1] and a column of ones
    labels: np.ndarray  # (rows,) true classes
    layer_rows: np.ndarray  # (used + 1,) rows of NetworkBank.first_layer: pixels, then the bias

    @property
    def cost(self) -> int:
        """Multiply-adds per first-layer column."""
        return int(self.inputs.size)


def similar_shape_order(images: np.ndarray) -> np.ndarray:
    """Image indices sorted by the bounding box of the ink (left edge, width, top edge), so
    neighbours share most of their pixels."""
    ink = images.reshape(images.shape[0], IMAGE_SIDE, IMAGE_SIDE) != 0
    positions = np.arange(IMAGE_SIDE)
    in_columns, in_rows = ink.any(axis=1), ink.any(axis=2)
    left = np.where(in_columns, positions, IMAGE_SIDE).min(axis=1)
    right = np.where(in_columns, positions, -1).max(axis=1)
    top = np.where(in_rows, positions, IMAGE_SIDE).min(axis=1)
    return np.lexsort((top, right - left, left))


def test_blocks(images: np.ndarray, labels: np.ndarray, rows: int) -> list[TestBlock]:
    """The test set cut into blocks of about ``rows`` similar images (see TestBlock)."""
    order = similar_shape_order(images)
    count = max(1, round(len(order) / rows))
    blocks = []
    for part in np.array_split(order, count):
        pixels = images[part]
        used = np.flatnonzero(pixels.any(axis=0))
        inputs = np.empty((part.size, used.size + 1), dtype=np.float32)
        np.multiply(pixels[:, used], PIXEL_SCALE, out=inputs[:, :-1])
        inputs[:, -1] = 1.0
        blocks.append(TestBlock(inputs, labels[part].astype(np.intp), np.append(used, PIXELS)))
    return blocks


def spread(blocks: list[TestBlock], lanes: int) -> list[list[TestBlock]]:
    """Blocks dealt to ``lanes`` lanes so that every lane gets about the same work."""
    shares: list[list[TestBlock]] = [[] for _ in range(lanes)]
    loads = [0] * lanes
    for block in sorted(blocks, key=lambda b: b.cost, reverse=True):
        lane = loads.index(min(loads))
        shares[lane].append(block)
        loads[lane] += block.cost
    return shares
