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
                # The notebook's quirk evaluates sigmoid's derivative at the layer's output.
                quirk = notebook_grad and self.activation == "sigmoid"
                point = post[layer] if quirk else pre[layer - 1]
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


# -- the remedies: batch norm, residual connections, optimizers (written from the papers) -------

BN_EPSILON = 1e-6  # DLFS common/layers.py
BN_MOMENTUM = 0.9  # DLFS common/layers.py


def optimizer_step(name, lr, t, param, grad, state):
    """One update of ``param`` (in place) by optimizer ``name`` at step ``t`` (from 1), with
    its ``state`` dict: the formulas of DLFS common/optimizer.py and the papers."""
    for key in ("v", "h", "m"):
        state.setdefault(key, np.zeros_like(param))
    if name == "sgd":
        param -= lr * grad
    elif name == "momentum":
        state["v"] = 0.9 * state["v"] - lr * grad
        param += state["v"]
    elif name == "nesterov":  # Sutskever et al. 2013 as Bengio et al. 2013 write it
        state["v"] = 0.9 * state["v"] - lr * grad
        param += 0.9 * state["v"] - lr * grad
    elif name == "adagrad":
        state["h"] += grad * grad
        param -= lr * grad / (np.sqrt(state["h"]) + 1e-7)
    elif name == "rmsprop":
        state["h"] = 0.99 * state["h"] + 0.01 * grad * grad
        param -= lr * grad / (np.sqrt(state["h"]) + 1e-7)
    elif name == "adam":  # Kingma & Ba 2015, algorithm 1
        state["m"] = 0.9 * state["m"] + 0.1 * grad
        state["v"] = 0.999 * state["v"] + 0.001 * grad * grad
        m_hat = state["m"] / (1 - 0.9**t)
        v_hat = state["v"] / (1 - 0.999**t)
        param -= lr * m_hat / (np.sqrt(v_hat) + 1e-8)
    else:
        raise ValueError(name)


class RemedyNet:
    """One float64 MLP with optional batch norm before each hidden activation, identity
    shortcuts around hidden layers (not the first) whose widths match, and an optimizer."""

    def __init__(self, weights, biases, activation, batch_norm=False, residual=False,
                 optimizer="sgd", learning_rate=LEARNING_RATE):  # fmt: skip
        self.weights = [np.array(w, dtype=np.float64) for w in weights]
        self.biases = [np.array(b, dtype=np.float64) for b in biases]
        hidden = [w.shape[1] for w in self.weights[:-1]]
        self.gammas = [np.ones(n) for n in hidden]
        self.betas = [np.zeros(n) for n in hidden]
        self.running_mean = [np.zeros(n) for n in hidden]
        self.running_var = [np.ones(n) for n in hidden]
        self.activation, self.batch_norm, self.residual = activation, batch_norm, residual
        self.optimizer, self.learning_rate = optimizer, learning_rate
        self.steps, self.states = 0, {}

    def parameters(self):
        norms = [*self.gammas, *self.betas] if self.batch_norm else []
        return [*self.weights, *self.biases, *norms]

    def shortcut(self, layer):
        square = self.weights[layer].shape[0] == self.weights[layer].shape[1]
        return self.residual and layer > 0 and square

    def forward(self, x, train=True):
        """Logits, per hidden layer (input, x_hat, variance, y, u), and the last hidden
        layer's output."""
        a, cache = x, []
        for layer in range(len(self.weights) - 1):
            u = a @ self.weights[layer] + self.biases[layer]
            x_hat, var, y = None, None, u
            if self.batch_norm:
                if train:
                    mean, var = u.mean(axis=0), u.var(axis=0)
                else:
                    mean, var = self.running_mean[layer], self.running_var[layer]
                x_hat = (u - mean) / np.sqrt(var + BN_EPSILON)
                y = self.gammas[layer] * x_hat + self.betas[layer]
            cache.append((a, x_hat, var, y, u))
            out = f64_activation(self.activation, y)
            a = out + a if self.shortcut(layer) else out
        return a @ self.weights[-1] + self.biases[-1], cache, a

    def loss(self, x, labels, train=True):
        logits = self.forward(x, train)[0]
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(labels)), labels].mean())

    def gradients(self, x, labels):
        """The loss and the gradient of each of :meth:`parameters`, by the chain rule; the
        error dL/du at each weight layer's output u = aW + b is left in ``deltas``."""
        logits, cache, last = self.forward(x)
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        rows = np.arange(len(labels))
        loss = float(-np.log(p[rows, labels]).mean())
        delta = p.copy()
        delta[rows, labels] -= 1.0
        delta /= len(labels)
        layers = len(self.weights)
        dw, db = [None] * layers, [None] * layers
        dgamma, dbeta = [None] * (layers - 1), [None] * (layers - 1)
        self.deltas = [delta]
        dw[-1], db[-1] = last.T @ delta, delta.sum(axis=0)
        g = delta @ self.weights[-1].T  # dL/d(output of the last hidden layer)
        for layer in range(layers - 2, -1, -1):
            a, x_hat, var, y, _ = cache[layer]
            dy = g * f64_derivative(self.activation, y)
            du = dy
            if self.batch_norm:
                n = len(labels)
                dgamma[layer], dbeta[layer] = (dy * x_hat).sum(axis=0), dy.sum(axis=0)
                dx_hat = dy * self.gammas[layer]
                du = (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (
                    n * np.sqrt(var + BN_EPSILON)
                )
            self.deltas.insert(0, du)
            dw[layer], db[layer] = a.T @ du, du.sum(axis=0)
            g = du @ self.weights[layer].T + (g if self.shortcut(layer) else 0.0)
        norms = [*dgamma, *dbeta] if self.batch_norm else []
        return loss, [*dw, *db, *norms]

    def step(self, x, labels):
        """One training step: running averages, then the optimizer's update. The loss."""
        loss, grads = self.gradients(x, labels)
        if self.batch_norm:
            for layer, (_, _, var, _, u) in enumerate(self.forward(x)[1]):
                mean = u.mean(axis=0)
                if self.steps == 0:  # the first batch's statistics start the averages
                    self.running_mean[layer], self.running_var[layer] = mean, var
                else:
                    self.running_mean[layer] = BN_MOMENTUM * self.running_mean[layer] + (
                        1 - BN_MOMENTUM) * mean  # fmt: skip
                    self.running_var[layer] = BN_MOMENTUM * self.running_var[layer] + (
                        1 - BN_MOMENTUM) * var  # fmt: skip
        self.steps += 1
        for i, (param, grad) in enumerate(zip(self.parameters(), grads, strict=True)):
            state = self.states.setdefault(i, {})
            optimizer_step(self.optimizer, self.learning_rate, self.steps, param, grad, state)
        return loss


def remedy_nets(bank: NetworkBank, learning_rate: float = LEARNING_RATE) -> list[RemedyNet]:
    """A float64 copy of each of the bank's networks, in setup order."""
    return [
        RemedyNet(
            [bank.weight(s, layer) for layer in range(bank.num_layers)],
            [bank.bias(s, layer) for layer in range(bank.num_layers)],
            spec.activation,
            spec.batch_norm,
            spec.residual,
            spec.optimizer,
            spec.rate(learning_rate),
        )
        for s, spec in enumerate(bank.setups)
    ]


def bank_parameters(bank: NetworkBank, setup: int) -> list[np.ndarray]:
    """Copies of one setup's parameters in :meth:`RemedyNet.parameters`' order, float64."""
    slot, layers = bank.slot_of[setup], range(bank.num_layers)
    arrays = [bank.weight(setup, n) for n in layers] + [bank.bias(setup, n) for n in layers]
    if bank.setups[setup].batch_norm:
        arrays += [g[slot] for g in bank.params.gammas] + [b[slot] for b in bank.params.betas]
    return [np.array(a, dtype=np.float64) for a in arrays]


def bank_gradients(bank: NetworkBank, setup: int) -> list[np.ndarray]:
    """Copies of one setup's last gradients, in the same order."""
    slot, layers = bank.slot_of[setup], range(bank.num_layers)
    arrays = [bank.weight_grad(setup, n) for n in layers] + [
        bank.bias_grad(setup, n) for n in layers]  # fmt: skip
    if bank.setups[setup].batch_norm:
        arrays += [g[slot] for g in bank.gammas_grad] + [b[slot] for b in bank.betas_grad]
    return [np.array(a, dtype=np.float64) for a in arrays]
