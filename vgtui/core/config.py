"""Frozen run configuration, setup specifications and their parsing/validation."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

ACTIVATION_NAMES: tuple[str, ...] = ("sigmoid", "tanh", "relu", "leaky-relu", "elu")
INIT_NAMES: tuple[str, ...] = ("gauss", "xavier", "he")
DEFAULT_GAUSS_SIGMA = 0.01

_ACTIVATION_ALIASES = {"leaky_relu": "leaky-relu", "leakyrelu": "leaky-relu", "lrelu": "leaky-relu"}


class ConfigError(ValueError):
    """A configuration value is invalid; the message is meant for the user."""


@dataclass(frozen=True)
class SetupSpec:
    """One network setup: a hidden activation and a weight initialiser (biases start at 0)."""

    activation: str
    init: str
    gauss_sigma: float = DEFAULT_GAUSS_SIGMA

    @property
    def name(self) -> str:
        """Canonical ``ACTIVATION-INIT`` name, e.g. ``relu-he`` or ``relu-gauss:0.05``."""
        if self.init == "gauss" and self.gauss_sigma != DEFAULT_GAUSS_SIGMA:
            return f"{self.activation}-gauss:{self.gauss_sigma:g}"
        return f"{self.activation}-{self.init}"


DEFAULT_SETUPS: tuple[SetupSpec, ...] = (
    SetupSpec("sigmoid", "gauss"),
    SetupSpec("relu", "gauss"),
    SetupSpec("sigmoid", "xavier"),
    SetupSpec("relu", "he"),
)


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a run; the defaults are the course notebook's."""

    iterations: int = 2000
    batch_size: int = 100
    learning_rate: float = 0.1
    hidden: tuple[int, ...] = (40, 20)
    eval_every: int = 10
    seed: int = 0
    setups: tuple[SetupSpec, ...] = field(default=DEFAULT_SETUPS)
    notebook_grad: bool = False

    @property
    def preset_name(self) -> str:
        """``notebook`` for the brief's four setups with its hyper-parameters, else ``custom``."""
        return "notebook" if replace(self, seed=0) == RunConfig() else "custom"

    @property
    def setup_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.setups)

    def validate(self, train_size: int | None = None) -> RunConfig:
        """Raise ConfigError for any invalid value; return self so calls can be chained."""
        check_positive_int("iterations", self.iterations)
        check_positive_int("batch size", self.batch_size)
        check_positive_int("eval interval", self.eval_every)
        check_learning_rate(self.learning_rate)
        if not self.hidden or any(h < 1 for h in self.hidden):
            raise ConfigError("hidden sizes must be one or more positive integers")
        if not self.setups:
            raise ConfigError("no setups selected")
        names = self.setup_names
        if len(set(names)) != len(names):
            raise ConfigError(f"duplicate setup in {','.join(names)}")
        if self.seed < 0:
            raise ConfigError(f"seed must be >= 0, got {self.seed}")
        if train_size is not None and self.batch_size > train_size:
            raise ConfigError(
                f"batch size {self.batch_size} is larger than the training set ({train_size})"
            )
        return self

    def to_dict(self) -> dict:
        """A JSON-friendly view of the configuration."""
        return {
            "iterations": self.iterations,
            "batch_size": self.batch_size,
            "learning_rate": self.learning_rate,
            "hidden": list(self.hidden),
            "eval_every": self.eval_every,
            "seed": self.seed,
            "setups": [s.name for s in self.setups],
            "notebook_grad": self.notebook_grad,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(
            iterations=int(data["iterations"]),
            batch_size=int(data["batch_size"]),
            learning_rate=float(data["learning_rate"]),
            hidden=tuple(int(h) for h in data["hidden"]),
            eval_every=int(data["eval_every"]),
            seed=int(data["seed"]),
            setups=tuple(parse_setup(s) for s in data["setups"]),
            notebook_grad=bool(data.get("notebook_grad", False)),
        )


def check_positive_int(label: str, value: int) -> int:
    if value < 1:
        raise ConfigError(f"{label} must be >= 1, got {value}")
    return value


def check_learning_rate(value: float) -> float:
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"learning rate must be a positive number, got {value:g}")
    return value


def parse_int(label: str, text: str, minimum: int = 1) -> int:
    """Parse a whole number of at least ``minimum``."""
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(f"{label} must be a whole number, got {text.strip()!r}") from None
    if value < minimum:
        raise ConfigError(f"{label} must be >= {minimum}, got {value}")
    return value


def parse_learning_rate(text: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ConfigError(f"learning rate must be a number, got {text.strip()!r}") from None
    return check_learning_rate(value)


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse hidden sizes such as ``40,20``."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise ConfigError(f"hidden sizes must look like 40,20, got {text.strip()!r}")
    sizes = []
    for part in parts:
        if not part.isdigit() or int(part) < 1:
            raise ConfigError(f"hidden sizes must be positive integers, got {part!r}")
        sizes.append(int(part))
    return tuple(sizes)


def parse_setup(text: str) -> SetupSpec:
    """Parse ``ACTIVATION-INIT`` such as ``tanh-xavier`` or ``relu-gauss:0.05``."""
    spec = text.strip().lower()
    param: str | None = None
    if ":" in spec:
        spec, param = spec.split(":", 1)
    if "-" not in spec:
        raise ConfigError(f"setup must look like ACTIVATION-INIT (e.g. relu-he), got {text!r}")
    activation, init = spec.rsplit("-", 1)
    activation = _ACTIVATION_ALIASES.get(activation, activation)
    if activation not in ACTIVATION_NAMES:
        raise ConfigError(
            f"unknown activation {activation!r} in {text!r} "
            f"(choose from {', '.join(ACTIVATION_NAMES)})"
        )
    if init not in INIT_NAMES:
        raise ConfigError(
            f"unknown init {init!r} in {text!r} (choose from gauss[:SIGMA], xavier, he)"
        )
    if param is None:
        return SetupSpec(activation, init)
    if init != "gauss":
        raise ConfigError(f"only gauss takes a parameter (gauss:SIGMA), got {text!r}")
    try:
        sigma = float(param)
    except ValueError:
        raise ConfigError(f"gauss sigma must be a number, got {param!r} in {text!r}") from None
    if not math.isfinite(sigma) or sigma <= 0:
        raise ConfigError(f"gauss sigma must be positive, got {param!r} in {text!r}")
    return SetupSpec(activation, init, sigma)


def parse_setups(text: str) -> tuple[SetupSpec, ...]:
    """Parse a comma-separated list of setups."""
    items = [p for p in (s.strip() for s in text.split(",")) if p]
    if not items:
        raise ConfigError("no setups given")
    setups = tuple(parse_setup(p) for p in items)
    names = [s.name for s in setups]
    if len(set(names)) != len(names):
        raise ConfigError(f"duplicate setup in {text!r}")
    return setups
