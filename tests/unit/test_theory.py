"""Mean-field theory of signal propagation: the critical points the literature reports."""

from __future__ import annotations

import math

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
