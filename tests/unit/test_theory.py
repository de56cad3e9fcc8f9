"""Mean-field theory of signal propagation: the critical points the literature reports."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vgtui.core.theory import (
    critical_weight_variance,
    fixed_point_q,
    length_map,
    mean_field,
)


@pytest.mark.parametrize(
    ("activation", "bias_variance", "critical"),
    [
        ("tanh", 0.05, 1.761),  # Schoenholz et al. 2017
        ("tanh", 0.0, 1.0),
        ("relu", 0.0, 2.0),  # why He's init (variance 2 / n_in) works
    ],
)
def test_critical_weight_variance(activation, bias_variance, critical):
    assert critical_weight_variance(activation, bias_variance) == pytest.approx(critical, abs=2e-3)


def test_q_star_is_a_fixed_point_of_the_length_map():
    q = fixed_point_q("tanh", 1.5, 0.05)
    assert 0 < q < 10
    assert length_map("tanh", q, 1.5, 0.05) == pytest.approx(q, rel=1e-9)


def test_phases_and_the_depth_scale_diverging_at_the_critical_point():
    critical = critical_weight_variance("tanh", 0.05)
    ordered, chaotic = mean_field("tanh", 1.0, 0.05), mean_field("tanh", 4.0, 0.05)
    assert ordered.phase == "ordered" and ordered.chi_1 < 1 and ordered.c_star == 1.0
    assert chaotic.phase == "chaotic" and chaotic.chi_1 > 1 and chaotic.c_star < 1
    below = [mean_field("tanh", critical * f, 0.05).xi_c for f in (0.5, 0.8, 0.95, 0.99)]
    above = [mean_field("tanh", critical * f, 0.05).xi_c for f in (2.0, 1.3, 1.05, 1.01)]
    assert below == sorted(below) and above == sorted(above)  # both rise toward it
    assert below[-1] > 10 * below[0] and above[-1] > 5 * above[0]
    assert ordered.trainable_depth == pytest.approx(6 * ordered.xi_c)


def test_relu_is_scale_free():
    for weight_variance, phase in ((1.0, "ordered"), (2.0, "critical"), (3.0, "chaotic")):
        state = mean_field("relu", weight_variance)
        assert state.chi_1 == pytest.approx(weight_variance / 2)
        assert state.phase == phase
    assert math.isinf(mean_field("relu", 2.0).xi_c)


# -- checked against values computed here, independently (issue 18, item 9) ------------------

Z = np.linspace(-10.0, 10.0, 1201)
DZ = np.exp(-Z * Z / 2) / math.sqrt(2 * math.pi) * (Z[1] - Z[0])
"""Int Dz f(z) = sum(DZ * f(Z)): the trapezoid rule on a fine grid (no Gauss-Hermite)."""


def tanh_q_star(weight_variance: float, bias_variance: float) -> float:
    q = 1.0
    for _ in range(100000):
        following = weight_variance * np.sum(DZ * np.tanh(math.sqrt(q) * Z) ** 2) + bias_variance
        if abs(following - q) < 1e-15:
            break
        q = following
    return float(q)


def tanh_correlation_map(q: float, c: float, weight_variance: float, bias_variance: float):
    """(map(c), its slope chi_c) by the double integral on the grid."""
    u1 = math.sqrt(q) * Z[:, None]
    u2 = math.sqrt(q) * (c * Z[:, None] + math.sqrt(1 - c * c) * Z[None, :])
    both = DZ @ (np.tanh(u1) * np.tanh(u2)) @ DZ
    slopes = DZ @ ((1 - np.tanh(u1) ** 2) * (1 - np.tanh(u2) ** 2)) @ DZ
    return (weight_variance * both + bias_variance) / q, weight_variance * slopes


def test_relu_xi_c_is_infinite_without_bias_and_the_limit_is_the_gradient_depth():
    """ReLU's correlation map at sigma_b^2 = 0 is the arc-cosine kernel's, the same for every
    sigma_w^2: map(c) = (sqrt(1 - c^2) + (pi - arccos c) c) / pi, slope 1 at c = 1: xi_c is
    infinite. What 6 xi of a ReLU column is: 6 / |ln(sigma_w^2 / 2)|, named xi_grad."""
    for epsilon in (1e-4, 1e-6):
        c = 1 - epsilon
        mapped = (math.sqrt(1 - c * c) + (math.pi - math.acos(c)) * c) / math.pi
        assert (1 - mapped) / epsilon == pytest.approx(1.0, abs=2e-2)  # slope -> 1
    for weight_variance in (0.5, 1.0, 1.5, 3.0, 4.0):
        state = mean_field("relu", weight_variance)
        assert math.isinf(state.xi_c) and state.depth_scale_name == "xi_grad"
        expected = 1 / abs(math.log(weight_variance / 2))
        assert state.xi_grad == pytest.approx(expected, rel=1e-12)
        assert state.trainable_depth == pytest.approx(6 * expected, rel=1e-12)
    # with a bias below sigma_w^2 = 2, q* = sigma_b^2 / (1 - sigma_w^2 / 2) is finite, c* = 1
    # and xi_c = -1 / ln chi_1, chi_1 = sigma_w^2 / 2
    state = mean_field("relu", 1.5, 0.05)
    assert state.q_star == pytest.approx(0.05 / (1 - 0.75), rel=1e-9)
    assert state.depth_scale_name == "xi_c" and state.c_star == 1.0
    assert state.xi_c == pytest.approx(-1 / math.log(0.75), rel=1e-9)
    assert length_map("relu", 0.3, 1.5, 0.05) == pytest.approx(1.5 * 0.3 / 2 + 0.05, rel=1e-12)


def test_tanh_without_bias_near_the_critical_point():
    """sigma_b^2 = 0: c* = 0 in the chaotic phase (tanh is odd; it read 0.0097 at
    sigma_w^2 = 1.125, the map iterated too few times), and at sigma_w^2 = 1 both depth
    scales are infinite (xi_c read 5e11)."""
    state = mean_field("tanh", 1.125)
    q = tanh_q_star(1.125, 0.0)
    assert state.q_star == pytest.approx(q, rel=1e-6)
    assert abs(state.c_star) < 1e-9
    _, chi_c = tanh_correlation_map(q, 0.0, 1.125, 0.0)
    assert state.xi_c == pytest.approx(-1 / math.log(chi_c), rel=1e-5)
    critical = mean_field("tanh", 1.0)
    assert math.isinf(critical.xi_c) and math.isinf(critical.xi_grad)
    assert math.isinf(critical.trainable_depth)
    below = mean_field("tanh", 0.8)  # q* = 0: xi_c infinite, the limit is xi_grad
    assert math.isinf(below.xi_c) and below.depth_scale_name == "xi_grad"
    assert below.xi_grad == pytest.approx(-1 / math.log(0.8), rel=1e-12)


def test_tanh_chaotic_fixed_point_and_xi_c_with_a_bias():
    weight_variance, bias_variance = 2.5, 0.05
    q = tanh_q_star(weight_variance, bias_variance)
    low, high = 0.0, 1.0 - 1e-6  # the root of map(c) - c below 1, by bisection here too
    for _ in range(50):
        middle = (low + high) / 2
        mapped, _ = tanh_correlation_map(q, middle, weight_variance, bias_variance)
        low, high = (middle, high) if mapped > middle else (low, middle)
    _, chi_c = tanh_correlation_map(q, low, weight_variance, bias_variance)
    state = mean_field("tanh", weight_variance, bias_variance)
    assert state.c_star == pytest.approx(low, abs=1e-6)
    assert state.xi_c == pytest.approx(-1 / math.log(chi_c), rel=1e-5)
    assert state.depth_scale_name == "xi_c"
