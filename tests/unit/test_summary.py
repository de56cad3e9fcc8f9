"""The one finite mean, used by the seeds' summary and the app's seed averages."""

from __future__ import annotations

import math

from vgtui.core.summary import finite_mean


def test_the_finite_mean_leaves_out_what_diverged():
    assert finite_mean([0.5, math.nan, 0.7, math.inf]) == 0.6
    assert finite_mean(iter([1.0, 2.0])) == 1.5  # any iterable, read once
    assert math.isnan(finite_mean([math.nan, -math.inf]))
    assert math.isnan(finite_mean([]))
