"""Mean-field signal propagation in deep random networks (Poole et al. 2016; Schoenholz et al.
2017, "Deep Information Propagation"): which weight variance and depth still train.

For weights N(0, sigma_w^2 / n_in), biases N(0, sigma_b^2) and activation phi, with Dz the
standard normal measure (integrals by Gauss-Hermite quadrature):

    q_l   = sigma_w^2 * Int Dz phi(sqrt(q_{l-1}) z)^2 + sigma_b^2       length map, fixed point q*
    chi_1 = sigma_w^2 * Int Dz phi'(sqrt(q*) z)^2                      slope at c = 1
    c_l   = (sigma_w^2 * Int Dz1 Dz2 phi(u1) phi(u2) + sigma_b^2) / q*  correlation map, fixed c*
            u1 = sqrt(q*) z1,  u2 = sqrt(q*) (c z1 + sqrt(1 - c^2) z2)
    chi_c = sigma_w^2 * Int Dz1 Dz2 phi'(u1) phi'(u2)   at c*            (= chi_1 when c* = 1)
    xi_c  = -1 / ln(chi_c)                                             correlation depth scale
    xi_grad = 1 / |ln chi_1|          gradient depth scale: gradients shrink or grow e-fold

chi_1 < 1: ordered (inputs become alike, gradients vanish); chi_1 > 1: chaotic (they explode);
the critical sigma_w^2 solves chi_1 = 1, where xi_c diverges. Networks train up to a depth of
about 6 xi_c.

Where the length has no finite fixed point (q* = 0: the signal dies out; q* infinite: it grows
without bound; ReLU with sigma_b^2 = 0 always, tanh with sigma_b^2 = 0 below sigma_w^2 = 1),
phi is linear or positively homogeneous in that limit, the correlation map's slope at c = 1
tends to 1 and xi_c is infinite: correlations are kept. What limits the depth there is the
gradient's e-fold change, xi_grad (= xi_c wherever c* = 1 at a finite q*), so the trainable
depth is 6 xi_grad there, named so (:attr:`MeanField.depth_scale_name`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.polynomial.hermite_e import hermegauss

from vgtui.core.activations import get_activation

NODES, WEIGHTS = hermegauss(100)  # an even count: no node at 0, where ReLU's slope jumps
WEIGHTS = WEIGHTS / math.sqrt(2 * math.pi)  # Int Dz f(z) = sum(WEIGHTS * f(NODES))
TRAINABLE_DEPTH_FACTOR = 6.0
FIXED_POINT_STEPS = 200  # bisection steps for c*
TOLERANCE = 1e-12
Q_LIMIT = 1e12  # a length map past this has no finite fixed point


@dataclass(frozen=True)
class MeanField:
    """What mean-field theory says of one activation, sigma_w^2 and sigma_b^2."""

    activation: str
    weight_variance: float
    bias_variance: float
    q_star: float
    chi_1: float
    c_star: float
    xi_c: float
    """The correlation depth scale (Schoenholz et al.); inf where q* is 0 or infinite."""
    xi_grad: float
    """The gradient depth scale 1 / |ln chi_1|: the depth over which gradients change e-fold."""

    @property
    def phase(self) -> str:
        if math.isclose(self.chi_1, 1.0, rel_tol=1e-6):
            return "critical"
        return "ordered" if self.chi_1 < 1 else "chaotic"

    @property
    def depth_scale_name(self) -> str:
        """``xi_c`` where q* is finite and positive, else ``xi_grad`` (xi_c is infinite)."""
        return "xi_c" if 0 < self.q_star < math.inf else "xi_grad"

    @property
    def depth_scale(self) -> float:
        """The depth scale the trainable depth is 6 of (see :attr:`depth_scale_name`)."""
        return self.xi_c if self.depth_scale_name == "xi_c" else self.xi_grad

    @property
    def trainable_depth(self) -> float:
        """About 6 xi_c (6 xi_grad where xi_c is infinite): deeper than this, the signal is
        lost (ordered) or scrambled, or the gradient vanishes or explodes."""
        return TRAINABLE_DEPTH_FACTOR * self.depth_scale


def _phi(activation: str, u: np.ndarray) -> np.ndarray:
    return get_activation(activation).forward(u, np.empty_like(u))


def _dphi(activation: str, u: np.ndarray) -> np.ndarray:
    return get_activation(activation).grad_at(u, np.empty_like(u))


def length_map(activation: str, q: float, weight_variance: float, bias_variance: float) -> float:
    u = math.sqrt(q) * NODES
    return float(weight_variance * np.sum(WEIGHTS * _phi(activation, u) ** 2) + bias_variance)


def fixed_point_q(activation: str, weight_variance: float, bias_variance: float) -> float:
    """q*, the length the signal settles at: a root of length_map(q) - q, found by bisection
    on log q (0 where the signal dies out, inf where it grows without bound)."""

    def excess(q: float) -> float:
        return length_map(activation, q, weight_variance, bias_variance) - q

    low, high = 1e-12, 1.0
    if excess(low) <= 0:  # shrinks even from almost nothing: it dies out
        return 0.0
    while excess(high) > 0:
        high *= 4.0
        if high > Q_LIMIT:
            return math.inf
    for _ in range(200):
        middle = math.sqrt(low * high)
        if excess(middle) > 0:
            low = middle
        else:
            high = middle
        if high - low <= TOLERANCE * high:
            break
    return math.sqrt(low * high)


def _pair(activation: str, q: float, c: float, derivative: bool) -> float:
    """Int Dz1 Dz2 f(u1) f(u2) with f = phi or phi'."""
    z1, z2 = NODES[:, None], NODES[None, :]
    u1 = math.sqrt(q) * z1
    u2 = math.sqrt(q) * (c * z1 + math.sqrt(max(0.0, 1 - c * c)) * z2)
    f = _dphi if derivative else _phi
    grid = f(activation, np.broadcast_to(u1, (NODES.size, NODES.size)).copy()) * f(activation, u2)
    return float(WEIGHTS @ grid @ WEIGHTS)


def slope(activation: str, weight_variance: float, bias_variance: float) -> tuple[float, float]:
    """q* and chi_1. Where the signal dies out (q* = 0) or grows without bound, chi_1 is its
    limit there: phi'(0)^2 for a smooth phi (the nodes scaled by 1e-150: exactly phi'(0) in
    floats), 1/2 at any q for ReLU (no node sits at 0)."""
    q = fixed_point_q(activation, weight_variance, bias_variance)
    u = math.sqrt(min(max(q, 1e-300), Q_LIMIT)) * NODES
    return q, float(weight_variance * np.sum(WEIGHTS * _dphi(activation, u) ** 2))


def mean_field(activation: str, weight_variance: float, bias_variance: float = 0.0) -> MeanField:
    """q*, chi_1, c*, xi_c and xi_grad of a deep network of ``activation``."""
    q, chi_1 = slope(activation, weight_variance, bias_variance)
    finite = 0 < q < math.inf
    chaotic = finite and chi_1 > 1  # else correlations settle at 1
    c = fixed_point_c(activation, q, weight_variance, bias_variance) if chaotic else 1.0
    chi_c = chi_1 if c >= 1.0 else weight_variance * _pair(activation, q, c, True)
    xi_c = _depth(chi_c) if finite else math.inf
    return MeanField(activation, weight_variance, bias_variance, q, chi_1, c, xi_c, _depth(chi_1))


def fixed_point_c(activation: str, q: float, weight_variance: float, bias_variance: float) -> float:
    """c* in the chaotic phase (chi_1 > 1; in the ordered phase it is 1), the correlation two
    inputs settle at (q at q*): the root below 1 of map(c) - c, by bisection. The map is
    convex on [0, 1] (a series in c with coefficients >= 0), map(0) >= 0, map(1) = 1 and its
    slope at 1 is chi_1 > 1, so there is one root in [0, 1), found even near the critical
    point, where iterating the map stalls."""

    def excess(c: float) -> float:
        return (weight_variance * _pair(activation, q, c, False) + bias_variance) / q - c

    high = 1.0 - 1e-3
    while excess(high) >= 0:  # the map above the diagonal: the root is closer to 1
        high = 1.0 - (1.0 - high) / 10
        if 1.0 - high < 1e-12:
            return 1.0
    low = 0.0
    if excess(low) <= 0:
        return 0.0
    for _ in range(FIXED_POINT_STEPS):
        middle = 0.5 * (low + high)
        if excess(middle) > 0:
            low = middle
        else:
            high = middle
        if high - low <= TOLERANCE:
            break
    return 0.5 * (low + high)


def _depth(chi: float) -> float:
    if chi <= 0:
        return 0.0
    if math.isclose(chi, 1.0, rel_tol=1e-12):
        return math.inf
    return 1.0 / abs(math.log(chi))  # chi < 1: signals converge; chi > 1: gradients explode


def critical_weight_variance(
    activation: str, bias_variance: float = 0.0, low: float = 0.05, high: float = 20.0
) -> float:
    """The sigma_w^2 at which chi_1 = 1 (bisection; chi_1 grows with sigma_w^2)."""

    def excess(weight_variance: float) -> float:
        return slope(activation, weight_variance, bias_variance)[1] - 1.0

    if excess(low) > 0 or excess(high) < 0:
        raise ValueError(f"no critical point for {activation} in sigma_w^2 {low}..{high}")
    for _ in range(100):
        middle = 0.5 * (low + high)
        if excess(middle) < 0:
            low = middle
        else:
            high = middle
        if high - low < 1e-9:
            break
    return 0.5 * (low + high)
