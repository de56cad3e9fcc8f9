"""The sweep's grid model and its one notation: a cell's band digit, in parentheses where theory
says it does not train (a-j in one-character cells), 6 xi_c labels of at most four characters,
and the legend naming the marks shown."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from vgtui.core.sweep.grid import Grid, GridCell, band, limit_label
from vgtui.core.sweep.spec import PRESETS
from vgtui.core.sweep.text import heatmap


def test_a_cell_shows_its_band_and_theorys_prediction_in_every_width():
    trains = GridCell({"test_accuracy": 0.93}, predicted=True)
    stuck = GridCell({"test_accuracy": 0.31}, predicted=False)
    assert [trains.text(w) for w in (1, 3, 5, 6)] == ["9", " 9 ", "  9  ", "  9   "]
    assert [stuck.text(w) for w in (1, 3, 5, 6)] == ["d", "(3)", " (3) ", " (3)  "]
    assert GridCell(None, predicted=False).text(5) == " (.) "
    assert GridCell({"diverged_seeds": 1, "test_accuracy": 0.1}, False).text(1) == "x"
    for width in (3, 4, 5, 6, 7):  # the mark sits in the middle, as the tab's cursor expects
        assert stuck.text(width)[(width - 1) // 2] == "3" and len(stuck.text(width)) == width


def test_band_is_the_tens_digit_or_a_mark():
    assert band(None) == "."
    assert band({"test_accuracy": None}) == "?"
    assert band({"test_accuracy": 1.0}) == "9"
    assert band({"test_accuracy": 0.0999}) == "0"


def test_six_xi_c_labels_fit_four_characters():
    assert [limit_label(v) for v in (7.3, 2557.4, 29470.0, 3.2e6, math.inf)] == [
        "7",
        "2557",
        "29k",
        "3M",
        "inf",
    ]
    assert limit_label(2557.4, 3) == "3k"


def test_the_model_predicts_what_the_cells_agreement_counts():
    spec = PRESETS["schoenholz"]
    grid = Grid.of(spec, "tanh", {})
    for depth, row in zip(grid.depths, grid.rows, strict=True):
        for cell, limit in zip(row, grid.limits, strict=True):
            assert cell.predicted == (depth < limit)
    assert grid.depths == tuple(sorted(spec.depths, reverse=True))
    assert grid.critical is not None and 1.75 < grid.critical < 1.77


def test_the_text_heatmap_explains_its_marks():
    text = heatmap(PRESETS["schoenholz"], {})
    assert "(d): depth >= 6 xi_c (theory: does not train)" in " ".join(text.split())
    assert ". not run yet" in text and "x diverged" not in text  # only the marks shown
    assert "big" not in text and "29k" not in text and "2557" in text
    six_xi = next(line for line in text.splitlines() if line.startswith("6xi_c"))
    assert six_xi.split()[1:] == Grid.of(PRESETS["schoenholz"], "tanh", {}).limit_labels(4)


def test_a_relu_grid_without_bias_names_its_limit_xi_grad():
    """ReLU with sigma_b^2 = 0: xi_c is infinite in every column; the row is 6 xi_grad,
    6 / |ln(sigma_w^2 / 2)| (issue 18, item 9), and the legend says so."""
    spec = replace(PRESETS["quick"], activations=("relu",), bias_variance=0.0,
                   weight_variances=(1.0, 3.0))  # fmt: skip
    grid = Grid.of(spec, "relu", {})
    assert grid.limit_name == "6xi_g" and grid.scale_names == ("xi_grad", "xi_grad")
    assert grid.limits == pytest.approx((6 / math.log(2), 6 / math.log(1.5)), rel=1e-12)
    text = " ".join(heatmap(spec, {}).split())
    assert "6xi_g 9 15" in text and "(d): depth >= 6 xi_grad" in text
    assert "xi_grad = 1/|ln chi_1|" in text and "xi_c is infinite" in text
    mixed = Grid.of(replace(spec, bias_variance=0.05), "relu", {})
    assert mixed.scale_names == ("xi_c", "xi_grad") and mixed.limit_name == "6xi"
