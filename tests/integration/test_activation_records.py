"""Activation statistics on the probe images, recorded with every evaluation of a real run:
the probe, both evaluators, the run folder, --json, and the findings they make possible."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from vgtui.core.activation_stats import HISTOGRAM_STRIDE
from vgtui.core.config import RunConfig, parse_setups
from vgtui.core.diagnosis import diagnose
from vgtui.core.eval_blocks import dataset_blocks, evaluation_blocks
from vgtui.core.evaluation.helpers import HelperEvaluator, helpers_supported
from vgtui.core.evaluation.local import LocalEvaluator
from vgtui.core.inference import probe_buffer_fits
from vgtui.core.trainer import Trainer
from vgtui.core.vocabulary import Diagnosis


def records_of(config: RunConfig, data, evaluator=None) -> list:
    records = []
    trainer = Trainer(config, data, np.random.default_rng(config.seed), evaluator)
    try:
        trainer.run(records.extend)
    finally:
        trainer.close()
    return records


def probe_fingerprint(blocks) -> list[tuple[int, float]]:
    """Each probe image's label and ink, in probe order."""
    rows = []
    for block in sorted(blocks, key=lambda b: b.probe_at):
        start, stop = block.probe_rows
        ink = block.inputs[:-1, start:stop].sum(axis=0)
        rows += list(zip(block.labels[start:stop].tolist(), ink.tolist(), strict=True))
    return rows


def test_the_probe_is_chosen_by_the_seed_and_every_test_image_still_counts_once(mnist):
    blocks = dataset_blocks(mnist, probe_size=1000, seed=0)
    assert sum(b.rows for b in blocks) == mnist.test_size
    labels = np.concatenate([b.labels for b in blocks])
    assert np.array_equal(np.bincount(labels), np.bincount(mnist.test_labels))
    spans = sorted((b.probe_at, b.probe_at + b.probe_size) for b in blocks)
    assert spans[0][0] == 0 and spans[-1][1] == 1000  # every block holds its share, in turn
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert all(b.probe_size == 50 for b in blocks)  # stratified: an equal share per block
    first = probe_fingerprint(blocks)
    assert first == probe_fingerprint(dataset_blocks(mnist, probe_size=1000, seed=0))
    assert first != probe_fingerprint(dataset_blocks(mnist, probe_size=1000, seed=1))
    assert len(set(first)) > 900 and len({label for label, _ in first}) == 10
    # the probe costs no product of its own: the blocks are as cheap as without it
    plain = dataset_blocks(mnist)
    assert sum(b.cost for b in blocks) == sum(b.cost for b in plain)


def test_every_test_image_has_the_same_chance_to_be_in_the_probe():
    """Issue 18, item 11: the probe was a run of consecutive shape-sorted images per block,
    so an image at a block's edge had about 1/46 the chance of one in its middle. Now each
    block's share is a uniform draw: over 400 draws every image is in about 10% of them."""
    rng = np.random.default_rng(0)
    count, draws = 200, 400
    images = ((rng.random((count, 784)) < 0.2) * rng.integers(1, 256, (count, 784))).astype(
        np.uint8
    )
    index = np.arange(count)  # as labels: each row says which image it is
    included = np.zeros(count)
    for draw in range(draws):
        blocks = evaluation_blocks(images, index, 50, 20, np.random.default_rng(draw))
        for block in blocks:
            start, stop = block.probe_rows
            assert stop - start == 5  # stratified: 5 of each block of 50
            included[block.labels[start:stop]] += 1
    share = included / draws
    assert abs(share.mean() - 0.1) < 1e-12  # 20 of 200 each time
    assert share.min() > 0.04 and share.max() < 0.16  # 0.1 within 4 sd (0.015) for every image


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_probes_label_shares_follow_the_test_sets(mnist, seed):
    """A run of 50 shape-sorted images per block put label shares up to 6 points off."""
    blocks = dataset_blocks(mnist, probe_size=1000, seed=seed)
    probe = np.concatenate([b.labels[b.probe_rows[0] : b.probe_rows[1]] for b in blocks])
    shares = np.bincount(probe, minlength=10) / probe.size
    expected = np.bincount(mnist.test_labels, minlength=10) / mnist.test_size
    assert np.abs(shares - expected).max() < 0.025


def test_recording_activations_changes_nothing_else(mnist):
    config = RunConfig(iterations=40, eval_every=20)
    with_probe = records_of(config, mnist, LocalEvaluator(dataset_blocks(mnist, 500, 1000, 0)))
    without = records_of(
        replace(config, probe_size=0), mnist, LocalEvaluator(dataset_blocks(mnist))
    )
    assert all(r.activations for r in with_probe) and not any(r.activations for r in without)
    assert [replace(r, activations=(), seconds=0) for r in with_probe] == [
        replace(r, seconds=0) for r in without
    ]
    first = with_probe[0].activations[0]
    assert first.units == 40 and sum(first.histogram) == 40 * 1000 // HISTOGRAM_STRIDE


@pytest.mark.skipif(not helpers_supported(), reason="no helper processes on this platform")
def test_helper_processes_return_the_same_statistics_as_the_trainer_thread(mnist):
    config = RunConfig(iterations=30, eval_every=10, probe_size=700)
    blocks = dataset_blocks(mnist, probe_size=700, seed=0)
    local = records_of(config, mnist, LocalEvaluator(blocks))
    shared = records_of(config, mnist, HelperEvaluator(blocks, helpers=1))
    assert [r.activations for r in local] == [r.activations for r in shared]
    assert sum(local[0].activations[1].histogram) == 20 * len(range(0, 700, HISTOGRAM_STRIDE))


def test_the_run_folder_and_json_stream_carry_the_statistics(tmp_path, run_vgtui):
    completed = run_vgtui(
        "--json", "--iters", "20", "--eval-every", "10",
        "--setups", "sigmoid-gauss,relu-he", "--out", str(tmp_path),
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    streamed = [json.loads(line) for line in completed.stdout.splitlines()]
    assert len(streamed) == 4 and all(len(r["activations"]) == 2 for r in streamed)
    (run_dir,) = tmp_path.iterdir()
    assert (run_dir / "records.jsonl").read_text() == completed.stdout  # one line format
    table = np.genfromtxt(
        run_dir / "activations.csv", delimiter=",", names=True, dtype=None, encoding=None
    )  # the README's one line
    assert len(table) == 2 * 2 * 2  # evaluations x setups x hidden layers
    with (run_dir / "activations.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    last = streamed[-1]
    row = next(
        r
        for r in rows
        if r["setup"] == last["setup"] and r["iteration"] == "20" and r["layer"] == "2"
    )
    assert [int(row[f"bin_{k}"]) for k in range(20)] == last["activations"][1]["histogram"]
    assert row["hist_scale"] == ("log10" if last["setup"] == "relu-he" else "linear")


def kinds_of(config: RunConfig, data) -> dict[str, set]:
    findings = diagnose(records_of(config, data), config.setup_names)
    kinds: dict[str, set] = {}
    for finding in findings:
        kinds.setdefault(finding.setup, set()).add(finding.kind)
    return kinds


def test_sigmoid_with_tiny_weights_collapses_and_large_weights_saturate(mnist):
    config = RunConfig(
        iterations=200, setups=parse_setups("sigmoid-gauss,sigmoid-gauss:1,tanh-gauss:1")
    )
    kinds = kinds_of(config, mnist)
    assert Diagnosis.COLLAPSE in kinds["sigmoid-gauss"]
    assert Diagnosis.SATURATION not in kinds["sigmoid-gauss"]
    assert Diagnosis.SATURATION in kinds["sigmoid-gauss:1"]
    assert Diagnosis.SATURATION in kinds["tanh-gauss:1"]
    assert Diagnosis.COLLAPSE not in kinds["tanh-gauss:1"]


def test_a_learning_rate_too_high_for_relu_kills_units(mnist):
    config = RunConfig(iterations=200, learning_rate=0.8, setups=parse_setups("relu-he"))
    kinds = kinds_of(config, mnist)
    assert Diagnosis.DEAD_UNITS in kinds["relu-he"]
    healthy = kinds_of(replace(config, learning_rate=0.1), mnist)
    assert healthy["relu-he"] == {Diagnosis.HEALTHY}


@pytest.mark.skipif(not helpers_supported(), reason="no helper processes on this platform")
def test_a_probe_too_large_for_a_buffer_is_tallied_block_by_block_to_the_same_numbers(mnist):
    """The whole test set as the probe (10 MB of activations a step) is tallied as each block
    is evaluated, in whichever lane; the numbers are those of a buffer tallied once."""
    config = RunConfig(iterations=20, eval_every=10, probe_size=10_000)
    layer_sizes = (784, *config.hidden, 10)
    assert not probe_buffer_fits(layer_sizes, len(config.setups), 10_000)
    assert probe_buffer_fits(layer_sizes, len(config.setups), 1000)
    blocks = dataset_blocks(mnist, probe_size=10_000, seed=0)
    shared = records_of(config, mnist, HelperEvaluator(blocks, helpers=1))
    local = records_of(config, mnist, LocalEvaluator(blocks))
    assert len(shared) == len(local) == 8
    for a, b in zip(shared, local, strict=True):
        for x, y in zip(a.activations, b.activations, strict=True):
            assert x.histogram == y.histogram and x.dead_units == y.dead_units
            assert x.mean == pytest.approx(y.mean, rel=1e-6)
            assert x.spread == pytest.approx(y.spread, rel=1e-4, abs=1e-9)
        assert sum(a.activations[0].histogram) == 40 * 10_000 // HISTOGRAM_STRIDE


@pytest.mark.skipif(not helpers_supported(), reason="no helper processes on this platform")
def test_an_evaluation_whose_last_lane_died_before_tallying_is_tallied_by_the_trainer(mnist):
    import os
    import signal
    import time

    from vgtui.core.bank import NetworkBank
    from vgtui.core.inference import InferenceBank

    config = RunConfig()
    bank = NetworkBank((784, 40, 20, 10), config.setups, np.random.default_rng(0))
    snapshot = bank.evaluation_snapshot()
    blocks = dataset_blocks(mnist, probe_size=1000, seed=0)
    expected = LocalEvaluator(blocks).start(snapshot)
    expected.counts()
    evaluator = HelperEvaluator(blocks, helpers=1)
    try:
        evaluator.start(snapshot).counts()  # starts the helper (and shares the blocks)
        (pid,) = evaluator.helper_pids
        os.kill(pid, signal.SIGKILL)
        for _ in range(500):  # until it is gone (a zombie, or reaped)
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                break
            if stat.rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.01)
        pending = evaluator.start(snapshot)  # notices the dead helper: this thread alone
        shared = pending.shared
        inference = InferenceBank(snapshot.layer_sizes, snapshot.slot_activations)
        width = inference.probe_width
        room = np.zeros((4, width)), np.zeros((4, width))
        target = shared.probe_target(*room)
        assert target is not None and target.buffer is not None
        held = [
            shared.complete(
                b, inference.count_correct(block, shared.params, target), hold_last=True
            )
            for b, block in enumerate(evaluator.blocks)
        ]
        assert held[-1] and not any(held[:-1])  # the last lane "dies" here, tallies unwritten
        assert not shared.finished and not shared.tallied()
        assert np.array_equal(pending.counts(), expected.counts())
        assert np.allclose(pending.probe_sums(), expected.probe_sums())
    finally:
        evaluator.close()
