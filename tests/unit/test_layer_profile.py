"""The layer profile at initialisation (issue 19, item 11) against a float64 network written
here: the trainer's draws (one standard-normal matrix per layer from the seed, in order), the
init's scale, a forward pass of the profile's images and the softmax cross-entropy error
back-propagated by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tests.reference import RemedyNet, f64_activation
from vgtui.core.config import RunConfig, parse_setups
from vgtui.core.layer_profile import initial_profiles, profile_images

CONFIG = RunConfig(
    hidden=(60, 40, 30), setups=parse_setups("sigmoid-gauss,relu-gauss,sigmoid-xavier,relu-he")
)
SCALES = {
    "gauss": lambda n_in: 0.01,
    "xavier": lambda n_in: 1 / math.sqrt(n_in),
    "he": lambda n_in: math.sqrt(2 / n_in),
}


def reference(activation: str, init: str, images, labels, batch: int):
    sizes = [784, *CONFIG.hidden, 10]
    rng = np.random.default_rng(CONFIG.seed)
    draws = [rng.standard_normal((a, b)) for a, b in zip(sizes, sizes[1:], strict=False)]
    weights = [d * SCALES[init](d.shape[0]) for d in draws]
    if activation == "sigmoid":
        f, slope = (lambda z: 1 / (1 + np.exp(-z))), (lambda z: f(z) * (1 - f(z)))
    else:
        f, slope = (lambda z: np.maximum(z, 0)), (lambda z: (z > 0).astype(float))
    a, pre, post = images, [], []
    for w in weights[:-1]:
        pre.append(a @ w)
        a = f(pre[-1])
        post.append(a)
    logits = a @ weights[-1]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(len(labels)), labels] -= 1
    deltas = [p / batch]
    for layer in range(len(weights) - 1, 0, -1):
        deltas.insert(0, (deltas[0] @ weights[layer].T) * slope(pre[layer - 1]))
    return (
        [x.std() for x in post],
        [d.std() for d in deltas],
        [w.std() for w in weights],
        [SCALES[init](w.shape[0]) for w in weights],
    )


def test_the_profile_at_initialisation_matches_a_float64_network(mnist):
    profiles = initial_profiles(CONFIG, mnist)
    images, labels = profile_images(CONFIG, mnist)
    assert len(images) == CONFIG.probe_size
    for spec in CONFIG.setups:
        forward, backward, weights, prescribed = reference(
            spec.activation, spec.init, images, labels, CONFIG.batch_size
        )
        profile = profiles[spec.name]
        assert profile.iteration == 0
        assert profile.activation_std == pytest.approx(forward, rel=1e-9)
        assert profile.delta_std == pytest.approx(backward, rel=1e-9)
        assert profile.weight_std == pytest.approx(weights, rel=1e-12)
        assert profile.prescribed_std == pytest.approx(prescribed, rel=1e-12)
    assert profiles["relu-he"].prescribed_std[0] == pytest.approx(math.sqrt(2 / 784))
    assert profiles["sigmoid-xavier"].prescribed_std[1] == pytest.approx(1 / math.sqrt(60))
    assert profiles["sigmoid-gauss"].prescribed_std == (0.01,) * 4


def test_small_weights_shrink_the_error_layer_by_layer_and_he_keeps_it_level(mnist):
    """Glorot & Bengio's argument, on the numbers the Profile tab draws."""
    profiles = initial_profiles(CONFIG, mnist)
    gauss = profiles["sigmoid-gauss"].delta_std
    assert all(a < b / 10 for a, b in zip(gauss, gauss[1:], strict=False))  # x10 per layer
    he = profiles["relu-he"].delta_std
    assert max(he) / min(he) < 4
    signal = profiles["relu-he"].activation_std
    assert max(signal) / min(signal) < 2
    shrinking = profiles["relu-gauss"].activation_std
    assert all(a > 10 * b for a, b in zip(shrinking, shrinking[1:], strict=False))


REMEDIES = RunConfig(
    hidden=(60, 40, 40, 30),  # a shortcut around hidden layer 3 only (40 -> 40)
    setups=parse_setups(
        "sigmoid-gauss+bn,relu-he+res,sigmoid-xavier+bn+res,tanh-gauss+res,relu-gauss+bn"
    ),
)


def test_the_profile_at_initialisation_of_batch_norm_and_residual_setups(mnist):
    """Issue 20 item 7: +bn normalises by the probe images' own statistics (gamma 1, beta 0,
    the exact backward pass), +res adds the identity where widths match; checked against
    tests/reference.py's float64 RemedyNet, given the trainer's draws written here."""
    profiles = initial_profiles(REMEDIES, mnist)
    images, labels = profile_images(REMEDIES, mnist)
    sizes = [784, *REMEDIES.hidden, 10]
    rng = np.random.default_rng(REMEDIES.seed)
    draws = [rng.standard_normal((a, b)) for a, b in zip(sizes, sizes[1:], strict=False)]
    for spec in REMEDIES.setups:
        weights = [d * SCALES[spec.init](d.shape[0]) for d in draws]
        net = RemedyNet(weights, [np.zeros(n) for n in sizes[1:]], spec.activation,
                        spec.batch_norm, spec.residual)  # fmt: skip
        net.gradients(images, labels)
        cache = net.forward(images)[1]
        forward = [f64_activation(spec.activation, y).std() for _, _, _, y, _ in cache]
        scale = len(labels) / REMEDIES.batch_size  # the reference divides by the images
        backward = [(d * scale).std() for d in net.deltas]
        profile = profiles[spec.name]
        assert profile.activation_std == pytest.approx(forward, rel=1e-9)
        assert profile.delta_std == pytest.approx(backward, rel=1e-9)
        assert profile.weight_std == pytest.approx([w.std() for w in weights], rel=1e-12)
        if spec.batch_norm:
            stds = [np.sqrt(var).mean() for _, _, var, _, _ in cache]
            assert profile.batch_std == pytest.approx(stds, rel=1e-12)
        else:
            assert profile.batch_std == ()
    # what the remedies do at initialisation, on the numbers the Profile tab draws
    plain = initial_profiles(CONFIG, mnist)["sigmoid-gauss"].delta_std
    normed = profiles["sigmoid-gauss+bn"].delta_std
    assert plain[0] / plain[-1] < 1e-5 < normed[0] / normed[-1]  # BN keeps the error alive
    assert profiles["sigmoid-gauss+bn"].batch_std[1] < 0.1  # BN multiplies u by over 10
    assert profiles["relu-gauss+bn"].activation_std[-1] > 0.1  # the signal does not shrink
