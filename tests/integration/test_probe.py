"""The activation-histogram experiment of Deep Learning from Scratch, ch. 6, against the book's
published setup (5 layers of 100, randn(1000, 100) inputs) as bands, and ``vgtui probe``."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from vgtui.core.config import parse_setups
from vgtui.core.probe import probe, probe_inputs


@pytest.fixture(scope="module")
def book():
    inputs = probe_inputs("randn", 1000, 100, np.random.default_rng(0))
    setups = parse_setups("sigmoid-gauss:1,sigmoid-gauss:0.01,sigmoid-xavier,relu-he,relu-xavier")
    return {r.setup: r.layers for r in probe(inputs, setups, layers=5, width=100, seed=0)}


def test_sigmoid_with_std_1_saturates_a_third_at_each_end(book):
    first = book["sigmoid-gauss:1"][0]
    share = np.array(first.counts) / sum(first.counts)
    assert 0.55 <= first.saturated <= 0.75  # below 0.01 or above 0.99
    assert 0.25 <= share[0] <= 0.45 and 0.25 <= share[-1] <= 0.45  # both ends, evenly


def test_sigmoid_with_std_001_collapses_every_layer_to_one_half(book):
    for layer in book["sigmoid-gauss"]:
        assert abs(layer.mean - 0.5) < 0.01
        assert layer.std < 0.03
    assert all(0.008 <= layer.std <= 0.02 for layer in book["sigmoid-gauss"][1:])


def test_xavier_keeps_a_spread(book):
    assert all(0.10 <= layer.std <= 0.23 for layer in book["sigmoid-xavier"])


def test_relu_needs_he_and_shrinks_with_xavier(book):
    for layer in book["relu-he"]:
        assert 0.6 <= layer.std <= 1.1 and 0.4 <= layer.zero <= 0.6
    stds = [layer.std for layer in book["relu-xavier"]]
    ratios = np.array(stds[1:]) / np.array(stds[:-1])
    assert 0.6 <= ratios.mean() <= 0.85  # about 1/sqrt(2) per layer


def vgtui(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vgtui", "probe", *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_probe_prints_each_layer_in_80_columns():
    result = vgtui()
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert sum(line.startswith("  L") for line in lines) == 5 * 5
    assert "saturated" in result.stdout and "zero" in result.stdout


def test_probe_json_and_mnist_inputs():
    result = vgtui("--inputs", "mnist", "--setups", "relu-he", "--layers", "3", "--json")
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["layer"] for r in rows] == [1, 2, 3]
    assert all(r["setup"] == "relu-he" and len(r["counts"]) == 20 for r in rows)


@pytest.mark.parametrize("args", [["--layers", "0"], ["--width", "x"], ["--setups", "mish-he"]])
def test_probe_bad_arguments_are_one_line(args):
    result = vgtui(*args)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_probe_draws_softsign_on_its_range_as_the_activations_tab_does():
    """The bug: softsign was drawn on 0..4, its negative half cut off into the first bin."""
    result = vgtui("--setups", "softsign-xavier", "--no-ui")
    assert result.returncode == 0, result.stderr
    layers = [line for line in result.stdout.splitlines() if line.startswith("  L")]
    assert len(layers) == 5
    for line in layers:
        assert line.endswith("| -1..1") and "saturated" in line
        drawn = line.split("|")[1]
        assert len(drawn) == 20
        assert drawn[:10].strip() and drawn[10:].strip()  # both halves hold values
        assert drawn[0] != "█"  # nothing piled up at the low end
