"""The optimizers a setup may name (``@OPTIMIZER[:LR]``), one formula each, as in Deep Learning
from Scratch (DLFS) common/optimizer.py and the papers it follows.

An optimizer owns some elements of a bank's flat parameter array (the setups that name it, at
one learning rate) and keeps its state for exactly those: every array here is 1-D, (elements,).
``step(params, grads)`` updates ``params`` in place from ``grads`` (both (elements,)).

  sgd       p -= lr g
  momentum  v = mu v - lr g;  p += v                              (Polyak; mu = 0.9, DLFS)
  nesterov  v = mu v - lr g;  p += mu v - lr g                    (Sutskever et al. 2013, in
            the form of Bengio et al. 2013; DLFS's code adds mu^2 v with the new v, a known slip)
  adagrad   h += g^2;  p -= lr g / (sqrt(h) + 1e-7)               (Duchi et al. 2011; DLFS)
  rmsprop   h = rho h + (1 - rho) g^2;  p -= lr g / (sqrt(h) + 1e-7)   (Hinton; rho = 0.99, DLFS)
  adam      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  t += 1
            p -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + 1e-8)   (Kingma & Ba 2015,
            algorithm 1: b1 = 0.9, b2 = 0.999)
"""

from __future__ import annotations

import numpy as np

MOMENTUM = 0.9
RMSPROP_DECAY = 0.99
ADAPTIVE_EPSILON = 1e-7
ADAM_BETA1 = 0.9
ADAM_BETA2 = 0.999
ADAM_EPSILON = 1e-8
STATE_ARRAYS = {"sgd": 0, "momentum": 1, "nesterov": 1, "adagrad": 1, "rmsprop": 1, "adam": 2}
"""Arrays of state per parameter: what the memory estimate counts."""


class Optimizer:
    """One optimizer at one learning rate over ``size`` parameters, with its state."""

    def __init__(self, name: str, learning_rate: float, size: int, dtype: np.dtype) -> None:
        if name not in STATE_ARRAYS:
            raise ValueError(f"unknown optimizer {name!r}")
        self.name = name
        self.learning_rate = learning_rate
        self.dtype = np.dtype(dtype)
        self.state = [np.zeros(size, dtype=self.dtype) for _ in range(STATE_ARRAYS[name])]
        self.steps = 0  # Adam's t
        self._work = np.empty(size, dtype=self.dtype)

    def step(self, params: np.ndarray, grads: np.ndarray) -> None:
        """Update ``params`` (elements,) in place from their ``grads`` (elements,)."""
        lr, work, name = self.dtype.type(self.learning_rate), self._work, self.name
        self.steps += 1
        if name == "sgd":
            np.multiply(grads, lr, out=work)
            params -= work
        elif name in ("momentum", "nesterov"):
            (v,) = self.state
            v *= self.dtype.type(MOMENTUM)
            np.multiply(grads, lr, out=work)
            v -= work
            if name == "momentum":
                params += v
            else:
                params -= work
                np.multiply(v, self.dtype.type(MOMENTUM), out=work)
                params += work
        elif name in ("adagrad", "rmsprop"):
            (h,) = self.state
            np.multiply(grads, grads, out=work)
            if name == "rmsprop":
                h *= self.dtype.type(RMSPROP_DECAY)
                work *= self.dtype.type(1.0 - RMSPROP_DECAY)
            h += work
            np.sqrt(h, out=work)
            work += self.dtype.type(ADAPTIVE_EPSILON)
            np.divide(grads, work, out=work)
            work *= lr
            params -= work
        else:  # adam
            m, v = self.state
            m *= self.dtype.type(ADAM_BETA1)
            np.multiply(grads, self.dtype.type(1.0 - ADAM_BETA1), out=work)
            m += work
            v *= self.dtype.type(ADAM_BETA2)
            np.multiply(grads, grads, out=work)
            work *= self.dtype.type(1.0 - ADAM_BETA2)
            v += work
            m_scale = 1.0 / (1.0 - ADAM_BETA1**self.steps)
            v_scale = 1.0 / (1.0 - ADAM_BETA2**self.steps)
            np.multiply(v, self.dtype.type(v_scale), out=work)
            np.sqrt(work, out=work)
            work += self.dtype.type(ADAM_EPSILON)
            np.divide(m, work, out=work)
            work *= self.dtype.type(self.learning_rate * m_scale)
            params -= work

    def forget(self, elements: np.ndarray) -> None:
        """Zero the state of some elements (a frozen setup's: with zero gradients they then
        stay where they are)."""
        for array in self.state:
            array[elements] = 0.0


class OptimizerGroup:
    """An :class:`Optimizer` over blocks of a bank's parameter arrays (the setups that share
    it): ``params`` and ``grads`` views, gathered into one contiguous buffer each, stepped and
    scattered back (a single 1-D block, the whole flat array, is stepped in place);
    ``owners`` the slot of every element, in the same blocks."""

    def __init__(
        self,
        name: str,
        learning_rate: float,
        params: list[np.ndarray],
        grads: list[np.ndarray],
        owners: list[np.ndarray],
        dtype: np.dtype,
    ) -> None:
        self.params, self.grads = params, grads
        size = sum(view.size for view in params)
        self.optimizer = Optimizer(name, learning_rate, size, dtype)
        self.owners = np.concatenate([view.reshape(-1) for view in owners])
        self.in_place = len(params) == 1 and params[0].ndim == 1
        self._params = np.empty(0 if self.in_place else size, dtype=dtype)
        self._grads = np.empty_like(self._params)

    def step(self) -> None:
        if self.in_place:
            self.optimizer.step(self.params[0], self.grads[0])
            return
        _gather(self.params, self._params)
        _gather(self.grads, self._grads)
        self.optimizer.step(self._params, self._grads)
        offset = 0
        for view in self.params:
            view[...] = self._params[offset : offset + view.size].reshape(view.shape)
            offset += view.size

    def forget(self, slot: int) -> None:
        """Zero the state of one slot's elements (a frozen setup's)."""
        self.optimizer.forget(np.flatnonzero(self.owners == slot))


def _gather(views: list[np.ndarray], out: np.ndarray) -> None:
    offset = 0
    for view in views:
        np.copyto(out[offset : offset + view.size].reshape(view.shape), view)
        offset += view.size
