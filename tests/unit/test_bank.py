"""Activations, initialisers and exact gradients (finite differences of the float64 reference's
loss, tests/reference.py, against the engine's gradients)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.reference import engine_pass, plain_nets
from vgtui.core.activations import ACTIVATIONS
from vgtui.core.bank import NetworkBank
from vgtui.core.config import SetupSpec
from vgtui.core.vocabulary import ACTIVATION_NAMES

ALL_ACTIVATIONS = list(ACTIVATION_NAMES)


@pytest.mark.parametrize("name", ALL_ACTIVATIONS)
def test_activation_derivatives_match_finite_differences(name):
    activation = ACTIVATIONS[name]
    x = np.linspace(-4, 4, 81) + 0.013  # avoid the kink at exactly 0
    eps = 1e-6
    numeric = (
        activation.forward(x + eps, np.empty_like(x))
        - activation.forward(x - eps, np.empty_like(x))
    ) / (2 * eps)
    assert np.allclose(activation.grad_at(x, np.empty_like(x)), numeric, atol=1e-6)
    y = activation.forward(x, np.empty_like(x))
    # The engine calls grad_from_output with the layer's input in ``out`` (see Activation).
    assert np.allclose(activation.grad_from_output(y, x.copy()), numeric, atol=1e-6)


def test_activation_values():
    x = np.array([-2.0, 0.0, 3.0])
    out = np.empty_like(x)
    assert np.allclose(ACTIVATIONS["sigmoid"].forward(x, out), 1 / (1 + np.exp(-x)))
    assert np.allclose(ACTIVATIONS["relu"].forward(x, out), [0, 0, 3])
    assert np.allclose(ACTIVATIONS["leaky-relu"].forward(x, out), [-0.02, 0, 3])
    assert np.allclose(ACTIVATIONS["elu"].forward(x, out), [np.expm1(-2), 0, 3])
    assert np.allclose(ACTIVATIONS["tanh"].forward(x, out), np.tanh(x))


@pytest.mark.parametrize(
    ("init", "expected_std"),
    [
        ("gauss", lambda n: 0.01),
        ("xavier", lambda n: 1 / np.sqrt(n)),
        ("he", lambda n: np.sqrt(2 / n)),
    ],
)
def test_initialiser_statistics(init, expected_std):
    sizes = (784, 200, 100, 10)
    bank = NetworkBank(sizes, [SetupSpec("relu", init)], np.random.default_rng(3))
    for layer, fan_in in enumerate(sizes[:-1]):
        weights = bank.weight(0, layer)
        assert weights.dtype == np.float32
        assert abs(weights.mean()) < 0.05 * expected_std(fan_in)
        assert weights.std() == pytest.approx(expected_std(fan_in), rel=0.05)
        assert not bank.bias(0, layer).any()


def test_custom_gauss_sigma():
    bank = NetworkBank((784, 100, 10), [SetupSpec("relu", "gauss", 0.05)], np.random.default_rng(0))
    assert bank.weight(0, 0).std() == pytest.approx(0.05, rel=0.03)


def _numeric_gradient_check(bank, x, y, setup, rng, samples=12):
    """Largest relative error between the engine's gradients and central differences of the
    float64 reference's loss."""
    engine_pass(bank, x, y)
    net = plain_nets(bank)[setup]
    worst = 0.0
    eps = 1e-6
    for layer in range(bank.num_layers):
        for param, grad in (
            (net.weights[layer], bank.weight_grad(setup, layer)),
            (net.biases[layer], bank.bias_grad(setup, layer)),
        ):
            flat_indices = rng.choice(param.size, size=min(samples, param.size), replace=False)
            for flat in flat_indices:
                index = np.unravel_index(flat, param.shape)
                original = param[index]
                param[index] = original + eps
                plus = net.loss(x, y)
                param[index] = original - eps
                minus = net.loss(x, y)
                param[index] = original
                numeric = (plus - minus) / (2 * eps)
                scale = max(abs(numeric), abs(grad[index]), 1e-4)
                worst = max(worst, abs(numeric - grad[index]) / scale)
    return worst


def _check_inputs(mnist, rows=8):
    x = mnist.train_images[:rows].astype(np.float64) / 255.0
    y = mnist.train_labels[:rows].astype(np.intp)
    return x, y


@pytest.mark.parametrize("activation", ALL_ACTIVATIONS)
def test_exact_gradients_match_finite_differences(mnist, activation):
    setups = [SetupSpec(activation, "xavier"), SetupSpec(activation, "he")]
    bank = NetworkBank((784, 7, 6, 10), setups, np.random.default_rng(5), dtype=np.float64)
    x, y = _check_inputs(mnist)
    rng = np.random.default_rng(11)
    for setup in range(len(setups)):
        assert _numeric_gradient_check(bank, x, y, setup, rng) < 1e-5


def test_first_layer_gradient_check_on_active_pixels(mnist):
    # Pixel columns that are zero in the batch have exactly zero gradient; check live ones too.
    bank = NetworkBank(
        (784, 5, 10), [SetupSpec("tanh", "xavier")], np.random.default_rng(2), dtype=np.float64
    )
    x, y = _check_inputs(mnist, rows=4)
    engine_pass(bank, x, y)
    grad = bank.weight_grad(0, 0)
    (net,) = plain_nets(bank)
    weights = net.weights[0]
    live_rows = np.flatnonzero(x.any(axis=0))[:10]
    for row in live_rows:
        original = weights[row, 2]
        weights[row, 2] = original + 1e-6
        plus = net.loss(x, y)
        weights[row, 2] = original - 1e-6
        minus = net.loss(x, y)
        weights[row, 2] = original
        assert (plus - minus) / 2e-6 == pytest.approx(grad[row, 2], rel=1e-5, abs=1e-10)
    assert np.abs(grad[live_rows, 2]).max() > 0


def test_notebook_gradient_differs_for_sigmoid_only(mnist):
    x, y = _check_inputs(mnist)
    grads = {}
    for notebook in (False, True):
        bank = NetworkBank(
            (784, 7, 6, 10),
            [SetupSpec("sigmoid", "xavier"), SetupSpec("relu", "he")],
            np.random.default_rng(5),
            dtype=np.float64,
            notebook_grad=notebook,
        )
        engine_pass(bank, x, y)
        grads[notebook] = [bank.weight_grad(s, 0).copy() for s in range(2)]
    assert not np.allclose(grads[False][0], grads[True][0])  # sigmoid: quirk changes it
    assert np.array_equal(grads[False][1], grads[True][1])  # relu: f'(relu(u)) == f'(u)
    # The quirk is not the true gradient: a finite-difference check catches it.
    bank = NetworkBank(
        (784, 7, 6, 10),
        [SetupSpec("sigmoid", "xavier")],
        np.random.default_rng(5),
        dtype=np.float64,
        notebook_grad=True,
    )
    assert _numeric_gradient_check(bank, x, y, 0, np.random.default_rng(1)) > 1e-2


def test_float32_end_to_end(mnist):
    bank = NetworkBank((784, 40, 20, 10), [SetupSpec("relu", "he")], np.random.default_rng(0))
    x = (mnist.train_images[:100] / np.float32(255)).astype(np.float32)
    y = mnist.train_labels[:100].astype(np.intp)
    assert engine_pass(bank, x).dtype == np.float32
    assert engine_pass(bank, x, y).dtype == np.float64  # losses, summed in float64
    bank.apply_gradients(0.1)
    for layer in range(bank.num_layers):
        assert bank.weight(0, layer).dtype == np.float32
        assert bank.weight_grad(0, layer).dtype == np.float32


def test_sgd_step_lowers_the_loss(mnist):
    bank = NetworkBank((784, 40, 20, 10), [SetupSpec("relu", "he")], np.random.default_rng(0))
    x = (mnist.train_images[:100] / np.float32(255)).astype(np.float32)
    y = mnist.train_labels[:100].astype(np.intp)
    before = engine_pass(bank, x, y)[0]
    for _ in range(5):
        engine_pass(bank, x, y)
        bank.apply_gradients(0.1)
    assert engine_pass(bank, x, y)[0] < before


def test_var_init_and_bias_variance_follow_mean_field_theory():
    """var:SIGMA_W^2 draws weights N(0, SIGMA_W^2 / n_in); biases N(0, sigma_b^2) if asked."""
    from vgtui.core.config import parse_setup

    spec = parse_setup("tanh-var:2.5")
    assert spec.name == "tanh-var:2.5"
    bank = NetworkBank((784, 400, 300, 10), [spec], np.random.default_rng(0), bias_variance=0.05)
    assert bank.weight(0, 1).var() == pytest.approx(2.5 / 400, rel=0.02)
    assert bank.weight(0, 0).var() == pytest.approx(2.5 / 784, rel=0.02)
    assert bank.bias(0, 0).var() == pytest.approx(0.05, rel=0.2)
    plain = NetworkBank((784, 400, 300, 10), [spec], np.random.default_rng(0))
    assert not plain.bias(0, 0).any()  # 0: biases start at 0, the weights' draws unchanged
    assert np.array_equal(plain.weight(0, 1), bank.weight(0, 1))


@pytest.mark.parametrize(
    ("init", "bound"),
    [
        ("uniform", lambda n_in, n_out: 1 / np.sqrt(n_in)),  # Glorot's "standard"
        ("glorot", lambda n_in, n_out: np.sqrt(6 / (n_in + n_out))),  # Glorot's "normalized"
    ],
)
def test_glorots_uniform_inits(init, bound):
    sizes = (784, 200, 100, 10)
    bank = NetworkBank(sizes, [SetupSpec("tanh", init)], np.random.default_rng(3))
    for layer, (n_in, n_out) in enumerate(zip(sizes, sizes[1:], strict=False)):
        weights = bank.weight(0, layer)
        limit = bound(n_in, n_out)
        assert np.abs(weights).max() <= limit * (1 + 1e-6)
        assert weights.std() == pytest.approx(limit / np.sqrt(3), rel=0.05)  # uniform's std
        counts, _ = np.histogram(weights, bins=4, range=(-limit, limit))
        assert counts.min() > 0.9 * counts.mean()  # flat, not bell-shaped


def test_lecun_and_orthogonal_inits():
    sizes = (784, 200, 100, 10)
    lecun = NetworkBank(sizes, [SetupSpec("relu", "lecun")], np.random.default_rng(3))
    xavier = NetworkBank(sizes, [SetupSpec("relu", "xavier")], np.random.default_rng(3))
    assert np.array_equal(lecun.weight(0, 1), xavier.weight(0, 1))  # the same N(0, 1/n_in)
    bank = NetworkBank(sizes, [SetupSpec("tanh", "orthogonal")], np.random.default_rng(3))
    for layer in range(3):
        weights = bank.weight(0, layer).astype(np.float64)
        small = min(weights.shape)
        gram = weights.T @ weights if weights.shape[0] >= weights.shape[1] else weights @ weights.T
        assert np.allclose(gram, np.eye(small), atol=1e-5)


def test_layer_statistics_match_their_definitions(mnist):
    """Delta std, weight std, update/weight ratio and exact zero gradients, per setup and
    layer, as the vectorised reductions compute them, against the plain formulas."""
    setups = [SetupSpec("sigmoid", "gauss"), SetupSpec("relu", "he"), SetupSpec("tanh", "xavier")]
    bank = NetworkBank((784, 40, 20, 10), setups, np.random.default_rng(0))
    inputs = mnist.train_images[:100].astype(np.float32) / 255
    engine_pass(bank, inputs, mnist.train_labels[:100].astype(np.intp))
    buffers = bank.buffers(100)
    stats = bank.layer_statistics(buffers, learning_rate=0.1)
    assert stats.shape == (3, 3, 4)
    for s in range(3):
        for layer in range(3):
            weights, grads = bank.weight(s, layer), bank.weight_grad(s, layer)
            ratio = 0.1 * np.linalg.norm(grads) / np.linalg.norm(weights)
            expected = [weights.std(), ratio, np.count_nonzero(grads == 0)]
            assert stats[s, layer, 1:] == pytest.approx(expected, rel=1e-4)
    slot = bank.slot_of[1]  # relu-he's delta at layer 1: its columns of the delta buffer
    delta = buffers.first_pre[:, slot * 40 : (slot + 1) * 40]
    assert stats[1, 0, 0] == pytest.approx(delta.std(), rel=1e-4)
    assert stats[0, 0, 3] > 0  # pixels the batch leaves out: exact zeros in layer 1


@pytest.mark.parametrize("activation", ["tanh", "elu", "softsign", "silu", "leaky-relu"])
def test_notebook_gradient_leaves_activations_the_notebook_lacks_exact(mnist, activation):
    """--notebook-grad is the notebook's sigmoid quirk: it changed tanh, elu, softsign and
    silu too (their derivative taken at the output), which the notebook never had."""
    x, y = _check_inputs(mnist)
    grads = {}
    for notebook in (False, True):
        bank = NetworkBank((784, 7, 6, 10), [SetupSpec(activation, "xavier")],
                           np.random.default_rng(5), dtype=np.float64,
                           notebook_grad=notebook)  # fmt: skip
        engine_pass(bank, x, y)
        grads[notebook] = [bank.weight_grad(0, layer).copy() for layer in range(3)]
    for exact, quirk in zip(grads[False], grads[True], strict=True):
        assert np.array_equal(exact, quirk)


def test_train_step_updates_each_layer_in_turn_with_the_same_bits(mnist):
    """Plain SGD inside the backward pass (each layer updated once its gradient is complete,
    the back-propagated errors in two arrays per width, in turns) gives the bits of the whole
    backward pass followed by the update, step after step."""
    sizes = (784, 30, 30, 30, 20, 10)
    setups = [
        SetupSpec("tanh", "xavier"),
        SetupSpec("relu", "he"),
        SetupSpec("sigmoid", "gauss"),
        SetupSpec("silu", "xavier"),
    ]
    fused, apart = (NetworkBank(sizes, setups, np.random.default_rng(4)) for _ in "ab")
    rng = np.random.default_rng(5)
    for _ in range(4):
        index = rng.integers(0, mnist.train_size, size=100)
        labels = mnist.train_labels[index].astype(np.intp)
        passes = []
        for bank in (fused, apart):
            buffers = bank.buffers(100)
            buffers.active_inputs[:, :-1] = mnist.train_images[index] * np.float32(1 / 255)
            buffers.active_inputs[:, -1] = 1.0
            passes.append((buffers, buffers.active_inputs, np.arange(785), labels))
        losses = fused.train_step(*passes[0], learning_rate=0.1)
        np.testing.assert_array_equal(losses, apart.backward_active(*passes[1]))
        apart.apply_gradients(0.1)
        np.testing.assert_array_equal(fused.params.flat, apart.params.flat)
        for setup in range(len(setups)):
            for layer in range(fused.num_layers):
                for grad in ("weight_grad", "bias_grad"):
                    np.testing.assert_array_equal(
                        getattr(fused, grad)(setup, layer), getattr(apart, grad)(setup, layer)
                    )
