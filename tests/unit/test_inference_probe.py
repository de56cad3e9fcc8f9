"""The probe rows an evaluation copies out of its forward pass, layer by layer, against the
float64 reference's activations."""

from __future__ import annotations

import numpy as np

from tests.reference import f64_activation, remedy_nets
from vgtui.core.bank import NetworkBank
from vgtui.core.config import SetupSpec
from vgtui.core.inference import InferenceBank, InferenceBlock, ProbeTarget, new_probe_target

SIZES = (12, 8, 8, 8, 5, 5, 4)  # runs of equal widths: the layers take turns in two arrays
SETUPS = [
    SetupSpec("tanh", "xavier"),
    SetupSpec("sigmoid", "xavier"),
    SetupSpec("relu", "he", residual=True),
    SetupSpec("tanh", "xavier", residual=True),
    SetupSpec("sigmoid", "xavier", residual=True),
]
ROWS, PROBE = 30, (9, 20)


def test_each_hidden_layers_probe_rows_hold_its_activation_in_both_probe_targets():
    """An evaluation's hidden layers share two arrays per width in turns, so a block's probe
    rows are copied out layer by layer as the pass goes. Each layer's rows hold what its
    activation gives (a +res setup's without the shortcut's input; a plain sigmoid run as
    tanh), as the float64 reference computes it; tallied block by block, the same rows give
    the tallies of the probe held in a buffer, bit for bit."""
    rng = np.random.default_rng(11)
    bank = NetworkBank(SIZES, SETUPS, rng)
    for array in (*bank.params.biases[1:], bank.first_bias):
        array += rng.normal(0.0, 0.3, array.shape).astype(np.float32)
    x, labels = rng.random((ROWS, SIZES[0])), rng.integers(0, SIZES[-1], ROWS)
    inputs = np.vstack([x.T, np.ones((1, ROWS))]).astype(np.float32)
    block = InferenceBlock(inputs, np.arange(SIZES[0] + 1), labels, probe_rows=PROBE)
    snapshot = bank.evaluation_snapshot()
    inference = InferenceBank(SIZES, snapshot.slot_activations, snapshot.slot_residual)
    size = PROBE[1] - PROBE[0]
    in_buffer = new_probe_target(SIZES, len(SETUPS), size)
    assert in_buffer is not None and in_buffer.buffer is not None
    width = inference.probe_width
    by_block = ProbeTarget(
        tallies=np.zeros((len(SETUPS), width)), scratch=np.zeros((len(SETUPS), width))
    )
    counts = inference.count_correct(block, snapshot, in_buffer)
    np.testing.assert_array_equal(inference.count_correct(block, snapshot, by_block), counts)
    for setup, (spec, net) in enumerate(zip(SETUPS, remedy_nets(bank), strict=True)):
        _, cache, _ = net.forward(inputs[:-1].T.astype(np.float64), train=False)
        for layer, (first, units) in enumerate(inference.hidden_spans):
            want = f64_activation(spec.activation, cache[layer][3])[PROBE[0] : PROBE[1]]
            if spec.activation == "sigmoid" and not spec.residual:
                want = 2 * want - 1  # tallied as tanh(u / 2)
            got = in_buffer.buffer[bank.slot_of[setup], first : first + units]
            np.testing.assert_allclose(got.T, want, rtol=1e-4, atol=1e-5)
    whole = np.zeros((len(SETUPS), width))
    inference.tally_buffer(in_buffer.buffer, whole)
    np.testing.assert_array_equal(by_block.tallies, whole)
