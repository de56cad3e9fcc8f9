"""The trainer: several setups stepped in lockstep on the same mini-batches.

A plain object, driven step by step: ``step()`` runs one SGD iteration and returns the records
of an evaluation point (or nothing). ``run()`` loops until done, honouring a :class:`RunControl`
that another thread may use to pause, single-step or cancel. No printing; all randomness comes
from the ``numpy.random.Generator`` it is given.

Speed (see bench/README.md): each mini-batch leaves out the pixels none of its images uses; the
test set is cut into blocks of similar images, each without the pixels none of its images uses;
the evaluation of a parameter snapshot is shared block by block between lanes: this thread and
one helper process per further core (:mod:`vgtui.core.evaluation`), one BLAS thread each (the
policy is explained in :mod:`vgtui.core.blas`). ``run()`` keeps training while the helpers
evaluate and hands records on in order as they complete; ``step()`` waits for its own.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from vgtui.core.blas import limit_blas_threads
from vgtui.core.config import RunConfig
from vgtui.core.data import IMAGE_SIDE, NUM_CLASSES, PIXELS, Dataset
from vgtui.core.engine import NetworkBank
from vgtui.core.evaluation import Evaluation, EvaluationPool
from vgtui.core.inference import InferenceBlock
from vgtui.core.records import STATUS_DIVERGED, MetricRecord

PIXEL_SCALE = np.float32(1.0 / 255.0)
TEST_BLOCK_ROWS = 500  # test images per evaluation product
RARE_PIXEL_SHARE = 0.04  # a pixel fewer of a block's images use goes to its second product
MAX_LANES = 4  # this thread and helper processes sharing evaluations, at most one per core
LEND_WHEN_UNFINISHED = 3  # run() lends the helpers a block per iteration from this backlog on
MAX_PENDING_EVALUATIONS = 4  # run() lets training run ahead of at most this many evaluations
SNAPSHOT_SLOTS = MAX_PENDING_EVALUATIONS + 3  # shared snapshot slots (see EvaluationPool)


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
        self._interval = 1
        self._pending_intervals = 0  # step requests not yet turned into a target iteration
        self._run_until = 0  # while paused, run while the iteration is below this

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
        self._step_budget = 0
        self._pending_intervals = 0
        self._run_until = 0

    def step_interval(self, every: int) -> None:
        """Run to the next multiple of ``every`` iterations, then pause; each further call
        before that adds one more interval. The target is fixed by the trainer's thread from
        its own iteration count, so a request made while running never overshoots."""
        with self._condition:
            self._paused = True
            self._step_budget = 0
            if self._run_until:
                self._run_until += every
            else:
                self._interval = every
                self._pending_intervals += 1
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
            while not self._may_run(iteration) and not self._cancelled:
                self._condition.wait()
            if self._cancelled:
                return False
            if self._paused and self._step_budget > 0:
                self._step_budget -= 1
            return True

    def _may_run(self, iteration: int | None) -> bool:
        """Whether one more iteration may run (call with the lock held)."""
        if not self._paused or self._step_budget > 0:
            return True
        if iteration is None:
            return False
        if self._pending_intervals:
            self._run_until = (iteration // self._interval + self._pending_intervals) * (
                self._interval
            )
            self._pending_intervals = 0
        return iteration < self._run_until


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
        # images uses (zero columns add nothing to the products). The lanes (this thread plus
        # one helper process per further core, one BLAS thread each: the policy and its
        # measurements are in vgtui.core.blas) share an evaluation block by block.
        limit_blas_threads(1)
        self.lanes = max(1, min(MAX_LANES, available_cores()))
        blocks = evaluation_blocks(data.test_images, data.test_labels, TEST_BLOCK_ROWS)
        blocks.sort(key=lambda block: block.cost, reverse=True)  # big ones first
        self._test_size = data.test_size
        self._evaluations = EvaluationPool(
            self.bank.inference, blocks, helpers=self.lanes - 1, slots=SNAPSHOT_SLOTS
        )
        self._train_buffers = self.bank.buffers(config.batch_size)
        self._batch = self._train_buffers.active_inputs[:, :0]  # the current batch
        self._batch_rows = np.empty(0, dtype=np.intp)  # its rows of bank.first_layer
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
        """Draw the next mini-batch into ``_batch``, leaving out the pixels that are zero in
        all of its images (about 37% of them: exact, their products are zero)."""
        # Sampled with replacement, as the notebook's np.random.choice(train_size, batch_size).
        index = self.rng.integers(0, self.data.train_size, size=self.config.batch_size)
        pixels = self.data.train_images[index]
        used = np.flatnonzero(pixels.any(axis=0))
        self._batch = self._train_buffers.active_inputs[:, : used.size + 1]
        np.multiply(pixels[:, used], PIXEL_SCALE, out=self._batch[:, :-1])
        self._batch[:, -1] = 1.0
        self._batch_rows = np.append(used, PIXELS)
        return self.data.train_labels[index].astype(np.intp)

    def step(self) -> tuple[MetricRecord, ...]:
        """Run one SGD iteration; return the records of this iteration if it is an evaluation
        point (or a setup diverged), else an empty tuple."""
        if self.done:
            return ()
        records, evaluation = self._advance()
        if evaluation is not None:
            records += self._complete(evaluation)
        return tuple(records)

    def _complete(self, evaluation: _Evaluation) -> list[MetricRecord]:
        """Finish ``evaluation`` on this thread's lane (counted as compute time); its records."""
        started = time.perf_counter()
        records = evaluation.records()
        self.seconds += time.perf_counter() - started
        return records

    def _advance(self) -> tuple[list[MetricRecord], _Evaluation | None]:
        """One SGD iteration: its records so far and, at an evaluation point, the test-set
        evaluation it started (helper lanes are already working on it)."""
        started = time.perf_counter()
        # Overflow in a diverging setup is expected; it is detected below, not printed.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            labels = self._next_batch()
            bank = self.bank
            losses = bank.backward_active(
                self._train_buffers, self._batch, self._batch_rows, labels
            )[bank.slot_of]
            bank.apply_gradients(self.config.learning_rate)
            self.iteration += 1
            records: list[MetricRecord] = []
            for s, loss in enumerate(losses):
                if not bank.is_frozen(s) and not math.isfinite(loss):
                    records.append(self._diverged_record(s))
            self._loss_sum += losses
            self._loss_steps += 1
            evaluation = None
            if self.iteration % self.config.eval_every == 0 or self.done:
                evaluation = self._start_evaluation(labels)
        self.seconds += time.perf_counter() - started
        return records, evaluation

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

    def _start_evaluation(self, batch_labels: np.ndarray) -> _Evaluation:
        """Measure what belongs to this iteration now (train accuracy on the current batch
        after the update, mean loss, gradient norms) and start the test-set evaluation of a
        snapshot of the parameters on the helper lanes."""
        bank = self.bank
        logits = bank.forward_active(self._train_buffers, self._batch, self._batch_rows)
        train_acc = (logits.argmax(axis=2) == batch_labels).mean(axis=1)[bank.slot_of]
        mean_loss = self._loss_sum / max(self._loss_steps, 1)
        self._loss_sum[:] = 0.0
        self._loss_steps = 0
        partial_records = [
            (
                int(bank.slot_of[s]),
                MetricRecord(
                    iteration=self.iteration,
                    setup=name,
                    train_accuracy=float(train_acc[s]),
                    test_accuracy=math.nan,
                    train_loss=float(mean_loss[s]),
                    grad_norms=bank.grad_norms(s),
                    seconds=self.seconds,
                ),
            )
            for s, name in enumerate(self.setup_names)
            if not bank.is_frozen(s)
        ]
        pool = self._evaluations
        return _Evaluation(
            pool, pool.start(bank.evaluation_snapshot()), partial_records, self._test_size
        )

    def run(
        self,
        on_records: Callable[[Sequence[MetricRecord]], None],
        control: RunControl | None = None,
    ) -> str:
        """Step until done or cancelled; hand every non-empty batch of records to
        ``on_records``, in iteration order. Returns ``"done"`` or ``"cancelled"``.

        Unlike :meth:`step`, the loop does not wait for test-set evaluations: helper lanes
        evaluate a parameter snapshot while training goes on, this thread lends a block of
        test images per iteration once evaluations pile up, and records are handed on as soon
        as they are complete (at the latest before pausing, on cancel and at the end)."""
        outbox: deque[tuple[list[MetricRecord], _Evaluation | None]] = deque()

        def hand_on(wait: bool) -> None:
            while outbox:
                records, evaluation = outbox[0]
                if evaluation is not None:
                    if not evaluation.finished and not wait:
                        return
                    records = records + self._complete(evaluation)
                outbox.popleft()
                if records:
                    on_records(records)

        def flush() -> None:
            hand_on(wait=True)

        try:
            while not self.done:
                if control is not None and not control.wait_to_proceed(flush, self.iteration):
                    flush()
                    return OUTCOME_CANCELLED
                outbox.append(self._advance())
                started = time.perf_counter()
                unfinished = [e for _, e in outbox if e is not None and not e.finished]
                if len(unfinished) >= LEND_WHEN_UNFINISHED:
                    unfinished[0].work_one()
                for evaluation in unfinished[:-MAX_PENDING_EVALUATIONS]:
                    evaluation.finish()
                self.seconds += time.perf_counter() - started
                hand_on(wait=False)
        except KeyboardInterrupt:
            flush()  # evaluations already under way still reach on_records
            raise
        flush()
        return OUTCOME_DONE

    def close(self) -> None:
        """Stop the helper processes (the trainer cannot run afterwards)."""
        self._evaluations.close()


class _Evaluation:
    """A pending test-set evaluation and the records waiting for its result."""

    def __init__(
        self,
        pool: EvaluationPool,
        evaluation: Evaluation,
        partial_records: list[tuple[int, MetricRecord]],
        test_size: int,
    ) -> None:
        self._pool, self._evaluation = pool, evaluation
        self._partial_records = partial_records  # (slot, record without test accuracy)
        self._test_size = test_size

    @property
    def finished(self) -> bool:
        return self._evaluation.finished

    def work_one(self) -> bool:
        """Evaluate one more block on this thread; False when none is left to take."""
        return self._pool.work_one(self._evaluation)

    def finish(self) -> np.ndarray:
        """Evaluate what is left here, wait for the helpers; correct predictions per slot."""
        return self._pool.finish(self._evaluation)

    def records(self) -> list[MetricRecord]:
        """The records of this evaluation point, test accuracy filled in (call once)."""
        correct = self.finish()
        self._pool.release(self._evaluation)
        return [
            replace(record, test_accuracy=float(correct[slot] / self._test_size))
            for slot, record in self._partial_records
        ]


def similar_shape_order(images: np.ndarray) -> np.ndarray:
    """Image indices sorted by the bounding box of the ink (bottom edge, width, left edge), so
    neighbours share most of their pixels. (Of the orders by two or three box edges or sizes,
    this one leaves the fewest pixels in blocks of 500 MNIST test images: 405 on average,
    against 424 for left edge, width, top edge.)"""
    ink = images.reshape(images.shape[0], IMAGE_SIDE, IMAGE_SIDE) != 0
    positions = np.arange(IMAGE_SIDE)
    in_columns, in_rows = ink.any(axis=1), ink.any(axis=2)
    left = np.where(in_columns, positions, IMAGE_SIDE).min(axis=1)
    right = np.where(in_columns, positions, -1).max(axis=1)
    bottom = np.where(in_rows, positions, -1).max(axis=1)
    return np.lexsort((left, right - left, bottom))


def evaluation_blocks(images: np.ndarray, labels: np.ndarray, rows: int) -> list[InferenceBlock]:
    """The test set cut into blocks of about ``rows`` similar images, each without the pixels
    none of its images uses (pixels by images, see InferenceBlock). Pixels few of a block's
    images use go to a second product over just those images, placed last in the block."""
    order = similar_shape_order(images)
    count = max(1, round(len(order) / rows))
    blocks = []
    for part in np.array_split(order, count):
        users = np.count_nonzero(images[part], axis=0)
        threshold = max(1.0, RARE_PIXEL_SHARE * part.size)
        common = np.flatnonzero(users >= threshold)
        rare = np.flatnonzero((users > 0) & (users < threshold))
        uses_rare = images[part][:, rare].any(axis=1)
        part = np.concatenate([part[~uses_rare], part[uses_rare]])
        pixels = images[part]
        inputs = np.empty((common.size + 1, part.size), dtype=np.float32)
        np.multiply(pixels[:, common].T, PIXEL_SCALE, out=inputs[:-1])
        inputs[-1] = 1.0
        rare_images = np.count_nonzero(uses_rare)
        rare_inputs = np.empty((rare.size, rare_images), dtype=np.float32)
        np.multiply(pixels[part.size - rare_images :, rare].T, PIXEL_SCALE, out=rare_inputs)
        blocks.append(
            InferenceBlock(
                inputs,
                np.append(common, PIXELS),
                labels[part].astype(np.intp),
                rare_inputs,
                rare,
            )
        )
    return blocks
