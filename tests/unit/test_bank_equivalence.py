"""The fast float32 engine against a plain float64 implementation of the same SGD steps.

The reference (tests/reference.py) is deliberately naive: one setup at a time, lists of float64
matrices, the textbook formulas. Both start from the same weights and see the same real MNIST
batches; after every step the float32 engine must agree with it to float32 accuracy.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.reference import LEARNING_RATE, engine_pass, plain_nets
from vgtui.core.bank import NetworkBank
from vgtui.core.config import RunConfig, SetupSpec
from vgtui.core.eval_blocks import TEST_BLOCK_ROWS, evaluation_blocks
from vgtui.core.inference import InferenceBank, InferenceBlock
from vgtui.core.trainer import Trainer
from vgtui.core.vocabulary import ACTIVATION_NAMES

STEPS = 30
BATCH = 50
SIZES = (784, 40, 20, 10)


def inference_of(bank: NetworkBank) -> InferenceBank:
    return InferenceBank(bank.layer_sizes, bank.slot_activations)


def relative_error(fast: np.ndarray, plain: np.ndarray, scale: np.ndarray) -> float:
    """Largest deviation relative to the largest entry of ``scale``."""
    return float(np.abs(fast - plain).max() / max(float(np.abs(scale).max()), 1e-30))


def bank_and_references(activation: str, notebook_grad: bool):
    # A mixed bank exercises the grouping of setups by activation (slots != setup order).
    setups = [
        SetupSpec(activation, "xavier"),
        SetupSpec("relu" if activation != "relu" else "tanh", "he"),
        SetupSpec(activation, "gauss", 0.05),
    ]
    bank = NetworkBank(SIZES, setups, np.random.default_rng(7), notebook_grad=notebook_grad)
    return bank, plain_nets(bank)


@pytest.mark.parametrize("notebook_grad", [False, True], ids=["exact", "notebook"])
@pytest.mark.parametrize("activation", ACTIVATION_NAMES)
def test_float32_engine_matches_plain_float64_sgd(mnist, activation, notebook_grad):
    bank, plain = bank_and_references(activation, notebook_grad)
    start = [
        [bank.weight(s, layer).copy() for layer in range(bank.num_layers)]
        for s in range(len(plain))
    ]
    rng = np.random.default_rng(3)
    for _ in range(STEPS):
        index = rng.integers(0, mnist.train_size, size=BATCH)
        x32 = mnist.train_images[index] * np.float32(1 / 255)
        labels = mnist.train_labels[index].astype(np.intp)
        assert x32.dtype == np.float32
        losses = engine_pass(bank, x32, labels)
        for s, net in enumerate(plain):
            loss = net.step(x32.astype(np.float64), labels, notebook_grad)
            assert losses[s] == pytest.approx(loss, rel=2e-5, abs=1e-6)
            for layer, (dw, db) in enumerate(net.grads):
                fast_dw, fast_db = bank.weight_grad(s, layer), bank.bias_grad(s, layer)
                assert fast_dw.dtype == np.float32 and fast_db.dtype == np.float32
                assert relative_error(fast_dw, dw, dw) < 1e-3
                assert relative_error(fast_db, db, db) < 1e-3
        bank.apply_gradients(LEARNING_RATE)
    for s, net in enumerate(plain):
        for layer in range(bank.num_layers):
            weights = bank.weight(s, layer)
            assert weights.dtype == np.float32 and bank.bias(s, layer).dtype == np.float32
            moved = net.weights[layer] - start[s][layer]
            assert np.abs(moved).max() > 0
            # Agreement to a small fraction of how far SGD moved the weights.
            assert relative_error(weights, net.weights[layer], moved) < 1e-3
            assert relative_error(bank.bias(s, layer), net.biases[layer], net.biases[layer]) < 1e-3
    logits = engine_pass(bank, mnist.test_images[:500] * np.float32(1 / 255))
    assert logits.dtype == np.float32
    for s, net in enumerate(plain):
        plain_logits = net.logits(mnist.test_images[:500] / 255.0)
        assert relative_error(logits[s], plain_logits, plain_logits) < 1e-4


def test_trainer_test_accuracy_matches_plain_float64_forward(mnist):
    """Blocked evaluation, shared with a helper, counts what a plain float64 pass counts."""
    config = RunConfig(iterations=20, eval_every=20)
    trainer = Trainer(config, mnist, np.random.default_rng(0))
    records: list = []
    trainer.run(records.extend)
    trainer.close()
    bank = trainer.bank
    x = mnist.test_images / 255.0
    assert len(records) == len(config.setups)
    for record, net in zip(records, plain_nets(bank), strict=True):
        logits = net.logits(x)
        plain = float((logits.argmax(axis=1) == mnist.test_labels).mean())
        # Only near-ties may flip between float32 and float64: at most a few images.
        assert abs(record.test_accuracy - plain) <= 3 / mnist.test_size
    assert bank.first_layer.dtype == np.float32


def test_pipelined_run_hands_on_the_same_records_as_runs_that_end_there(mnist):
    """run() evaluates while training goes on; its records at each evaluation point must equal
    those of a run that ends at that point (nothing trains after its last snapshot)."""
    config = RunConfig(iterations=60, eval_every=10, setups=RunConfig().setups)
    piped: list = []
    trainer = Trainer(config, mnist, np.random.default_rng(4))
    trainer.run(piped.extend)
    trainer.close()
    stepped: list = []
    for end in range(10, 61, 10):
        short = Trainer(replace(config, iterations=end), mnist, np.random.default_rng(4))
        records: list = []
        short.run(records.extend)
        short.close()
        stepped += [record for record in records if record.iteration == end]

    def strip(records):
        return [
            (r.iteration, r.setup, r.train_accuracy, r.test_accuracy, r.train_loss, r.grad_norms)
            for r in records
        ]

    assert len(piped) == 6 * len(config.setups)
    assert strip(piped) == strip(stepped)


@pytest.mark.parametrize("rare_part", [False, True])
def test_evaluation_snapshot_computes_the_same_logits(mnist, rare_part):
    """Inference (sigmoid folded into tanh, units by samples, only the pixels a block uses,
    rare pixels in a second product over the last images) gives the training pass's logits
    and counts exactly what argmax counts."""
    setups = [
        SetupSpec("sigmoid", "xavier"),
        SetupSpec("relu", "he"),
        SetupSpec("sigmoid", "he"),
        SetupSpec("elu", "he"),
    ]
    bank = NetworkBank(SIZES, setups, np.random.default_rng(1))
    pixels = mnist.test_images[:200]
    users = np.count_nonzero(pixels, axis=0)
    threshold = 10 if rare_part else 1
    common = np.flatnonzero(users >= threshold)
    rare = np.flatnonzero((users > 0) & (users < threshold))
    uses_rare = pixels[:, rare].any(axis=1)
    order = np.concatenate([np.flatnonzero(~uses_rare), np.flatnonzero(uses_rare)])
    pixels = pixels[order]
    labels = mnist.test_labels[:200][order].astype(np.intp)
    scale = np.float32(1 / 255)
    inputs = np.ones((common.size + 1, 200), dtype=np.float32)
    inputs[:-1] = pixels[:, common].T * scale
    rare_inputs = (pixels[200 - np.count_nonzero(uses_rare) :, rare].T * scale).astype(np.float32)
    block = InferenceBlock(inputs, np.append(common, 784), labels, rare_inputs, rare)
    assert (block.rare_inputs.shape[1] > 20) == rare_part  # the second product is used
    snapshot = bank.evaluation_snapshot()
    assert snapshot.first_layer.dtype == np.float32
    assert all(w.dtype == np.float32 for w in snapshot.weights_t[1:])
    fast = inference_of(bank).logits(block, snapshot).copy()  # (slots, classes, rows)
    assert fast.dtype == np.float32
    plain = engine_pass(bank, pixels * scale)  # the training pass: (setups, rows, classes)
    plain_per_slot = plain[bank.slot_order].transpose(0, 2, 1)
    assert relative_error(fast, plain_per_slot, plain_per_slot) < 1e-5
    expected = (plain_per_slot.argmax(axis=1) == labels).sum(axis=1)
    assert np.array_equal(inference_of(bank).count_correct(block, snapshot), expected)


def test_evaluation_blocks_hold_every_test_image_exactly(mnist):
    """Put back together, the blocks (common and rare pixels) are the test set, labels too."""
    blocks = evaluation_blocks(mnist.test_images, mnist.test_labels, TEST_BLOCK_ROWS)
    assert sum(b.rare_inputs.size for b in blocks) > 0
    rebuilt = []
    for block in blocks:
        images = np.zeros((block.rows, 784), dtype=np.float32)
        images[:, block.layer_rows[:-1]] = block.inputs[:-1].T
        rare_rows = block.rare_inputs.shape[1]
        images[block.rows - rare_rows :, block.rare_layer_rows] += block.rare_inputs.T
        assert np.all(block.inputs[-1] == 1.0)
        rebuilt.append(np.column_stack([np.rint(images * 255), block.labels]).astype(np.int64))
    original = np.column_stack([mnist.test_images, mnist.test_labels]).astype(np.int64)
    as_rows = [np.concatenate(rebuilt), original]
    as_rows = [rows[np.lexsort(rows.T[::-1])] for rows in as_rows]
    assert np.array_equal(*as_rows)


def test_counting_breaks_ties_as_argmax_does(mnist):
    """Equal largest logits (here: every logit zero) count as argmax counts them: class 0."""
    bank = NetworkBank(SIZES, [SetupSpec("relu", "he")], np.random.default_rng(1))
    bank.params.flat[:] = 0.0
    labels = mnist.test_labels[:100].astype(np.intp)
    inputs = np.ones((1, 100), dtype=np.float32)  # the ones row only: no pixels used
    block = InferenceBlock(inputs, np.array([784]), labels)
    assert inference_of(bank).count_correct(block, bank.evaluation_snapshot())[0] == np.sum(
        labels == 0
    )


def test_training_without_the_batch_zero_pixels_is_the_full_step(mnist):
    """The trainer leaves out the pixels a batch never uses; gradients match the full pass."""
    setups = [SetupSpec("tanh", "xavier"), SetupSpec("elu", "he")]
    full = NetworkBank(SIZES, setups, np.random.default_rng(2))
    active = NetworkBank(SIZES, setups, np.random.default_rng(2))
    pixels = mnist.train_images[:64]
    labels = mnist.train_labels[:64].astype(np.intp)
    used = np.flatnonzero(pixels.any(axis=0))
    assert used.size < 784 - 100  # a real batch leaves many pixels out
    buffers = active.buffers(64)
    inputs = buffers.active_inputs[:, : used.size + 1]
    inputs[:, :-1] = pixels[:, used] * np.float32(1 / 255)
    inputs[:, -1] = 1.0
    rows = np.append(used, 784)
    fast_losses = active.backward_active(buffers, inputs, rows, labels)
    losses = engine_pass(full, pixels * np.float32(1 / 255), labels)  # every pixel column
    assert fast_losses[active.slot_of] == pytest.approx(losses, rel=1e-5)
    for s in range(len(setups)):
        for layer in range(full.num_layers):
            expected = full.weight_grad(s, layer)
            got = active.weight_grad(s, layer)
            assert got.dtype == np.float32
            assert relative_error(got, expected, expected) < 1e-5
    unused = np.setdiff1d(np.arange(784), used)
    assert not active.first_weights_grad[unused].any()
