"""The lockstep trainer: records, determinism, control from another thread, divergence."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from tests.reference import plain_nets
from vgtui.core.config import RunConfig, parse_setups
from vgtui.core.control import RunControl
from vgtui.core.records import MetricRecord
from vgtui.core.trainer import Trainer
from vgtui.core.vocabulary import SetupStatus

SHORT = RunConfig(iterations=30, eval_every=10)


def collect(trainer: Trainer, control: RunControl | None = None) -> tuple[bool, list]:
    """Whether the trainer ran to the end, and its records."""
    records: list[MetricRecord] = []
    trainer.run(records.extend, control)
    return trainer.done, records


def test_records_at_every_evaluation_point(mnist):
    config = RunConfig(iterations=25, eval_every=10)
    done, records = collect(Trainer(config, mnist, np.random.default_rng(0)))
    assert done
    assert sorted({r.iteration for r in records}) == [10, 20, 25]
    assert [r.setup for r in records[:4]] == list(config.setup_names)
    for record in records:
        assert 0.0 <= record.train_accuracy <= 1.0 and 0.0 <= record.test_accuracy <= 1.0
        assert len(record.grad_norms) == 3 and all(g >= 0 for g in record.grad_norms)
        assert math.isfinite(record.train_loss) and record.train_loss > 0
    with pytest.raises(AttributeError):
        records[0].iteration = 5  # records are immutable


def test_test_accuracy_is_measured_on_the_full_test_set(mnist):
    trainer = Trainer(RunConfig(iterations=10, eval_every=10), mnist, np.random.default_rng(0))
    done, records = collect(trainer)
    trainer.close()
    assert done and [r.iteration for r in records] == [10] * len(trainer.setup_names)
    # Recompute with the float64 reference over all 10,000 test images.
    inputs = mnist.test_images / 255.0
    for record, net in zip(records, plain_nets(trainer.bank), strict=True):
        expected = (net.logits(inputs).argmax(axis=1) == mnist.test_labels).mean()
        # Only near-ties may flip between float32 and float64: at most a few images.
        assert record.test_accuracy == pytest.approx(expected, abs=3e-4)
    assert all(
        r.test_accuracy * 10000 == pytest.approx(round(r.test_accuracy * 10000)) for r in records
    )


def test_same_seed_same_numbers(mnist):
    first = collect(Trainer(SHORT, mnist, np.random.default_rng(42)))[1]
    second = collect(Trainer(SHORT, mnist, np.random.default_rng(42)))[1]
    other = collect(Trainer(SHORT, mnist, np.random.default_rng(43)))[1]
    strip = [
        (r.iteration, r.setup, r.train_accuracy, r.test_accuracy, r.train_loss, r.grad_norms)
        for r in first
    ]
    assert strip == [
        (r.iteration, r.setup, r.train_accuracy, r.test_accuracy, r.train_loss, r.grad_norms)
        for r in second
    ]
    assert [r.train_loss for r in first] != [r.train_loss for r in other]


def test_pause_step_and_cancel_from_another_thread(mnist):
    config = RunConfig(iterations=10_000, eval_every=5)
    trainer = Trainer(config, mnist, np.random.default_rng(0))
    control = RunControl(paused=True)
    seen: list[MetricRecord] = []
    got_records = threading.Event()

    def on_records(records):
        seen.extend(records)
        got_records.set()

    worker = threading.Thread(target=lambda: trainer.run(on_records, control))
    worker.start()
    try:
        assert not got_records.wait(0.3)  # paused: nothing happens
        assert trainer.iteration == 0
        control.step_interval(config.eval_every)  # a step: to the next evaluation point
        assert got_records.wait(10)
        deadline = threading.Event()
        deadline.wait(0.2)
        assert trainer.iteration == 5
        control.resume()
        for _ in range(2000):
            if trainer.iteration >= 40:
                break
            deadline.wait(0.01)
        assert trainer.iteration >= 40
        control.pause()
        deadline.wait(0.2)
        paused_at = trainer.iteration
        deadline.wait(0.3)
        assert trainer.iteration == paused_at
    finally:
        control.cancel()
        worker.join(5)
    assert not worker.is_alive()
    assert not trainer.done  # cancelled
    assert trainer.iteration < config.iterations


def test_divergent_setup_is_marked_and_others_go_on(mnist):
    # Huge initial weights and learning rate overflow the ReLU net; sigmoid-gauss stays finite.
    config = RunConfig(
        iterations=60,
        eval_every=10,
        learning_rate=10.0,
        setups=parse_setups("relu-gauss:100,sigmoid-gauss"),
    )
    trainer = Trainer(config, mnist, np.random.default_rng(0))
    done, records = collect(trainer)
    assert done
    diverged = [r for r in records if r.status == SetupStatus.DIVERGED]
    assert [r.setup for r in diverged] == ["relu-gauss:100"]
    after = [
        r for r in records if r.setup == "relu-gauss:100" and r.iteration > diverged[0].iteration
    ]
    assert after == []
    sigmoid = [r for r in records if r.setup == "sigmoid-gauss"]
    assert sigmoid[-1].iteration == 60 and math.isfinite(sigmoid[-1].train_loss)


def test_any_depth_and_width(mnist):
    config = RunConfig(
        iterations=20,
        eval_every=10,
        hidden=(64, 32, 16, 8),
        setups=parse_setups("tanh-xavier,leaky-relu-he,elu-he"),
    )
    _, records = collect(Trainer(config, mnist, np.random.default_rng(0)))
    assert len(records) == 6
    assert all(len(r.grad_norms) == 5 for r in records)


def test_step_interval_pauses_exactly_at_evaluation_points(mnist):
    config = RunConfig(iterations=100_000, eval_every=7)
    trainer = Trainer(config, mnist, np.random.default_rng(0))
    control = RunControl()
    seen: list[MetricRecord] = []
    worker = threading.Thread(target=lambda: trainer.run(seen.extend, control))
    worker.start()
    waiter = threading.Event()
    try:
        for _ in range(2000):  # let it run a while, then ask for a step while running
            if trainer.iteration >= 30:
                break
            waiter.wait(0.01)
        control.step_interval(config.eval_every)
        for _ in range(500):
            waiter.wait(0.01)
            if seen and seen[-1].iteration == trainer.iteration:
                break
        first_stop = trainer.iteration
        assert first_stop % 7 == 0 and first_stop >= 30
        waiter.wait(0.2)
        assert trainer.iteration == first_stop  # paused there
        control.step_interval(config.eval_every)  # two presses queue two intervals
        control.step_interval(config.eval_every)
        for _ in range(500):
            waiter.wait(0.01)
            if trainer.iteration == first_stop + 14 and seen[-1].iteration == first_stop + 14:
                break
        waiter.wait(0.2)
        assert trainer.iteration == first_stop + 14
        assert seen[-1].iteration == first_stop + 14  # its records were handed on
    finally:
        control.cancel()
        worker.join(10)
    assert not worker.is_alive()
