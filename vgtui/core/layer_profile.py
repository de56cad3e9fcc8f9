"""Why Xavier and He work (Glorot & Bengio 2010): per layer, the std of the signal going
forward (each hidden layer's activations), of the error coming back (the back-propagated
delta at each weight layer's output) and of the weights, against the std the init
prescribes. With N(0, 0.01^2) weights the signal and the error shrink layer by layer; the
scaled inits keep them level.

At initialisation the profile is computed here, from the run's own initial weights (the
trainer's draws: the same seed, the same order); at an evaluation point it is read from the
record (:meth:`LayerProfile.of_record`). A +res setup's pass adds the identity shortcut where
the engine has one (hidden layers whose widths match, never the first); a +bn setup's pass
normalises each hidden layer's pre-activations by the probe images' own mean and variance
(gamma 1, beta 0), as a training step does with its batch, and back-propagates through that
batch norm exactly. (At an evaluation point the probe runs with the running averages.)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vgtui.core import layers as batch_norm
from vgtui.core.activations import NOTEBOOK_QUIRK_ACTIVATIONS, get_activation
from vgtui.core.config import RunConfig, SetupSpec
from vgtui.core.data import NUM_CLASSES, PIXEL_SCALE, PIXELS, Dataset
from vgtui.core.inference import residual_layers
from vgtui.core.init import init_scale, initial_parameters
from vgtui.core.records import MetricRecord

PROFILE_STREAM = 0x70726F66696C65
"""Mixed into the seed: the images the profile at initialisation is measured on."""


def prescribed_std(spec: SetupSpec, fan_in: int, fan_out: int) -> float:
    """The weight std the init prescribes for a (fan_in, fan_out) layer: gauss sigma,
    Xavier 1/sqrt(n_in), He sqrt(2/n_in), ...; the uniform ones their bound / sqrt(3);
    orthogonal 1/sqrt(max(n_in, n_out)) (orthonormal columns or rows)."""
    if spec.init == "uniform":
        return 1.0 / math.sqrt(3.0 * fan_in)
    if spec.init == "glorot":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if spec.init == "orthogonal":
        return 1.0 / math.sqrt(max(fan_in, fan_out))
    return init_scale(spec, fan_in)


@dataclass(frozen=True)
class LayerProfile:
    """One setup's per-layer stds at one moment (``iteration`` 0: initialisation)."""

    setup: str
    iteration: int
    activation_std: tuple[float, ...]
    """Per hidden layer, on the probe images."""
    delta_std: tuple[float, ...]
    """Per weight layer, the back-propagated error at its output (the last: the logits')."""
    weight_std: tuple[float, ...]
    prescribed_std: tuple[float, ...]
    """Per weight layer, what the init prescribes (the same at every iteration)."""
    batch_std: tuple[float, ...] = ()
    """A +bn setup at initialisation: per hidden layer, the mean over its units of the std of
    the pre-activations u = aW + b on the probe images (what batch norm divides by; comparable
    with the recorded running std). Empty otherwise."""
    running_std: tuple[float, ...] = ()
    """A +bn setup at an evaluation point: per hidden layer, the mean over its units of the
    running std of u (what evaluation divides by); empty otherwise."""
    gamma: tuple[float, ...] = ()
    """... and the means over its units of gamma ..."""
    beta: tuple[float, ...] = ()
    """... and of beta."""

    @classmethod
    def of_record(cls, record: MetricRecord, prescribed: Sequence[float]) -> LayerProfile:
        """The profile an evaluation point recorded (NaN where it recorded nothing)."""
        layers = len(prescribed)
        return cls(
            record.setup,
            record.iteration,
            tuple(a.std for a in record.activations) or (math.nan,) * (layers - 1),
            tuple(s.delta_std for s in record.layers) or (math.nan,) * layers,
            tuple(s.weight_std for s in record.layers) or (math.nan,) * layers,
            tuple(prescribed),
            running_std=_batch_norm(record, "running_std"),
            gamma=_batch_norm(record, "gamma"),
            beta=_batch_norm(record, "beta"),
        )


def _batch_norm(record: MetricRecord, field: str) -> tuple[float, ...]:
    """A recorded batch-norm statistic of each layer that has one (the hidden layers)."""
    values = (getattr(layer, field) for layer in record.layers)
    return tuple(v for v in values if v is not None)


PROFILE_WEIGHTS = 20_000_000
"""Weights (setups x parameters) beyond which the profile at initialisation is not computed:
it would take the UI's worker seconds and hundreds of megabytes."""


def profile_affordable(config: RunConfig) -> bool:
    sizes = layer_sizes(config)
    weights = sum(n_in * n_out for n_in, n_out in zip(sizes, sizes[1:], strict=False))
    return weights * len(config.setups) <= PROFILE_WEIGHTS


def layer_sizes(config: RunConfig) -> tuple[int, ...]:
    return (PIXELS, *config.hidden, NUM_CLASSES)


def prescribed_stds(config: RunConfig, spec: SetupSpec) -> tuple[float, ...]:
    sizes = layer_sizes(config)
    pairs = zip(sizes, sizes[1:], strict=False)
    return tuple(prescribed_std(spec, n_in, n_out) for n_in, n_out in pairs)


def profile_images(config: RunConfig, data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """The ``probe_size`` test images (at least 100) the profile at initialisation is
    measured on, drawn by the seed, scaled to [0, 1], and their labels."""
    rng = np.random.default_rng((config.seed, PROFILE_STREAM))
    count = min(max(config.probe_size, 100), data.test_size)
    index = np.sort(rng.choice(data.test_size, size=count, replace=False))
    images = data.test_images[index].astype(np.float64) * float(PIXEL_SCALE)
    return images, data.test_labels[index].astype(np.intp)


def initial_profiles(config: RunConfig, data: Dataset) -> dict[str, LayerProfile]:
    """Each setup's profile at initialisation (its first seed's weights, as the trainer draws
    them), in float64: the forward pass of :func:`profile_images` and the error of their
    softmax cross-entropy back-propagated as in a training step (divided by the batch size,
    so it is on the scale of the recorded one); +bn and +res setups' pass as the module says."""
    sizes = layer_sizes(config)
    draws = initial_parameters(
        sizes, config.setups, np.random.default_rng(config.seed), config.bias_variance
    )
    params: dict[int, list[tuple[np.ndarray, np.ndarray]]] = {}
    for setup, _, weights, biases in draws:
        bias = np.zeros(weights.shape[1]) if biases is None else biases
        params.setdefault(setup, []).append((weights.astype(np.float64), bias))
    images, labels = profile_images(config, data)
    profiles = {}
    for index, spec in enumerate(config.setups):
        layers = params[index]
        shortcuts = residual_layers(sizes) if spec.residual else []
        with np.errstate(all="ignore"):  # a scale too large: infinite, shown as such
            activations, deltas, stds = forward_backward(
                spec.activation, layers, images, labels, config.batch_size,
                config.notebook_grad, spec.batch_norm, shortcuts,
            )  # fmt: skip
        profiles[spec.name] = LayerProfile(
            spec.name,
            0,
            tuple(float(a.std()) for a in activations),
            tuple(float(d.std()) for d in deltas),
            tuple(float(w.std()) for w, _ in layers),
            prescribed_stds(config, spec),
            tuple(float(s.mean()) for s in stds),
        )
    return profiles


def forward_backward(
    activation: str,
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    inputs: np.ndarray,
    labels: np.ndarray,
    batch_size: int,
    notebook_grad: bool = False,
    normalize: bool = False,
    shortcuts: Sequence[bool] = (),
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """The hidden activations (what the activation gives, without the shortcut's input, as
    the probe measures them), per weight layer the error at its output u = aW + b and, with
    ``normalize`` (batch norm by the inputs' own statistics, gamma 1, beta 0), per hidden layer
    each unit's std of u. ``shortcuts``: per hidden layer, an identity shortcut around it."""
    f = get_activation(activation)
    hidden, pre, norms, stds = [], [], [], []
    skip = list(shortcuts) or [False] * (len(layers) - 1)
    a = inputs
    for (weights, bias), shortcut in zip(layers[:-1], skip, strict=True):
        z = a @ weights + bias
        if normalize:
            x = np.empty_like(z)
            _, var = batch_norm.normalize(z, x, 0)
            norms.append((x, var))
            stds.append(np.sqrt(var))
            z = x  # gamma 1, beta 0
        pre.append(z)
        out = f.forward(z, np.empty_like(z))
        hidden.append(out)
        a = out + a if shortcut else out
    weights, bias = layers[-1]
    logits = a @ weights + bias
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    delta = p
    delta[np.arange(len(labels)), labels] -= 1.0
    delta /= batch_size
    deltas = [delta]
    back = delta @ weights.T  # dL/d(the last hidden layer's output)
    # the notebook's quirk (f' at the output) where the engine has it: not where a shortcut
    # adds to the output
    quirk = notebook_grad and activation in NOTEBOOK_QUIRK_ACTIVATIONS
    for layer in range(len(layers) - 2, -1, -1):
        z, y = pre[layer], hidden[layer]
        slope = f.grad_at(y, np.empty_like(y)) if quirk and not skip[layer] else (
            f.grad_from_output(y, z.copy())
        )  # fmt: skip
        delta = back * slope
        if normalize:
            x, var = norms[layer]
            batch_norm.backward(delta, x, var, np.float64(1.0), 0)  # delta becomes dL/du
        deltas.insert(0, delta)
        if layer:
            through = delta @ layers[layer][0].T
            back = through + back if skip[layer] else through
    return hidden, deltas, stds
