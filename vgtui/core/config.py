"""Frozen run configuration, setup specifications and their parsing/validation."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from vgtui.core.setups import (
    NUMBER,
    ConfigError,
    SetupSpec,
    parse_setup,
    parse_setups,
    quoted,
)
from vgtui.core.vocabulary import setup_grammar

# ConfigError, SetupSpec, parse_setup and parse_setups live in core.setups (imported from here too)

REPLICA_MARK = "#"


def replica_name(setup: str, replica: int) -> str:
    """The record name of a setup's ``replica`` (0: the setup's own name; 1: ``relu-he#2``)."""
    return setup if replica == 0 else f"{setup}{REPLICA_MARK}{replica + 1}"


def base_setup(name: str) -> str:
    """The setup a record name belongs to (``relu-he#2`` -> ``relu-he``)."""
    return name.split(REPLICA_MARK, 1)[0]


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
    bias_variance: float = 0.0
    """Biases start N(0, bias_variance) (mean-field theory's sigma_b^2); 0: biases start at 0."""
    probe_size: int = 1000
    """Test images (chosen by the seed) whose hidden activations are measured at every
    evaluation (see vgtui.core.activation_stats); 0: none."""
    seeds: int = 1
    """Each setup is trained this many times in lockstep: copy k (from 0) is the network a
    one-seed run with seed + k trains, its initial weights and its mini-batches ..."""
    same_batches: bool = False
    """... or, with same_batches, only its initial weights: every copy sees the mini-batches
    of ``seed`` (the controlled experiment: what the initialisation alone does)."""

    @property
    def preset_name(self) -> str:
        """The preset this configuration is (whatever its seed and probe), else ``custom``."""
        mine = replace(
            self,
            seed=0,
            probe_size=RunConfig.probe_size,
            same_batches=self.same_batches and self.seeds > 1,  # one seed: no effect
        )
        return next((name for name, p in PRESETS.items() if p.config == mine), "custom")

    @property
    def setup_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.setups)

    @property
    def trained(self) -> tuple[tuple[SetupSpec, int, str], ...]:
        """Every network the run trains: (setup, replica, record name), replica 0 of every
        setup first (named as the setup: a one-seed run's networks), then replica 1 of each
        (``relu-he#2``: the second seed), ..."""
        return tuple(
            (spec, replica, replica_name(spec.name, replica))
            for replica in range(self.seeds)
            for spec in self.setups
        )

    def validate(self, train_size: int | None = None) -> RunConfig:
        """Raise ConfigError for the first invalid value; return self so calls can be chained.
        Each value is checked by its option's own check, the one the CLI and sidebar use."""
        for option in RUN_OPTIONS:
            option.check(getattr(self, option.key))
        if self.notebook_grad and any(s.residual for s in self.setups):
            raise ConfigError("--notebook-grad reproduces the notebook's networks: not with +res")
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
            "bias_variance": self.bias_variance,
            "probe_size": self.probe_size,
            "seeds": self.seeds,
            "same_batches": self.same_batches,
        }

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """The configuration :meth:`to_dict` gave (validated); keys that older runs lack take
        the values those runs had."""
        return cls(
            iterations=int(data["iterations"]),
            batch_size=int(data["batch_size"]),
            learning_rate=float(data["learning_rate"]),
            hidden=tuple(int(h) for h in data["hidden"]),
            eval_every=int(data["eval_every"]),
            seed=int(data["seed"]),
            setups=tuple(parse_setup(str(s)) for s in data["setups"]),
            notebook_grad=bool(data.get("notebook_grad", False)),
            bias_variance=float(data.get("bias_variance", 0.0)),
            probe_size=int(data.get("probe_size", 0)),  # runs before the probe had none
            seeds=int(data.get("seeds", 1)),
            # runs before the option shared the batches (for one seed, it has no effect)
            same_batches=bool(data.get("same_batches", int(data.get("seeds", 1)) > 1)),
        ).validate()


@dataclass(frozen=True)
class Preset:
    """An experiment from the literature, ready to run: its configuration, source and result."""

    config: RunConfig
    source: str
    shows: str


def _preset(setups: str, **changes: Any) -> RunConfig:
    return RunConfig(setups=parse_setups(setups), **changes)


# -- checks and parsers: one per kind of value, shared by RunConfig.validate, CLI and sidebar --


def check_positive_int(
    label: str, value: int, minimum: int = 1, maximum: int | None = None
) -> None:
    if value < minimum:
        raise ConfigError(f"{label} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        # no float(value), no str(value): either fails for the numbers this check refuses
        shown = f"{value:,}" if value < 10**12 else f"about 10^{int(value.bit_length() * 0.30103)}"
        raise ConfigError(f"{label} must be at most {maximum:,}, got {shown}")


MAX_SEEDS = 50
MAX_ITERATIONS = 10**8
"""Iterations (and the evaluation interval) of one run or sweep task: 10^8 steps of the
smallest network already take days, and a number beyond it (a typo, or a hostile sweep.json
with 10^30) would otherwise be accepted and run forever."""


def check_seeds(value: int) -> None:
    if not 1 <= value <= MAX_SEEDS:
        raise ConfigError(f"seeds must be in 1..{MAX_SEEDS}, got {value}")


def check_learning_rate(value: float) -> None:
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"learning rate must be a positive number, got {value:g}")


def check_bias_variance(value: float) -> None:
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"bias variance must be a number >= 0, got {value:g}")


def check_hidden(sizes: tuple[int, ...]) -> None:
    if not sizes or any(h < 1 for h in sizes):
        raise ConfigError("hidden sizes must be one or more positive integers")


def check_setups(setups: tuple[SetupSpec, ...]) -> None:
    if not setups:
        raise ConfigError("no setups selected")
    names = [s.name for s in setups]
    if len(set(names)) != len(names):
        raise ConfigError(f"duplicate setup in {','.join(names)}")


# Only ASCII digits: int() and float() also take '٣', '²'-like digits (or fail on them
# with errors of their own), '1_000', 'nan' and 'inf', none of which a number field means.
_WHOLE = re.compile(r"[+-]?[0-9]+")


def _whole_number(text: str) -> int | None:
    """The value of ASCII digits with an optional sign, or None."""
    if not _WHOLE.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return None


def parse_int(label: str, text: str) -> int:
    """A whole number in ASCII digits (range checks are the option's)."""
    value = _whole_number(text.strip())
    if value is None:
        raise ConfigError(f"{label} must be a whole number, got {quoted(text.strip())}")
    return value


def parse_float(label: str, text: str) -> float:
    """A finite number in ASCII: digits, an optional point and exponent."""
    text = text.strip()
    if not NUMBER.fullmatch(text):
        raise ConfigError(f"{label} must be a number, got {quoted(text)}")
    value = float(text)
    if not math.isfinite(value):
        raise ConfigError(f"{label} must be a finite number, got {quoted(text)}")
    return value


def parse_hidden(text: str) -> tuple[int, ...]:
    """Parse hidden sizes such as ``40,20``."""
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise ConfigError(f"hidden sizes must look like 40,20, got {quoted(text.strip())}")
    sizes = []
    for part in parts:
        size = _whole_number(part)
        if size is None or size < 1:
            raise ConfigError(f"hidden sizes must be positive integers, got {quoted(part)}")
        sizes.append(size)
    return tuple(sizes)


# -- the options: what the command line and the sidebar offer, declared once --------------------

OptionKind = Literal["text", "switch", "setups"]


@dataclass(frozen=True)
class Option:
    """One run setting: the RunConfig field it sets, its flag and label, and how its text is
    read (``parse``: text to value), checked (``check``) and shown (``show``)."""

    key: str
    flag: str
    label: str
    help: str
    kind: OptionKind = "text"
    metavar: str = "N"
    parse: Callable[[str], Any] = str
    check: Callable[[Any], None] = lambda value: None
    show: Callable[[Any], str] = str

    def read(self, text: str) -> Any:
        """The value of ``text``, checked; raises ConfigError saying what is wrong."""
        value = self.parse(text)
        self.check(value)
        return value

    def default(self) -> Any:
        return getattr(RunConfig(), self.key)


def _whole(
    key: str, flag: str, label: str, help: str, minimum: int = 1, maximum: int | None = None
) -> Option:
    return Option(
        key,
        flag,
        label,
        help,
        parse=lambda text: parse_int(label, text),
        check=lambda value: check_positive_int(label, value, minimum, maximum),
    )


def _real(
    key: str, flag: str, label: str, help: str, check: Callable[[float], None], metavar: str
) -> Option:
    return Option(
        key,
        flag,
        label,
        help,
        metavar=metavar,
        parse=lambda text: parse_float(label, text),
        check=check,
        show=lambda value: f"{value:g}",
    )


RUN_OPTIONS: tuple[Option, ...] = (
    _whole("iterations", "--iters", "iterations", "SGD iterations", maximum=MAX_ITERATIONS),
    _whole("batch_size", "--batch-size", "batch size", "mini-batch size"),
    _real("learning_rate", "--lr", "learning rate", "learning rate", check_learning_rate, "RATE"),
    Option(
        "hidden",
        "--hidden",
        "hidden sizes",
        "hidden layer sizes, comma-separated",
        metavar="SIZES",
        parse=parse_hidden,
        check=check_hidden,
        show=lambda sizes: ",".join(map(str, sizes)),
    ),
    _whole(
        "eval_every",
        "--eval-every",
        "eval interval",
        "record metrics every N iterations",
        maximum=MAX_ITERATIONS,
    ),
    _whole("seed", "--seed", "seed", "random seed", minimum=0),
    Option(
        "setups",
        "--setups",
        "setups",
        f"comma-separated setups, each {setup_grammar()}, e.g. "
        "sigmoid-gauss,sigmoid-gauss+bn,relu-he@adam:0.001",
        kind="setups",
        metavar="LIST",
        parse=parse_setups,
        check=check_setups,
        show=lambda setups: ",".join(s.name for s in setups),
    ),
    _real(
        "bias_variance",
        "--bias-var",
        "bias variance",
        "biases start N(0, VAR); 0 starts them at 0",
        check_bias_variance,
        "VAR",
    ),
    _whole(
        "probe_size",
        "--probe-size",
        "probe images",
        "test images (chosen by the seed) whose activations are measured at every evaluation; "
        "0: none",
        minimum=0,
    ),
    Option(
        "seeds",
        "--seeds",
        "seeds",
        "train each setup with N seeds (seed, seed+1, ...: each its own initial weights and "
        "mini-batches): charts draw the mean and the min-max band, the summary the mean and "
        "the standard deviation over the seeds (sd)",
        parse=lambda text: parse_int("seeds", text),
        check=check_seeds,
    ),
    Option(
        "same_batches",
        "--same-batches",
        "same batches",
        "with --seeds: every seed trains on the mini-batches of --seed, only the initial "
        "weights vary (default: each seed its own batches too)",
        kind="switch",
        check=lambda value: None,
    ),
    Option(
        "notebook_grad",
        "--notebook-grad",
        "notebook gradient",
        "reproduce the course notebook's quirk: sigmoid's derivative taken at the layer's "
        "output instead of its input (other activations keep the exact gradient; default: "
        "exact gradient)",
        kind="switch",
        check=lambda value: None,
    ),
)
"""Every RunConfig field once, in the order of the command line's help."""


PRESETS: dict[str, Preset] = {
    "notebook": Preset(
        RunConfig(),
        "the course notebook",
        "sigmoid with N(0, 0.01^2) weights stalls at chance; ReLU, Xavier and He learn",
    ),
    "dlfs-init": Preset(
        _preset(
            "relu-gauss,relu-xavier,relu-he",
            hidden=(100, 100, 100, 100),
            learning_rate=0.01,
            batch_size=128,
            eval_every=20,
        ),
        "Deep Learning from Scratch, ch. 6 (weight_init_compare.py)",
        "std 0.01 stays at loss 2.30 (11.35%); He reaches loss < 0.5 by about iteration 500, "
        "Xavier by about 1000",
    ),
    "he-deep": Preset(
        _preset("relu-he,relu-xavier", hidden=(64,) * 30, learning_rate=0.01, iterations=1000),
        "He et al. 2015, 'Delving Deep into Rectifiers', fig. 3 (a 30-layer ReLU net)",
        "30 ReLU layers learn with He's init and stall at 11% with Xavier's",
    ),
    "glorot": Preset(
        _preset(
            "tanh-uniform,tanh-glorot,softsign-uniform,softsign-glorot",
            hidden=(100, 100, 100, 100, 100),
            learning_rate=0.01,
        ),
        "Glorot & Bengio 2010, 'Understanding the difficulty of training deep feedforward "
        "neural networks' (5 hidden layers; standard vs normalized init)",
        "the normalized init (glorot) trains tanh and softsign much faster than the standard "
        "one (uniform)",
    ),
    "notebook-remedies": Preset(
        _preset(",".join([*(s.name for s in DEFAULT_SETUPS), "sigmoid-gauss+bn",
                          "sigmoid-gauss@adam:0.001"])),  # fmt: skip
        "the course notebook's four setups, and its stalled sigmoid-gauss with batch "
        "normalization (Ioffe & Szegedy 2015) and with Adam (Kingma & Ba 2015)",
        "sigmoid-gauss stalls at chance; with batch norm it learns at once (78% by iteration "
        "200), with Adam a little later (40% by 200, 90% at the end)",
    ),
    "dlfs-optimizers": Preset(
        _preset(
            "relu-he,relu-he@momentum,relu-he@adagrad,relu-he@adam:0.001",
            hidden=(100, 100, 100, 100),
            learning_rate=0.01,
            batch_size=128,
            eval_every=20,
        ),
        "Deep Learning from Scratch, ch. 6 (optimizer_compare_mnist.py: SGD, Momentum and "
        "AdaGrad at 0.01, Adam at 0.001)",
        "SGD is clearly the slowest (81% at iteration 200, the others 92-94%)",
    ),
    "residual-deep": Preset(
        _preset(
            "sigmoid-xavier,sigmoid-xavier+res,tanh-xavier,tanh-xavier+res",
            hidden=(64,) * 50,
            iterations=1000,
        ),
        "He et al. 2016, 'Deep Residual Learning' (identity shortcuts), on 50 fully "
        "connected sigmoid and tanh layers",
        "50 plain sigmoid or tanh layers stall at chance; with residual connections they pass"
        " 50% by iteration 200",
    ),
    "dlfs-batchnorm": Preset(
        _preset(
            ",".join(f"relu-gauss:{w}{bn}" for bn in ("", "+bn")
                     for w in ("1", "0.1", "0.01", "0.001", "0.0001")),  # fmt: skip
            hidden=(100,) * 5,
            learning_rate=0.01,
            iterations=200,
        ),
        "Deep Learning from Scratch, ch. 6 (batch_norm_test.py: 5 layers of 100, lr 0.01, "
        "20 epochs of 1000 images = 200 steps; here five of its 16 weight scales, the decades, "
        "and batches from all 60000 images)",
        "with batch norm the net learns at every weight scale; without, only at 0.1 (std 1 "
        "diverges, smaller ones stall)",
    ),
}
"""Presets by name, for --preset (the command line's flags change them)."""
