"""The activation-histogram experiment of "Deep Learning from Scratch" (ch. 6): inputs through a
stack of equal layers at initialisation, no training, one histogram per layer.

    a_0 = x                           x: (inputs, width) standard normal, or MNIST images
    z_l = a_{l-1} @ W_l               W_l: (fan_in, width) = randn * init_scale   (no bias)
    a_l = f(z_l)

It shows, before any training, what the trained runs show later: sigmoid with std 1 saturates,
std 0.01 collapses every layer to 0.5, Xavier keeps a spread, ReLU needs He.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgtui.core import layers as layers_maths
from vgtui.core.activations import get_activation
from vgtui.core.config import SetupSpec
from vgtui.core.data import PIXEL_SCALE, Dataset
from vgtui.core.histogram import BOUNDED, HistogramScale, histogram_scale, saturated_share
from vgtui.core.init import initial_weights


@dataclass(frozen=True)
class LayerActivations:
    """What one layer's activations look like over all inputs."""

    layer: int  # 1 = first hidden layer
    mean: float
    std: float
    saturated: float  # fraction beyond SATURATION (bounded activations; NaN otherwise)
    zero: float  # fraction exactly 0 (ReLU-like; NaN otherwise)
    dead_units: int  # units 0 for every input (ReLU-like)
    counts: tuple[int, ...]  # BINS counts on the activation's histogram_scale
    scale: str  # its kind: linear, or log10 (bin 0 holds a <= 0)
    low: float  # its ends (on the log10 scale: log10 of the first positive bin's start ...
    high: float  # ... and of the last one's end)

    @property
    def histogram_scale(self) -> HistogramScale:
        """The scale ``counts`` are on (to draw them)."""
        return HistogramScale(self.scale, self.low, self.high)  # type: ignore[arg-type]


@dataclass(frozen=True)
class ProbeResult:
    setup: str
    layers: tuple[LayerActivations, ...]


def layer_activations(layer: int, activation: str, values: np.ndarray) -> LayerActivations:
    """Statistics of ``values`` (inputs, units) of one layer, binned on the scale the
    Activations tab uses (:func:`~vgtui.core.histogram.histogram_scale`)."""
    scale = histogram_scale(activation)
    relu_like = activation not in BOUNDED
    zero = float(np.mean(values == 0)) if relu_like else math.nan
    dead = int(np.count_nonzero(~(values != 0).any(axis=0))) if relu_like else 0
    return LayerActivations(
        layer=layer,
        mean=float(values.mean()),
        std=float(values.std()),
        saturated=saturated_share(activation, values),
        zero=zero,
        dead_units=dead,
        counts=tuple(int(c) for c in scale.counts(values)),
        scale=scale.kind,
        low=scale.low,
        high=scale.high,
    )


def probe_inputs(
    kind: str, count: int, width: int, rng: np.random.Generator, data: Dataset | None = None
) -> np.ndarray:
    """``randn`` (count, width) standard-normal inputs, as in the book, or ``mnist``: ``count``
    test images drawn by ``rng``, scaled to [0, 1]."""
    if kind == "randn":
        return rng.standard_normal((count, width))
    if data is None:
        raise ValueError("mnist inputs need the dataset")
    index = rng.choice(data.test_size, size=min(count, data.test_size), replace=False)
    return data.test_images[index].astype(np.float64) * float(PIXEL_SCALE)


def probe(
    inputs: np.ndarray, setups: Sequence[SetupSpec], layers: int, width: int, seed: int
) -> list[ProbeResult]:
    """Each setup's activations layer by layer at initialisation. Every setup starts from the
    same standard-normal draws (as in training), scaled by its initialiser. A +bn setup
    normalizes each layer's pre-activations by the inputs' own statistics (gamma 1, beta 0, as
    at the first training step); a +res setup adds each layer's input to its output where the
    widths match, but not around the first layer (as in training), and its statistics are of
    the activation's output alone (as the run's probe)."""
    rng = np.random.default_rng(seed)
    fan_ins = [inputs.shape[1]] + [width] * (layers - 1)
    draws = [rng.standard_normal((fan_in, width)) for fan_in in fan_ins]
    results = []
    for spec in setups:
        forward = get_activation(spec.activation).forward
        a = inputs
        stats = []
        for layer, draw in enumerate(draws, start=1):
            z = a @ initial_weights(spec, draw)
            if spec.batch_norm:
                normalized = np.empty_like(z)
                layers_maths.normalize(z, normalized, axis=0)
                z = normalized
            out = forward(z, np.empty_like(z))
            stats.append(layer_activations(layer, spec.activation, out))
            shortcut = spec.residual and layer > 1 and a.shape[1] == out.shape[1]
            a = out + a if shortcut else out
        results.append(ProbeResult(spec.name, tuple(stats)))
    return results
