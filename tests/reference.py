"""What tests hold the engine against: a deliberately naive float64 MLP (one setup at a time,
lists of float64 matrices, the textbook formulas), and the engine's own training pass called
as the trainer calls it, over whole images.
"""

from __future__ import annotations

import numpy as np

from vgtui.core.bank import NetworkBank

LEARNING_RATE = 0.1
LEAKY_SLOPE = 0.01


def f64_activation(name: str, u: np.ndarray) -> np.ndarray:
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-u))
    if name == "tanh":
        return np.tanh(u)
    if name == "relu":
        return np.maximum(u, 0.0)
    if name == "leaky-relu":
        return np.where(u > 0, u, LEAKY_SLOPE * u)
    if name == "elu":
        return np.where(u > 0, u, np.expm1(np.minimum(u, 0.0)))
    if name == "softsign":
        return u / (1.0 + np.abs(u))
    if name == "silu":
        return u / (1.0 + np.exp(-u))
    raise ValueError(name)


def f64_derivative(name: str, x: np.ndarray) -> np.ndarray:
    """f'(x), written from the definitions."""
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-x))
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(x) ** 2
    if name == "relu":
        return (x > 0).astype(np.float64)
    if name == "leaky-relu":
        return np.where(x > 0, 1.0, LEAKY_SLOPE)
    if name == "elu":
        return np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0)))
    if name == "softsign":
        return 1.0 / (1.0 + np.abs(x)) ** 2
    if name == "silu":
        s = 1.0 / (1.0 + np.exp(-x))
        return s * (1.0 + x * (1.0 - s))
    raise ValueError(name)


class PlainNet:
    """One float64 MLP, trained by the textbook formulas."""

    def __init__(self, weights: list[np.ndarray], biases: list[np.ndarray], activation: str):
        self.weights = [w.astype(np.float64) for w in weights]
        self.biases = [b.astype(np.float64) for b in biases]
        self.activation = activation

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        pre, post = [], [x]
        for layer, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            u = post[-1] @ w + b
            pre.append(u)
            if layer < len(self.weights) - 1:
                post.append(f64_activation(self.activation, u))
        return pre, post

    def logits(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[0][-1]

    def _probabilities(self, logits: np.ndarray) -> np.ndarray:
        shifted = logits - logits.max(axis=1, keepdims=True)
        return np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)

    def loss(self, x: np.ndarray, labels: np.ndarray) -> float:
        """Mean softmax cross-entropy."""
        probs = self._probabilities(self.logits(x))
        return float(-np.log(probs[np.arange(len(labels)), labels]).mean())

    def step(self, x: np.ndarray, labels: np.ndarray, notebook_grad: bool) -> float:
        """One SGD step; the gradients it took are left in ``grads``. Returns the loss."""
        pre, post = self.forward(x)
        probs = self._probabilities(pre[-1])
        rows = np.arange(len(labels))
        loss = float(-np.log(probs[rows, labels]).mean())
        delta = probs.copy()
        delta[rows, labels] -= 1.0
        delta /= len(labels)
        grads = []
        for layer in range(len(self.weights) - 1, -1, -1):
            grads.append((post[layer].T @ delta, delta.sum(axis=0)))
            if layer > 0:
                # The notebook's quirk evaluates the derivative at the layer's output.
                point = post[layer] if notebook_grad else pre[layer - 1]
                delta = (delta @ self.weights[layer].T) * f64_derivative(self.activation, point)
        self.grads = grads[::-1]
        for layer, (dw, db) in enumerate(self.grads):
            self.weights[layer] -= LEARNING_RATE * dw
            self.biases[layer] -= LEARNING_RATE * db
        return loss


def plain_nets(bank: NetworkBank) -> list[PlainNet]:
    """A float64 copy of each of the bank's networks, in setup order."""
    return [
        PlainNet(
            [bank.weight(s, layer) for layer in range(bank.num_layers)],
            [bank.bias(s, layer) for layer in range(bank.num_layers)],
            spec.activation,
        )
        for s, spec in enumerate(bank.setups)
    ]


def engine_pass(
    bank: NetworkBank, images: np.ndarray, labels: np.ndarray | None = None
) -> np.ndarray:
    """The engine's training pass over ``images`` (rows x pixels, scaled) with every pixel
    column: the bank's logits per setup (setups, rows, classes), or with ``labels`` its
    forward and backward pass (gradients filled in) and the losses per setup."""
    buffers = bank.buffers(images.shape[0])
    inputs = buffers.active_inputs
    inputs[:, :-1] = images
    inputs[:, -1] = 1.0
    rows = np.arange(inputs.shape[1])
    if labels is None:
        return bank.forward_active(buffers, inputs, rows)[bank.slot_of]
    return bank.backward_active(buffers, inputs, rows, labels)[bank.slot_of]


def expected_counts(mnist, bank: NetworkBank) -> np.ndarray:
    """Correct predictions per slot of the test set by the training forward pass and argmax."""
    logits = engine_pass(bank, mnist.test_images * np.float32(1 / 255))
    correct = (logits.argmax(axis=2) == mnist.test_labels).sum(axis=1)
    return correct[bank.slot_order]
