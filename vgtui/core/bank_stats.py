"""Per-layer statistics of a bank's last backward pass (the Layers tab, the diagnosis): kept
apart from :mod:`vgtui.core.bank`, which trains."""

from __future__ import annotations

import numpy as np

from vgtui.core.bank_layout import Parameters, TrainingBuffers

TINY_SQUARES = 1e-30
"""A float32 sum of squares below this holds squares under float32's normal range (1.2e-38),
which lose their digits or flush to 0: such sums are taken again in float64."""


def layer_statistics(
    params: Parameters,
    grads: Parameters,
    buffers: TrainingBuffers,
    learning_rate: float,
    moved: Parameters | None = None,
) -> np.ndarray:
    """Per slot and weight layer of a bank (``params``, ``grads``: its layouts), from the
    last backward pass: the std of the back-propagated error at the layer's output (its
    delta), the weights' std, the update/weight ratio lr * |grad| / |W| (with a remedy, the
    update's own |dW| / |W|), the count of gradient entries exactly 0 (the pixels a
    mini-batch leaves out give exact zeros in layer 1). Shape (slots, layers, 4), one
    vectorised reduction per layer and statistic. Call right after ``backward_active``,
    before another pass reuses the buffers. ``moved``: with a remedy, the last update (the
    parameters' change, in their layout)."""
    count, layers = params.weights[-1].shape[0], len(params.weights)
    width = params.first_layer.shape[1] // count
    inputs = params.first_layer.shape[0] - 1
    stats = np.empty((count, layers, 4))

    def per_setup(columns: np.ndarray) -> np.ndarray:  # layer 1: (setups * width,) sums
        return columns.reshape(count, width).sum(axis=1, dtype=np.float64)

    def squares(subscripts: str, a: np.ndarray, reduce=lambda sums: sums) -> np.ndarray:
        """Sums of squares in float32 as ever, again in float64 where they underflow."""
        sums = np.asarray(reduce(np.einsum(subscripts, a, a)), dtype=np.float64)
        tiny = sums < TINY_SQUARES
        if tiny.any():
            exact = np.asarray(reduce(np.einsum(subscripts, a, a, dtype=np.float64)))
            sums = np.where(tiny, exact, sums)
        return sums

    for layer in range(layers):
        if layer == 0:  # columns grouped by setup: reduce columns, then each group
            w, g, d = params.first_layer[:inputs], grads.first_layer[:inputs], buffers.first_pre
            sizes, delta_sizes = w.shape[0] * width, d.shape[0] * width
            weight_sq = per_setup(np.einsum("ij,ij->j", w, w))
            weight_sum = per_setup(w.sum(axis=0))
            grad_sq = squares("ij,ij->j", g, per_setup)
            zeros = sizes - per_setup(np.count_nonzero(g, axis=0))
            delta_sq = squares("ij,ij->j", d, per_setup)
            delta_sum = per_setup(d.sum(axis=0))
            if moved is not None:
                step = moved.first_layer[:-1]
                update_sq = per_setup(np.einsum("ij,ij->j", step, step))
        else:
            w, g = params.weights[layer], grads.weights[layer]
            d = buffers.pre[layer]  # the delta of this layer's output (or the logits')
            sizes, delta_sizes = w.shape[1] * w.shape[2], d.shape[1] * d.shape[2]
            weight_sq = np.einsum("sij,sij->s", w, w).astype(np.float64)
            weight_sum = w.sum(axis=(1, 2), dtype=np.float64)
            grad_sq = squares("sij,sij->s", g)
            zeros = sizes - np.count_nonzero(g, axis=(1, 2))
            delta_sq = squares("sij,sij->s", d)
            delta_sum = d.sum(axis=(1, 2), dtype=np.float64)
            if moved is not None:
                step = moved.weights[layer]
                update_sq = np.einsum("sij,sij->s", step, step).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            delta_var = delta_sq / delta_sizes - (delta_sum / delta_sizes) ** 2
            weight_var = weight_sq / sizes - (weight_sum / sizes) ** 2
            stats[:, layer, 0] = np.sqrt(np.maximum(delta_var, 0.0))
            stats[:, layer, 1] = np.sqrt(np.maximum(weight_var, 0.0))
            stats[:, layer, 2] = learning_rate * np.sqrt(grad_sq / weight_sq)
            if moved is not None:
                stats[:, layer, 2] = np.sqrt(update_sq / weight_sq)
        stats[:, layer, 3] = zeros
    return stats
