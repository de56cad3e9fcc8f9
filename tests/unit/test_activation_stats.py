"""The probe's activation tallies against plain NumPy on the same values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from vgtui.core.activation_stats import (
    HISTOGRAM_STRIDE,
    ProbeLayout,
    ProbeTally,
    summarize_probe,
)
from vgtui.core.histogram import BINS, LOG_LOW, histogram_scale
from vgtui.core.records import ActivationStats, MetricRecord


def summarize_row(row: np.ndarray, layout: ProbeLayout, activation: str) -> tuple:
    """One setup's statistics from its row of tallies."""
    return summarize_probe(row[None, :], layout, (activation,))[0]


GROUPS = [("sigmoid", slice(0, 1)), ("tanh", slice(1, 2)), ("relu", slice(2, 4))]
HIDDEN = (7, 5)


def hidden_values(rng: np.random.Generator, rows: int) -> list[np.ndarray]:
    """Activations as an InferenceBank leaves them (sigmoid as tanh), (setups, units, rows)."""
    layers = []
    for units in HIDDEN:
        u = rng.normal(0.0, 3.0, (4, units, rows)).astype(np.float32)
        values = np.empty_like(u)
        values[0:2] = np.tanh(u[0:2])
        values[2:4] = np.maximum(u[2:4], 0) * np.float32(10.0) ** rng.integers(-6, 2, u[2:4].shape)
        values[3, 0] = 0.0  # a dead unit
        values[3, 1] = -0.0
        layers.append(values)
    return layers


def own_units(activation: str, values: np.ndarray) -> np.ndarray:
    values = values.astype(np.float64)
    return (1 + values) / 2 if activation == "sigmoid" else values


def reference(activation: str, values: np.ndarray, sampled: np.ndarray) -> dict:
    """The statistics of one layer, (units, images) in the activation's own units; the
    histogram of the ``sampled`` images only."""
    values = own_units(activation, values)
    sampled = own_units(activation, sampled)
    scale = histogram_scale(activation)
    if scale.kind == "linear":
        histogram, _ = np.histogram(sampled, BINS, (scale.low, scale.high))
    else:
        positive = sampled[sampled > 0]
        index = np.clip(np.floor((np.log10(positive) - LOG_LOW) * 3) + 1, 1, BINS - 1)
        histogram = np.bincount(index.astype(int), minlength=BINS)
        histogram[0] = np.count_nonzero(sampled <= 0)
    within = values.var(axis=1).mean()
    if activation == "sigmoid":  # the shares, like the histogram, of the sampled images
        saturated = np.mean((sampled < 0.01) | (sampled > 0.99))
    elif activation == "tanh":
        saturated = np.mean(np.abs(sampled) > 0.99)
    else:
        saturated = math.nan
    return {
        "mean": values.mean(),
        "std": values.std(),
        "spread": math.sqrt(within / np.mean(values**2)),
        "saturated": saturated,
        "inactive": math.nan if activation != "relu" else np.mean(sampled <= 0),
        "dead_units": 0 if activation != "relu" else int(np.sum(~(values > 0).any(axis=1))),
        "histogram": tuple(int(c) for c in histogram),
    }


def test_tallies_of_two_blocks_summarize_as_plain_numpy_on_all_images():
    rng = np.random.default_rng(3)
    blocks = [hidden_values(rng, 41), hidden_values(rng, 23)]  # probe images 0-40, 41-63
    tally = ProbeTally((784, *HIDDEN, 10), GROUPS)
    layout = ProbeLayout.of((784, *HIDDEN, 10))
    total = np.zeros((4, layout.width))
    for block, first in zip(blocks, (0, 41), strict=True):
        out = np.full((4, layout.width), np.nan)  # every entry must be written
        tally(block, out, first=first)
        total += out
    for slot, activation in enumerate(["sigmoid", "tanh", "relu", "relu"]):
        stats = summarize_row(total[slot], layout, activation)
        assert len(stats) == len(HIDDEN)
        for layer, got in enumerate(stats):
            values = np.concatenate([block[layer][slot] for block in blocks], axis=1)
            sampled = values[:, ::HISTOGRAM_STRIDE]  # by place in the whole probe
            want = reference(activation, values, sampled)
            assert got.units == HIDDEN[layer]
            assert got.histogram == want["histogram"]
            assert sum(got.histogram) == sampled.size == HIDDEN[layer] * 16
            assert got.dead_units == want["dead_units"]
            for key in ("mean", "std", "spread", "saturated", "inactive"):
                assert getattr(got, key) == pytest.approx(
                    want[key], rel=1e-4, abs=1e-6, nan_ok=True
                )
    assert summarize_row(total[3], layout, "relu")[0].dead_units >= 1
    together = summarize_probe(total, layout, ["sigmoid", "tanh", "relu", "relu"])
    assert together == [
        summarize_row(total[slot], layout, activation)
        for slot, activation in enumerate(["sigmoid", "tanh", "relu", "relu"])
    ]


def test_a_diverged_setup_with_nan_activations_still_gets_valid_bins():
    values = [np.full((4, units, 10), np.nan, np.float32) for units in HIDDEN]
    layout = ProbeLayout.of((784, *HIDDEN, 10))
    out = np.zeros((4, layout.width))
    ProbeTally((784, *HIDDEN, 10), GROUPS)(values, out)
    for slot, activation in enumerate(["sigmoid", "tanh", "relu", "relu"]):
        (first, _) = summarize_row(out[slot], layout, activation)
        assert sum(first.histogram) == HIDDEN[0] * len(range(0, 10, HISTOGRAM_STRIDE))


def test_activation_statistics_survive_a_record_round_trip():
    stats = ActivationStats(0.5, 0.1, 0.02, 0.3, math.nan, 0, 40, tuple(range(BINS)))
    record = MetricRecord(10, "s", 0.5, 0.5, 1.0, (1.0, 2.0), 0.1, activations=(stats,))
    again = MetricRecord.from_dict(record.to_dict())
    assert again.activations[0].histogram == stats.histogram
    assert again.activations[0].units == 40 and math.isnan(again.activations[0].inactive)


def test_histogram_scales_suit_the_activation():
    assert histogram_scale("sigmoid").edges()[0] == 0 and histogram_scale("sigmoid").high == 1
    assert histogram_scale("tanh").low == -1 and histogram_scale("softsign").high == 1
    relu = histogram_scale("relu")
    edges = relu.edges()
    assert relu.kind == "log10" and len(edges) == BINS + 1
    assert edges[2] == pytest.approx(10 ** (LOG_LOW + 1 / 3)) and edges[-1] > 10  # keeps the tail
