"""What a setup is and how it is written: ``ACTIVATION-INIT[:PARAM][+bn][+res][@OPTIMIZER[:LR]]``.

``sigmoid-gauss`` is the notebook's stalled network; ``sigmoid-gauss+bn`` the same with batch
normalization, ``sigmoid-xavier+res`` with residual connections, ``relu-he@adam:0.001`` trained
by Adam at its own learning rate. The canonical name (:attr:`SetupSpec.name`) parses back to the
same setup: modifiers in the order of MODIFIER_NAMES, ``@sgd`` left out unless it carries a rate.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from vgtui.core.vocabulary import (
    ACTIVATION_ALIASES,
    ACTIVATION_NAMES,
    DEFAULT_GAUSS_SIGMA,
    DEFAULT_OPTIMIZER,
    INIT_NAMES,
    MODIFIER_NAMES,
    OPTIMIZER_NAMES,
    PARAMETER_NAMES,
    init_forms,
    setup_grammar,
)


class ConfigError(ValueError):
    """A configuration value is invalid; the message is meant for the user."""


NUMBER = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")
"""A number in ASCII digits (int() and float() also take other scripts' digits, '1_000', 'nan')."""
_SETUP_NAME = re.compile(r"[A-Za-z0-9_-]*")
_MODIFIER_SPLIT = re.compile(r"\+(?=[A-Za-z])")  # '+bn', not the '+' of an exponent (1e+5)
_QUOTE_MAX = 40


def quoted(text: str) -> str:
    """``text`` for a message: repr'd (one line, control characters escaped) and short."""
    if len(text) > _QUOTE_MAX:
        return f"{text[:_QUOTE_MAX]!r}... ({len(text)} characters)"
    return repr(text)


def format_number(value: float) -> str:
    """``value`` as short as it reads back exactly: ``0.001``, ``1e-05``, ``0.123456789``."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


@dataclass(frozen=True)
class SetupSpec:
    """One network setup: a hidden activation and a weight initialiser (biases start at 0),
    optionally batch normalization and residual connections, and its optimizer."""

    activation: str
    init: str
    gauss_sigma: float = DEFAULT_GAUSS_SIGMA
    """The init's parameter: gauss's sigma, or var's sigma_w^2 (weight variance times n_in)."""
    batch_norm: bool = False
    residual: bool = False
    optimizer: str = DEFAULT_OPTIMIZER
    learning_rate: float | None = None
    """This setup's own learning rate; None: the run's (--lr)."""

    @property
    def name(self) -> str:
        """Canonical name: ``relu-he``, ``relu-gauss:0.05``, ``sigmoid-gauss+bn@adam:0.001``."""
        if self.init == "var" or (self.init == "gauss" and self.gauss_sigma != DEFAULT_GAUSS_SIGMA):
            name = f"{self.activation}-{self.init}:{self.gauss_sigma:g}"
        else:
            name = f"{self.activation}-{self.init}"
        return name + self.remedies

    @property
    def remedies(self) -> str:
        """The name's remedies part, ``+bn+res@adam:0.001`` ('' for a plain SGD setup)."""
        text = "+bn" * self.batch_norm + "+res" * self.residual
        if self.learning_rate is not None:
            return f"{text}@{self.optimizer}:{format_number(self.learning_rate)}"
        return text if self.optimizer == DEFAULT_OPTIMIZER else f"{text}@{self.optimizer}"

    @property
    def plain(self) -> bool:
        """No remedy beyond activation and init: trained by the engine's original pass."""
        return not self.remedies

    def rate(self, run_rate: float) -> float:
        """The learning rate this setup trains at in a run at ``run_rate``."""
        return run_rate if self.learning_rate is None else self.learning_rate


def _base(text: str, spec: str, param: str | None) -> SetupSpec:
    """``ACTIVATION-INIT[:PARAM]`` of the setup ``text``."""
    if not _SETUP_NAME.fullmatch(spec):
        raise ConfigError(
            "setup must look like relu-he or relu-gauss:0.05 (ASCII letters, '-' and '_'), "
            f"got {quoted(text)}"
        )
    spec = spec.lower()
    if "-" not in spec:
        raise ConfigError(
            f"setup must look like ACTIVATION-INIT (e.g. relu-he), got {quoted(text)}"
        )
    activation, init = spec.rsplit("-", 1)
    activation = ACTIVATION_ALIASES.get(activation, activation)
    if activation not in ACTIVATION_NAMES:
        raise ConfigError(
            f"unknown activation {quoted(activation)} in {quoted(text)} "
            f"(choose from {', '.join(ACTIVATION_NAMES)})"
        )
    if init not in INIT_NAMES:
        raise ConfigError(
            f"unknown init {quoted(init)} in {quoted(text)} "
            f"(choose from {', '.join(init_forms())})"
        )
    if param is None:
        if init == "var":
            raise ConfigError(f"var needs its weight variance (var:SIGMA_W^2), got {quoted(text)}")
        return SetupSpec(activation, init)
    if init not in PARAMETER_NAMES:
        raise ConfigError(
            f"only gauss:SIGMA and var:SIGMA_W^2 take a parameter, got {quoted(text)}"
        )
    what = "gauss sigma" if init == "gauss" else "var sigma_w^2"
    return SetupSpec(activation, init, _positive(what, param, text))


def _positive(what: str, param: str, text: str) -> float:
    if not NUMBER.fullmatch(param):
        raise ConfigError(f"{what} must be a number, got {quoted(param)} in {quoted(text)}")
    value = float(param)
    if not math.isfinite(value):
        raise ConfigError(f"{what} must be finite, got {quoted(param)} in {quoted(text)}")
    if value <= 0:
        raise ConfigError(f"{what} must be positive, got {quoted(param)} in {quoted(text)}")
    return value


def parse_setup(text: str) -> SetupSpec:
    """Parse a setup such as ``tanh-xavier``, ``relu-gauss:0.05``, ``sigmoid-gauss+bn``,
    ``sigmoid-xavier+res`` or ``relu-he@adam:0.001``."""
    spec = text.strip()
    optimizer, rate = DEFAULT_OPTIMIZER, None
    if "@" in spec:
        spec, trained = spec.split("@", 1)
        name, _, rate_text = trained.partition(":")
        optimizer = name.strip().lower()
        if optimizer not in OPTIMIZER_NAMES:
            raise ConfigError(
                f"unknown optimizer {quoted(name)} in {quoted(text)} "
                f"(choose from {', '.join(OPTIMIZER_NAMES)})"
            )
        if ":" in trained:
            rate = _positive("learning rate", rate_text.strip(), text)
    base, *modifiers = _MODIFIER_SPLIT.split(spec)
    wanted = [m.strip().lower() for m in modifiers]
    for modifier in wanted:
        if modifier not in MODIFIER_NAMES:
            raise ConfigError(
                f"unknown modifier {quoted('+' + modifier)} in {quoted(text)} "
                f"(a setup is {setup_grammar()}; modifiers: "
                f"{', '.join('+' + m for m in MODIFIER_NAMES)})"
            )
    if len(set(wanted)) != len(wanted):
        raise ConfigError(f"a modifier is given twice in {quoted(text)}")
    base_spec, param = base.strip(), None
    if ":" in base_spec:
        base_spec, param = base_spec.split(":", 1)
    plain = _base(text, base_spec, param)
    return SetupSpec(
        plain.activation,
        plain.init,
        plain.gauss_sigma,
        batch_norm="bn" in wanted,
        residual="res" in wanted,
        optimizer=optimizer,
        learning_rate=rate,
    )


def parse_setups(text: str) -> tuple[SetupSpec, ...]:
    """Parse a comma-separated list of setups."""
    items = [p for p in (s.strip() for s in text.split(",")) if p]
    if not items:
        raise ConfigError("no setups given")
    setups = tuple(parse_setup(p) for p in items)
    names = [s.name for s in setups]
    if len(set(names)) != len(names):
        raise ConfigError(f"duplicate setup in {quoted(text)}")
    return setups
