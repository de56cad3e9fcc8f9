"""The initialisers: each setup's initial weights (and biases) from standard-normal draws shared
by every setup, so setups differ only in what the setup table says they differ in.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence

import numpy as np

from vgtui.core.config import SetupSpec


def init_scale(spec: SetupSpec, fan_in: int) -> float:
    """Standard deviation of the initial weights of the normal inits: gauss sigma, Xavier
    (the DLFS / He-paper variant, as LeCun's) 1/sqrt(n_in), He sqrt(2/n_in), var
    sqrt(sigma_w^2 / n_in)."""
    if spec.init == "gauss":
        return spec.gauss_sigma
    if spec.init in ("xavier", "lecun"):
        return 1.0 / math.sqrt(fan_in)
    if spec.init == "he":
        return math.sqrt(2.0 / fan_in)
    if spec.init == "var":  # mean-field theory's sigma_w^2: weights N(0, sigma_w^2 / n_in)
        return math.sqrt(spec.gauss_sigma / fan_in)
    raise ValueError(f"{spec.init!r} is not a normal init")


def initial_weights(spec: SetupSpec, draw: np.ndarray) -> np.ndarray:
    """A layer's initial weights (fan_in, fan_out) from its standard-normal ``draw``, the same
    for every setup, so setups differ only in their initialiser:

    * gauss, xavier, lecun, he, var: ``draw * init_scale``;
    * uniform (Glorot's "standard"): U[-1/sqrt(n_in), 1/sqrt(n_in)];
    * glorot (Glorot's "normalized"): U[-sqrt(6/(n_in+n_out)), sqrt(6/(n_in+n_out))];
      uniform values are the draws through the normal CDF, 2 Phi(z) - 1, times the bound;
    * orthogonal (Saxe et al. 2014): the orthonormal factor of the draw's QR decomposition.
    """
    fan_in, fan_out = draw.shape
    if spec.init == "uniform":
        return (2.0 * _normal_cdf(draw) - 1.0) / math.sqrt(fan_in)
    if spec.init == "glorot":
        return (2.0 * _normal_cdf(draw) - 1.0) * math.sqrt(6.0 / (fan_in + fan_out))
    if spec.init == "orthogonal":
        tall = draw if fan_in >= fan_out else draw.T
        q, r = np.linalg.qr(tall)
        q *= np.sign(np.diag(r))  # a unique factor: the signs of R's diagonal moved into Q
        return q if fan_in >= fan_out else q.T
    return draw * init_scale(spec, fan_in)


def _normal_cdf(z: np.ndarray) -> np.ndarray:
    """Phi(z) by Abramowitz & Stegun 7.1.26 (error below 1.5e-7): NumPy has no erf."""
    x = np.abs(z) / math.sqrt(2.0)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
                + t * 1.061405429))))  # fmt: skip
    erf = 1.0 - poly * np.exp(-x * x)
    return 0.5 * (1.0 + np.sign(z) * erf)


def initial_parameters(
    layer_sizes: Sequence[int],
    setups: Sequence[SetupSpec],
    rng: np.random.Generator,
    bias_variance: float = 0.0,
    replicas: Sequence[int] | None = None,
    replica_seed: int = 0,
) -> Iterator[tuple[int, int, np.ndarray, np.ndarray | None]]:
    """Each setup's initial (setup, layer, weights, biases), biases None where they start at
    0, one layer at a time. ``replicas``: per setup, which seed of the run it is (0: ``rng``'s
    draws, as every setup of a one-seed run; k: draws of ``default_rng(replica_seed + k)``).

    ``rng`` draws every layer's weights, then, with a ``bias_variance``, its biases (with 0,
    the draws are as before biases could vary), whichever replicas there are: the
    mini-batches drawn after it stay the same. Replicas (the further seeds of a run) draw
    from their own generators. A scale too large for float32 gives infinite weights: that
    setup diverges at its first step, shown as such (the caller silences the overflow)."""
    replicas = list(replicas) if replicas else [0] * len(setups)
    pairs = list(zip(layer_sizes, layer_sizes[1:], strict=False))
    scale = math.sqrt(bias_variance) if bias_variance > 0 else 0.0
    for replica in [0, *sorted(set(replicas) - {0})]:
        own = rng if replica == 0 else np.random.default_rng(replica_seed + replica)
        draws = [own.standard_normal(shape) for shape in pairs]
        bias_draws = [own.standard_normal(n) for n in layer_sizes[1:]] if scale else None
        for setup in (s for s, r in enumerate(replicas) if r == replica):
            for layer, draw in enumerate(draws):
                bias = None if bias_draws is None else bias_draws[layer] * scale
                yield setup, layer, initial_weights(setups[setup], draw), bias
