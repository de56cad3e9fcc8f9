"""The trainer: several setups stepped in lockstep, on the same mini-batches (the further
seeds of ``--seeds`` on their own mini-batches unless ``same_batches``).

A plain object: ``run()`` steps until done, honouring a
:class:`~vgtui.core.control.RunControl` that another thread may use to pause, step or cancel,
and keeps training while an :class:`~vgtui.core.evaluation.interface.Evaluator` measures the
test set.
No printing; all randomness comes from the ``numpy.random.Generator`` it is given.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from vgtui.core.activation_stats import ProbeLayout, summarize_probe
from vgtui.core.bank import NetworkBank, TrainingBuffers
from vgtui.core.config import RunConfig
from vgtui.core.control import RunControl
from vgtui.core.data import NUM_CLASSES, PIXEL_SCALE, PIXELS, Dataset
from vgtui.core.eval_blocks import dataset_blocks
from vgtui.core.evaluation.interface import Evaluator, Pending, make_evaluator
from vgtui.core.inference import InferenceParameters
from vgtui.core.records import LayerStats, MetricRecord, batch_norm
from vgtui.core.vocabulary import SetupStatus

LEND_WHEN_UNFINISHED = 3  # run() lends the evaluator a block per iteration from this backlog on
MAX_PENDING_EVALUATIONS = 4  # run() lets training run ahead of at most this many evaluations
STOP_GRACE_SECONDS = 0.5  # on cancel or Ctrl-C, pending evaluations may finish within this
WAIT_SECONDS = 0.0005  # between looks at an evaluation other lanes are finishing


def _finish_by(
    pending: Pending,
    deadline: float = math.inf,
    stop: Callable[[], bool] = lambda: False,
    block_seconds: float = 0.0,
) -> bool:
    """Help ``pending`` finish, block by block, unless ``stop()`` or ``deadline`` comes first
    (a block that would end after the deadline, at ``block_seconds`` a block, is not begun);
    whether it finished. Without a deadline, the last blocks (with other lanes) are left to
    ``counts()``, which waits for them or takes over the work of lanes that have gone."""
    while not pending.finished:
        if stop() or time.monotonic() + block_seconds >= deadline:
            return False
        if not pending.help_one():
            if deadline == math.inf:
                pending.counts()
                return True
            time.sleep(WAIT_SECONDS)
    return True


@dataclass(frozen=True)
class EvaluationPoint:
    """The records of one evaluation point, waiting for their test accuracy."""

    partial_records: tuple[tuple[int, MetricRecord], ...]  # (slot, record without test accuracy)
    pending: Pending
    test_size: int
    probe_layout: ProbeLayout
    slot_activations: tuple[str, ...]

    def records(self) -> list[MetricRecord]:
        """The records with test accuracy and the probe's activation statistics filled in
        (waits for the evaluation)."""
        correct = self.pending.counts()
        probe = self.pending.probe_sums()
        activations = (
            summarize_probe(probe, self.probe_layout, self.slot_activations)
            if probe is not None
            else None
        )
        return [
            replace(
                record,
                test_accuracy=float(correct[slot] / self.test_size),
                activations=() if activations is None else activations[slot],
            )
            for slot, record in self.partial_records
        ]


@dataclass
class BatchGroup:
    """Networks that see the same mini-batches: their bank, the generator that draws the
    batches, the bank's work arrays and the current batch."""

    bank: NetworkBank
    rng: np.random.Generator
    buffers: TrainingBuffers
    batch: np.ndarray  # the current batch's inputs (without its all-zero pixel columns)
    rows: np.ndarray  # their rows of bank.first_layer
    labels: np.ndarray


def joined_snapshot(snapshots: Sequence[InferenceParameters]) -> InferenceParameters:
    """Several banks' snapshots as one, their slots one after the other (the evaluator
    measures them as one bank)."""
    if len(snapshots) == 1:
        return snapshots[0]
    first = snapshots[0]
    layers = range(1, len(first.weights_t))
    unused = first.weights_t[0]
    return InferenceParameters(
        first.layer_sizes,
        tuple(name for s in snapshots for name in s.slot_activations),
        np.concatenate([s.first_layer for s in snapshots], axis=1),
        (unused, *(np.concatenate([s.weights_t[n] for s in snapshots]) for n in layers)),
        (unused, *(np.concatenate([s.biases_col[n] for s in snapshots]) for n in layers)),
        tuple(
            res for s in snapshots for res in s.slot_residual or (False,) * len(s.slot_activations)
        ),
    )


class Trainer:
    """Trains one network per setup of ``config`` on ``data`` in lockstep. The test set is
    measured by ``evaluator`` (by default :func:`~vgtui.core.evaluation.interface.make_evaluator`'s
    choice); :meth:`close` frees it."""

    def __init__(
        self,
        config: RunConfig,
        data: Dataset,
        rng: np.random.Generator,
        evaluator: Evaluator | None = None,
    ) -> None:
        self.config = config.validate(train_size=data.train_size)
        self.data = data
        self.rng = rng
        sizes = (PIXELS, *config.hidden, NUM_CLASSES)
        trained = config.trained
        if config.same_batches or config.seeds == 1:  # one bank, rng's batches
            banks = [(rng, [spec for spec, _, _ in trained], [r for _, r, _ in trained])]
        else:  # seed k: a one-seed run of seed + k (its weights, then its batches)
            generators = [rng, *(np.random.default_rng(config.seed + k)
                                 for k in range(1, config.seeds))]  # fmt: skip
            banks = [(generators[k], list(config.setups), None) for k in range(config.seeds)]
        self.groups: tuple[BatchGroup, ...] = tuple(
            self._group(
                NetworkBank(
                    sizes,
                    setups,
                    generator,
                    notebook_grad=config.notebook_grad,
                    bias_variance=config.bias_variance,
                    replicas=replicas,
                    replica_seed=config.seed,
                ),
                generator,
            )
            for generator, setups, replicas in banks
        )
        # network s of the run (config.trained's order) is (group, its setup there)
        self._where = [(g, i) for g, group in enumerate(self.groups)
                       for i in range(group.bank.num_setups)]  # fmt: skip
        offsets = np.cumsum([0, *(g.bank.num_setups for g in self.groups)])
        self._slot_of = np.array([offsets[g] + self.groups[g].bank.slot_of[i]
                                  for g, i in self._where])  # fmt: skip
        self.setup_names = tuple(name for _, _, name in trained)
        """The record name of every network (with several seeds, ``relu-he#2``...)."""
        self.evaluator = (
            evaluator
            if evaluator is not None
            else make_evaluator(
                dataset_blocks(data, probe_size=config.probe_size, seed=config.seed)
            )
        )
        self._probe_layout = ProbeLayout.of(sizes)
        self._slot_activations = tuple(
            name for g in self.groups for name in g.bank.slot_activations
        )
        self._test_size = data.test_size
        self.iteration = 0
        self.seconds = 0.0
        self._loss_sum = np.zeros(len(trained))
        self._loss_steps = 0
        self._block_seconds = 0.0  # a test block on this thread (a running mean): see run()

    def _group(self, bank: NetworkBank, rng: np.random.Generator) -> BatchGroup:
        buffers = bank.buffers(self.config.batch_size)
        empty = np.empty(0, dtype=np.intp)
        return BatchGroup(bank, rng, buffers, buffers.active_inputs[:, :0], empty, empty)

    @property
    def bank(self) -> NetworkBank:
        """The bank of the first seed's networks (of all networks when they share batches)."""
        return self.groups[0].bank

    @property
    def total_iterations(self) -> int:
        return self.config.iterations

    @property
    def done(self) -> bool:
        return self.iteration >= self.config.iterations

    def _next_batch(self, group: BatchGroup) -> None:
        """Draw the group's next mini-batch, leaving out the pixels that are zero in all of
        its images (about 37% of them: exact, their products are zero)."""
        # Sampled with replacement, as the notebook's np.random.choice(train_size, batch_size).
        index = group.rng.integers(0, self.data.train_size, size=self.config.batch_size)
        pixels = self.data.train_images[index]
        used = np.flatnonzero(pixels.any(axis=0))
        group.batch = group.buffers.active_inputs[:, : used.size + 1]
        np.multiply(pixels[:, used], PIXEL_SCALE, out=group.batch[:, :-1])
        group.batch[:, -1] = 1.0
        group.rows = np.append(used, PIXELS)
        group.labels = self.data.train_labels[index].astype(np.intp)

    def _advance(self) -> tuple[list[MetricRecord], EvaluationPoint | None]:
        """One SGD iteration: its records so far and, at an evaluation point, the test-set
        evaluation it started."""
        started = time.perf_counter()
        # Overflow in a diverging setup is expected; it is detected below, not printed.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            parts = []
            for group in self.groups:
                self._next_batch(group)
                bank = group.bank
                losses = bank.train_step(
                    group.buffers, group.batch, group.rows, group.labels, self.config.learning_rate
                )
                parts.append(losses[bank.slot_of])
            losses = parts[0] if len(parts) == 1 else np.concatenate(parts)
            self.iteration += 1
            records: list[MetricRecord] = []
            for s, loss in enumerate(losses):
                if not self._is_frozen(s) and not math.isfinite(loss):
                    records.append(self._diverged_record(s))
            self._loss_sum += losses
            self._loss_steps += 1
            point = None
            if self.iteration % self.config.eval_every == 0 or self.done:
                point = self._start_evaluation()
        self.seconds += time.perf_counter() - started
        return records, point

    def _is_frozen(self, s: int) -> bool:
        g, i = self._where[s]
        return self.groups[g].bank.is_frozen(i)

    def _grad_norms(self, s: int) -> tuple[float, ...]:
        g, i = self._where[s]
        return self.groups[g].bank.grad_norms(i)

    def _diverged_record(self, s: int) -> MetricRecord:
        record = MetricRecord(
            iteration=self.iteration,
            setup=self.setup_names[s],
            train_accuracy=math.nan,
            test_accuracy=math.nan,
            train_loss=math.inf,
            grad_norms=self._grad_norms(s),
            seconds=self.seconds,
            status=SetupStatus.DIVERGED,
        )
        g, i = self._where[s]
        self.groups[g].bank.freeze(i)
        return record

    def _start_evaluation(self) -> EvaluationPoint:
        """Measure what belongs to this iteration now (train accuracy on the current batch
        after the update, mean loss, gradient norms) and start the test-set evaluation of a
        snapshot of the parameters."""
        stats, accuracies = [], []
        for group in self.groups:
            bank = group.bank
            # From this step's backward pass, before the forward pass below reuses its buffers.
            stats.append(bank.layer_statistics(group.buffers, self.config.learning_rate))
            logits = bank.forward_active(group.buffers, group.batch, group.rows)
            right = (logits.argmax(axis=2) == group.labels).mean(axis=1)[bank.slot_of]
            accuracies.append(right)
        layer_stats = np.concatenate(stats)
        train_acc = np.concatenate(accuracies)
        mean_loss = self._loss_sum / max(self._loss_steps, 1)
        self._loss_sum[:] = 0.0
        self._loss_steps = 0
        partial_records = tuple(
            (
                int(self._slot_of[s]),
                MetricRecord(
                    iteration=self.iteration,
                    setup=name,
                    train_accuracy=float(train_acc[s]),
                    test_accuracy=math.nan,
                    train_loss=float(mean_loss[s]),
                    grad_norms=self._grad_norms(s),
                    seconds=self.seconds,
                    layers=tuple(
                        LayerStats(float(d), float(w), float(u), int(z), *batch_norm(bn))
                        for d, w, u, z, *bn in layer_stats[s]
                    ),
                ),
            )
            for s, name in enumerate(self.setup_names)
            if not self._is_frozen(s)
        )
        snapshot = joined_snapshot([g.bank.evaluation_snapshot() for g in self.groups])
        pending = self.evaluator.start(snapshot)
        return EvaluationPoint(
            partial_records, pending, self._test_size, self._probe_layout, self._slot_activations
        )

    def run(
        self,
        on_records: Callable[[Sequence[MetricRecord]], None],
        control: RunControl | None = None,
    ) -> None:
        """Step until done or cancelled (then :attr:`done` is False); hand every non-empty
        batch of records to ``on_records``, in iteration order.

        The loop does not wait for test-set evaluations: the evaluator works on a parameter
        snapshot while training goes on, this thread lends a block of test images per
        iteration once evaluations pile up, and records are handed on as soon as they are
        complete (at the latest before pausing, on cancel and at the end)."""
        outbox: deque[tuple[list[MetricRecord], EvaluationPoint | None]] = deque()

        def hand_on(wait: bool, deadline: float = math.inf) -> None:
            """Hand on what is complete; with ``wait``, finish the evaluations first, but
            only until ``deadline``: what is unfinished then is dropped."""
            while outbox:
                records, point = outbox[0]
                if point is not None:
                    if not wait and not point.pending.finished:
                        return
                    if not _finish_by(point.pending, deadline, block_seconds=self._block_seconds):
                        outbox.clear()
                        return
                    started = time.perf_counter()  # finishing it here is compute time
                    records = records + point.records()
                    self.seconds += time.perf_counter() - started
                outbox.popleft()
                if records:
                    on_records(records)

        def flush() -> None:
            hand_on(wait=True)

        def flush_before_stopping() -> None:
            hand_on(wait=True, deadline=time.monotonic() + STOP_GRACE_SECONDS)

        def cancelled() -> bool:
            return control is not None and control.cancelled

        try:
            while not self.done:
                if control is not None and not control.wait_to_proceed(flush, self.iteration):
                    flush_before_stopping()
                    return
                outbox.append(self._advance())
                started = time.perf_counter()
                unfinished = [p for _, p in outbox if p is not None and not p.pending.finished]
                if len(unfinished) >= LEND_WHEN_UNFINISHED:
                    lent = time.perf_counter()
                    if unfinished[0].pending.help_one():  # how long a block takes here
                        took = time.perf_counter() - lent
                        self._block_seconds = 0.5 * self._block_seconds + 0.5 * took
                for point in unfinished[:-MAX_PENDING_EVALUATIONS]:
                    # Training may not run further ahead of it (a stop may cut this short).
                    if not _finish_by(point.pending, stop=cancelled):
                        break
                self.seconds += time.perf_counter() - started
                hand_on(wait=False)
        except KeyboardInterrupt:
            flush_before_stopping()  # evaluations almost done still reach on_records
            raise
        flush()

    def close(self) -> None:
        """Free the evaluator (the trainer cannot run afterwards)."""
        self.evaluator.close()
