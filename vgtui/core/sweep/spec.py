"""What a sweep is: its grid of (lane, depth, sigma_w^2) cells, its presets, and its
option table (the flags of ``vgtui sweep``, whose shared bounds are the run's).

A sweep is a grid of cells (lane, depth, sigma_w^2), each trained with ``seeds`` seeds; a
*lane* is an activation with a variant, a remedy or none (``tanh``, ``tanh+bn``, ``tanh+res``).
One *task* is one (lane, depth, seed): it trains every sigma_w^2 of the sweep together,
as the setups ``ACT-var:W[+bn][+res]`` of one RunConfig, so they step in lockstep in one bank
on the same mini-batches (:mod:`vgtui.core.sweep.task` runs one).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace

import numpy as np

from vgtui.core.budget import check_memory
from vgtui.core.config import (
    RUN_OPTIONS,
    ConfigError,
    Option,
    RunConfig,
    SetupSpec,
    parse_float,
    parse_int,
    parse_setup,
)
from vgtui.core.diagnosis import LEARNED

MAX_VALUES = 200
"""Values on one axis."""
MAX_DEPTH = 10_000
MAX_WIDTH = 10_000

CellKey = tuple[str, int, float]
"""A cell of the grid: (lane, depth, sigma_w^2); the lane is :func:`lane_name`'s."""

PLAIN = "plain"
VARIANTS = (PLAIN, "bn", "res", "bn+res")
"""What a lane adds to its networks: nothing, batch normalization, residual connections, or
both (the setup grammar's ``+bn`` and ``+res``). A cell line without a variant (a sweep
folder written before variants) is ``plain``."""


def lane_name(activation: str, variant: str) -> str:
    """``tanh`` (plain), ``tanh+bn``, ``tanh+bn+res``: what the grids and the cell keys call a
    lane, in the setup grammar's spelling."""
    return activation if variant == PLAIN else f"{activation}+{variant}"


def split_lane(lane: str) -> tuple[str, str]:
    """Inverse of :func:`lane_name`: (activation, variant)."""
    activation, _, variant = lane.partition("+")
    return activation, variant or PLAIN


@dataclass(frozen=True)
class SweepSpec:
    """Everything that defines a sweep. The defaults are the ``schoenholz`` preset's, but for
    its 2 seeds."""

    activations: tuple[str, ...] = ("tanh",)
    weight_variances: tuple[float, ...] = tuple(1.0 + 0.375 * k for k in range(9))
    """1 to 4 in 9 steps: 1.75 is a column, next to the critical 1.761 of tanh at 0.05."""
    depths: tuple[int, ...] = (10, 25, 40, 55, 70, 85, 100)
    variants: tuple[str, ...] = (PLAIN,)
    """Each activation's lanes: :data:`VARIANTS`."""
    bias_variance: float = 0.05
    width: int = 100
    seeds: int = 1
    iterations: int = 400
    learning_rate: float = 0.003
    batch_size: int = 100
    eval_every: int = 80
    threshold: float = LEARNED
    """A cell trains when its mean test accuracy is at least this."""
    data_dir: str | None = None
    """Where workers find the four MNIST IDX files; None: the bundled MNIST."""

    def validate(self) -> SweepSpec:
        """Raise ConfigError for the first invalid value (before any work); return self."""
        for option in SWEEP_OPTIONS:
            option.check(getattr(self, option.key))
        for activation in self.activations:
            for variant in self.variants:
                config = self.config(Task(activation, max(self.depths), 0, variant)).validate()
                check_memory(config)
        return self

    @property
    def lanes(self) -> tuple[str, ...]:
        """Every lane, one grid each: the variants of the first activation, then the next's."""
        return tuple(lane_name(a, v) for a in self.activations for v in self.variants)

    @property
    def setups(self) -> tuple[str, ...]:
        return tuple(f"var:{w:g}" for w in self.weight_variances)

    def config(self, task: Task) -> RunConfig:
        """The run of one task: every sigma_w^2 as a setup of one bank."""
        return RunConfig(
            iterations=self.iterations,
            batch_size=self.batch_size,
            learning_rate=self.learning_rate,
            hidden=(self.width,) * task.depth,
            eval_every=self.eval_every,
            seed=task.seed,
            setups=tuple(
                SetupSpec(
                    task.activation,
                    "var",
                    w,
                    batch_norm="bn" in task.variant.split("+"),
                    residual="res" in task.variant.split("+"),
                )
                for w in self.weight_variances
            ),
            bias_variance=self.bias_variance,
        )

    def tasks(self) -> list[Task]:
        """Every task, the most expensive first (so the last ones to finish are short)."""
        tasks = [
            Task(a, d, s, v)
            for a in self.activations
            for v in self.variants
            for d in self.depths
            for s in range(self.seeds)
        ]
        return sorted(tasks, key=lambda t: (-t.depth, t.activation, VARIANTS.index(t.variant),
                                            t.seed))  # fmt: skip

    @property
    def cell_count(self) -> int:
        return len(self.lanes) * len(self.depths) * len(self.weight_variances)

    def to_dict(self) -> dict:
        document = asdict(self)
        for key in ("activations", "weight_variances", "depths", "variants"):
            document[key] = list(document[key])
        return document

    @classmethod
    def from_dict(cls, document: Mapping) -> SweepSpec:
        """Inverse of :meth:`to_dict`; raises ConfigError for a malformed document."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in document.items() if k in known}
        for key, value in values.items():
            _check_json_type(key, value)
        try:
            for key in ("activations", "weight_variances", "depths", "variants"):
                if key in values:
                    values[key] = tuple(values[key])
            spec = cls(**values)
            spec = replace(
                spec,
                weight_variances=tuple(float(w) for w in spec.weight_variances),
                depths=tuple(int(d) for d in spec.depths),
            )
            return spec.validate()
        except (TypeError, ValueError) as error:
            raise ConfigError(f"malformed sweep settings: {error}") from None


AXIS_TYPES = {"activations": str, "weight_variances": float, "depths": int, "variants": str}
WHOLE_FIELDS = ("width", "seeds", "iterations", "batch_size", "eval_every")
NUMBER_FIELDS = ("bias_variance", "learning_rate", "threshold")


def _check_json_type(key: str, value: object) -> None:
    """ConfigError unless a field read from a file (sweep.json, a task) has its type: the
    checks of the options assume the values the command line's parsers give them."""
    if key in AXIS_TYPES:
        kind = AXIS_TYPES[key]
        if not isinstance(value, list) or not 1 <= len(value) <= MAX_VALUES:
            raise ConfigError(f"{key} must be a list of 1 to {MAX_VALUES} values")
        if not all(_is(item, kind) for item in value):
            raise ConfigError(f"{key} must all be {kind.__name__} values")
        if len(set(value)) != len(value):
            raise ConfigError(f"{key} has a value twice")
    elif key in WHOLE_FIELDS and not _is(value, int):
        raise ConfigError(f"{key} must be a whole number")
    elif key in NUMBER_FIELDS and not _is(value, float):
        raise ConfigError(f"{key} must be a finite number")
    elif key == "data_dir" and value is not None and not isinstance(value, str):
        raise ConfigError("data_dir must be a folder name or null")


def _is(value: object, kind: type) -> bool:
    if isinstance(value, bool):
        return False
    if kind is float:
        if isinstance(value, int):
            return abs(value) < 10**300
        return isinstance(value, float) and math.isfinite(value)
    return isinstance(value, kind)


PRESETS: dict[str, SweepSpec] = {
    "schoenholz": SweepSpec(seeds=2),
    "quick": SweepSpec(
        weight_variances=(0.5, 1.0, 1.76, 3.0, 6.0),
        depths=(2, 6, 12),
        width=32,
        iterations=200,
        learning_rate=0.05,
        eval_every=40,
    ),
}
"""``schoenholz``: Schoenholz et al.'s figure (tanh, sigma_b^2 0.05, sigma_w^2 1..4, depth
10..100, width 100) cut to a few minutes on two cores, 2 seeds a cell (their spread shown);
``quick``: a smoke test in seconds."""


@dataclass(frozen=True, order=True)
class Task:
    """One unit of work: every sigma_w^2 of one (lane, depth, seed)."""

    activation: str
    depth: int
    seed: int
    variant: str = PLAIN

    @property
    def lane(self) -> str:
        return lane_name(self.activation, self.variant)

    @property
    def key(self) -> str:
        return f"{self.lane}-depth{self.depth}-seed{self.seed}"


# -- the axes: parsed from text, checked as values ---------------------------------------------


def parse_activation(text: str) -> str:
    return parse_setup(f"{text.strip()}-he").activation


def parse_activations(text: str) -> tuple[str, ...]:
    items = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in items):
        raise ConfigError(f"activations must look like tanh,relu, got {text.strip()!r}")
    found = tuple(dict.fromkeys(parse_activation(p) for p in items))
    return found


def _axis(label: str, text: str, parse) -> list:
    """``LOW:HIGH:N`` (N evenly spaced values, both ends included) or ``A,B,C``."""
    text = text.strip()
    if ":" in text:
        parts = text.split(":")
        if len(parts) != 3:
            raise ConfigError(f"{label} range must look like LOW:HIGH:N, got {text!r}")
        low = parse_float(label, parts[0])
        high = parse_float(label, parts[1])
        count = parse_int(f"{label} count", parts[2])
        if count < 1 or count > MAX_VALUES:
            raise ConfigError(f"{label} count must be in 1..{MAX_VALUES}, got {count}")
        if high < low:
            raise ConfigError(f"{label} range must go up (LOW <= HIGH), got {text!r}")
        if count == 1 and high != low:
            raise ConfigError(f"{label} range of 1 value needs LOW = HIGH, got {text!r}")
        return [parse(f"{v:.10g}") for v in np.linspace(low, high, count)]
    items = [p.strip() for p in text.split(",")]
    if not text or any(not p for p in items):
        raise ConfigError(f"{label} must be LOW:HIGH:N or a list like 1,2,3, got {text!r}")
    if len(items) > MAX_VALUES:
        raise ConfigError(f"{label}: at most {MAX_VALUES} values")
    return [parse(p) for p in items]


def parse_weight_variances(text: str) -> tuple[float, ...]:
    """``1:4:13`` or ``0.5,1,2``: sigma_w^2 values, each > 0."""
    label = "weight variance"
    values = _axis(label, text, lambda t: parse_float(label, t))
    if any(v <= 0 for v in values):
        raise ConfigError(f"{label} values must be > 0, got {text.strip()!r}")
    values = sorted({round(v, 10) for v in values})
    return tuple(values)


def parse_depths(text: str) -> tuple[int, ...]:
    """``10:100:10`` (10 evenly spaced depths, rounded) or ``2,5,10``: depths, each >= 1."""
    label = "depth"

    def whole(t: str) -> int:
        value = parse_float(label, t)
        if value != round(value) and ":" not in text:
            raise ConfigError(f"{label} must be a whole number, got {t!r}")
        return round(value)

    values = _axis(label, text, whole)
    if any(v < 1 for v in values):
        raise ConfigError(f"{label} values must be >= 1, got {text.strip()!r}")
    if any(v > MAX_DEPTH for v in values):
        raise ConfigError(f"{label} values must be at most {MAX_DEPTH}, got {text.strip()!r}")
    return tuple(sorted(set(values)))


def check_activations(values: tuple[str, ...]) -> None:
    if not values:
        raise ConfigError("no activations given")
    for activation in values:
        parse_activation(activation)


def parse_variants(text: str) -> tuple[str, ...]:
    """``plain,bn,res`` (or ``bn+res``): the variants, each once, in the given order."""
    items = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in items):
        raise ConfigError(f"variants must look like plain,bn,res, got {text.strip()!r}")
    found = tuple(dict.fromkeys(items))
    check_variants(found)
    return found


def check_variants(values: tuple[str, ...]) -> None:
    if not values:
        raise ConfigError("no variants given")
    for variant in values:
        if variant not in VARIANTS:
            shown = variant if len(variant) < 40 else variant[:40] + "..."
            raise ConfigError(f"unknown variant {shown!r}: the variants are {', '.join(VARIANTS)}")


def check_weight_variances(values: tuple[float, ...]) -> None:
    if not values or any(not math.isfinite(w) or w <= 0 for w in values):
        raise ConfigError("weight variances must be positive numbers")


def check_depths(values: tuple[int, ...]) -> None:
    if not values or any(not 1 <= d <= MAX_DEPTH for d in values):
        raise ConfigError(f"depths must be whole numbers in 1..{MAX_DEPTH}")


def check_width(value: int) -> None:
    if not 1 <= value <= MAX_WIDTH:
        raise ConfigError(f"width must be in 1..{MAX_WIDTH}, got {value}")


def check_threshold(value: float) -> None:
    if not 0 < value <= 1:
        raise ConfigError(f"threshold must be in (0, 1], got {value:g}")


def _run_option(key: str, help: str) -> Option:
    """A setting a sweep shares with a run: the run's flag, parser and bounds (RUN_OPTIONS),
    so ``vgtui sweep`` and ``vgtui`` accept the same values."""
    option = next(o for o in RUN_OPTIONS if o.key == key)
    return replace(option, help=help)


def _values(values: tuple) -> str:
    return ",".join(f"{v:g}" if isinstance(v, float) else str(v) for v in values)


SWEEP_OPTIONS: tuple[Option, ...] = (
    Option("activations", "--activations", "activations", "hidden activations, e.g. tanh,relu",
           metavar="LIST", parse=parse_activations, check=check_activations, show=_values),
    Option("weight_variances", "--weight-var", "weight variance",
           "sigma_w^2 values: weights N(0, sigma_w^2 / n_in); LOW:HIGH:N is N evenly spaced "
           "values, ends included", metavar="LOW:HIGH:N|LIST", parse=parse_weight_variances,
           check=check_weight_variances, show=_values),
    Option("variants", "--variants", "variants",
           "each activation's lanes, one grid each: plain, bn (batch normalization), res "
           "(residual connections) or bn+res; the mean-field prediction is drawn for plain only",
           metavar="LIST", parse=parse_variants, check=check_variants, show=",".join),
    _run_option("bias_variance", "sigma_b^2: biases N(0, VAR)"),
    Option("depths", "--depths", "depths",
           "hidden layer counts (LOW:HIGH:N rounded to whole numbers)", metavar="LOW:HIGH:N|LIST",
           parse=parse_depths, check=check_depths, show=_values),
    Option("width", "--width", "width", "units per hidden layer",
           parse=lambda text: parse_int("width", text), check=check_width),
    _run_option("seeds", "seeds per cell, averaged"),
    _run_option("iterations", "SGD iterations"),
    _run_option("learning_rate", "learning rate"),
    _run_option("batch_size", "mini-batch size"),
    _run_option("eval_every", "record metrics every N iterations"),
    Option("threshold", "--threshold", "threshold",
           "a cell trains when its mean test accuracy is at least ACC (0..1)", metavar="ACC",
           parse=lambda text: parse_float("threshold", text), check=check_threshold,
           show=lambda value: f"{value:g}"),
)  # fmt: skip
"""The settings of a sweep that ``vgtui sweep`` takes as flags, in its help's order (each
``key`` a SweepSpec field); :meth:`SweepSpec.validate` applies their checks."""


__all__ = [
    "PLAIN",
    "PRESETS",
    "VARIANTS",
    "CellKey",
    "lane_name",
    "parse_variants",
    "split_lane",
    "SWEEP_OPTIONS",
    "SweepSpec",
    "Task",
    "parse_activations",
    "parse_depths",
    "parse_weight_variances",
]
