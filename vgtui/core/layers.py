"""Batch normalization's maths (Ioffe & Szegedy 2015), one function per formula, on the bank's
layouts: the rows of a mini-batch along ``axis`` (0 for layer 1's (rows, units) matrix, 1 for
a deeper layer's (setups, rows, units) stack), ``gamma``/``beta`` broadcasting over them.

Training (per unit, over the N rows of the batch):
    mu = mean(u),  var = mean((u - mu)^2),  x = (u - mu) / sqrt(var + EPSILON),  y = gamma x + beta
Backward, from dy = dL/dy:
    dbeta = sum(dy),  dgamma = sum(dy x),
    du = gamma / sqrt(var + EPSILON) / N * (N dy - dbeta - x dgamma)
Evaluation uses the running averages instead of the batch's statistics:
    running = MOMENTUM running + (1 - MOMENTUM) batch    (DLFS's momentum 0.9, the biased
    variance as DLFS; the first training batch's statistics start them)
and as an affine map per unit it folds into the weights before it (see :func:`fold`).
"""

from __future__ import annotations

import numpy as np

EPSILON = 1e-6
"""DLFS common/layers.py's 10e-7."""
MOMENTUM = 0.9


def normalize(u: np.ndarray, x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """Write x = (u - mean) / sqrt(var + EPSILON) into ``x``; the batch's mean and variance
    (keepdims: they broadcast against ``u``)."""
    mean = u.mean(axis=axis, keepdims=True)
    np.subtract(u, mean, out=x)
    var = np.square(x).mean(axis=axis, keepdims=True)
    x *= 1.0 / np.sqrt(var + EPSILON)
    return mean, var


def scale_shift(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, out: np.ndarray) -> None:
    """out = gamma x + beta."""
    np.multiply(x, gamma, out=out)
    out += beta


def backward(
    dy: np.ndarray, x: np.ndarray, var: np.ndarray, gamma: np.ndarray, axis: int
) -> tuple[np.ndarray, np.ndarray]:
    """Turn ``dy`` (dL/dy) into du = dL/du in place; return (dgamma, dbeta) (keepdims)."""
    rows = dy.shape[axis]
    dbeta = dy.sum(axis=axis, keepdims=True)
    dgamma = (dy * x).sum(axis=axis, keepdims=True)
    dy *= rows
    dy -= dbeta
    dy -= x * dgamma
    dy *= gamma / (rows * np.sqrt(var + EPSILON))
    return dgamma, dbeta


def follow(running: np.ndarray, batch: np.ndarray, first: bool) -> None:
    """One step of a running average toward the batch's statistic (the first: take it)."""
    if first:
        running[...] = batch
    else:
        running *= MOMENTUM
        running += (1.0 - MOMENTUM) * batch


def fold(
    gamma: np.ndarray, beta: np.ndarray, mean: np.ndarray, var: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The evaluation-time map y = s u + c per unit: s = gamma / sqrt(var + EPSILON),
    c = beta - mean s (u = a W + b, so it folds into W s and b s + c)."""
    scale = gamma / np.sqrt(var + EPSILON)
    return scale, beta - mean * scale
