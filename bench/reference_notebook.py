"""The course notebook's experiment, written the straightforward way: float64, one setup after
another, a network object holding a ``params`` dict. Not tuned: it is the yardstick.

784-40-20-10 MLP, softmax + cross-entropy, SGD lr 0.1, batch 100, 2000 iterations; every 10
iterations the accuracy on the current batch and on the full test set is recorded.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def relu(x: np.ndarray) -> np.ndarray:
    return np.maximum(0.0, x)


def softmax(x: np.ndarray) -> np.ndarray:
    x = x - x.max(axis=1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=1, keepdims=True)


def cross_entropy(y: np.ndarray, t: np.ndarray) -> float:
    batch = y.shape[0]
    return float(-np.sum(np.log(y[np.arange(batch), t] + 1e-7)) / batch)


class MultiLayerNet:
    """A plain MLP: ``params['W1']``, ``params['b1']``, ... and hand-written backprop."""

    def __init__(self, sizes: list[int], activation: str, init: str, rng: np.random.Generator):
        self.sizes = sizes
        self.activation = activation
        self.params: dict[str, np.ndarray] = {}
        for i in range(1, len(sizes)):
            n_in = sizes[i - 1]
            if init == "gauss":
                scale = 0.01
            elif init == "xavier":
                scale = 1.0 / np.sqrt(n_in)
            else:  # he
                scale = np.sqrt(2.0 / n_in)
            self.params[f"W{i}"] = scale * rng.standard_normal((n_in, sizes[i]))
            self.params[f"b{i}"] = np.zeros(sizes[i])

    def act(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(x) if self.activation == "sigmoid" else relu(x)

    def act_grad(self, y: np.ndarray) -> np.ndarray:
        """Derivative of the activation given its output."""
        return y * (1.0 - y) if self.activation == "sigmoid" else (y > 0).astype(y.dtype)

    def predict(self, x: np.ndarray) -> np.ndarray:
        layers = len(self.sizes) - 1
        for i in range(1, layers):
            x = self.act(x @ self.params[f"W{i}"] + self.params[f"b{i}"])
        return x @ self.params[f"W{layers}"] + self.params[f"b{layers}"]

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return cross_entropy(softmax(self.predict(x)), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        return float(np.mean(np.argmax(self.predict(x), axis=1) == t))

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        layers = len(self.sizes) - 1
        outputs = [x]
        for i in range(1, layers):
            outputs.append(self.act(outputs[-1] @ self.params[f"W{i}"] + self.params[f"b{i}"]))
        y = softmax(outputs[-1] @ self.params[f"W{layers}"] + self.params[f"b{layers}"])
        batch = x.shape[0]
        delta = y.copy()
        delta[np.arange(batch), t] -= 1.0
        delta /= batch
        grads = {}
        for i in range(layers, 0, -1):
            grads[f"W{i}"] = outputs[i - 1].T @ delta
            grads[f"b{i}"] = delta.sum(axis=0)
            if i > 1:
                delta = (delta @ self.params[f"W{i}"].T) * self.act_grad(outputs[i - 1])
        return grads


SETUPS = [("sigmoid", "gauss"), ("relu", "gauss"), ("sigmoid", "xavier"), ("relu", "he")]


def run_notebook(
    x_train: np.ndarray,
    t_train: np.ndarray,
    x_test: np.ndarray,
    t_test: np.ndarray,
    seed: int = 0,
    iterations: int = 2000,
    batch_size: int = 100,
    learning_rate: float = 0.1,
    eval_every: int = 10,
) -> dict[str, dict[str, list[float]]]:
    """Train the four setups one after another; return their accuracy curves."""
    rng = np.random.default_rng(seed)
    results = {}
    for activation, init in SETUPS:
        net = MultiLayerNet([784, 40, 20, 10], activation, init, rng)
        train_acc, test_acc = [], []
        for i in range(1, iterations + 1):
            batch = rng.choice(x_train.shape[0], batch_size)
            x_batch, t_batch = x_train[batch], t_train[batch]
            grads = net.gradient(x_batch, t_batch)
            for key in net.params:
                net.params[key] -= learning_rate * grads[key]
            if i % eval_every == 0:
                train_acc.append(net.accuracy(x_batch, t_batch))
                test_acc.append(net.accuracy(x_test, t_test))
        results[f"{activation}-{init}"] = {"train_acc": train_acc, "test_acc": test_acc}
    return results
