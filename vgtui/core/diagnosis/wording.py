"""Why, and what to try, in words that fit the setup: advice never names what the setup
already has (its activation and init, read from its name)."""

from __future__ import annotations

from vgtui.core.config import SetupSpec

RELU_LIKE = ("relu", "leaky-relu", "elu", "silu")
XAVIER_LIKE = ("xavier", "glorot", "lecun")


def _has(spec: SetupSpec | None, remedy: str) -> bool:
    """Whether the setup already has ``remedy``."""
    if spec is None:
        return False
    return {
        "He init": spec.init == "he",
        "Xavier init": spec.init in XAVIER_LIKE,
        "ReLU with He init": spec.activation == "relu" and spec.init == "he",
        "tanh with Xavier init": spec.activation == "tanh" and spec.init in XAVIER_LIKE,
        "a leaky ReLU": spec.activation == "leaky-relu",
    }.get(remedy, False)


def advice(spec: SetupSpec | None, *remedies: str) -> str:
    """The remedies the setup does not already have, joined as alternatives."""
    kept = [r for r in remedies if not _has(spec, r)]
    if len(kept) <= 1:
        return "".join(kept)
    return ", ".join(kept[:-1]) + " or " + kept[-1]


def small_init(spec: SetupSpec | None) -> bool:
    """Weights that start below 1/sqrt(fan_in): a gauss sigma under 1/sqrt(784) = 0.036, or a
    variance sigma_w^2 below 1."""
    if spec is None:
        return False
    return (spec.init == "gauss" and spec.gauss_sigma < 784**-0.5) or (
        spec.init == "var" and spec.gauss_sigma < 1
    )


def init_remedy(spec: SetupSpec | None) -> str:
    """The init scaled for the activation: He for ReLU-like units, else Xavier."""
    if spec is not None and spec.activation in RELU_LIKE:
        return "He init"
    return "Xavier init"


def why_vanishing(spec: SetupSpec | None) -> str:
    """The mechanism that shrinks the error on its way back, for this setup."""
    if spec is None:
        return "the error signal shrinks at every layer on its way back"
    if small_init(spec):
        return (
            f"weights that start small ({spec.init}:{spec.gauss_sigma:g}) scale the signal "
            "down at every layer, forward and back, so the first layers barely change"
        )
    if spec.activation == "sigmoid":
        return (
            "the sigmoid's slope is at most 1/4, so the error shrinks at every layer on its "
            "way back, whatever the init, and the first layers barely change"
        )
    if spec.activation in RELU_LIKE and spec.init != "he":
        return (
            f"with {spec.init}'s variance of about 1/n a ReLU layer halves the signal's "
            "variance, forward and back (He et al. 2015): after many layers almost nothing "
            "is left, so no layer moves"
        )
    return "the error signal shrinks at every layer on its way back"


def vanishing_advice(spec: SetupSpec | None) -> str:
    if small_init(spec):
        relu = spec is not None and spec.activation in RELU_LIKE
        return advice(spec, init_remedy(spec), *(() if relu else ("ReLU with He init",)))
    if spec is not None and spec.activation == "sigmoid":
        return advice(spec, "tanh with Xavier init", "ReLU with He init", "fewer layers")
    if spec is not None and spec.init == "var":
        wanted = 2 if spec.activation in RELU_LIKE else 1
        return f"a weight variance near sigma_w^2 = {wanted}, or fewer layers"
    return advice(spec, init_remedy(spec), "fewer layers")


def why_collapse(spec: SetupSpec | None) -> str:
    if small_init(spec):
        return (
            "the layers after it see the same signal whatever the image, so the network "
            "cannot tell digits apart: the initial weights are too small for the activation"
        )
    return (
        "the layers after it see the same signal whatever the image, so the network cannot "
        "tell digits apart: each layer maps different inputs closer together"
    )


def collapse_advice(spec: SetupSpec | None) -> str:
    if small_init(spec):
        return advice(spec, init_remedy(spec))
    if spec is not None and spec.activation == "sigmoid":
        return advice(spec, "tanh with Xavier init", "ReLU with He init", "fewer layers")
    return advice(spec, init_remedy(spec), "fewer layers")


def large_init(spec: SetupSpec | None) -> bool:
    """Weights that start above 1/sqrt(fan_in) (gauss sigma over 1/sqrt(784), or a variance
    sigma_w^2 above 1): bounded units start saturated."""
    if spec is None:
        return False
    return (spec.init == "gauss" and spec.gauss_sigma > 784**-0.5) or (
        spec.init == "var" and spec.gauss_sigma > 1
    )


def saturation_advice(spec: SetupSpec | None, big_steps: bool) -> str:
    remedies = ["smaller initial weights (Xavier init)"] if large_init(spec) else []
    if big_steps or not remedies:
        remedies.append("a lower learning rate")
    if not remedies[1:]:
        remedies.append("ReLU with He init")
    return advice(spec, *remedies)


def dead_units_advice(spec: SetupSpec | None, big_steps: bool) -> str:
    if big_steps:
        return advice(spec, "a lower learning rate", "a leaky ReLU")
    return advice(spec, "He init", "a leaky ReLU")
