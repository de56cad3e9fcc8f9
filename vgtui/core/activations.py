"""Hidden-layer activations and their derivatives.

Each activation gives its derivative two ways: as a function of the layer's *output* (cheap, and
exact for every activation here) and as a function of an arbitrary *input* point (used by the
gradient check and by the notebook's quirk, which evaluates the derivative at the output).
Functions write into ``out`` when given one so the engine can reuse buffers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0

ArrayFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Activation:
    """An element-wise activation: ``forward(u, out)``, ``grad_from_output(y, out)`` = f'(u)
    given y = f(u) (``out`` holds u on entry: the engine overwrites the pre-activation with the
    derivative, and an activation whose derivative needs u, as SiLU's does, reads it there),
    and ``grad_at(x, out)`` = f'(x)."""

    name: str
    forward: ArrayFn
    grad_from_output: ArrayFn
    grad_at: ArrayFn


def _sigmoid(u: np.ndarray, out: np.ndarray) -> np.ndarray:
    # 0.5 * (1 + tanh(u / 2)) equals 1 / (1 + exp(-u)) and never overflows.
    np.multiply(u, 0.5, out=out)
    np.tanh(out, out=out)
    np.multiply(out, 0.5, out=out)
    np.add(out, 0.5, out=out)
    return out


def _sigmoid_grad_from_output(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.subtract(1.0, y, out=out)
    np.multiply(out, y, out=out)
    return out


def _sigmoid_grad_at(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    _sigmoid(x, out)
    np.multiply(out, 1.0 - out, out=out)  # y * (1 - y) with y held in ``out``
    return out


def _tanh(u: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.tanh(u, out=out)


def _tanh_grad_from_output(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.multiply(y, y, out=out)
    np.subtract(1.0, out, out=out)
    return out


def _tanh_grad_at(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    return _tanh_grad_from_output(np.tanh(x, out=out), out)


def _relu(u: np.ndarray, out: np.ndarray) -> np.ndarray:
    return np.maximum(u, 0.0, out=out)


def _step(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # Derivative of ReLU: 1 where x > 0, else 0 (the subgradient at 0 is taken as 0).
    return np.greater(x, 0.0, out=out, casting="unsafe")


def _leaky_relu(u: np.ndarray, out: np.ndarray) -> np.ndarray:
    scaled = np.multiply(u, LEAKY_SLOPE)
    return np.maximum(u, scaled, out=out)


def _leaky_grad(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # Positive output iff positive input, so this serves for both input and output.
    positive = np.greater(x, 0.0)
    out.fill(LEAKY_SLOPE)
    out[positive] = 1.0
    return out


def _elu(u: np.ndarray, out: np.ndarray) -> np.ndarray:
    negative = np.minimum(u, 0.0)
    np.expm1(negative, out=negative)
    np.multiply(negative, ELU_ALPHA, out=out)
    np.copyto(out, u, where=u > 0.0)
    return out


def _elu_grad_from_output(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    # f'(u) = 1 for u > 0, alpha * exp(u) = y + alpha otherwise.
    np.add(y, ELU_ALPHA, out=out)
    out[y > 0.0] = 1.0
    return out


def _elu_grad_at(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    negative = np.minimum(x, 0.0)
    np.exp(negative, out=negative)
    np.multiply(negative, ELU_ALPHA, out=out)
    out[x > 0.0] = 1.0
    return out


def _softsign(u: np.ndarray, out: np.ndarray) -> np.ndarray:
    # x / (1 + |x|): Glorot & Bengio's alternative to tanh, with polynomial tails.
    np.abs(u, out=out)
    np.add(out, 1.0, out=out)
    return np.divide(u, out, out=out)


def _softsign_grad_from_output(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    # f'(u) = 1 / (1 + |u|)^2 = (1 - |y|)^2.
    np.abs(y, out=out)
    np.subtract(1.0, out, out=out)
    return np.multiply(out, out, out=out)


def _softsign_grad_at(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    np.abs(x, out=out)
    np.add(out, 1.0, out=out)
    np.multiply(out, out, out=out)
    return np.divide(1.0, out, out=out)


def _silu(u: np.ndarray, out: np.ndarray) -> np.ndarray:
    # u * sigmoid(u) (SiLU, "swish"; Elfwing et al. 2018).
    _sigmoid(u, out)
    return np.multiply(out, u, out=out)


def _silu_grad_at(x: np.ndarray, out: np.ndarray) -> np.ndarray:
    # sigmoid(x) * (1 + x * (1 - sigmoid(x)))
    s = _sigmoid(x, np.empty_like(x))
    np.subtract(1.0, s, out=out)
    np.multiply(out, x, out=out)
    np.add(out, 1.0, out=out)
    return np.multiply(out, s, out=out)


def _silu_grad_from_output(y: np.ndarray, out: np.ndarray) -> np.ndarray:
    # Not a function of y alone: the engine calls this with ``out`` holding the layer's input u
    # (see Activation), so the derivative is taken at u.
    return _silu_grad_at(out.copy(), out)


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", _sigmoid, _sigmoid_grad_from_output, _sigmoid_grad_at),
    "tanh": Activation("tanh", _tanh, _tanh_grad_from_output, _tanh_grad_at),
    "relu": Activation("relu", _relu, _step, _step),
    "leaky-relu": Activation("leaky-relu", _leaky_relu, _leaky_grad, _leaky_grad),
    "elu": Activation("elu", _elu, _elu_grad_from_output, _elu_grad_at),
    "softsign": Activation("softsign", _softsign, _softsign_grad_from_output, _softsign_grad_at),
    "silu": Activation("silu", _silu, _silu_grad_from_output, _silu_grad_at),
}


NOTEBOOK_QUIRK_ACTIVATIONS = frozenset({"sigmoid"})
"""Where ``--notebook-grad`` takes the derivative at the layer's output: the course notebook's
quirk exists for its sigmoid (its ReLU gives the same numbers either way); every other
activation keeps its exact gradient."""


def get_activation(name: str) -> Activation:
    """Look up an activation by its canonical name."""
    return ACTIVATIONS[name]
