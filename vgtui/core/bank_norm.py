"""Batch normalization in a bank (the +bn setups): where :mod:`vgtui.core.layers`' formulas
apply in the bank's layout, the running averages, and their fold into an evaluation snapshot.

The +bn setups' slots form ``runs`` (consecutive slots, see :func:`vgtui.core.bank_layout.slots`).
At hidden layer 0 a run is a block of columns of the (rows, setups * width) matrix, the batch
along axis 0; deeper, a block of the (setups, rows, n) stack, the batch along axis 1.
"""

from __future__ import annotations

import numpy as np

from vgtui.core import layers
from vgtui.core.bank_layout import Parameters, TrainingBuffers


class BatchNorms:
    """The batch norms of a bank's +bn setups, before each hidden activation."""

    def __init__(
        self, runs: list[slice], params: Parameters, grads: Parameters, width: int, dtype: type
    ) -> None:
        self.runs, self.params, self.grads, self.width = runs, params, grads, width
        for gamma in params.gammas:
            gamma[...] = 1.0
        shapes = [gamma.shape for gamma in params.gammas]  # (setups, n) per hidden layer
        self.running_mean = [np.zeros(shape, dtype) for shape in shapes]
        self.running_var = [np.ones(shape, dtype) for shape in shapes]
        self.started = False
        """Whether a training step has run: the first one's statistics start the averages."""

    def _views(
        self, buffers: TrainingBuffers, hidden: int, run: slice
    ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]:
        """A run's (u or its delta, x, axis, gamma, beta) at ``hidden`` layer (0: the first),
        gamma and beta shaped to broadcast."""
        gamma, beta = self.params.gammas[hidden][run], self.params.betas[hidden][run]
        if hidden == 0:
            cols = slice(run.start * self.width, run.stop * self.width)
            u, x = buffers.first_pre[:, cols], buffers.normalized[0][:, cols]
            return u, x, 0, gamma.reshape(-1), beta.reshape(-1)
        u, x = buffers.pre[hidden][run], buffers.normalized[hidden][run]
        return u, x, 1, gamma[:, None, :], beta[:, None, :]

    def forward(self, buffers: TrainingBuffers, hidden: int, train: bool) -> None:
        """Normalize the pre-activations at ``hidden`` in place by the batch's statistics;
        ``train``: move the running averages."""
        for k, run in enumerate(self.runs):
            u, x, axis, gamma, beta = self._views(buffers, hidden, run)
            mean, var = layers.normalize(u, x, axis)
            buffers.batch_var[hidden, k] = var
            layers.scale_shift(x, gamma, beta, out=u)
            if train:
                running_mean, running_var = self.running_mean[hidden], self.running_var[hidden]
                shape = running_mean[run].shape
                layers.follow(running_mean[run], mean.reshape(shape), not self.started)
                layers.follow(running_var[run], var.reshape(shape), not self.started)

    def backward(self, buffers: TrainingBuffers, hidden: int) -> None:
        """dL/dy into dL/du in place at ``hidden``; dgamma and dbeta into the gradients."""
        for k, run in enumerate(self.runs):
            dy, x, axis, gamma, _ = self._views(buffers, hidden, run)
            dgamma, dbeta = layers.backward(dy, x, buffers.batch_var[hidden, k], gamma, axis)
            shape = self.grads.gammas[hidden][run].shape
            self.grads.gammas[hidden][run] = dgamma.reshape(shape)
            self.grads.betas[hidden][run] = dbeta.reshape(shape)

    def folded(self) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """Copies of the weights and biases with each batch norm's evaluation-time map
        y = s u + c (see :func:`vgtui.core.layers.fold`) folded in: W s, b s + c."""
        params, width = self.params, self.width
        first_layer = params.first_layer.copy()
        weights = [w.copy() for w in params.weights]
        biases = [b.copy() for b in params.biases]
        for hidden in range(len(params.gammas)):
            for run in self.runs:
                scale, shift = layers.fold(
                    params.gammas[hidden][run],
                    params.betas[hidden][run],
                    self.running_mean[hidden][run],
                    self.running_var[hidden][run],
                )
                if hidden == 0:
                    cols = slice(run.start * width, run.stop * width)
                    first_layer[:, cols] *= scale.reshape(-1)
                    first_layer[-1, cols] += shift.reshape(-1)
                else:
                    weights[hidden][run] *= scale[:, None, :]
                    biases[hidden][run] *= scale
                    biases[hidden][run] += shift
        return first_layer, weights, biases

    def statistics(self, layers: int) -> np.ndarray:
        """Per slot and weight layer, the mean over its units of gamma, beta, the running mean
        and the running standard deviation; NaN where there is no batch norm (the output
        layer, setups without +bn). Shape (slots, layers, 4)."""
        count = self.params.gammas[0].shape[0] if self.params.gammas else 0
        stats = np.full((count, layers, 4), np.nan)
        for hidden, gamma in enumerate(self.params.gammas):
            arrays = (gamma, self.params.betas[hidden], self.running_mean[hidden],
                      np.sqrt(self.running_var[hidden]))  # fmt: skip
            for run in self.runs:
                for column, array in enumerate(arrays):
                    stats[run, hidden, column] = array[run].mean(axis=1, dtype=np.float64)
        return stats

    def forget(self, slot: int) -> None:
        """A frozen slot's gamma, beta and averages: zero (its layers output beta = 0), 1."""
        for array in [*self.params.gammas, *self.params.betas, *self.running_mean]:
            array[slot] = 0.0
        for array in self.running_var:
            array[slot] = 1.0
