"""Activation histograms: one definition of bins, range and saturation for the probe experiment
and the run statistics, and one drawing as block characters (vgtui.core.histogram)."""

from __future__ import annotations

import numpy as np
import pytest

from vgtui.core.activation_stats import HISTOGRAM_STRIDE, ProbeLayout, ProbeTally, summarize_probe
from vgtui.core.activations import ACTIVATIONS, get_activation
from vgtui.core.config import parse_setups
from vgtui.core.histogram import BINS, BOUNDED, bars, histogram_scale, sparkline
from vgtui.core.probe import layer_activations, probe, probe_inputs

UNITS, IMAGES = 30, 64


def tallied(name: str, values: np.ndarray):
    """The run statistics' tally of one layer of ``values`` (units, images), as an
    InferenceBank leaves them: a sigmoid layer as tanh(u/2)."""
    sizes = (784, UNITS, 10)
    out = np.zeros((1, ProbeLayout.of(sizes).width))
    ProbeTally(sizes, [(name, slice(0, 1))])([values[None]], out)
    return summarize_probe(out, ProbeLayout.of(sizes), (name,))[0][0]


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_the_probe_and_the_run_statistics_bin_and_saturate_alike(name):
    rng = np.random.default_rng(5)
    u = rng.normal(0.0, 2.0, (UNITS, IMAGES)) * 10.0 ** rng.integers(-6, 1, (UNITS, IMAGES))
    if name in BOUNDED:  # not on the edge at 0, which float32 tallies round either way
        u = np.where(np.abs(u) < 1e-3, 1e-3, u)
    own = get_activation(name).forward(u, np.empty_like(u)).astype(np.float32)
    values = np.tanh(u / 2).astype(np.float32) if name == "sigmoid" else own
    if name == "sigmoid":  # the same numbers in sigmoid's own units
        own = (1 + values.astype(np.float64)) / 2
    run = tallied(name, values)
    sampled = own[:, ::HISTOGRAM_STRIDE].astype(np.float64).T  # the probe's (inputs, units)
    experiment = layer_activations(1, name, sampled)
    assert run.histogram == experiment.counts
    assert sum(experiment.counts) == sampled.size
    assert run.saturated == pytest.approx(experiment.saturated, nan_ok=True)
    scale = histogram_scale(name)
    assert (experiment.scale, experiment.low, experiment.high) == (
        scale.kind,
        scale.low,
        scale.high,
    )


def test_softsign_is_binned_on_its_range_with_its_negative_half():
    """The bug: ``vgtui probe`` put softsign on 0..4 (its negative half in the first bin)
    while the Activations tab draws it on -1..1."""
    inputs = probe_inputs("randn", 1000, 100, np.random.default_rng(0))
    (result,) = probe(inputs, parse_setups("softsign-xavier"), layers=3, width=100, seed=0)
    for layer in result.layers:
        assert (layer.low, layer.high) == (-1.0, 1.0)
        assert layer.histogram_scale == histogram_scale("softsign")
        negative, positive = sum(layer.counts[: BINS // 2]), sum(layer.counts[BINS // 2 :])
        assert 0.4 < negative / (negative + positive) < 0.6  # symmetric about 0
        assert 0 <= layer.saturated < 0.05  # bounded: its saturated share, not NaN


def test_bars_are_eighths_of_the_largest_count():
    assert bars([0, 4, 8], rows=1, width=1) == [" ▄█"]
    assert bars([0, 4, 8], rows=2, width=2) == ["    ██", "  ████"]
    assert bars([1, 100], rows=1, width=1, top=10) == ["▁█"]  # a small count still shows
    assert sparkline([0.0, 1.0], 10) == "▁█" and len(sparkline([0.5] * 100, 10)) == 10


def test_the_scale_says_its_range_in_text():
    assert histogram_scale("sigmoid").text == "0..1" and histogram_scale("softsign").text == "-1..1"
    assert histogram_scale("relu").text == "<=0|1e-5..22"
    relu_axis = histogram_scale("relu").axis(2)
    assert len(relu_axis) == 2 * BINS and relu_axis.startswith("0 1e-5") and "1" in relu_axis[7:]
    assert histogram_scale("tanh").axis(1) == "-1" + " " * 17 + "1"
    log = histogram_scale("relu")
    assert log.top([1000, 5, 7]) == 7 and histogram_scale("tanh").top([1000, 5, 7]) == 1000
