"""What a setup's records show, measure by measure, and over which iterations it held.

Every measure is read from what the records hold: each weight layer's back-propagated error
(delta), weights and update ratio, and, where the run had a probe, each hidden layer's
activations. The setup's own init (parsed from its name) gives the weights' starting scale,
so that weights which grew by orders of magnitude before the first evaluation still show.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from vgtui.core.config import ConfigError, SetupSpec, base_setup, parse_setup
from vgtui.core.records import MetricRecord
from vgtui.core.vocabulary import SetupState, SetupStatus

CHANCE_LOSS = math.log(10)  # cross-entropy of a uniform guess over the 10 digits: 2.303
LEARNING_LOSS = 0.9 * CHANCE_LOSS  # a loss clearly below a uniform guess's: it is learning
CHANCE_ACCURACY = 0.2  # 10% is chance, 11.35% always saying "1": below this is not learning
STREAK = 5  # a lasting state must hold for 5 evaluations in a row (or the whole of a short run)
LEARNED = 0.5  # test accuracy that counts as having learned
PLATEAU_SHARE = 0.1  # a plateau lasts at least this share of the run (and STREAK evaluations)

VANISHING_RATIO = 1e-3  # the error reaching layer 1 is 3 orders of magnitude below the output's
GRADIENT_VANISHING = 1e-2  # or the first layer's gradient 2 orders below the last layer's
EXPLODING_RATIO = 1e3  # ... or 3 orders above it
EXPLODING_NORM = 10.0  # and the first layer's gradient norm large (healthy: about 1)
TINY_UPDATE = 1e-5  # lr * |grad| / |W|: healthy layers move about 1e-3 of their weights a step
BIG_STEP = 0.05  # a hidden layer moving 5% of its weights in one step
GROWN = 4.0  # weights this many times their natural scale (at least He's): too large a step
EXPLODED = 100.0  # the first layer's weights grew by orders of magnitude ...
FIRST_HEAVY = 10.0  # ... and far more than the output layer's: the gradient grew backwards
LOSS_SPIKE = 2.0  # an interval's mean loss above twice a uniform guess's: steps overshoot
COLLAPSE_SPREAD = 0.01  # a layer's activations vary across inputs by < 1% of their magnitude
SATURATED_SHARE = 0.5  # half of a bounded layer's activations beyond 99% of its range
FULLY_SATURATED = 0.99  # every activation saturated: the slope is exactly 0 in float32
DEAD_SHARE = 0.25  # a quarter of a ReLU-like layer's units never active on the probe
NEARLY_ALL = 0.9  # a layer this dead passes (almost) no error back
FLOAT32_TINY = 1.1754944e-38  # float32's smallest normal number: below it, values lose digits
INPUTS = 784  # the MNIST-format images' pixels: layer 1's fan-in
CLASSES = 10


def is_stalled(evaluations: int, test_accuracy: float) -> bool:
    """The one rule for "stalled", for the shown state and the finding alike: STREAK
    evaluations have passed and the latest test accuracy is still at chance."""
    return evaluations >= STREAK and test_accuracy <= CHANCE_ACCURACY


def setup_state(status: SetupStatus, evaluations: int, test_accuracy: float) -> SetupState:
    """The state shown for a setup (strip, summary table, summary.json)."""
    if status == SetupStatus.DIVERGED:
        return SetupState.DIVERGED
    if status == SetupStatus.NO_DATA or evaluations == 0:
        return SetupState.NO_DATA
    if is_stalled(evaluations, test_accuracy):
        return SetupState.STALLED
    return SetupState.OK


def spec_of(setup: str) -> SetupSpec | None:
    """The setup's activation and init, from its (canonical) name, also as a further seed's
    (``relu-he#2``) or a compared run's (``seed1/relu-he``); None for another name."""
    try:
        return parse_setup(base_setup(setup).rsplit("/", 1)[-1])
    except ConfigError:
        return None


@dataclass(frozen=True)
class Span:
    """Iterations over which a measure held: ``until`` None while it still holds."""

    since: int
    until: int | None


def span(records: Sequence[MetricRecord], holds: Callable[[MetricRecord], bool],
         least: int = STREAK) -> Span | None:  # fmt: skip
    """From the first to the last run of at least ``least`` consecutive records (all of a
    shorter history) for which ``holds``; None if there is no such run."""
    least = max(1, min(least, len(records)))
    runs: list[tuple[int, int]] = []
    start = None
    for index, record in enumerate([*records, None]):
        if record is not None and holds(record):
            start = index if start is None else start
            continue
        if start is not None and index - start >= least:
            runs.append((start, index - 1))
        start = None
    if not runs:
        return None
    last = runs[-1][1]
    until = None if last == len(records) - 1 else records[last].iteration
    return Span(records[runs[0][0]].iteration, until)


def backward_ratio(record: MetricRecord) -> float:
    """The error (delta) reaching the first layer that gets any, over the output layer's:
    how much of the error signal survives the way back (0 if no hidden layer gets any); the
    gradient first/last ratio where deltas are missing."""
    if not record.layers:
        return record.grad_ratio
    last = record.layers[-1].delta_std
    first = next((layer.delta_std for layer in record.layers[:-1] if layer.delta_std > 0), 0.0)
    return first / last if last > 0 else math.nan


def hidden_sizes(record: MetricRecord) -> tuple[int, ...] | None:
    """Units per hidden layer, from the probe's statistics (None without a probe)."""
    if not record.activations or len(record.activations) != len(record.layers) - 1:
        return None
    return tuple(a.units for a in record.activations)


def natural_scale(spec: SetupSpec, fan_in: int, fan_out: int) -> float:
    """The std a layer's weights start with, or He's sqrt(2 / fan_in) if that is larger: the
    scale trained weights reach and keep when the steps are sound."""
    if spec.init == "gauss":
        start = spec.gauss_sigma
    elif spec.init in ("xavier", "lecun"):
        start = 1 / math.sqrt(fan_in)
    elif spec.init == "var":
        start = math.sqrt(spec.gauss_sigma / fan_in)
    elif spec.init == "uniform":
        start = 1 / math.sqrt(3 * fan_in)
    elif spec.init == "glorot":
        start = math.sqrt(2 / (fan_in + fan_out))
    elif spec.init == "orthogonal":
        start = 1 / math.sqrt(max(fan_in, fan_out))
    else:
        start = math.sqrt(2 / fan_in)
    return max(start, math.sqrt(2 / fan_in))


def growth(record: MetricRecord, spec: SetupSpec | None) -> tuple[float, ...]:
    """Each weight layer's std over its natural scale (empty where it cannot be known)."""
    hidden = hidden_sizes(record)
    if spec is None or hidden is None:
        return ()
    sizes = (INPUTS, *hidden, CLASSES)
    return tuple(
        layer.weight_std / natural_scale(spec, fan_in, fan_out)
        for layer, fan_in, fan_out in zip(record.layers, sizes, sizes[1:], strict=False)
    )


def exploded_backwards(grown: Sequence[float]) -> bool:
    """The first layer's weights grew by orders of magnitude, far more than the output
    layer's: steps driven by a gradient that grew on its way back."""
    return bool(grown) and grown[0] >= EXPLODED and grown[0] >= FIRST_HEAVY * grown[-1]


def dead_share(record: MetricRecord) -> float:
    return max((a.dead_units / a.units for a in record.activations if a.units), default=0.0)


def saturated_share(record: MetricRecord) -> float:
    values = [a.saturated for a in record.activations if math.isfinite(a.saturated)]
    return max(values, default=0.0)


def collapsed_layers(record: MetricRecord) -> list[int]:
    """Hidden layers (1 = first) whose live units give nearly the same activations for every
    input (a layer of dead units has spread 0 too: that is dead units, not collapse)."""
    return [
        number
        for number, a in enumerate(record.activations, 1)
        if a.spread < COLLAPSE_SPREAD and a.units and a.dead_units / a.units < DEAD_SHARE
    ]


def saturated_wall(record: MetricRecord) -> bool:
    """A hidden layer saturated through and through: its slope is 0 (exactly, in float32), so
    the error dies there whatever the layers around it do."""
    return any(a.saturated >= FULLY_SATURATED for a in record.activations)


def dead_wall(record: MetricRecord) -> bool:
    """A hidden layer (nearly) wholly dead: it passes (almost) no error back."""
    return any(a.units and a.dead_units >= NEARLY_ALL * a.units for a in record.activations)


def vanishing(record: MetricRecord) -> bool:
    """The error reaching the first layers that get any is orders of magnitude below the
    output's (or none reaches any hidden layer), and no saturated or dead layer stops it
    there: that is saturation or dead units, not a signal shrinking layer by layer."""
    ratio = backward_ratio(record)
    if saturated_wall(record):
        return False
    if ratio == 0 or (record.grad_norms[0] == 0 and not record.layers):
        return not dead_wall(record)
    if ratio < VANISHING_RATIO:
        return True
    return record.grad_norms[0] > 0 and record.grad_ratio < GRADIENT_VANISHING


def exploding(record: MetricRecord) -> bool:
    """The first layer's gradient is large and orders of magnitude above the last's (a tiny
    last-layer gradient, behind dead units, makes a large ratio of small numbers)."""
    large = record.grad_norms[0] > EXPLODING_NORM
    ratio = max(backward_ratio(record), record.grad_ratio)
    return large and ratio > EXPLODING_RATIO


def updates_tiny(record: MetricRecord) -> bool:
    """Every layer, the output layer too, moves less than TINY_UPDATE of its weights."""
    return bool(record.layers) and all(
        0 < layer.update_ratio < TINY_UPDATE for layer in record.layers
    )


def signal_sound(record: MetricRecord) -> bool:
    """The forward signal is intact: no collapsed, saturated or dead layer on the probe."""
    return (
        not collapsed_layers(record)
        and saturated_share(record) < SATURATED_SHARE
        and dead_share(record) < DEAD_SHARE
    )


def steps_too_small(record: MetricRecord) -> bool:
    """Tiny steps everywhere while the error reaches layer 1 and the signal is sound: the
    learning rate, not the network, makes them tiny."""
    return updates_tiny(record) and not vanishing(record) and signal_sound(record)
