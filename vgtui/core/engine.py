"""A bank of MLPs trained in lockstep: one network per setup, all the same shape.

Layout, chosen for speed (the four setups see the same inputs):

* the first layer of every setup is one matrix ``first_weights`` of shape
  (inputs, setups * hidden[0]), so the input batch is multiplied once for all setups;
* deeper layers are stacked per setup, ``weights[l]`` of shape (setups, n_in, n_out), and run
  as one batched ``matmul``.

Forward: u = a @ W + b, a' = f(u) on hidden layers, softmax on the last layer.
Backward (softmax + cross-entropy): d_logits = (p - onehot) / batch;
dW = a.T @ d, db = sum(d), d_prev = (d @ W.T) * f'(u_prev).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgtui.core.activations import Activation, get_activation
from vgtui.core.config import SetupSpec


def init_scale(spec: SetupSpec, fan_in: int) -> float:
    """Standard deviation of the initial weights: gauss sigma, Xavier 1/sqrt(n), He sqrt(2/n)."""
    if spec.init == "gauss":
        return spec.gauss_sigma
    if spec.init == "xavier":
        return 1.0 / math.sqrt(fan_in)
    if spec.init == "he":
        return math.sqrt(2.0 / fan_in)
    raise ValueError(f"unknown init {spec.init!r}")


@dataclass
class _Buffers:
    """Work arrays for one batch size, reused step after step."""

    first_pre: np.ndarray  # (rows, setups * hidden[0]) pre-activation of layer 1
    first_post: np.ndarray  # (rows, setups * hidden[0]) activation of layer 1
    pre: list[np.ndarray]  # (setups, rows, n) pre-activations of layers 2..L
    post: list[np.ndarray]  # (setups, rows, n) activations of hidden layers 2..L-1


class NetworkBank:
    """The parameters, forward and backward pass of one MLP per setup."""

    def __init__(
        self,
        layer_sizes: Sequence[int],
        setups: Sequence[SetupSpec],
        rng: np.random.Generator,
        dtype: type = np.float32,
        notebook_grad: bool = False,
    ) -> None:
        if len(layer_sizes) < 2:
            raise ValueError("need at least an input and an output layer")
        self.layer_sizes = tuple(int(n) for n in layer_sizes)
        self.setups = tuple(setups)
        self.dtype = np.dtype(dtype)
        self.notebook_grad = notebook_grad
        self.activations: tuple[Activation, ...] = tuple(
            get_activation(s.activation) for s in self.setups
        )
        count = len(self.setups)
        n_in, width = self.layer_sizes[0], self.layer_sizes[1]
        self.width = width
        # The same standard-normal draws serve every setup, scaled by its initialiser, so setups
        # differ only in what the table says they differ in.
        pairs = zip(self.layer_sizes, self.layer_sizes[1:], strict=False)
        draws = [rng.standard_normal((a, b)) for a, b in pairs]
        self.first_weights = np.empty((n_in, count * width), dtype=self.dtype)
        for s, spec in enumerate(self.setups):
            self.first_weights[:, self._cols(s)] = draws[0] * init_scale(spec, n_in)
        self.first_bias = np.zeros(count * width, dtype=self.dtype)
        self.weights: list[np.ndarray] = [np.empty(0, dtype=self.dtype)]  # index 0 unused
        self.biases: list[np.ndarray] = [np.empty(0, dtype=self.dtype)]
        for layer in range(1, self.num_layers):
            fan_in, fan_out = self.layer_sizes[layer], self.layer_sizes[layer + 1]
            stacked = np.stack([draws[layer] * init_scale(spec, fan_in) for spec in self.setups])
            self.weights.append(stacked.astype(self.dtype))
            self.biases.append(np.zeros((count, fan_out), dtype=self.dtype))
        self.first_weights_grad = np.zeros_like(self.first_weights)
        self.first_bias_grad = np.zeros_like(self.first_bias)
        self.weights_grad = [np.zeros_like(w) for w in self.weights]
        self.biases_grad = [np.zeros_like(b) for b in self.biases]
        self.frozen = np.zeros(count, dtype=bool)
        self._buffers: dict[int, _Buffers] = {}

    # -- shape helpers -------------------------------------------------------------------------
    @property
    def num_layers(self) -> int:
        """Number of weight layers (hidden layers + output layer)."""
        return len(self.layer_sizes) - 1

    @property
    def num_setups(self) -> int:
        return len(self.setups)

    def _cols(self, setup: int) -> slice:
        return slice(setup * self.width, (setup + 1) * self.width)

    def weight(self, setup: int, layer: int) -> np.ndarray:
        """Writable view of one setup's weight matrix; ``layer`` 0 is the input layer."""
        return (
            self.first_weights[:, self._cols(setup)] if layer == 0 else self.weights[layer][setup]
        )

    def bias(self, setup: int, layer: int) -> np.ndarray:
        return self.first_bias[self._cols(setup)] if layer == 0 else self.biases[layer][setup]

    def weight_grad(self, setup: int, layer: int) -> np.ndarray:
        """The last computed gradient of one setup's weight matrix."""
        if layer == 0:
            return self.first_weights_grad[:, self._cols(setup)]
        return self.weights_grad[layer][setup]

    def bias_grad(self, setup: int, layer: int) -> np.ndarray:
        return (
            self.first_bias_grad[self._cols(setup)]
            if layer == 0
            else self.biases_grad[layer][setup]
        )

    def grad_norms(self, setup: int) -> tuple[float, ...]:
        """L2 norm of each layer's weight gradient for one setup, input layer first."""
        return tuple(
            float(np.linalg.norm(self.weight_grad(setup, layer)))
            for layer in range(self.num_layers)
        )

    def _buffers_for(self, rows: int) -> _Buffers:
        buffers = self._buffers.get(rows)
        if buffers is None:
            count, dtype = self.num_setups, self.dtype
            first = np.empty((rows, count * self.width), dtype=dtype)
            pre = [np.empty(0, dtype=dtype)]
            post = [np.empty(0, dtype=dtype)]
            for layer in range(1, self.num_layers):
                n = self.layer_sizes[layer + 1]
                pre.append(np.empty((count, rows, n), dtype=dtype))
                post.append(np.empty((count, rows, n), dtype=dtype))
            buffers = _Buffers(first, np.empty_like(first), pre, post)
            self._buffers[rows] = buffers
        return buffers

    def _first_post_stacked(self, buffers: _Buffers) -> np.ndarray:
        """Layer-1 activations as a (setups, rows, width) view."""
        rows = buffers.first_post.shape[0]
        return buffers.first_post.reshape(rows, self.num_setups, self.width).transpose(1, 0, 2)

    # -- forward ---------------------------------------------------------------------------------
    def forward(self, inputs: np.ndarray, first_weights: np.ndarray | None = None) -> np.ndarray:
        """Logits of every setup, shape (setups, rows, classes).

        ``first_weights`` may be a row subset of :attr:`first_weights` matching the columns of
        ``inputs`` (used to skip input pixels that are zero in every row).
        """
        buffers = self._buffers_for(inputs.shape[0])
        weights = self.first_weights if first_weights is None else first_weights
        np.matmul(inputs, weights, out=buffers.first_pre)
        buffers.first_pre += self.first_bias
        for s, activation in enumerate(self.activations):
            cols = self._cols(s)
            activation.forward(buffers.first_pre[:, cols], buffers.first_post[:, cols])
        previous = self._first_post_stacked(buffers)
        for layer in range(1, self.num_layers):
            pre = buffers.pre[layer]
            np.matmul(previous, self.weights[layer], out=pre)
            pre += self.biases[layer][:, None, :]
            if layer == self.num_layers - 1:
                return pre
            post = buffers.post[layer]
            for s, activation in enumerate(self.activations):
                activation.forward(pre[s], post[s])
            previous = post
        raise AssertionError("unreachable")

    def predict(self, inputs: np.ndarray, first_weights: np.ndarray | None = None) -> np.ndarray:
        """Predicted class per setup and row, shape (setups, rows)."""
        return self.forward(inputs, first_weights).argmax(axis=2)

    # -- backward --------------------------------------------------------------------------------
    def _hidden_grad(self, s: int, post: np.ndarray, out: np.ndarray) -> np.ndarray:
        """f'(u) of setup s given its activation output; the notebook quirk uses f'(output)."""
        activation = self.activations[s]
        if self.notebook_grad:
            return activation.grad_at(post, out)
        return activation.grad_from_output(post, out)

    def backward(self, inputs: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """Forward and backward pass; fills the gradient arrays and returns each setup's loss."""
        rows = inputs.shape[0]
        logits = self.forward(inputs)
        buffers = self._buffers_for(rows)
        # Softmax and cross-entropy, computed stably; logits become d_logits in place.
        every_row = np.arange(rows)
        logits -= logits.max(axis=2, keepdims=True)
        true_logit = logits[:, every_row, labels]
        np.exp(logits, out=logits)
        sums = logits.sum(axis=2, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            losses = (np.log(sums[:, :, 0]) - true_logit).mean(axis=1, dtype=np.float64)
        logits /= sums
        delta = logits
        delta[:, every_row, labels] -= 1.0
        delta *= 1.0 / rows
        delta[self.frozen] = 0.0
        for layer in range(self.num_layers - 1, 0, -1):
            previous = self._first_post_stacked(buffers) if layer == 1 else buffers.post[layer - 1]
            np.matmul(previous.transpose(0, 2, 1), delta, out=self.weights_grad[layer])
            delta.sum(axis=1, out=self.biases_grad[layer])
            back = np.matmul(delta, self.weights[layer].transpose(0, 2, 1))
            if layer == 1:
                # Write layer-1 deltas straight into the (rows, setups * width) layout.
                target = buffers.first_pre.reshape(rows, self.num_setups, self.width)
                target = target.transpose(1, 0, 2)
            else:
                target = buffers.pre[layer - 1]
            for s in range(self.num_setups):
                self._hidden_grad(s, previous[s], target[s])
            np.multiply(target, back, out=target)
            delta = target
        first_delta = buffers.first_pre
        np.matmul(inputs.T, first_delta, out=self.first_weights_grad)
        first_delta.sum(axis=0, out=self.first_bias_grad)
        return losses

    def apply_gradients(self, learning_rate: float) -> None:
        """Plain SGD update of every setup from the last computed gradients."""
        lr = self.dtype.type(learning_rate)
        self.first_weights -= lr * self.first_weights_grad
        self.first_bias -= lr * self.first_bias_grad
        for layer in range(1, self.num_layers):
            self.weights[layer] -= lr * self.weights_grad[layer]
            self.biases[layer] -= lr * self.biases_grad[layer]

    def freeze(self, setup: int) -> None:
        """Stop training one setup (after divergence): zero its parameters so it stays finite."""
        self.frozen[setup] = True
        for layer in range(self.num_layers):
            self.weight(setup, layer)[...] = 0.0
            self.bias(setup, layer)[...] = 0.0
